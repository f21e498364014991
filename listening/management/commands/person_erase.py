"""Erase one person (an erasure request): their mentions' content and identity, and their profile.

    manage.py person_erase --platform x --handle someone --dry-run
    manage.py person_erase --platform x --handle someone --suppress

Mentions are anonymised by default (their counts stay in the reports, with the team's history);
``--mode delete`` also removes that history. ``--suppress`` drops the person's future mentions at
ingestion. Recorded in the privacy audit log.
"""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from listening.management.commands._person import add_person_arguments, person_from
from listening.models import PrivacyAuditEntry
from listening.privacy import person_counts, person_data, person_erase


class Command(BaseCommand):
    help = "Erase everything held about one person; --dry-run shows how many rows of each kind it would change."

    def add_arguments(self, parser: CommandParser) -> None:
        add_person_arguments(parser)
        parser.add_argument(
            "--mode",
            choices=PrivacyAuditEntry.Mode.values,
            default=PrivacyAuditEntry.Mode.ANONYMISE,
            help="anonymise (default) keeps the team's history on the mentions; delete leaves only their counts",
        )
        parser.add_argument("--suppress", action="store_true", help="drop the person's future mentions at ingestion")
        parser.add_argument("--dry-run", action="store_true", help="count what would be erased, change nothing")

    def handle(self, *args: Any, **options: Any) -> None:
        author = person_from(options)
        if options["dry_run"]:
            counts = person_counts(person_data(author=author))
            listed = ", ".join(f"{n} {name}" for name, n in counts.items())
            self.stdout.write(f"Would erase ({options['mode']}): {listed}. Nothing was changed.")
            return
        erasure = person_erase(author=author, actor=None, mode=options["mode"], suppress=options["suppress"])
        listed = ", ".join(f"{n} {table}" for table, n in sorted(erasure.counts.items()) if n)
        suppressed = " Their future mentions will be dropped." if options["suppress"] else ""
        self.stdout.write(f"Erased: {listed}. Audit entry #{erasure.entry.pk}.{suppressed}")
