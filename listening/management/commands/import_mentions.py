"""Import mentions from a file into a channel, through the same pipeline as polling.

One JSON object per line (JSON Lines) or a CSV with a header. Fields: ``external_id`` (or ``id``;
required, the item's id on its platform), ``text`` (required), ``created_at`` (or
``published_at``; ISO 8601, required), ``author`` (the handle) and/or ``author_id`` (one of them
required), ``author_name``, ``author_followers``, ``url``, ``title``, ``parent_id``, ``kind``,
``source``. A bad line is reported with its number and
skipped — one that is not UTF-8, not valid, or that the database refuses — and every good one is
stored; importing the same file twice stores nothing twice.

A large file is streamed and stored in batches (``--batch-size`` lines' worth of items per
transaction), with a progress bar on a terminal. Each batch commits with a checkpoint (the last
line it covers, per file and channel), so an import stopped by Ctrl-C or a crash resumes after the
last committed line when run again; ``--restart`` ignores the checkpoint.
"""

from __future__ import annotations

import csv
import hashlib
import json
import re
from collections.abc import Iterator
from contextlib import nullcontext
from datetime import UTC
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import transaction
from django.utils import timezone
from django.utils.dateparse import parse_datetime
from django.utils.translation import gettext as _
from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    ProgressColumn,
    Task,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
)
from rich.text import Text

from config.params import BadParam, id_argument, parse_int
from listening.connectors import FetchedAuthor, FetchedItem
from listening.ingest import ingest_items
from listening.models import Channel, ImportCheckpoint, Mention

BATCH = 1000
HEAD = 1024  # bytes hashed to tell one file from another at the same path and size
SURROGATE = re.compile(r"[\ud800-\udfff]")
NOT_UTF8 = "not UTF-8 text"


def _rows(path: Path, after: int = 0) -> Iterator[tuple[int, int, Any]]:
    """(line number, lines read so far, row or the ValueError that makes it bad), streamed: one
    bad line never stops the file. Lines up to ``after`` (already imported) are passed over
    without being parsed. For CSV the number is the row's (a quoted field may span lines)."""
    if path.suffix.lower() == ".csv":
        # Bytes that are not UTF-8 become lone surrogates here (CSV has no escapes that could
        # make one), so the row they are in is reported instead of the whole file failing.
        with path.open(encoding="utf-8-sig", errors="surrogateescape", newline="") as handle:
            reader = csv.DictReader(handle)
            for number, row in enumerate(reader, start=2):
                if number <= after:
                    continue
                values = [str(value) for value in row.values()]
                bad = any(SURROGATE.search(value) for value in values)
                yield number, reader.line_num, ValueError(NOT_UTF8) if bad else row
        return
    with path.open("rb") as handle:
        for number, raw in enumerate(handle, start=1):
            if number <= after:
                continue
            try:
                line = raw.decode("utf-8-sig" if number == 1 else "utf-8")
            except UnicodeDecodeError:
                yield number, number, ValueError(NOT_UTF8)
                continue
            if not line.strip():
                continue
            try:
                yield number, number, json.loads(line)
            except json.JSONDecodeError as error:
                yield number, number, ValueError(f"not JSON ({error.msg})")
            except RecursionError:
                yield number, number, ValueError("not JSON (nested too deep)")


def file_identity(path: Path) -> dict[str, Any]:
    """What tells this file from another: its absolute path, size and first kilobyte's hash."""
    with path.open("rb") as handle:
        head = handle.read(HEAD)
    return {
        "path": str(path.resolve()),
        "size": path.stat().st_size,
        "head_sha256": hashlib.sha256(head).hexdigest(),
    }


def count_lines(path: Path) -> int:
    """Physical lines in the file, read in chunks (memory stays flat): the progress bar's total."""
    lines = 0
    last = b"\n"
    with path.open("rb") as handle:
        while chunk := handle.read(1 << 20):
            lines += chunk.count(b"\n")
            last = chunk[-1:]
    return lines + (last != b"\n")


class RateColumn(ProgressColumn):
    """Lines per second, over rich's recent window."""

    def render(self, task: Task) -> Text:
        speed = task.finished_speed or task.speed
        return Text(_("%(rate)s lines/s") % {"rate": f"{speed:,.0f}" if speed else "…"}, style="progress.data.speed")


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
    help = (
        "Import mentions from a JSON Lines or CSV file into a channel, in batches, resumable after an "
        "interruption (idempotent; bad lines are reported)."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("path", type=Path)
        parser.add_argument("--channel", type=id_argument, required=True, help="the id of the channel they belong to")
        parser.add_argument(
            "--no-route",
            action="store_true",
            help="store without running the routing rules (old items should not open tickets)",
        )
        parser.add_argument(
            "--batch-size",
            type=id_argument,
            default=BATCH,
            help=f"items stored per transaction, each committed with its checkpoint (default {BATCH})",
        )
        parser.add_argument(
            "--restart",
            action="store_true",
            help="ignore the checkpoint of an interrupted import of this file and start from its first line",
        )
        parser.add_argument("--quiet", action="store_true", help="no progress bar (there is none off a terminal)")

    def handle(self, *args: Any, **options: Any) -> None:
        path: Path = options["path"]
        if not path.is_file():
            raise CommandError(_("No such file: %(path)s") % {"path": path})
        channel = Channel.objects.filter(pk=options["channel"]).first()
        if channel is None:
            raise CommandError(_("No channel with id %(id)s.") % {"id": options["channel"]})
        size: int = options["batch_size"]
        identity = file_identity(path)
        if options["restart"]:
            ImportCheckpoint.objects.filter(channel=channel, **identity).delete()
        checkpoint, _created = ImportCheckpoint.objects.get_or_create(channel=channel, **identity)
        start = checkpoint.line
        if start:
            self.stdout.write(
                _(
                    "Resuming after line %(line)s, where an earlier import of this file stopped (--restart to start over)."
                )
                % {"line": start}
            )

        created = skipped = bad = 0
        batch: list[FetchedItem] = []
        lines: dict[str, int] = {}  # platform id → the first line that gave it, in this batch
        progress = self._progress(path, options)
        report = self.stderr.write if progress is None else self._printer(progress)

        def flush(last_line: int) -> None:
            nonlocal created, skipped, bad
            if not batch:
                return
            # The batch and the line it reaches commit together: a resume starts right after it.
            with transaction.atomic():
                result = ingest_items(channel=channel, items=batch, route=not options["no_route"])
                ImportCheckpoint.objects.filter(pk=checkpoint.pk).update(line=last_line, updated_at=timezone.now())
            checkpoint.line = last_line
            created += len(result.created)
            skipped += result.skipped
            # Refused by the database: the rest of the batch is stored, these are reported.
            for rejected in result.rejected:
                bad += 1
                number = lines.get(rejected.external_id, "?")
                report(
                    _("%(file)s:%(line)s: skipped, %(reason)s")
                    % {"file": path.name, "line": number, "reason": rejected.reason}
                )
            batch.clear()
            lines.clear()

        number = start
        try:
            with progress or nullcontext():
                task = progress.add_task(path.name, total=count_lines(path), completed=start) if progress else None
                for number, position, row in _rows(path, after=start):
                    if progress is not None:
                        progress.update(task, completed=position)
                    try:
                        item = item_from_row(row)
                    except ValueError as error:
                        bad += 1
                        report(
                            _("%(file)s:%(line)s: skipped, %(reason)s")
                            % {"file": path.name, "line": number, "reason": error}
                        )
                        continue
                    batch.append(item)
                    lines.setdefault(item.external_id, number)
                    if len(batch) >= size:
                        flush(number)
                flush(number)
        except KeyboardInterrupt:
            raise CommandError(self._stopped(created, checkpoint.line), returncode=130) from None
        except Exception:
            self.stderr.write(self._stopped(created, checkpoint.line))
            raise
        checkpoint.delete()  # the whole file is in: importing it again only finds what is there
        summary = _("%(created)s mentions imported, %(skipped)s already there, %(bad)s lines skipped.") % {
            "created": created,
            "skipped": skipped,
            "bad": bad,
        }
        self.stdout.write(self.style.SUCCESS(summary) if not bad else self.style.WARNING(summary))

    def _stopped(self, created: int, line: int) -> str:
        return _(
            "Stopped: %(created)s mentions imported in this run; lines up to %(line)s are committed. "
            "Run the same command again to resume after line %(line)s."
        ) % {"created": created, "line": line}

    def _progress(self, path: Path, options: dict[str, Any]) -> Progress | None:
        """A progress bar on stderr when it is a terminal and --quiet is not given."""
        stream = getattr(self.stderr, "_out", self.stderr)
        if options["quiet"] or not getattr(stream, "isatty", lambda: False)():
            return None
        return Progress(
            TextColumn("{task.description}"),
            BarColumn(),
            MofNCompleteColumn(),
            TextColumn(_("lines")),
            RateColumn(),
            TimeElapsedColumn(),
            TextColumn(_("ETA")),
            TimeRemainingColumn(),
            console=Console(file=stream),
        )

    @staticmethod
    def _printer(progress: Progress) -> Any:
        """Writes a line above the bar, as it is (no markup)."""
        return lambda message: progress.console.print(message, markup=False, highlight=False, soft_wrap=True)
