"""What person_export and person_erase share: naming one person on the command line."""

from __future__ import annotations

from typing import Any

from django.core.management.base import CommandError, CommandParser

from listening.models import ANONYMOUS_EXTERNAL_ID, Author, Platform


def add_person_arguments(parser: CommandParser) -> None:
    parser.add_argument("--platform", required=True, choices=Platform.values, help="the person's platform")
    who = parser.add_mutually_exclusive_group(required=True)
    who.add_argument("--id", dest="platform_id", help="their id on the platform (what the API and the page show)")
    who.add_argument("--handle", help="their handle, with or without @")


def person_from(options: dict[str, Any]) -> Author:
    people = Author.objects.filter(platform=options["platform"]).exclude(external_id=ANONYMOUS_EXTERNAL_ID)
    if options.get("platform_id"):
        people = people.filter(external_id=options["platform_id"])
    else:
        people = people.filter(handle__iexact=options["handle"].removeprefix("@"))
    found = list(people[:10])
    if not found:
        raise CommandError("Nobody with that platform id or handle is stored.")
    if len(found) > 1:
        ids = ", ".join(author.external_id for author in found)
        raise CommandError(f"Several people have used that handle; name one with --id (one of: {ids}).")
    return found[0]
