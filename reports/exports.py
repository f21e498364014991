"""Streamed CSV (the report's tables and the mentions behind an inbox filter) and the report as PDF."""

from __future__ import annotations

import base64
import csv
from collections.abc import Iterable, Iterator

from django.contrib.auth.models import AbstractBaseUser
from django.db.models import Prefetch
from django.template.loader import render_to_string

from listening.models import Mention, TrackedTerm
from listening.selectors import MentionFilters, mentions_filtered
from reports import charts, tables
from reports.selectors import Report
from responses.models import Ticket

# A spreadsheet runs a cell that starts with one of these as a formula: CSV injection.
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
CHUNK = 1000
MENTION_HEADERS = [
    "id", "published_at", "platform", "channel", "author", "text", "url", "language", "sentiment",
    "analyzer_sentiment", "intent", "analyzer_intent", "terms", "status", "assignee", "ticket_id", "ticket_status", "author_handle",
]  # fmt: skip


def safe_cell(value: object) -> object:
    if isinstance(value, str) and value.startswith(FORMULA_STARTS):
        return "'" + value
    if value is None:
        return ""
    return value


class _Echo:
    def write(self, value: str) -> str:
        return value


def csv_lines(rows: Iterable[Iterable[object]]) -> Iterator[str]:
    """CSV text for a streamed download: UTF-8 with a byte-order mark, which is how Excel knows
    the file is UTF-8 (without it, accents and emoji come out garbled); every cell defused."""
    yield "\ufeff"
    writer = csv.writer(_Echo())
    for row in rows:
        yield writer.writerow([safe_cell(v if isinstance(v, int | float | type(None)) else str(v)) for v in row])


def mention_rows(*, user: AbstractBaseUser, filters: MentionFilters) -> Iterator[list[object]]:
    """One row per mention, newest first, read in keyset chunks on (published_at, id).

    Keyset rather than OFFSET, so the millionth row costs what the first did; each chunk is one
    query plus two prefetches (terms, tickets), never one per mention.
    """
    yield MENTION_HEADERS
    base = (
        mentions_filtered(user=user, filters=filters)
        .select_related("channel", "author", "assignee")
        .prefetch_related(
            Prefetch("terms", queryset=TrackedTerm.objects.only("id", "text", "group")),
            Prefetch("tickets", queryset=Ticket.objects.only("id", "status", "mention_id").order_by("-created_at")),
        )
    )
    last = None
    while True:
        chunk = base
        if last is not None:
            published_at, pk = last
            chunk = chunk.filter(published_at__lte=published_at).exclude(published_at=published_at, pk__gte=pk)
        mentions: list[Mention] = list(chunk[:CHUNK])
        for m in mentions:
            ticket = m.tickets.all()[0] if m.tickets.all() else None
            yield [
                m.pk,
                m.published_at.isoformat(),
                m.channel.platform,
                m.channel.name,
                m.author.name or m.author.handle or m.author.external_id,
                m.text,
                m.url,
                m.language,
                m.sentiment,
                m.analyzer_sentiment,
                m.intent,
                m.analyzer_intent,
                "; ".join(sorted(t.label for t in m.terms.all())),
                m.status,
                m.assignee.get_username() if m.assignee else "",
                ticket.pk if ticket else "",
                ticket.status if ticket else "",
                m.author.handle,
            ]
        if len(mentions) < CHUNK:
            return
        last = (mentions[-1].published_at, mentions[-1].pk)


def report_blocks_context(data: Report) -> dict:
    """What templates/reports/_blocks.html needs, on the page and in the PDF alike."""
    return {
        "brand": data.brand,
        "period": data.period,
        "report": data,
        "figures": tables.headline(data),
        "team_figures": tables.team_figures(data),
        "tables": tables.all_tables(data),
    }


def report_pdf(data: Report, *, url: str = "") -> bytes:
    """The report page as a PDF, from the same blocks template: one page per block, the brand and
    the period on every page, each chart drawn as SVG from the numbers Chart.js draws on the page.

    WeasyPrint lays the HTML out itself (no browser). It may fetch only the data: URLs of the
    charts: nothing in a report makes the server request another address.
    """
    from weasyprint import HTML, URLFetcher  # imported here: it loads Pango, which takes a moment

    specs = charts.chart_specs(data)
    context = report_blocks_context(data) | {
        "pdf": True,
        "url": url,
        "chart_images": {
            name: "data:image/svg+xml;base64," + base64.b64encode(charts.chart_svg(spec).encode()).decode()
            for name, spec in specs.items()
        },
    }
    html = render_to_string("reports/report_pdf.html", context)
    return HTML(string=html, url_fetcher=URLFetcher(allowed_protocols={"data"})).write_pdf()
