"""A page's lookups read the page's rows, not its channel's nor its platform's: which items are
known, which parents and authors are stored, which earlier replies wait for a parent of the page.
Each is a probe of an index per key, even where PostgreSQL's statistics were taken before the
channel grew (a new channel, an import, a burst), which once had every page read the whole
channel."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext

from listening.connectors import FetchedAuthor, FetchedItem
from listening.ingest import ingest_items
from listening.models import Mention, Platform
from tests.factories import ChannelFactory

pytestmark = pytest.mark.django_db

T0 = datetime(2026, 11, 20, 12, 0, tzinfo=UTC)
GROWN = 2000  # the channel's mentions stored after the statistics were taken
PAGE = 10  # a page of a few keys: probing them is the plan, even in a table this small
READ = ("listening_mention", "listening_author")


def _item(n: int, *, parent: int | None = None) -> FetchedItem:
    return FetchedItem(
        external_id=str(n),
        text=f"Acme item {n}",
        author=FetchedAuthor(external_id=f"p{n % 700}", handle=f"p{n % 700}", followers=n),
        published_at=T0 + timedelta(seconds=n),
        parent_external_id="" if parent is None else str(parent),
    )


def _rows_read(plan: dict[str, Any]) -> int:
    """Rows the plan took from the mentions and authors, kept or thrown away by a filter."""
    total = 0
    if plan.get("Relation Name") in READ:
        loops = plan.get("Actual Loops", 1)
        removed = plan.get("Rows Removed by Filter", 0) + plan.get("Rows Removed by Index Recheck", 0)
        total += (plan.get("Actual Rows", 0) + removed) * loops
    return total + sum(_rows_read(child) for child in plan.get("Plans", []))


def _lookups(queries: list[dict[str, str]]) -> list[str]:
    return [
        q["sql"]
        for q in queries
        if q["sql"].lstrip().startswith(("SELECT", "UPDATE")) and any(f'"{table}"' in q["sql"] for table in READ)
    ]


@pytest.mark.postgres  # the planner's choice is PostgreSQL's; SQLite's IN lists probe the index
def test_a_pages_lookups_read_its_own_rows_when_the_statistics_predate_the_channel():
    channel = ChannelFactory(platform=Platform.X)
    other = ChannelFactory(brand=channel.brand, platform=Platform.X)
    ingest_items(channel=other, items=[_item(n) for n in range(5001, 5040)], route=False)
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE listening_mention; ANALYZE listening_author")  # the channel holds nothing yet
    # A reply stored before its parent (GROWN + 1, in the page below) waits for it.
    for first in range(1, GROWN + 1, 500):
        ingest_items(
            channel=channel,
            items=[_item(n, parent=GROWN + 1 if n == 7 else None) for n in range(first, first + 500)],
            route=False,
        )
    page = [_item(n, parent=n - 1 if n % 5 == 0 else None) for n in range(GROWN + 1, GROWN + 1 + PAGE)]
    page.append(_item(5030))  # stored in the other channel only: new here
    page += [_item(3), _item(4, parent=2)]  # known already: skipped
    page.append(_item(GROWN + PAGE + 1, parent=100))  # a reply to a mention stored pages ago

    with CaptureQueriesContext(connection) as captured:
        result = ingest_items(channel=channel, items=page)

    assert len(result.created) == PAGE + 2 and result.skipped == 2
    assert Mention.objects.filter(external_id="5030").count() == 2
    assert Mention.objects.get(channel=channel, external_id="7").parent.external_id == str(GROWN + 1)
    assert Mention.objects.get(channel=channel, external_id=str(GROWN + PAGE + 1)).parent.external_id == "100"
    assert Mention.objects.get(channel=channel, external_id=str(GROWN + 5)).parent.external_id == str(GROWN + 4)
    lookups = _lookups(captured.captured_queries)
    assert len(lookups) >= 4  # known items, authors, parents, replies waiting for a parent
    read = {}
    for sql in lookups:
        with transaction.atomic(), connection.cursor() as cursor:  # an UPDATE is undone with its savepoint
            cursor.execute("EXPLAIN (ANALYZE, FORMAT JSON) " + sql)
            (plan,) = cursor.fetchone()
            read[sql[:400]] = _rows_read((json.loads(plan) if isinstance(plan, str) else plan)[0]["Plan"])
            transaction.set_rollback(True)
    # Each lookup reads at most about its page's keys' rows, nowhere near the channel's 2,000.
    assert max(read.values()) <= 2 * len(page), {sql[:60]: n for sql, n in read.items()}
