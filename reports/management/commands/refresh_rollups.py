"""Recount the report rollups: after a large import, a bulk load or a manual fix in the database.

    python manage.py refresh_rollups                 # every day whose total no longer matches
    python manage.py refresh_rollups --since 2026-01-01 [--brand 3]   # every day from that date

Mentions stored through the ingestion pipeline and changed through the services keep the rollups
current by themselves; this is for what went around them. It takes the periodic refresh's lock,
so the two never count the same days at once.
"""

from __future__ import annotations

import argparse
import time

from django.core.management.base import BaseCommand, CommandError, CommandParser

from config.locks import cache_lock
from config.params import BadParam, id_argument, parse_day
from reports.rollups import rollups_refresh
from reports.tasks import REFRESH_LOCK

# A recount of years of a big brand can take a while; the lock outlives it (and expires if this dies).
LOCK_SECONDS = 6 * 3600


def _day(value: str):
    try:
        return parse_day(value)
    except BadParam as error:
        raise argparse.ArgumentTypeError(str(error)) from None


class Command(BaseCommand):
    help = "Recount report rollups: the days whose totals no longer match, or every day since a date."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--since", type=_day, help="recount every day from this date (YYYY-MM-DD) to today")
        parser.add_argument("--brand", type=id_argument, help="only this brand (its id)")

    def handle(self, *args: object, since=None, brand: int | None = None, **options: object) -> None:
        started = time.monotonic()

        def progress(done: int, total: int) -> None:
            self.stdout.write(f"{done}/{total} days recounted ({time.monotonic() - started:.1f} s)")

        with cache_lock(REFRESH_LOCK, LOCK_SECONDS) as held:
            if not held:
                raise CommandError("Another rollup refresh is running; try again when it is done.")
            count = rollups_refresh(brand=brand, since=since, thorough=True, progress=progress)
        self.stdout.write(self.style.SUCCESS(f"Done: {count} days recounted in {time.monotonic() - started:.1f} s."))
