"""The database keeps the natural keys: ingestion can be retried without duplicates."""

from __future__ import annotations

import pytest
from django.db import IntegrityError, transaction

from listening.models import Channel, Mention
from responses.models import Ticket
from tests.factories import AuthorFactory, ChannelFactory, MentionFactory, TicketFactory


@pytest.mark.django_db
def test_the_same_platform_item_cannot_be_stored_twice_on_a_channel() -> None:
    mention = MentionFactory(external_id="1460323737035677698")
    with pytest.raises(IntegrityError), transaction.atomic():
        MentionFactory(channel=mention.channel, external_id="1460323737035677698")
    assert Mention.objects.filter(external_id="1460323737035677698").count() == 1


@pytest.mark.django_db
def test_the_same_item_id_on_two_channels_is_two_mentions() -> None:
    first = MentionFactory(external_id="42")
    MentionFactory(external_id="42", channel=ChannelFactory(brand=first.brand))
    assert Mention.objects.filter(external_id="42").count() == 2


@pytest.mark.django_db
def test_an_author_is_unique_per_platform() -> None:
    AuthorFactory(platform="x", external_id="2244994945")
    with pytest.raises(IntegrityError), transaction.atomic():
        AuthorFactory(platform="x", external_id="2244994945")
    AuthorFactory(platform="youtube", external_id="2244994945")


@pytest.mark.django_db
def test_a_mention_has_one_live_ticket_per_department() -> None:
    ticket = TicketFactory()
    with pytest.raises(IntegrityError), transaction.atomic():
        TicketFactory(mention=ticket.mention, department=ticket.department)
    ticket.status = Ticket.Status.CLOSED
    ticket.save()
    TicketFactory(mention=ticket.mention, department=ticket.department)  # a new case after closing
    assert ticket.mention.tickets.count() == 2


@pytest.mark.django_db
def test_credentials_are_encrypted_at_rest() -> None:
    channel = ChannelFactory(credentials={"bearer_token": "AAAA-secret-token"})
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("SELECT credentials FROM listening_channel WHERE id = %s", [channel.pk])
        stored = cursor.fetchone()[0]
    assert "AAAA-secret-token" not in stored
    assert Channel.objects.get(pk=channel.pk).credentials == {"bearer_token": "AAAA-secret-token"}


@pytest.mark.django_db
def test_hostile_text_is_stored_verbatim() -> None:
    payload = "<script>alert('x')</script> \u202e ¿Qué? 🔥 '; DROP TABLE mentions; --"
    mention = MentionFactory(text=payload)
    assert Mention.objects.get(pk=mention.pk).text == payload


# The tables every new mention writes to: each of their indexes is written on every row.
INGESTED_TABLES = (
    "listening_mention",
    "listening_mention_terms",
    "listening_author",
    "listening_mentionevent",
    "responses_ticket",
    "responses_ticketevent",
    "responses_notification",
)
# Columns ingestion leaves empty on the rows it writes: someone fills them later, on a few.
EMPTY_WHEN_INGESTED = {
    ("listening_mention", "assignee_id"),
    ("listening_mention", "sentiment_corrected_by_id"),
    ("listening_mention", "intent_corrected_by_id"),
    ("listening_mentionevent", "actor_id"),
    ("responses_ticket", "assignee_id"),
    ("responses_ticket", "created_by_id"),
    ("responses_ticketevent", "actor_id"),
}


@pytest.mark.postgres  # reads PostgreSQL's catalogue for partial and expression indexes
@pytest.mark.django_db
def test_no_index_written_on_ingestion_is_served_by_another() -> None:
    """An index whose columns begin another index (on the same rows) only slows ingestion: the
    longer one serves its queries. Unique and partial indexes do more than serve reads and count
    apart; a foreign key's own index is the usual culprit."""
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute(
            """
            SELECT c.relname, i.indexrelid::regclass::text, i.indkey::text, i.indisunique,
                   i.indpred IS NOT NULL OR i.indexprs IS NOT NULL
            FROM pg_index i JOIN pg_class c ON c.oid = i.indrelid
            WHERE c.relname = ANY(%s)
            """,
            [list(INGESTED_TABLES)],
        )
        indexes = cursor.fetchall()
    served = [
        (name, other)
        for table, name, keys, unique, partial in indexes
        if not unique and not partial
        for other_table, other, other_keys, _u, other_partial in indexes
        if other_table == table and other != name and not other_partial
        and (other_keys + " ").startswith(keys + " ")
    ]  # fmt: skip
    assert served == []


@pytest.mark.postgres  # reads PostgreSQL's catalogue for partial indexes
@pytest.mark.django_db
def test_an_index_led_by_a_column_ingestion_leaves_empty_holds_only_the_rows_that_have_it() -> None:
    """New mentions and tickets have no assignee, no reviewer, no actor: an index led by such a
    column, unless partial, is written on every row stored, for the few that will ever have one."""
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute(
            """
            SELECT c.relname, i.indexrelid::regclass::text, a.attname
            FROM pg_index i
            JOIN pg_class c ON c.oid = i.indrelid
            JOIN pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = i.indkey[0]
            WHERE c.relname = ANY(%s) AND i.indpred IS NULL
            """,
            [list(INGESTED_TABLES)],
        )
        written = [
            (name, column) for table, name, column in cursor.fetchall() if (table, column) in EMPTY_WHEN_INGESTED
        ]
    assert written == []
