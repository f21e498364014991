"""Ids taken ahead of an INSERT (``config.bulk.reserve_ids``), on PostgreSQL and SQLite, and rows
written in one go (``config.bulk.insert_new``)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from django.db import DataError, IntegrityError, connection, transaction
from django.db.models.signals import post_init
from django.utils import timezone
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from config.bulk import bulk_set, insert_new, insert_rows, instance_maker, reserve_ids, stamp_new
from listening.ingest import AUTHOR_FIELDS
from listening.models import Author, Brand, Mention, TrackedTerm
from responses.models import Department
from tests.factories import AuthorFactory, BrandFactory, ChannelFactory

pytestmark = pytest.mark.django_db


def test_reserved_ids_are_new_increasing_and_never_given_to_a_later_insert() -> None:
    first = reserve_ids(Brand, 3)  # a table no row was inserted into yet, on SQLite
    assert len(first) == 3 and first == sorted(set(first))
    made = BrandFactory()
    assert made.pk > max(first)
    later = reserve_ids(Brand, 2)
    assert len(later) == 2 and later == sorted(set(later)) and min(later) > made.pk


def test_rows_are_stored_with_their_reserved_ids_and_later_rows_come_after_them() -> None:
    existing = BrandFactory()
    ids = reserve_ids(Brand, 2)
    assert min(ids) > existing.pk
    insert_new(Brand, [Brand(pk=pk, name=f"Reserved {pk}", slug=f"reserved-{pk}") for pk in ids])
    assert set(Brand.objects.filter(slug__startswith="reserved-").values_list("pk", flat=True)) == set(ids)
    assert BrandFactory().pk > max(ids)
    assert reserve_ids(Brand, 0) == []


# --- rows written with COPY (PostgreSQL) come back as they went in ------------------------------
# Pieces COPY's text format gives a meaning to, and text a careless escaping mangles.
HOSTILE = ["\\N", "\\.", "\\", "\\\\", "\t", "\n", "\r\n", "\r", "'", '"', "''", "😡", "\u202b", "é", ",", "|"]
hostile_text = st.lists(
    st.one_of(
        st.sampled_from(HOSTILE),
        st.text(st.characters(blacklist_categories=("Cs",), blacklist_characters="\x00"), max_size=8),
    ),
    max_size=8,
).map("".join)
json_values = st.recursive(
    st.none() | st.booleans() | st.integers(-(2**70), 2**70) | hostile_text,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(hostile_text, inner, max_size=3),
    max_leaves=8,
)
instants = st.datetimes(
    min_value=datetime(1, 1, 2),
    max_value=datetime(9999, 12, 30),
    timezones=st.sampled_from([UTC, ZoneInfo("America/Mexico_City"), ZoneInfo("Asia/Kolkata")]),
)
MENTION_VALUES = ("text", "title", "url", "source", "sentiment_score", "analysis", "tags", "metrics")
MENTION_DATES = ("published_at", "fetched_at", "checked_at")


@pytest.mark.postgres  # COPY is PostgreSQL's; SQLite is given an INSERT
@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    texts=st.lists(hostile_text, min_size=4, max_size=4),
    score=st.none() | st.floats(allow_nan=False),
    json=st.lists(json_values.filter(lambda value: value is not None), min_size=3, max_size=3),  # None: SQL NULL
    dates=st.tuples(instants, instants, st.none() | instants),
    active=st.booleans(),
)
@example(
    texts=["\\N", "\\.", "a\tb\nc\\d\re", ""],
    score=float("inf"),
    json=[{"\\N": "\t\n"}, ["\\"], {}],
    dates=(datetime(2026, 1, 1, tzinfo=UTC),) * 2 + (None,),
    active=False,
)
def test_rows_written_in_one_go_come_back_byte_for_byte(
    texts: list[str], score: float | None, json: list[Any], dates: tuple[Any, ...], active: bool
) -> None:
    # Each example in a savepoint of its own, undone after it: one that fails spoils no other.
    with transaction.atomic():
        channel = ChannelFactory()
        author = AuthorFactory()
        values = dict(zip(MENTION_VALUES, [*texts, score, *json], strict=True))
        values |= dict(zip(MENTION_DATES, dates, strict=True))
        (pk,) = reserve_ids(Mention, 1)
        mention = Mention(pk=pk, brand=channel.brand, channel=channel, author=author, external_id="1", **values)
        insert_new(Mention, [mention])
        assert Mention.objects.values(*values).get(pk=pk) == values
        term = TrackedTerm(brand=channel.brand, text=texts[0], group=texts[1], exclusions=json[0], is_active=active)
        insert_new(TrackedTerm, [term])
        stored = TrackedTerm.objects.values("text", "group", "exclusions", "is_active").get(brand=channel.brand)
        assert stored == {"text": texts[0], "group": texts[1], "exclusions": json[0], "is_active": active}
        transaction.set_rollback(True)


@pytest.mark.postgres  # the refusals are PostgreSQL's
def test_what_the_database_refuses_in_one_go_raises_what_it_raises_in_an_insert() -> None:
    channel = ChannelFactory()
    brand = channel.brand
    with pytest.raises(ValueError, match="NUL"):  # as psycopg2 refuses it in an INSERT
        insert_new(TrackedTerm, [TrackedTerm(brand=brand, text="a\x00b")])
    with pytest.raises(DataError), transaction.atomic():  # jsonb holds no \u0000
        insert_new(TrackedTerm, [TrackedTerm(brand=brand, text="a", exclusions=["\x00"])])
    with pytest.raises(IntegrityError), transaction.atomic():  # a term a brand has twice
        insert_new(TrackedTerm, [TrackedTerm(brand=brand, text="a"), TrackedTerm(brand=brand, text="a")])
    assert not TrackedTerm.objects.filter(brand=brand).exists()


def test_an_instance_made_by_position_is_the_one_made_by_keyword() -> None:
    channel, author = ChannelFactory(), AuthorFactory()
    values = {
        "brand_id": channel.brand_id,
        "channel": channel,
        "author": author,
        "parent": None,
        "external_id": "1",
        "text": "Acme",
        "metrics": {"likes": 2},
        "published_at": datetime(2026, 1, 1, tzinfo=UTC),
    }
    make = instance_maker(Mention)
    made, built = make(**values), Mention(**values)

    def state(mention: Mention) -> tuple[dict[str, Any], Any, bool, dict[str, Any]]:
        fields = dict(vars(mention))
        held = fields.pop("_state")
        del fields["fetched_at"]  # the time each was made (its default), compared below
        return fields, held.db, held.adding, held.fields_cache

    assert state(made) == state(built)
    assert made.channel is channel and made.author is author and made.parent is None
    assert made.fetched_at <= built.fetched_at <= timezone.now()  # made first
    again = make(**values)
    assert again.tags == [] and again.tags is not made.tags  # a default list of its own, as each gets


def test_a_page_of_rows_written_in_one_go_comes_back_row_for_row() -> None:
    # COPY's text of a column is escaped for all its rows at once: no value runs into the next.
    brand = BrandFactory()
    texts = ["", "\\", "a\tb", "", "\\N", "line\nnext\r\n", "😡", "\\\\", "plain"]
    made = [TrackedTerm(brand=brand, text=f"{i}:{t}", group=t, exclusions=[t, {t: i}]) for i, t in enumerate(texts)]
    insert_new(TrackedTerm, made)
    stored = {
        text: (group, exclusions)
        for text, group, exclusions in TrackedTerm.objects.filter(brand=brand).values_list(
            "text", "group", "exclusions"
        )
    }
    assert stored == {f"{i}:{t}": (t, [t, {t: i}]) for i, t in enumerate(texts)}


@pytest.mark.postgres  # psycopg2's refusal; SQLite stores a NUL
def test_a_nul_in_any_row_of_a_batch_is_refused_as_in_an_insert() -> None:
    brand = BrandFactory()
    terms = [
        TrackedTerm(brand=brand, text="a"),
        TrackedTerm(brand=brand, text="b\x00"),
        TrackedTerm(brand=brand, text="c"),
    ]
    with pytest.raises(ValueError, match="NUL"), transaction.atomic():
        insert_new(TrackedTerm, terms)
    assert not TrackedTerm.objects.filter(brand=brand).exists()


def test_a_field_that_prepares_its_values_its_own_way_is_stored_as_it_prepares_them() -> None:
    # An encrypted field is a TextField that encrypts what it stores: written in one go (COPY on
    # PostgreSQL, an INSERT elsewhere and when rows come back) it is stored encrypted all the same.
    secret = "https://hooks.slack.com/services/T0/B0/secret"
    brand = BrandFactory()
    insert_new(Department, [Department(brand=brand, name="Copied", slack_webhook_url=secret)])
    insert_new(Department, [Department(brand=brand, name="Inserted", slack_webhook_url=secret)], returning=("id",))
    with connection.cursor() as cursor:
        cursor.execute("SELECT slack_webhook_url FROM responses_department WHERE brand_id = %s", [brand.pk])
        stored = [value for (value,) in cursor.fetchall()]
    assert len(stored) == 2 and all(value and secret not in value for value in stored)
    assert [d.slack_webhook_url for d in Department.objects.filter(brand=brand)] == [secret, secret]


def test_an_instance_made_by_position_is_announced_as_one_made_by_keyword() -> None:
    # Made without Model.__init__ while no one listens: a listener still hears of each instance.
    channel, author = ChannelFactory(), AuthorFactory()
    heard: list[Any] = []

    def listener(sender: type, instance: Mention, **kwargs: Any) -> None:
        heard.append((instance.external_id, instance.channel_id))

    make = instance_maker(Mention)
    make(brand_id=channel.brand_id, channel=channel, author=author, external_id="1")
    post_init.connect(listener, sender=Mention)
    try:
        made = make(brand_id=channel.brand_id, channel=channel, author=author, external_id="2")
    finally:
        post_init.disconnect(listener, sender=Mention)
    assert heard == [("2", channel.pk)]
    assert made.channel is channel and made._state.adding


def test_a_batch_stored_together_is_stamped_with_one_instant() -> None:
    # Each row of a page is given the same time for its ``auto_now`` dates, the time it is stamped.
    channel, author = ChannelFactory(), AuthorFactory()
    make = instance_maker(Mention)
    mentions = [make(brand_id=channel.brand_id, channel=channel, author=author, external_id=str(i)) for i in range(3)]
    before = timezone.now()
    stamp_new(Mention, iter(mentions))
    assert len({mention.updated_at for mention in mentions}) == 1
    assert before <= mentions[0].updated_at <= timezone.now()
    stamp_new(Mention, [])  # nothing to stamp


def test_dates_inserted_in_one_go_are_stored_as_an_insert_stores_them() -> None:
    # Aware dates go to the driver as they are; a naive one is made aware in the site's zone, with
    # Django's warning, as a model's save would.
    aware = datetime(2026, 3, 1, 9, 30, tzinfo=ZoneInfo("America/Mexico_City"))
    naive = datetime(2026, 3, 1, 9, 30)
    columns = ("platform", "external_id", *AUTHOR_FIELDS, "is_internal", "created_at", "updated_at")
    profile = ("handle", "Name", 0, False, "", "")
    rows = [("x", "aware", *profile, False, aware, aware), ("x", "naive", *profile, False, naive, aware)]
    with pytest.warns(RuntimeWarning, match="naive datetime"):
        ids = dict(insert_rows(Author, columns, rows, returning=("external_id", "id")))
    stored = dict(Author.objects.filter(pk__in=ids.values()).values_list("external_id", "created_at"))
    assert stored == {"aware": aware, "naive": timezone.make_aware(naive)}


@pytest.mark.postgres  # SQLite keeps no length; Django's bulk_update writes there
def test_bulk_set_refuses_a_text_too_long_for_its_column_rather_than_cutting_it() -> None:
    author = AuthorFactory(handle="ana")
    author.handle = "a" * 300  # the column holds 255
    with pytest.raises(DataError), transaction.atomic():
        bulk_set(Author, [author], ["handle"])
    author.refresh_from_db()
    assert author.handle == "ana"
    author.handle = "b" * 255
    assert bulk_set(Author, [author], ["handle"]) == 1
    author.refresh_from_db()
    assert author.handle == "b" * 255
