"""Everything Escucha holds about one person (an access request), as a zip of JSON and CSV files.

    manage.py person_export --platform x --handle someone --output someone.zip

Recorded in the privacy audit log, like an export from the Privacy page or the API.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from listening.management.commands._person import add_person_arguments, person_from
from listening.privacy import person_archive, person_counts, person_export


class Command(BaseCommand):
    help = "Export everything held about one person: a zip of person.json and one CSV per kind of row."

    def add_arguments(self, parser: CommandParser) -> None:
        add_person_arguments(parser)
        parser.add_argument("--output", help="the zip to write (default: person.zip); '-' prints the JSON instead")

    def handle(self, *args: Any, **options: Any) -> None:
        data = person_export(author=person_from(options), actor=None)
        if options["output"] == "-":
            self.stdout.write(json.dumps(data, ensure_ascii=False, indent=2))
            return
        path = Path(options["output"] or "person.zip")
        path.write_bytes(person_archive(data))
        counts = ", ".join(f"{n} {name}" for name, n in person_counts(data).items())
        self.stdout.write(f"Wrote {path} ({counts}).")
