"""The report's faster paths give the figures of the straightforward ones.

- On PostgreSQL outside a transaction, a recount splits the texts in a thread of its own, on its
  own connection, while the database counts the rest; inside one (a caller's) it does both in
  turn. Both must leave every rollup table the same, row for row.
- The page reads the ranked authors (leaders, repeat complaints) from one statement that returns
  only them; they must be the first rows of every author's sums ranked in Python.
"""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta

import pytest
from django.db import transaction
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from listening.models import Mention, Platform, Sentiment, TrackedTerm
from reports import rollups, selectors
from reports.models import AuthorDay
from tests.factories import AuthorFactory, BrandFactory, ChannelFactory
from tests.reports.test_rollup_properties import _tables

WORDS = ["Refund", "refund", "#Fail", "#fail", "@acme", "acme", "envío", "lento", "the", "que", "battery", "¿Cómo",
         "How", "why", "https://x.co/A", "great", "still", "Straße", "don't"]  # fmt: skip


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)  # the text pass's own connection sees only committed mentions
def test_the_text_pass_in_its_own_thread_counts_what_the_recount_counts_in_turn(monkeypatch):
    rng = random.Random(15)
    brand = BrandFactory(name="Acme", slug="acme")
    TrackedTerm.objects.create(brand=brand, kind="brand", text="acme")
    channels = [ChannelFactory(brand=brand, platform=p) for p in (Platform.X, Platform.FEED)]
    authors = [AuthorFactory(handle=f"a{n}") for n in range(4)]
    now = datetime.now(UTC).replace(hour=12, minute=0, second=0, microsecond=0)
    Mention.objects.bulk_create(
        Mention(
            brand=brand, channel=channels[n % 2], author=authors[n % 4], external_id=f"t-{n}",
            text=" ".join(rng.choices(WORDS, k=rng.randint(1, 7))) + rng.choice(["", "?", "."]),
            language=rng.choice(["en", "es", ""]), sentiment=rng.choice(list(Sentiment.values)),
            published_at=now - timedelta(days=n % 40, hours=n % 7), source="news.example" if n % 2 else "",
        )
        for n in range(400)
    )  # fmt: skip
    started = []

    def alongside(*args, **kwargs):
        started.append(args)
        return original(*args, **kwargs)

    original = rollups._texts_alongside
    monkeypatch.setattr(rollups, "_texts_alongside", alongside)
    since = (now - timedelta(days=40)).date()

    assert rollups.rollups_refresh(since=since) > 31  # two chunks, each with its thread's text pass
    assert len(started) == 2
    apart = _tables(brand.pk)
    assert apart["WordDay"] and apart["QuestionDay"]

    with transaction.atomic():
        rollups.rollups_refresh(since=since)
    assert len(started) == 2  # in turn this time
    assert _tables(brand.pk) == apart


DAY0 = datetime(2026, 3, 2, tzinfo=UTC).date()  # a Monday: periods below hold whole weeks and days around them
author_days = st.lists(
    st.tuples(st.integers(0, 7), st.integers(0, 20), st.integers(1, 3), st.integers(0, 3), st.integers(0, 9)),
    max_size=40,
)


def _ranked_in_python(brand, period, *, complainers: bool) -> tuple[list, list, int]:
    """Every author's sums over the period's days, ranked in Python: the definition."""
    sums: dict[int, dict] = {}
    for row in AuthorDay.objects.filter(brand=brand, day__gte=period.since, day__lte=period.until):
        if complainers and not row.negative:
            continue
        s = sums.setdefault(row.author_id, {"author_id": row.author_id, "n": 0, "scored": 0, "neg": 0,
                                            "engagement": 0, "sent": 0})  # fmt: skip
        s["n"] += row.count
        s["scored"] += row.scored
        s["neg"] += row.negative
        s["engagement"] += row.engagement
        s["sent"] += row.sentiment_sum
    rows = list(sums.values())
    leaders = (
        [] if complainers else sorted(rows, key=lambda r: (-r["n"], r["author_id"]))[: selectors.LEADER_CANDIDATES]
    )
    repeat = sorted((r for r in rows if r["neg"] >= 2), key=lambda r: (-r["neg"], r["author_id"]))
    return leaders, repeat[: selectors.TOP], len(repeat)


@pytest.mark.django_db
@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(rows=author_days, since=st.integers(0, 10), length=st.integers(1, 18), complainers=st.booleans())
def test_ranked_authors_are_the_first_of_every_authors_sums(team, monkeypatch, rows, since, length, complainers):
    monkeypatch.setattr(selectors, "LEADER_CANDIDATES", 3)  # cut among ties, as 500 is on a big brand
    monkeypatch.setattr(selectors, "TOP", 2)
    with transaction.atomic():
        merged: dict[tuple, list[int]] = {}
        for author, day, count, negative, engagement in rows:
            row = merged.setdefault((author, day), [0, 0, 0, 0])
            row[0] += count
            row[1] += min(negative, count)
            row[2] += engagement
            row[3] += count - 2 * min(negative, count)
        AuthorDay.objects.bulk_create(
            AuthorDay(brand=team.brand, author_id=1000 + author, day=DAY0 + timedelta(days=day), count=count,
                      scored=count, negative=negative, engagement=engagement, sentiment_sum=sent)
            for (author, day), (count, negative, engagement, sent) in merged.items()
        )  # fmt: skip
        if merged:
            rollups._sum_weeks(team.brand.pk, {rollups.monday(DAY0 + timedelta(days=d)) for _a, d in merged})
        period = selectors.Period(DAY0 + timedelta(days=since), DAY0 + timedelta(days=since + length - 1))

        ranked = selectors.author_totals(team.brand, period, complainers=complainers)
        leaders, repeat, count = _ranked_in_python(team.brand, period, complainers=complainers)

        assert (ranked.leaders, ranked.complainer_count) == (leaders, count)
        if complainers:  # only the negative counts stand: a whole week's row holds its other days too
            assert [(r["author_id"], r["neg"]) for r in ranked.complainers] == [
                (r["author_id"], r["neg"]) for r in repeat
            ]
        else:
            assert ranked.complainers == repeat
        transaction.set_rollback(True)
