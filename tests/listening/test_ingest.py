"""The ingestion pipeline: every item becomes exactly one mention, scored, matched and threaded."""

from __future__ import annotations

import gc
import re
from datetime import UTC, datetime, timedelta

import pytest
from django.db import connection, models
from django.test.utils import CaptureQueriesContext

from listening.connectors import FetchedAuthor, FetchedItem, RateBudget
from listening.ingest import ingest_items
from listening.language import detect_language
from listening.models import Author, Channel, Mention, Platform, Sentiment, TrackedTerm
from listening.terms import compile_terms, matching_term_ids
from tests.factories import ChannelFactory, TrackedTermFactory

pytestmark = pytest.mark.django_db

T0 = datetime(2026, 11, 20, 12, 0, tzinfo=UTC)


def item(
    external_id: str, text: str, *, author: str = "u1", parent: str = "", minutes: int = 0, **extra
) -> FetchedItem:
    return FetchedItem(
        external_id=external_id,
        text=text,
        author=FetchedAuthor(external_id=author, handle=f"h{author}", name=f"Name {author}", followers=10),
        published_at=T0 + timedelta(minutes=minutes),
        parent_external_id=parent,
        **extra,
    )


@pytest.fixture
def channel(team):
    return ChannelFactory(brand=team.brand, platform=Platform.X, settings={"user_id": "1"})


def test_a_poll_that_finds_nothing_writes_nothing_and_never_turns_the_cursor_back(channel, django_assert_num_queries):
    """Most polls of most channels find nothing new (a feed answers "not modified" and the cursor
    comes back as it went): at ten thousand channels each took four statements and a lock for it."""
    ingest_items(channel=channel, items=[item("1", "Acme anvils rock")], cursor={"since_id": "1"})
    polled = Channel.objects.get(pk=channel.pk)  # as a poll reads its channel
    # Meanwhile another poll of the channel read further (someone asked for a poll now).
    Channel.objects.filter(pk=channel.pk).update(cursor={"since_id": "5"})
    with django_assert_num_queries(0):
        result = ingest_items(channel=polled, items=[], cursor={"since_id": "1"})
    assert result.created == [] and result.skipped == 0 and result.rejected == []
    channel.refresh_from_db()
    assert channel.cursor == {"since_id": "5"}

    # A cursor that moved is written, with nothing new.
    ingest_items(channel=channel, items=[], cursor={"since_id": "6"})
    channel.refresh_from_db()
    assert channel.cursor == {"since_id": "6"}


def test_items_become_mentions_once_and_the_cursor_moves_with_them(channel):
    first = ingest_items(
        channel=channel,
        items=[item("1", "I love my new Acme anvil"), item("2", "Acme shipping is slow"), item("1", "again")],
        cursor={"since_id": "2"},
        budget=RateBudget(remaining=42),
    )
    assert len(first.created) == 2 and first.skipped == 1
    channel.refresh_from_db()
    assert channel.cursor == {"since_id": "2"}
    assert channel.rate_limit_remaining == 42
    assert channel.newest_item_at == T0

    again = ingest_items(
        channel=channel, items=[item("1", "x"), item("2", "y"), item("3", "new")], cursor={"since_id": "3"}
    )
    assert [m.external_id for m in again.created] == ["3"]
    assert again.skipped == 2
    assert Mention.objects.filter(channel=channel).count() == 3
    assert Mention.objects.get(external_id="1").text == "I love my new Acme anvil"  # never overwritten


def test_text_is_stored_verbatim_even_when_hostile(channel):
    payload = "<script>alert('x')</script> & \u202e \x00ok"
    [mention] = ingest_items(channel=channel, items=[item("1", payload.replace("\x00", ""))]).created
    mention.refresh_from_db()
    assert mention.text == payload.replace("\x00", "")


def test_english_is_scored_by_vader_spanish_by_its_own_analyzer_others_unscored(channel):
    created = ingest_items(
        channel=channel,
        items=[
            item("en", "This is terrible, the worst support I have ever had"),
            item("es", "El servicio es pésimo, nunca más compro aquí"),
            item("de", "Ich bin mit dem Kundendienst sehr zufrieden und empfehle ihn"),
            item("short", "ok"),
        ],
    ).created
    by_id = {m.external_id: m for m in created}
    assert (by_id["en"].language, by_id["en"].sentiment) == ("en", Sentiment.NEGATIVE)
    assert by_id["en"].sentiment_score < -0.05
    assert (by_id["es"].language, by_id["es"].sentiment) == ("es", Sentiment.NEGATIVE)
    assert (by_id["de"].language, by_id["de"].sentiment, by_id["de"].sentiment_score) == (
        "de",
        Sentiment.UNSCORED,
        None,
    )
    assert by_id["short"].language == "" and by_id["short"].sentiment == Sentiment.UNSCORED
    assert all(m.analyzer_sentiment == m.sentiment for m in created)


def test_language_detection_ignores_links_and_handles_and_falls_back_to_the_hint():
    assert detect_language("Me encanta el nuevo modelo @acme_support https://acme.example/x #AcmeSummer") == "es"
    assert detect_language("ok", hint="en") == "en"
    assert detect_language("ok", hint="tlh") == ""


def test_tracked_terms_match_whole_words_accents_hashtags_handles_and_exclusions(team, channel):
    brand = TrackedTermFactory(brand=team.brand, kind=TrackedTerm.Kind.BRAND, text="Acme")
    hashtag = TrackedTermFactory(brand=team.brand, kind=TrackedTerm.Kind.CAMPAIGN, text="#AcmeSummer")
    handle = TrackedTermFactory(brand=team.brand, kind=TrackedTerm.Kind.BRAND, text="@acme")
    phrase = TrackedTermFactory(brand=team.brand, kind=TrackedTerm.Kind.PRODUCT, text="Roadrunner Pro")
    accented = TrackedTermFactory(brand=team.brand, kind=TrackedTerm.Kind.KEYWORD, text="camión")
    rival = TrackedTermFactory(
        brand=team.brand, kind=TrackedTerm.Kind.COMPETITOR, text="Globex", exclusions=["globex corporation history"]
    )
    TrackedTermFactory(brand=team.brand, kind=TrackedTerm.Kind.KEYWORD, text="inactive", is_active=False)
    compiled = compile_terms(TrackedTerm.objects.filter(brand=team.brand, is_active=True))

    def matched(text: str) -> set[int]:
        return set(matching_term_ids(compiled, text))

    assert matched("ACME rocks") == {brand.pk}
    assert matched("acmeshop is a scam") == set()
    assert matched("Loving #acmesummer!") == {hashtag.pk}
    assert matched("thanks @Acme") == {brand.pk, handle.pk}
    assert matched("no hashtag acmesummer, no handle acme") == {brand.pk}
    assert matched("the roadrunner   PRO is fast") == {phrase.pk}
    assert matched("el CAMION llegó tarde") == {accented.pk}
    assert matched("Globex is cheaper") == {rival.pk}
    assert matched("a talk on Globex Corporation history") == set()
    assert matched("this is inactive") == set()


def test_matched_terms_are_stored_on_the_mention(team, channel):
    term = TrackedTermFactory(brand=team.brand, kind=TrackedTerm.Kind.COMPETITOR, text="Globex")
    [mention] = ingest_items(channel=channel, items=[item("1", "Globex is better than this")]).created
    assert list(mention.terms.all()) == [term]


def test_authors_are_shared_across_mentions_and_refreshed(channel):
    ingest_items(channel=channel, items=[item("1", "one"), item("2", "two")])
    assert Author.objects.filter(platform=Platform.X).count() == 1
    changed = FetchedItem(
        external_id="3",
        text="three",
        author=FetchedAuthor(external_id="u1", handle="renamed", name="New Name", followers=5000, verified=True),
        published_at=T0,
    )
    ingest_items(channel=channel, items=[changed])
    author = Author.objects.get(platform=Platform.X, external_id="u1")
    assert (author.handle, author.followers, author.verified) == ("renamed", 5000, True)
    assert author.mentions.count() == 3
    # A webhook knows only the id and the name: what we knew stays.
    sparse = FetchedItem(
        external_id="4", text="four", author=FetchedAuthor(external_id="u1", name="N"), published_at=T0
    )
    ingest_items(channel=channel, items=[sparse])
    author.refresh_from_db()
    assert (author.handle, author.name, author.followers, author.verified) == ("renamed", "N", 5000, True)


def test_the_authors_a_page_carries_are_the_stored_ones(channel):
    # What routing and notifications read of a mention's author: the row as stored (new, changed
    # or untouched), as an instance read from the database, without reading it again.
    ingest_items(channel=channel, items=[item("1", "one", author="kept"), item("2", "two", author="changed")])
    changed = FetchedAuthor(external_id="changed", handle="renamed", followers=7, verified=True)
    page = [
        item("3", "three", author="kept"),
        FetchedItem(external_id="4", text="four", author=changed, published_at=T0),
        item("5", "five", author="new"),
    ]
    with CaptureQueriesContext(connection) as queries:
        created = ingest_items(channel=channel, items=page).created
    for mention in created:
        carried = mention.author
        stored = Author.objects.get(pk=carried.pk)
        assert {f.attname: getattr(carried, f.attname) for f in Author._meta.concrete_fields} == {
            f.attname: getattr(stored, f.attname) for f in Author._meta.concrete_fields
        }
        assert not carried._state.adding and carried._state.db == "default"
    assert [m.author.handle for m in created] == ["hkept", "renamed", "hnew"]
    assert sum("listening_author" in q["sql"] for q in queries.captured_queries) == 2  # read, then written


def test_threads_link_whichever_arrives_first(channel):
    ingest_items(channel=channel, items=[item("child-early", "reply first", parent="post")])
    ingest_items(
        channel=channel,
        items=[
            item("post", "the post"),
            item("child-same-batch", "reply", parent="post"),
            item("grandchild", "r", parent="child-same-batch"),
        ],
    )
    ingest_items(channel=channel, items=[item("child-late", "reply later", parent="post")])
    post = Mention.objects.get(external_id="post")
    assert set(post.children.values_list("external_id", flat=True)) == {"child-early", "child-same-batch", "child-late"}
    assert Mention.objects.get(external_id="grandchild").parent.external_id == "child-same-batch"


def test_the_same_platform_id_on_two_channels_is_two_mentions(team, channel):
    other = ChannelFactory(brand=team.brand, platform=Platform.X, settings={"search_query": "acme"})
    ingest_items(channel=channel, items=[item("1", "Acme")])
    ingest_items(channel=other, items=[item("1", "Acme")])
    assert Mention.objects.filter(external_id="1").count() == 2


def test_new_mentions_are_handed_to_routing_once(channel, monkeypatch):
    routed: list[list[str]] = []
    monkeypatch.setattr("listening.pipeline._steps", [lambda ms: routed.append([m.external_id for m in ms])])
    ingest_items(channel=channel, items=[item("1", "a"), item("2", "b")])
    ingest_items(channel=channel, items=[item("1", "a"), item("2", "b")])
    assert routed == [["1", "2"]]


def test_a_failure_inside_the_batch_stores_nothing_and_keeps_the_cursor(channel, monkeypatch):
    def explode(mentions):
        raise RuntimeError("routing crashed")

    monkeypatch.setattr("listening.pipeline._steps", [explode])
    with pytest.raises(RuntimeError):
        ingest_items(channel=channel, items=[item("1", "a")], cursor={"since_id": "1"})
    channel.refresh_from_db()
    assert channel.cursor == {} and not Mention.objects.exists()


def test_the_garbage_collector_waits_for_the_page_and_runs_again_after_it(channel, monkeypatch):
    """A page's many short-lived objects are not walked by collection after collection while it is
    stored; the collector is back once the page is done, whether it was stored or it failed, and
    one held off by someone else is left held off."""
    seen: list[bool] = []
    monkeypatch.setattr("listening.pipeline._steps", [lambda ms: seen.append(gc.isenabled())])
    ingest_items(channel=channel, items=[item("1", "a")])
    assert seen == [False] and gc.isenabled()

    def explode(mentions):
        raise RuntimeError("routing crashed")

    monkeypatch.setattr("listening.pipeline._steps", [explode])
    with pytest.raises(RuntimeError):
        ingest_items(channel=channel, items=[item("2", "b")])
    assert gc.isenabled()

    monkeypatch.setattr("listening.pipeline._steps", [])
    gc.disable()
    try:
        ingest_items(channel=channel, items=[item("3", "c")])
        assert not gc.isenabled()
    finally:
        gc.enable()


# --- text from strangers that a database cannot hold -------------------------------------------
@pytest.mark.postgres  # PostgreSQL refuses NUL in text and jsonb; SQLite stores it
def test_a_nul_in_one_item_is_dropped_and_the_whole_page_stored(channel):
    hostile = FetchedItem(
        external_id="2\x00",
        text="Acme\x00 charged me twice 😡\n\u202b\u0645\u0631\u062d\u0628\u0627\u202c \ud800end",
        title="Re\x00fund",
        author=FetchedAuthor(external_id="u\x002", handle="nul\x00byte", name="Null\x00 Byte \udfff"),
        published_at=T0,
        url="https://example.com/p/2\x00",
        source="forum\x00",
        metrics={"likes\x00": 3},
    )
    result = ingest_items(
        channel=channel, items=[item("1", "Acme is fine"), hostile, item("3", "Acme again")], cursor={"since_id": "3"}
    )
    assert len(result.created) == 3 and result.rejected == []
    mention = Mention.objects.select_related("author").get(channel=channel, external_id="2")
    # Only NUL and the lone surrogates go: emoji, right-to-left marks and newlines stay.
    assert mention.text == "Acme charged me twice 😡\n\u202b\u0645\u0631\u062d\u0628\u0627\u202c end"
    assert (mention.title, mention.url, mention.source, mention.metrics) == (
        "Refund",
        "https://example.com/p/2",
        "forum",
        {"likes": 3},
    )
    assert (mention.author.external_id, mention.author.handle, mention.author.name) == ("u2", "nulbyte", "Null Byte ")
    channel.refresh_from_db()
    assert channel.cursor == {"since_id": "3"}
    assert channel.rejected_items == []


def test_a_nul_in_a_cursor_is_dropped_too(channel):
    from listening.connectors import FetchResult

    page = FetchResult(items=[item("1", "Acme")], cursor={"seen": ["guid-\x001"], "etag": '"v\x00"'})
    ingest_items(channel=channel, items=page.items, cursor=page.cursor)
    channel.refresh_from_db()
    assert channel.cursor == {"seen": ["guid-1"], "etag": '"v"'}


def test_an_item_the_database_refuses_is_skipped_and_recorded_and_the_page_stored(team, channel):
    absurd = FetchedItem(
        external_id="bad-1",
        text="Acme",
        author=FetchedAuthor(external_id="liar", followers=10**19),  # past the column's range
        published_at=T0,
    )
    page = [item("1", "Acme one"), absurd, item("3", "Acme three")]
    result = ingest_items(channel=channel, items=page, cursor={"since_id": "3"})
    assert sorted(m.external_id for m in result.created) == ["1", "3"]
    assert [r.external_id for r in result.rejected] == ["bad-1"]
    channel.refresh_from_db()
    assert channel.cursor == {"since_id": "3"}  # the page is done: the next poll moves on
    [record] = channel.rejected_items
    assert record["external_id"] == "bad-1"
    assert record["reason"]
    assert record["at"]

    # The same page again (a redelivery): nothing is stored twice, the refusal is listed once.
    again = ingest_items(channel=channel, items=page, cursor={"since_id": "3"})
    assert again.created == [] and again.skipped == 2
    assert Mention.objects.filter(channel=channel).count() == 2
    channel.refresh_from_db()
    assert [r["external_id"] for r in channel.rejected_items] == ["bad-1"]


def test_an_item_the_database_refuses_is_found_in_a_few_attempts_not_one_per_item(team, channel, monkeypatch):
    from listening import ingest

    attempts: list[int] = []
    insert = ingest._insert

    def counted(source, items, *args, **kwargs):
        attempts.append(len(items))
        return insert(source, items, *args, **kwargs)

    monkeypatch.setattr(ingest, "_insert", counted)
    page = [item(str(n), f"Acme number {n}", author=f"u{n}") for n in range(64)]
    page[37] = FetchedItem(
        external_id="37", text="Acme", author=FetchedAuthor(external_id="liar", followers=10**19), published_at=T0
    )

    result = ingest_items(channel=channel, items=page)

    assert [r.external_id for r in result.rejected] == ["37"]
    assert [m.external_id for m in result.created] == [str(n) for n in range(64) if n != 37]
    assert Mention.objects.filter(channel=channel).count() == 63
    # The page, then each half of the part that was refused, down to the item: two attempts for
    # each of the six halvings of 64, where trying each item on its own took 64 after the page.
    assert len(attempts) == 1 + 2 * 6
    assert sum(attempts) == 64 + 2 * (32 + 16 + 8 + 4 + 2 + 1)


def test_a_value_a_step_after_storing_cannot_write_costs_its_item_not_the_page(team, channel, monkeypatch):
    """A step that runs once the page's mentions are stored (the reports' counts) may meet a value
    the database refuses: that item is left out and listed, the rest of the page is stored and
    counted and the cursor moves on. Were the page refused, every poll would fetch it again and be
    refused again: the channel would never move past it."""
    from django.db import DataError

    from listening import pipeline
    from reports.models import ChannelDay

    def refusing(mentions):
        if any("overflowing" in m.text for m in mentions):
            raise DataError("bigint out of range")

    monkeypatch.setattr(pipeline, "_steps", [*pipeline._steps, refusing])
    page = [item(str(n), f"Acme number {n}", author=f"u{n}") for n in range(8)]
    page[5] = item("5", "Acme overflowing", author="u5")

    result = ingest_items(channel=channel, items=page, cursor={"since_id": "7"})

    assert [r.external_id for r in result.rejected] == ["5"]
    assert "bigint out of range" in result.rejected[0].reason
    assert sorted(m.external_id for m in result.created) == ["0", "1", "2", "3", "4", "6", "7"]
    assert Mention.objects.filter(channel=channel).count() == 7
    assert ChannelDay.objects.filter(channel=channel).aggregate(n=models.Sum("count"))["n"] == 7
    channel.refresh_from_db()
    assert channel.cursor == {"since_id": "7"}
    assert [r["external_id"] for r in channel.rejected_items] == ["5"]


def test_the_items_not_stored_are_shown_with_the_channel_health(team, channel):
    from rest_framework.test import APIClient

    channel.credentials = {"bearer_token": "s3cret-bearer"}
    channel.save()
    absurd = FetchedItem(
        external_id="bad-7", text="Acme", author=FetchedAuthor(external_id="liar", followers=10**19), published_at=T0
    )
    ingest_items(channel=channel, items=[item("1", "Acme one"), absurd])

    api = APIClient()
    api.force_authenticate(team.manager)
    data = api.get(f"/api/v1/channels/{channel.pk}/").json()
    [record] = data["rejected_items"]
    assert record["external_id"] == "bad-7" and record["reason"]

    from django.test import Client

    page = Client()
    page.force_login(team.cm)
    html = page.get("/channels/").content.decode()
    assert "1 item not stored" in html
    assert "bad-7" in html and record["reason"] in html
    assert "s3cret-bearer" not in html and "s3cret-bearer" not in str(data)


# PostgreSQL takes a page's rows in one statement each; SQLite's limit on a statement's variables
# splits a large page's INSERTs, so the count is PostgreSQL's promise.
@pytest.mark.postgres
def test_a_page_is_stored_in_the_same_number_of_queries_whatever_its_size(team, channel):
    TrackedTermFactory(brand=team.brand, kind=TrackedTerm.Kind.BRAND, text="Acme")
    ingest_items(channel=channel, items=[item("0", "Acme", author="old")])  # an author known, and new ones below

    def page(first: int, size: int) -> list[FetchedItem]:
        return [
            item(str(n), f"Acme {n}", author="old" if n == first else f"{first}-{n % 7}", parent=str(n - 1), minutes=n)
            for n in range(first, first + size)
        ]

    counts = []
    for first, size in ((1, 10), (11, 100)):
        with CaptureQueriesContext(connection) as queries:
            result = ingest_items(channel=channel, items=page(first, size), cursor={"since_id": str(first)})
        assert len(result.created) == size
        counts.append(len(queries))
    assert counts[0] == counts[1]
    assert Mention.objects.get(external_id="11").parent.external_id == "10"  # threaded across pages


def test_a_page_of_comments_on_videos_reads_its_channel_once(team):
    """The reports name a video the platform gives only by id after its channel: the name is read
    with the channel the page reads, not apart."""
    channel = ChannelFactory(brand=team.brand, platform=Platform.YOUTUBE, name="Acme TV")
    items = [item(str(n), f"Great video {n}", source="vid-1") for n in range(3)]
    with CaptureQueriesContext(connection) as queries:
        ingest_items(channel=channel, items=items)
    by_id = [
        q["sql"]
        for q in queries
        if re.search(r'FROM "listening_channel".* WHERE "listening_channel"."id" = ', q["sql"])
    ]
    assert len(by_id) == 2  # the page's read, and its lock
