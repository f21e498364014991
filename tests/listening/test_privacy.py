"""A person's data: erased from every table, exported whole, kept out once they ask, and audited."""

from __future__ import annotations

import io
import json
import uuid
import zipfile
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from django.contrib.admin.models import CHANGE, LogEntry
from django.contrib.contenttypes.models import ContentType
from django.db import connection
from django.utils.crypto import salted_hmac

from listening import ingest
from listening.connectors import FetchedAuthor, FetchedItem
from listening.ingest import ingest_items
from listening.models import (
    Author,
    Channel,
    ErasureReason,
    Mention,
    MentionEvent,
    Platform,
    PrivacyAuditEntry,
    SuppressedAuthor,
)
from listening.privacy import (
    authors_search,
    erased_external_id,
    person_archive,
    person_data,
    person_erase,
    person_export,
    subject_digest,
)
from listening.services import mention_add_tag, mention_set_status
from responses.models import Notification, Reply, Ticket, TicketEvent, WebhookDelivery, WebhookEndpoint
from responses.webhooks import mention_data, payload
from tests.factories import ChannelFactory

pytestmark = pytest.mark.django_db

T0 = datetime(2026, 11, 20, 12, 0, tzinfo=UTC)
HANDLE = "zebulon_q"
NAME = "Zebulon Quartermaine"
PERSON_ID = "99887766554433"
POST_ID = "1700000000000000001"
PHRASE = "parcel QX-7731 never arrived"


def person(external_id: str = PERSON_ID, handle: str = HANDLE, name: str = NAME) -> FetchedAuthor:
    return FetchedAuthor(
        external_id=external_id,
        handle=handle,
        name=name,
        followers=12,
        profile_url=f"https://x.com/{handle}",
        avatar_url=f"https://pbs.example/{handle}.jpg",
    )


def item(external_id: str, text: str, author: FetchedAuthor, *, parent: str = "", minutes: int = 0) -> FetchedItem:
    return FetchedItem(
        external_id=external_id,
        text=text,
        author=author,
        published_at=T0 + timedelta(minutes=minutes),
        url=f"https://x.com/{author.handle}/status/{external_id}",
        parent_external_id=parent,
    )


@pytest.fixture
def channel(team):
    return ChannelFactory(brand=team.brand, platform=Platform.X, settings={"user_id": "1"})


@pytest.fixture
def stored(team, channel):
    """The person's complaint, a stranger's answer to it, the team's work on it, and what was sent out."""
    other = FetchedAuthor(external_id="555", handle="bystander", name="Bea Bystander")
    ingest_items(
        channel=channel,
        items=[
            item(POST_ID, f"@acme my {PHRASE}, how do I get a refund? #acmefail", person()),
            item("1700000000000000002", "same here, terrible", other, parent=POST_ID, minutes=1),
        ],
    )
    mention = Mention.objects.get(external_id=POST_ID)
    # Someone corrected the person and the mention in the Django admin: its history names both.
    for obj in (mention.author, mention):
        LogEntry.objects.create(
            user=team.manager,
            content_type=ContentType.objects.get_for_model(obj),
            object_id=str(obj.pk),
            object_repr=str(obj) if obj is mention else f"@{HANDLE} ({NAME})",
            action_flag=CHANGE,
        )
    mention_set_status(mention=mention, status=Mention.Status.OPEN, actor=team.cm, note=f"asked {NAME} to DM")
    mention_add_tag(mention=mention, tag="courier", actor=team.cm)
    ticket = Ticket.objects.create(
        brand=team.brand, department=team.billing, mention=mention, subject=f"{PHRASE}, how do I get a refund?"
    )
    TicketEvent.objects.create(ticket=ticket, kind=TicketEvent.Kind.NOTE, body="Courier lost it; refund approved.")
    TicketEvent.objects.create(ticket=ticket, kind=TicketEvent.Kind.NOTE, body=f"Called {NAME.upper()} (@{HANDLE}).")
    Reply.objects.create(
        mention=mention,
        ticket=ticket,
        author=team.cm,
        text=f"@{HANDLE} sorry {NAME}, DM us",
        status=Reply.Status.SENT,
        external_id="1700000000000000003",
        external_url=f"https://x.com/acme/status/1700000000000000003?in_reply_to={HANDLE}",
        sent_at=T0 + timedelta(minutes=5),
    )
    Notification.objects.create(
        user=team.cm, verb="routed", message=f"A mention by @{HANDLE}", url=f"/mentions/{mention.pk}/"
    )
    endpoint = WebhookEndpoint.objects.create(
        brand=team.brand, url="https://hooks.example/escucha", secret="s3cret", events=["mention.created"]
    )
    body = payload(
        event="mention.created", event_id=uuid.uuid4(), occurred_at=T0, brand=team.brand,
        data={"mention": mention_data(mention)},
    )  # fmt: skip
    WebhookDelivery.objects.create(
        brand=team.brand, target="endpoint", endpoint=endpoint, event="mention.created", body=body
    )
    return mention


def text_columns() -> list[tuple[str, str]]:
    """Every text, varchar and JSON column of every table in the database."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT table_name, column_name FROM information_schema.columns WHERE table_schema = current_schema() "
            "AND data_type IN ('text', 'character varying', 'json', 'jsonb', 'character')"
        )
        return cursor.fetchall()


def found_in_database(needles: list[str]) -> dict[str, list[str]]:
    """For each needle, the table.column where it occurs anywhere in the database, case-insensitively."""
    hits: dict[str, list[str]] = {needle: [] for needle in needles}
    quote = connection.ops.quote_name
    with connection.cursor() as cursor:
        for table, column in text_columns():
            cursor.execute(
                f"SELECT {quote(column)}::text FROM {quote(table)} WHERE {quote(column)}::text ILIKE ANY(%s)",  # noqa: S608
                [[f"%{needle}%" for needle in needles]],
            )
            for (value,) in cursor.fetchall():
                for needle in needles:
                    if needle.casefold() in value.casefold() and f"{table}.{column}" not in hits[needle]:
                        hits[needle].append(f"{table}.{column}")
    return hits


@pytest.mark.postgres  # searches every table's columns through PostgreSQL's information_schema
@pytest.mark.parametrize("mode", ["anonymise", "delete"])
def test_an_erased_person_is_found_nowhere_in_the_database(team, stored, mode):
    needles = [HANDLE, NAME, PERSON_ID, POST_ID, "QX-7731", "how do I get a refund"]
    assert all(found_in_database(needles).values())  # the search finds them while they are there

    author = Author.objects.get(external_id=PERSON_ID)
    person_erase(author=author, actor=team.manager, mode=mode, suppress=True)

    assert found_in_database(needles) == {needle: [] for needle in needles}
    # The stranger who answered is untouched, and still threaded under the erased mention.
    answer = Mention.objects.get(external_id="1700000000000000002")
    assert answer.text == "same here, terrible" and answer.author.handle == "bystander"
    assert answer.parent_id == stored.pk


def test_the_team_keeps_its_ticket_notes_and_learns_why_the_original_is_gone(team, stored):
    person_erase(author=Author.objects.get(external_id=PERSON_ID), actor=team.manager)

    mention = Mention.objects.get(pk=stored.pk)
    assert mention.erased_reason == ErasureReason.REQUEST and mention.erased_at is not None
    assert (mention.text, mention.url, mention.title) == ("", "", "")
    assert mention.author.is_anonymous and str(mention.author) == "Anonymous"
    # Kept so that reports do not change: what it was about, not who said it or what they said.
    assert (mention.sentiment, mention.intent, mention.language) == (stored.sentiment, stored.intent, stored.language)
    assert mention.published_at == stored.published_at
    ticket = Ticket.objects.get(mention=mention)
    assert ticket.events.filter(body="Courier lost it; refund approved.").exists()
    assert ticket.subject == ""
    reply = Reply.objects.get(mention=mention)
    assert (reply.text, reply.external_url, reply.status) == ("", "", Reply.Status.SENT)
    assert reply.sent_at == T0 + timedelta(minutes=5)  # the team report's response time stays
    # Notes that named the person stay, without the name.
    assert ticket.events.filter(body="Called […] ([…]).").exists()
    # Anonymise keeps the team's history on the mention (delete takes it too).
    assert mention.tags == ["courier"]
    assert MentionEvent.objects.filter(mention=mention, note="asked […] to DM").exists()


def test_delete_leaves_only_the_counts(team, stored):
    person_erase(author=Author.objects.get(external_id=PERSON_ID), actor=team.manager, mode="delete")
    mention = Mention.objects.get(pk=stored.pk)
    assert mention.tags == [] and mention.routing_log == []
    assert not MentionEvent.objects.filter(mention=mention).exists()
    assert Ticket.objects.filter(mention=mention).exists()


def test_suppression_drops_their_next_mention_at_ingestion_and_nobody_elses(team, channel, stored):
    person_erase(author=Author.objects.get(external_id=PERSON_ID), actor=team.manager, suppress=True)
    assert SuppressedAuthor.objects.count() == 1

    result = ingest_items(
        channel=channel,
        items=[
            item("1700000000000000010", "I am back", person(handle="new_handle", name="Z. Q.")),
            item("1700000000000000011", "hello acme", person("777", "someone", "Some One")),
        ],
    )
    assert [m.text for m in result.created] == ["hello acme"]
    assert result.skipped == 1
    assert not Author.objects.filter(platform=Platform.X, external_id=PERSON_ID).exists()
    assert not Mention.objects.filter(text="I am back").exists()


def test_without_suppression_they_may_come_back_but_the_erased_post_does_not(team, channel, stored):
    person_erase(author=Author.objects.get(external_id=PERSON_ID), actor=team.manager, suppress=False)

    result = ingest_items(
        channel=channel,
        items=[
            item(POST_ID, f"@acme my {PHRASE}", person()),  # the same post, fetched again by a backfill
            item("1700000000000000010", "a new post of theirs", person()),
        ],
    )
    assert [m.text for m in result.created] == ["a new post of theirs"]
    assert not Mention.objects.filter(text__contains=PHRASE).exists()


def test_a_page_looks_for_erased_ids_only_where_something_was_erased(team, channel, stored, monkeypatch):
    digested: list[str] = []
    real = ingest.erased_external_id
    monkeypatch.setattr(ingest, "erased_external_id", lambda *args: digested.append(args[1]) or real(*args))
    untouched = ChannelFactory(brand=team.brand, platform=Platform.X, settings={"user_id": "2"})
    ingest_items(channel=untouched, items=[item(POST_ID, "hello acme", person("777", "someone", "Some One"))])
    assert digested == []

    person_erase(author=Author.objects.get(external_id=PERSON_ID), actor=team.manager)
    result = ingest_items(channel=channel, items=[item(POST_ID, f"@acme my {PHRASE}", person())])
    assert digested == [POST_ID] and result.created == []
    assert Channel.objects.get(pk=channel.pk).has_erased_mentions
    assert not Channel.objects.get(pk=untouched.pk).has_erased_mentions


def test_the_export_holds_their_profile_mentions_ticket_and_replies_and_is_audited(team, stored):
    author = Author.objects.get(external_id=PERSON_ID)
    data = person_export(author=author, actor=team.manager)

    assert data["profile"]["handle"] == HANDLE and data["profile"]["platform_id"] == PERSON_ID
    assert [m["text"] for m in data["mentions"]] == [f"@acme my {PHRASE}, how do I get a refund? #acmefail"]
    assert [event["note"] for event in data["mentions"][0]["history"] if event["note"]] == [f"asked {NAME} to DM"]
    ticket = Ticket.objects.get(mention=stored)
    assert [t["id"] for t in data["tickets"]] == [ticket.pk]
    assert data["tickets"][0]["timeline"][0]["note"] == "Courier lost it; refund approved."
    assert [r["text"] for r in data["replies"]] == [f"@{HANDLE} sorry {NAME}, DM us"]

    archive = zipfile.ZipFile(io.BytesIO(person_archive(data)))
    assert set(archive.namelist()) == {"person.json", "profile.csv", "mentions.csv", "tickets.csv", "replies.csv"}
    assert json.loads(archive.read("person.json"))["profile"]["name"] == NAME
    assert PHRASE in archive.read("mentions.csv").decode()

    entry = PrivacyAuditEntry.objects.get()
    assert entry.action == "export" and entry.actor == team.manager
    assert entry.counts == {"profile": 1, "mentions": 1, "tickets": 1, "replies": 1}
    recorded = json.dumps([entry.subject, entry.counts, entry.mode])
    assert not any(needle in recorded for needle in (HANDLE, NAME, PERSON_ID))


def test_an_erasure_is_audited_with_its_rows_per_table_and_no_personal_data(team, stored):
    person_erase(author=Author.objects.get(external_id=PERSON_ID), actor=team.manager, suppress=True)

    entry = PrivacyAuditEntry.objects.get()
    assert (entry.action, entry.mode, entry.suppressed, entry.actor) == ("erasure", "anonymise", True, team.manager)
    assert entry.counts["listening.Mention"] == 1
    assert entry.counts["listening.Author"] == 1
    assert entry.counts["responses.Reply"] == 1
    assert entry.counts["responses.Ticket"] == 1
    assert entry.counts["responses.Notification"] == 1
    assert entry.counts["responses.WebhookDelivery"] == 1
    assert entry.subject == SuppressedAuthor.objects.get().digest
    assert len(entry.subject) == 64 and PERSON_ID not in entry.subject


def test_a_person_is_found_by_handle_name_or_platform_id_on_any_platform(team, stored):
    Author.objects.create(platform=Platform.YOUTUBE, external_id="UC123", handle="zebulon", name="Zeb on YouTube")
    assert {a.platform for a in authors_search(query=f"@{HANDLE}")} == {Platform.X}
    assert {a.external_id for a in authors_search(query="zebulon")} == {PERSON_ID, "UC123"}
    assert [a.handle for a in authors_search(query="quartermaine")] == [HANDLE]
    assert [a.handle for a in authors_search(query=PERSON_ID)] == [HANDLE]
    assert authors_search(query="   ") == []
    person_erase(author=Author.objects.get(external_id=PERSON_ID), actor=team.manager)
    assert authors_search(query="anonymous") == []  # the placeholder is nobody


def test_person_data_of_someone_with_nothing_else_is_just_the_profile(team):
    author = Author.objects.create(platform=Platform.X, external_id="1", handle="quiet")
    data = person_data(author=author)
    assert data["mentions"] == [] and data["tickets"] == [] and data["replies"] == []


@pytest.mark.parametrize("platform, external_id", [("x", PERSON_ID), ("youtube", "UC-ñandú 😀"), ("rss", "")])
def test_a_person_and_an_erased_item_are_named_by_djangos_salted_hash_of_the_configured_key(
    platform: str, external_id: str, settings: Any
) -> None:
    # The key derived from the purpose and PRIVACY_HASH_KEY is kept between calls: what is
    # stored (suppression list, audit log, erased ids) must stay Django's salted_hmac, whatever key.
    for key in ("first key", "second key"):
        settings.PRIVACY_HASH_KEY = key
        value = f"{platform}\x00{external_id}"
        expected = salted_hmac("escucha.privacy.subject", value, secret=key, algorithm="sha256").hexdigest()
        assert subject_digest(platform, external_id) == expected
        erased = salted_hmac("escucha.privacy.mention", value, secret=key, algorithm="sha256").hexdigest()
        assert erased_external_id(platform, external_id) == "erased:" + erased[:48]
