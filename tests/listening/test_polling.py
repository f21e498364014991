"""Polling: due channels are claimed once, failures back off, revoked tokens stop, limits wait."""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta

import pytest
import time_machine
from django.core.cache import cache
from django.utils import timezone

from listening import polling, tasks
from listening.connectors import ConnectorError, FetchedAuthor, FetchedItem, FetchResult, RateBudget, RateLimited
from listening.models import Channel, Mention, Platform
from tests.factories import ChannelFactory
from tests.listening.connectors.conftest import wire  # noqa: F401 - the local platform server fixture

pytestmark = pytest.mark.django_db


class ScriptedConnector:
    """Answers each fetch with the next scripted FetchResult or raises the next scripted error."""

    def __init__(self, script):
        self.script = list(script)
        self.cursors: list[dict] = []

    def fetch(self, cursor):
        self.cursors.append(cursor)
        step = self.script.pop(0)
        if isinstance(step, Exception):
            raise step
        return step


def page(*ids: str, cursor: dict, more: bool = False, remaining: int | None = None) -> FetchResult:
    items = [
        FetchedItem(
            external_id=i,
            text=f"Acme item {i}",
            author=FetchedAuthor(external_id="a"),
            published_at=datetime(2026, 11, 20, tzinfo=UTC),
        )
        for i in ids
    ]
    return FetchResult(items=items, cursor=cursor, budget=RateBudget(remaining=remaining), has_more=more)


@pytest.fixture
def channel(team):
    return ChannelFactory(brand=team.brand, platform=Platform.X, settings={"user_id": "1"}, poll_interval_seconds=300)


@pytest.fixture
def connector(monkeypatch):
    holder: dict[str, ScriptedConnector] = {}

    def install(*script):
        holder["c"] = ScriptedConnector(script)
        monkeypatch.setattr(polling, "get_connector", lambda channel: holder["c"])
        return holder["c"]

    return install


def test_a_poll_follows_pages_and_records_success(channel, connector):
    fake = connector(page("1", "2", cursor={"next": "b"}, more=True), page("3", cursor={"since_id": "3"}, remaining=99))
    outcome = polling.channel_poll(channel=channel)
    assert (outcome.created, outcome.pages, outcome.error) == (3, 2, "")
    assert fake.cursors == [{}, {"next": "b"}]
    channel.refresh_from_db()
    assert channel.state == Channel.State.OK
    assert channel.cursor == {"since_id": "3"}
    assert channel.rate_limit_remaining == 99
    assert channel.last_success_at is not None
    assert timedelta(seconds=290) < channel.next_poll_at - timezone.now() <= timedelta(seconds=300)


def test_transient_errors_back_off_exponentially_and_keep_the_cursor(channel, connector):
    channel.cursor = {"since_id": "9"}
    channel.save()
    connector(ConnectorError("HTTP 503"), ConnectorError("timeout"), page(cursor={"since_id": "9"}))
    polling.channel_poll(channel=channel)
    channel.refresh_from_db()
    first_wait = (channel.next_poll_at - timezone.now()).total_seconds()
    assert channel.state == Channel.State.BACKING_OFF and channel.consecutive_failures == 1
    assert channel.last_error == "HTTP 503" and channel.cursor == {"since_id": "9"}
    assert 14 <= first_wait <= 30
    polling.channel_poll(channel=channel)
    channel.refresh_from_db()
    assert channel.consecutive_failures == 2
    assert 29 <= (channel.next_poll_at - timezone.now()).total_seconds() <= 60
    polling.channel_poll(channel=channel)
    channel.refresh_from_db()
    assert (channel.state, channel.consecutive_failures) == (Channel.State.OK, 0)
    assert channel.last_error == "timeout"  # the last error stays visible with its time


def test_a_successful_poll_clears_the_error_shown_on_the_channels_page(team, channel, connector, client):
    connector(ConnectorError("HTTP 503: <b>down</b>"), page("1", cursor={"since_id": "1"}))
    client.force_login(team.cm)
    polling.channel_poll(channel=channel)
    row = _channel_row(client.get("/channels/").content.decode(), channel)
    assert "HTTP 503: &lt;b&gt;down&lt;/b&gt;" in row and "error-text" in row

    polling.channel_poll(channel=channel)
    row = _channel_row(client.get("/channels/").content.decode(), channel)
    assert "HTTP 503" not in row and "error-text" not in row
    channel.refresh_from_db()
    assert channel.state == Channel.State.OK


def _channel_row(page: str, channel: Channel) -> str:
    start = page.index(f'id="channel-{channel.pk}"')
    return page[start : page.index("</tr>", start)]


def test_backoff_is_capped_at_an_hour():
    assert all(1800 <= polling.backoff_seconds(30) <= 3600 for _ in range(20))


def test_a_revoked_token_stops_polling_until_the_channel_is_resumed(channel, connector):
    connector(ConnectorError("401 Unauthorized", permanent=True, reconnect=True))
    polling.channel_poll(channel=channel)
    channel.refresh_from_db()
    assert channel.state == Channel.State.RECONNECT
    assert channel.pk not in polling.channels_claim_due()
    polling.channel_resume(channel=channel)
    assert polling.channels_claim_due() == [channel.pk]


def test_a_rate_limit_waits_for_the_reset_without_counting_as_a_failure(channel, connector):
    connector(RateLimited("429", retry_after=600, remaining=0))
    polling.channel_poll(channel=channel)
    channel.refresh_from_db()
    assert channel.state == Channel.State.RATE_LIMITED
    assert channel.consecutive_failures == 0
    assert channel.rate_limit_remaining == 0
    assert 590 <= (channel.next_poll_at - timezone.now()).total_seconds() <= 600


def test_an_unexpected_crash_is_recorded_and_retried(channel, connector):
    connector(KeyError("data"))
    outcome = polling.channel_poll(channel=channel)
    channel.refresh_from_db()
    assert "KeyError" in outcome.error and channel.state == Channel.State.BACKING_OFF


def test_due_channels_are_claimed_once(team):
    due = ChannelFactory(brand=team.brand, next_poll_at=timezone.now() - timedelta(seconds=1))
    ChannelFactory(brand=team.brand, next_poll_at=timezone.now() + timedelta(minutes=5))
    ChannelFactory(brand=team.brand, next_poll_at=timezone.now(), is_active=False)
    ChannelFactory(brand=team.brand, next_poll_at=timezone.now(), state=Channel.State.PAUSED)
    assert polling.channels_claim_due() == [due.pk]
    assert polling.channels_claim_due() == []  # leased: a second dispatcher gets nothing


def test_claiming_takes_the_same_few_statements_however_many_are_due(team, django_assert_max_num_queries):
    # One UPDATE per channel took seconds per tick at 10,000 channels (bench/polling.py).
    earliest = timezone.now() - timedelta(minutes=10)
    due = [ChannelFactory(brand=team.brand, next_poll_at=earliest + timedelta(seconds=n)).pk for n in range(12)]
    with django_assert_max_num_queries(4):  # savepoint, SELECT … FOR UPDATE SKIP LOCKED, UPDATE, release
        assert polling.channels_claim_due(limit=10) == due[:10]  # the longest waiting first
    assert polling.channels_claim_due() == due[10:]
    assert all(at > timezone.now() for at in Channel.objects.filter(pk__in=due).values_list("next_poll_at", flat=True))


def test_dispatch_queues_a_poll_for_each_due_channel(channel, connector, django_capture_on_commit_callbacks):
    # Tasks run inline under the test settings (CELERY_TASK_ALWAYS_EAGER).
    connector(page("1", cursor={"since_id": "1"}))
    channel.next_poll_at = timezone.now() - timedelta(seconds=1)
    channel.save()
    with django_capture_on_commit_callbacks(execute=True):
        assert tasks.dispatch_due_channels() == 1
    assert Mention.objects.filter(channel=channel).count() == 1


def test_a_poll_whose_worker_died_is_claimed_again_within_a_minute(channel):
    channel.next_poll_at = timezone.now() - timedelta(seconds=1)
    channel.save()
    assert polling.channels_claim_due() == [channel.pk]
    # The worker is killed here: nothing renews the lease and nothing records an outcome.
    Channel.objects.filter(pk=channel.pk).update(last_polled_at=timezone.now())
    assert polling.channels_claim_due() == []  # still leased
    with time_machine.travel(timezone.now() + timedelta(seconds=61)):
        channel.refresh_from_db()
        assert channel.poll_interrupted
        assert polling.channels_claim_due() == [channel.pk]


def test_a_long_poll_keeps_its_channel_and_its_lock_page_after_page(channel, connector, monkeypatch):
    renewed_at: list[datetime] = []
    touched: list[int] = []
    real_touch = cache.touch
    monkeypatch.setattr(cache, "touch", lambda key, timeout: touched.append(timeout) or real_touch(key, timeout))

    class Slow(ScriptedConnector):
        def fetch(self, cursor):
            renewed_at.append(Channel.objects.get(pk=channel.pk).next_poll_at)
            return super().fetch(cursor)

    slow = Slow([page("1", cursor={"n": 1}, more=True), page("2", cursor={"n": 2}, more=True), page("3", cursor={})])
    monkeypatch.setattr(polling, "get_connector", lambda c: slow)
    with polling.poll_lock(channel.pk) as held:
        assert held
        polling.channel_poll(channel=channel)
    # Before every page the channel is leased ahead of now, so no dispatcher takes it meanwhile.
    assert len(renewed_at) == 3 and all(at > timezone.now() for at in renewed_at)
    assert touched == [polling.LEASE_SECONDS, polling.LEASE_SECONDS]
    channel.refresh_from_db()
    assert not channel.poll_interrupted and channel.state == Channel.State.OK


def test_an_interrupted_poll_is_shown_on_the_channel(channel, client, team):
    Channel.objects.filter(pk=channel.pk).update(
        last_polled_at=timezone.now() - timedelta(minutes=2),
        last_success_at=timezone.now() - timedelta(minutes=10),
        next_poll_at=timezone.now() - timedelta(minutes=1),
    )
    client.force_login(team.cm)
    assert "Interrupted, retrying" in client.get("/channels/").content.decode()
    assert client.get(f"/api/v1/channels/{channel.pk}/").json()["poll_interrupted"] is True


def test_a_channel_already_being_polled_is_not_polled_twice(channel, connector):
    fake = connector(page("1", cursor={}))
    cache.add(f"listening:poll:{channel.pk}", "1", timeout=60)
    try:
        tasks.poll_channel(channel.pk)
    finally:
        cache.delete(f"listening:poll:{channel.pk}")
    assert fake.cursors == []
    tasks.poll_channel(channel.pk)
    assert fake.cursors == [{}]


# --- the real X client against recorded payloads ---------------------------------------------
X_USER = "1500000000000000001"
X_MENTIONS = f"/2/users/{X_USER}/mentions"
X_NEXT = "7140dibdnow9c7btw3w29grvxfcgvpb9n9coehpk7xz5i"


def x_headers(remaining: int, reset: int | None = None) -> dict[str, str]:
    reset = reset or int(time.time()) + 600
    return {"x-rate-limit-limit": "450", "x-rate-limit-remaining": str(remaining), "x-rate-limit-reset": str(reset)}


@pytest.fixture
def x_channel(team, wire):  # noqa: F811
    return ChannelFactory(
        brand=team.brand,
        platform=Platform.X,
        api_base_url=wire.url,
        settings={"user_id": X_USER},
        credentials={"bearer_token": "b"},
    )


def test_x_429_then_resume_loses_and_duplicates_nothing(x_channel, wire):  # noqa: F811
    wire.add("GET", X_MENTIONS, fixture="x/mentions_page1.json", headers=x_headers(1))
    wire.add(
        "GET",
        X_MENTIONS,
        fixture="x/error_429.json",
        status=429,
        headers=x_headers(0, int(time.time()) + 300),
        when={"pagination_token": X_NEXT},
    )
    polling.channel_poll(channel=x_channel)
    x_channel.refresh_from_db()
    assert x_channel.state == Channel.State.RATE_LIMITED
    assert x_channel.rate_limit_remaining == 0
    # the first page is stored; the cursor resumes at the page the limit stopped
    assert x_channel.cursor == {
        "mentions": {"since_id": None, "next_token": X_NEXT, "newest_id": "1861234567890123460"}
    }
    ids = sorted(Mention.objects.filter(channel=x_channel).values_list("external_id", flat=True))
    assert ids == ["1861234567890123455", "1861234567890123460"]

    wire.routes.clear()
    wire.add("GET", X_MENTIONS, fixture="x/mentions_page1.json", headers=x_headers(448))
    wire.add(
        "GET", X_MENTIONS, fixture="x/mentions_page2.json", headers=x_headers(447), when={"pagination_token": X_NEXT}
    )
    for _ in range(2):  # the second poll is a redelivery: same pages, nothing new
        polling.channel_poll(channel=x_channel)
    x_channel.refresh_from_db()
    assert x_channel.state == Channel.State.OK
    assert x_channel.rate_limit_remaining == 447
    ids = sorted(Mention.objects.filter(channel=x_channel).values_list("external_id", flat=True))
    assert ids == ["1861234567890123410", "1861234567890123455", "1861234567890123460"]
    complaint = Mention.objects.get(external_id="1861234567890123460")
    assert (complaint.language, complaint.sentiment) == ("en", "negative")


def test_x_401_needs_a_reconnect(x_channel, wire):  # noqa: F811
    wire.add("GET", X_MENTIONS, fixture="x/error_401.json", status=401)
    polling.channel_poll(channel=x_channel)
    x_channel.refresh_from_db()
    assert x_channel.state == Channel.State.RECONNECT
    assert x_channel.last_error
    assert x_channel.pk not in polling.channels_claim_due()


# --- text no database can hold, from the real clients ------------------------------------------
@pytest.mark.postgres  # PostgreSQL refuses NUL in text and jsonb; SQLite stores it
def test_x_page_with_a_json_nul_in_one_tweet_stores_every_tweet(x_channel, wire):  # noqa: F811
    wire.add("GET", X_MENTIONS, fixture="x/mentions_hostile_chars.json", headers=x_headers(440))
    outcome = polling.channel_poll(channel=x_channel)
    assert (outcome.created, outcome.error) == (3, "")
    x_channel.refresh_from_db()
    assert x_channel.state == Channel.State.OK
    assert x_channel.cursor == {"mentions": {"since_id": "1861234567890124003"}}
    hostile = Mention.objects.select_related("author").get(external_id="1861234567890124002")
    assert hostile.text == "@acme charged twice, no answer 😡\n\u202bstill waiting\u202c "
    assert (hostile.author.handle, hostile.author.name) == ("nulbyte", "Null Byte ")
    assert hostile.author.avatar_url == "https://pbs.twimg.com/profile_images/5/n_normal.jpg"


@pytest.mark.postgres  # PostgreSQL refuses NUL in text and jsonb; SQLite stores it
def test_feed_with_a_nul_character_reference_in_one_entry_stores_every_entry(team, wire):  # noqa: F811
    channel = ChannelFactory(brand=team.brand, platform=Platform.FEED, settings={"url": f"{wire.url}/foro.rss"})
    wire.add("GET", "/foro.rss", fixture="feeds/hostile_chars.rss", content_type="application/rss+xml")
    outcome = polling.channel_poll(channel=channel)
    assert (outcome.created, outcome.error) == (3, "")
    channel.refresh_from_db()
    assert channel.state == Channel.State.OK
    assert channel.cursor["seen"] == ["ruta-1001", "ruta-1002", "ruta-1003"]
    hostile = Mention.objects.select_related("author").get(channel=channel, external_id="ruta-1002")
    assert hostile.title == "Acme cobra dos veces"
    assert (
        hostile.text
        == "Me cobraron dos veces y nadie contesta. 😡 \u202b\u0645\u0631\u062d\u0628\u0627\u202c\nSegunda línea."
    )
    assert hostile.url == "https://foro.ruta.example/t/cobro-doble/2"
    assert hostile.author.name == "Pedro"
    # A reference to no character at all is dropped, not the entry.
    refund = Mention.objects.get(channel=channel, external_id="ruta-1003")
    assert refund.text == "Sigo esperando el reembolso de Acme  tres semanas después."

    # The next poll of the same feed stores nothing twice.
    assert polling.channel_poll(channel=channel).created == 0
    assert Mention.objects.filter(channel=channel).count() == 3


def test_a_poll_whose_page_holds_an_item_the_database_refuses_stores_the_rest(channel, connector):
    bad = FetchedItem(
        external_id="9",
        text="Acme",
        author=FetchedAuthor(external_id="liar", followers=10**19),
        published_at=datetime(2026, 11, 20, tzinfo=UTC),
    )
    good = page("1", "2", cursor={"since_id": "9"})
    connector(FetchResult(items=[good.items[0], bad, good.items[1]], cursor={"since_id": "9"}))
    outcome = polling.channel_poll(channel=channel)
    assert (outcome.created, outcome.error) == (2, "")
    channel.refresh_from_db()
    assert channel.state == Channel.State.OK and channel.consecutive_failures == 0
    assert channel.cursor == {"since_id": "9"}
    assert [r["external_id"] for r in channel.rejected_items] == ["9"]


@pytest.mark.postgres  # PostgreSQL refuses NUL in text; SQLite stores it
def test_an_error_quoting_a_nul_from_the_platform_is_recorded(channel, connector):
    connector(ConnectorError("Platform said: bad\x00 request"))
    assert polling.channel_poll(channel=channel).error
    channel.refresh_from_db()
    assert channel.state == Channel.State.BACKING_OFF
    assert channel.last_error == "Platform said: bad request"


def test_a_tick_claims_every_due_channel_when_more_than_two_hundred_are_due(team):
    # 10,000 channels come due at about 270 a 5-second tick: a fixed 200 a tick fell behind for good.
    earliest = timezone.now() - timedelta(minutes=10)
    Channel.objects.bulk_create(
        [
            Channel(brand=team.brand, platform="feed", name=f"feed {n}", next_poll_at=earliest + timedelta(seconds=n))
            for n in range(300)
        ]
    )
    assert len(polling.channels_claim_due()) == 300
    assert not Channel.objects.filter(next_poll_at__lte=timezone.now()).exists()


@pytest.mark.parametrize(
    ("error", "state"),
    [
        (ConnectorError("503 on the 12th request"), Channel.State.BACKING_OFF),
        (RateLimited("limit reached mid-poll", retry_after=600), Channel.State.RATE_LIMITED),
        (ConnectorError("token revoked mid-poll", reconnect=True), Channel.State.RECONNECT),
    ],
)
def test_a_fetch_cut_short_stores_what_it_read_with_its_cursor_then_records_the_failure(
    channel, monkeypatch, error, state
):
    partial = page("1", "2", cursor={"since": 100, "owed": ["p3"]})
    partial.error = error
    connector = ScriptedConnector([partial])
    monkeypatch.setattr(polling, "get_connector", lambda c: connector)
    outcome = polling.channel_poll(channel=channel)
    channel.refresh_from_db()
    assert outcome.created == 2 and outcome.error
    assert set(Mention.objects.filter(channel=channel).values_list("external_id", flat=True)) == {"1", "2"}
    assert channel.cursor == {"since": 100, "owed": ["p3"]}
    assert channel.state == state and channel.last_error and channel.consecutive_failures <= 1
    assert channel.next_poll_at > timezone.now() + timedelta(seconds=polling.MORE_PAGES_DELAY_SECONDS)


def test_polls_that_store_new_items_before_a_fault_do_not_grow_the_backoff(channel, connector):
    """A poll of many requests (a Page's comments, post after post) meets a fault on most polls when
    a platform is flaky, yet stores new items each time: such a poll waits the first step of the
    backoff, not a doubling one, or a busy channel would fall hours behind what it is reading."""
    script = []
    for n in range(6):
        partial = page(f"p{n}", cursor={"since": n, "owed": ["later"]})
        partial.error = ConnectorError("HTTP 500 on a post's comments")
        script.append(partial)
    script.append(ConnectorError("HTTP 503"))  # nothing read at all: that one counts
    connector(*script)
    for _ in range(6):
        polling.channel_poll(channel=channel)
        channel.refresh_from_db()
        assert channel.state == Channel.State.BACKING_OFF and channel.consecutive_failures == 1
        assert (channel.next_poll_at - timezone.now()).total_seconds() <= polling.BACKOFF_BASE_SECONDS
    assert Mention.objects.filter(channel=channel).count() == 6
    polling.channel_poll(channel=channel)
    channel.refresh_from_db()
    assert channel.consecutive_failures == 2
