"""A page's rollup upserts as one array per column (``config.bulk.unnest_rows``): the rows counted
hold the texts they were given, in key order, and a page of any size is sent with one parameter
per column on PostgreSQL."""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import Any

import pytest
from django.db import DataError, connection, transaction
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from listening.models import Sentiment
from reports.models import GroupDay, SourceDay, WordDay
from reports.rollups import Facts, facts_of, rollups_apply
from tests.factories import ChannelFactory, MentionFactory

pytestmark = pytest.mark.django_db

DAY = datetime(2026, 3, 2, 10, 0, tzinfo=UTC)
# Pieces an array literal gives a meaning to, and text a careless quoting mangles or reads as NULL.
HOSTILE = ["NULL", "", " ", " x ", "{", "}", ",", '"', "\\", "'", '{"a",NULL}', "\t", "\n", "😡", "%s"]
hostile_text = st.lists(
    st.one_of(
        st.sampled_from(HOSTILE),
        st.text(st.characters(blacklist_categories=("Cs",), blacklist_characters="\x00"), max_size=6),
    ),
    min_size=1,
    max_size=5,
).map("".join)


def _facts(**changes: Any) -> Facts:
    mention = MentionFactory(channel=ChannelFactory(), published_at=DAY, sentiment=Sentiment.NEGATIVE)
    (facts,) = facts_of([mention])
    return dataclasses.replace(facts, **changes)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    group=hostile_text,
    source=hostile_text.filter(bool),
    label=hostile_text,
    words=st.frozensets(hostile_text, max_size=4),
)
@example(group="NULL", source='{"a",NULL}', label="\\", words=frozenset({"", " ", '"'}))
def test_rows_counted_from_hostile_texts_hold_those_texts(
    group: str, source: str, label: str, words: frozenset[str]
) -> None:
    with transaction.atomic():
        facts = _facts(groups=frozenset({group}), source=source, source_label=label, words=words)
        rollups_apply([facts])
        assert list(GroupDay.objects.filter(brand_id=facts.brand_id).values_list("group", "count")) == [(group, 1)]
        site = SourceDay.objects.get(brand_id=facts.brand_id, kind=SourceDay.Kind.SITE)
        assert (site.name, site.label, site.count) == (source, label, 1)
        stored = dict(WordDay.objects.filter(brand_id=facts.brand_id).values_list("word", "count"))
        assert stored == dict.fromkeys(words, 1)
        transaction.set_rollback(True)


@pytest.mark.postgres  # the refusal is PostgreSQL's
def test_a_text_too_long_for_its_rollup_column_is_refused_not_cut() -> None:
    facts = _facts(words=frozenset({"w" * 65}))  # WordDay.word holds 64
    with pytest.raises(DataError, match="too long"), transaction.atomic():
        rollups_apply([facts])
    assert not WordDay.objects.exists()


@contextmanager
def _parameters() -> Iterator[list[list[Any]]]:
    """The parameters of each statement sent meanwhile."""
    sent: list[list[Any]] = []

    def record(execute: Any, sql: str, params: Any, many: bool, context: Any) -> Any:
        sent.append(list(params or ()))
        return execute(sql, params, many, context)

    with connection.execute_wrapper(record):
        yield sent


@pytest.mark.postgres  # the arrays are PostgreSQL's
def test_a_page_s_rows_are_sent_in_key_order() -> None:
    # Two pages upserting the same rows lock them in the same order, so neither waits on the other
    # in a cycle: the arrays hold the rows sorted by their key, whatever order the page held them in.
    words = frozenset(f"w{i:03d}" for i in range(300))
    facts = _facts(words=words)
    with _parameters() as sent:
        rollups_apply([facts])
    (params,) = sent
    in_order = "{" + ",".join(f'"{word}"' for word in sorted(words)) + "}"
    assert in_order in params
    assert list(WordDay.objects.order_by("word").values_list("word", flat=True)) == sorted(words)


@pytest.mark.postgres  # the arrays are PostgreSQL's; SQLite is given VALUES lists
def test_a_page_s_rollups_are_sent_with_one_parameter_per_column_however_many_rows() -> None:
    sent = []
    for n in (1, 40, 1200):
        # Only the number of words changes: the factory's random sentence can read as a question,
        # which is a row of one more table, so the question is held too.
        words = frozenset(f"word{i}" for i in range(n))
        facts = _facts(words=words, groups=frozenset({"Globex"}), question="how do I pay?")
        with _parameters() as parameters:
            rollups_apply([facts])
        assert len(parameters) == 1  # in one round trip
        sent.append(len(parameters[0]))
        assert WordDay.objects.filter(brand_id=facts.brand_id).count() == n
    assert sent[0] == sent[1] == sent[2]
