"""Import mentions from a file into a channel, through the same pipeline as polling.

One JSON object per line (JSON Lines) or a CSV with a header. Fields: ``external_id`` (or ``id``;
required, the item's id on its platform), ``text`` (required), ``created_at`` (or
``published_at``; ISO 8601, required), ``author`` (the handle) and/or ``author_id`` (one of them
required), ``author_name``, ``author_followers``, ``url``, ``title``, ``parent_id``, ``kind``,
``source``. A bad line is reported with its number and
skipped — one that is not UTF-8, not valid, or that the database refuses — and every good one is
stored; importing the same file twice stores nothing twice.
"""

from __future__ import annotations

import csv
import json
import re
from collections.abc import Iterator
from datetime import UTC
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils import timezone
from django.utils.dateparse import parse_datetime

from config.params import BadParam, id_argument, parse_int
from listening.connectors import FetchedAuthor, FetchedItem
from listening.ingest import ingest_items
from listening.models import Channel, Mention

BATCH = 500
SURROGATE = re.compile(r"[\ud800-\udfff]")
NOT_UTF8 = "not UTF-8 text"


def _rows(path: Path) -> Iterator[tuple[int, Any]]:
    """(line number, row or the ValueError that makes it bad): one bad line never stops the file."""
    if path.suffix.lower() == ".csv":
        # Bytes that are not UTF-8 become lone surrogates here (CSV has no escapes that could
        # make one), so the row they are in is reported instead of the whole file failing.
        with path.open(encoding="utf-8-sig", errors="surrogateescape", newline="") as handle:
            for number, row in enumerate(csv.DictReader(handle), start=2):
                values = [str(value) for value in row.values()]
                yield number, ValueError(NOT_UTF8) if any(SURROGATE.search(value) for value in values) else row
        return
    with path.open("rb") as handle:
        for number, raw in enumerate(handle, start=1):
            try:
                line = raw.decode("utf-8-sig" if number == 1 else "utf-8")
            except UnicodeDecodeError:
                yield number, ValueError(NOT_UTF8)
                continue
            if not line.strip():
                continue
            try:
                yield number, json.loads(line)
            except json.JSONDecodeError as error:
                yield number, ValueError(f"not JSON ({error.msg})")
            except RecursionError:
                yield number, ValueError("not JSON (nested too deep)")


def item_from_row(row: Any) -> FetchedItem:
    """A FetchedItem from one row, or ValueError naming what is wrong."""
    if isinstance(row, Exception):
        raise row
    if not isinstance(row, dict):
        raise ValueError("not an object")

    def first(*names: str) -> str:
        return next((str(row[name]).strip() for name in names if str(row.get(name) or "").strip()), "")

    external_id, created = first("external_id", "id"), first("created_at", "published_at")
    author_id, handle = first("author_id", "author"), first("author_handle", "author").lstrip("@")
    missing = [
        name
        for name, value in (
            ("external_id", external_id),
            ("text", row.get("text")),
            ("created_at", created),
            ("author", author_id),
        )
        if not str(value or "").strip()
    ]
    if missing:
        raise ValueError(f"missing {', '.join(missing)}")
    published = parse_datetime(created)
    if published is None:
        raise ValueError(f"created_at is not an ISO date-time: {created[:40]!r}")
    if timezone.is_naive(published):
        published = published.replace(tzinfo=UTC)
    try:
        followers = parse_int(row.get("author_followers") or "0")
    except BadParam:
        raise ValueError("author_followers is not a whole number up to 2147483647") from None
    kind = str(row.get("kind") or Mention.Kind.MENTION)
    if kind not in Mention.Kind.values:
        raise ValueError(f"kind must be one of {', '.join(Mention.Kind.values)}")
    url = str(row.get("url") or "")
    if url and not url.lower().startswith(("http://", "https://")):
        raise ValueError("url must be http:// or https://")
    return FetchedItem(
        external_id=external_id,
        text=str(row["text"]),
        author=FetchedAuthor(
            external_id=author_id,
            handle=handle,
            name=str(row.get("author_name") or ""),
            followers=followers,
        ),
        published_at=published,
        kind=kind,
        url=url,
        title=str(row.get("title") or ""),
        parent_external_id=str(row.get("parent_id") or ""),
        source=str(row.get("source") or ""),
    )


class Command(BaseCommand):
    help = "Import mentions from a JSON Lines or CSV file into a channel (idempotent; bad lines are reported)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("path", type=Path)
        parser.add_argument("--channel", type=id_argument, required=True, help="the id of the channel they belong to")
        parser.add_argument(
            "--no-route",
            action="store_true",
            help="store without running the routing rules (old items should not open tickets)",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        path: Path = options["path"]
        if not path.is_file():
            raise CommandError(f"No such file: {path}")
        channel = Channel.objects.filter(pk=options["channel"]).first()
        if channel is None:
            raise CommandError(f"No channel with id {options['channel']}.")
        created = skipped = bad = 0
        batch: list[FetchedItem] = []
        lines: dict[str, int] = {}  # platform id → the first line that gave it, in this batch

        def flush() -> None:
            nonlocal created, skipped, bad
            if batch:
                result = ingest_items(channel=channel, items=batch, route=not options["no_route"])
                created += len(result.created)
                skipped += result.skipped
                # Refused by the database: the rest of the batch is stored, these are reported.
                for rejected in result.rejected:
                    bad += 1
                    number = lines.get(rejected.external_id, "?")
                    self.stderr.write(f"{path.name}:{number}: skipped, {rejected.reason}")
                batch.clear()
                lines.clear()

        for number, row in _rows(path):
            try:
                item = item_from_row(row)
            except ValueError as error:
                bad += 1
                self.stderr.write(f"{path.name}:{number}: skipped, {error}")
                continue
            batch.append(item)
            lines.setdefault(item.external_id, number)
            if len(batch) >= BATCH:
                flush()
        flush()
        summary = f"{created} mentions imported, {skipped} already there, {bad} lines skipped."
        self.stdout.write(self.style.SUCCESS(summary) if not bad else self.style.WARNING(summary))
