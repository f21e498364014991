"""Instagram tracked hashtags: facebook-sdk's real GraphAPI against recorded ``ig_hashtag_search`` and
``recent_media`` payloads, and the account's budget of 30 hashtags in any 7 days."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import pytest
from django.test import Client
from django.utils import timezone, translation
from rest_framework.test import APIClient

from listening.connectors import get_connector
from listening.connectors.base import ConnectorError, RateLimited
from listening.connectors.instagram import InstagramConnector
from listening.hashtags import hashtag_budget
from listening.models import Channel, HashtagSearch, Platform
from tests.factories import ChannelFactory
from tests.listening.connectors.conftest import fixture_bytes

IG = "17841400000000001"
SEARCH = "/v21.0/ig_hashtag_search"
HASHTAG_ID = "17843853986012965"
RECENT = f"/v21.0/{HASHTAG_ID}/recent_media"
RECENT_AFTER = "QVFIUmhhc2h0YWdwYWdlMgZDZD"
SINCE = int(datetime(2026, 11, 23, 0, 0, tzinfo=UTC).timestamp())
NEWEST = int(datetime(2026, 11, 23, 11, 58, tzinfo=UTC).timestamp())
CREDENTIALS = {"page_access_token": "PAGE_TOKEN"}
JSON = {"Content-Type": "application/json; charset=utf-8"}


@pytest.fixture(autouse=True)
def english():
    with translation.override("en"):
        yield


def instagram_channel(wire, hashtags: list[str], **fields) -> Channel:
    return ChannelFactory(
        platform=Platform.INSTAGRAM,
        api_base_url=wire.url,
        settings={"ig_user_id": IG, "graph_version": "v21.0", "hashtags": hashtags},
        credentials=CREDENTIALS,
        **fields,
    )


def serve(wire) -> None:
    """An account with no comments or tags of its own: what comes in is the hashtag's."""
    wire.add("GET", f"/v21.0/{IG}/media", fixture="instagram/empty.json")
    wire.add("GET", f"/v21.0/{IG}/tags", fixture="instagram/empty.json")
    wire.add("GET", SEARCH, fixture="instagram/hashtag_search.json")
    wire.add("GET", RECENT, fixture="instagram/hashtag_recent_page1.json")
    wire.add("GET", RECENT, fixture="instagram/hashtag_recent_page2.json", when={"after": RECENT_AFTER})


def searched(names: list[str], *, ago: timedelta, ig_user_id: str = IG) -> None:
    at = timezone.now() - ago
    for n, name in enumerate(names):
        HashtagSearch.objects.create(ig_user_id=ig_user_id, name=name, hashtag_id=f"1784{n:011d}", searched_at=at)


def test_hashtags_are_validated_and_kept_in_one_spelling():
    cleaned, errors = InstagramConnector.clean_settings(
        {"ig_user_id": IG, "hashtags": "#AcmeRoadrunner, roadrunnerPro  acme,#acmeroadrunner"}
    )
    assert errors == {}
    assert cleaned["hashtags"] == ["acmeroadrunner", "roadrunnerpro", "acme"]
    cleaned, errors = InstagramConnector.clean_settings({"ig_user_id": IG, "hashtags": ["Ñandú_2026"]})
    assert (cleaned["hashtags"], errors) == (["ñandú_2026"], {})
    _cleaned, errors = InstagramConnector.clean_settings({"ig_user_id": IG, "hashtags": "acme, road-runner"})
    assert errors == {"hashtags": "Not a valid value: road-runner."}
    _cleaned, errors = InstagramConnector.clean_settings({"ig_user_id": IG, "hashtags": {"acme": 1}})
    assert set(errors) == {"hashtags"}


@pytest.mark.django_db
def test_a_hashtag_is_looked_up_once_and_its_recent_media_read_by_cursor(wire):
    serve(wire)
    channel = instagram_channel(wire, ["acmeroadrunner"])
    first = get_connector(channel).fetch({"since": SINCE})

    (search,) = wire.calls(SEARCH)
    assert search.query == {"user_id": IG, "q": "acmeroadrunner"}
    assert HashtagSearch.objects.get(ig_user_id=IG, name="acmeroadrunner").hashtag_id == HASHTAG_ID
    # both pages were read by the after cursor; the second stopped at a media older than the floor
    assert [call.query.get("after") for call in wire.calls(RECENT)] == [None, RECENT_AFTER]
    assert all(call.query["user_id"] == IG for call in wire.calls(RECENT))
    assert "timestamp" in wire.calls(RECENT)[0].query["fields"]
    by_id = {item.external_id: item for item in first.items}
    assert set(by_id) == {"17990000000000503", "17990000000000502", "17990000000000501"}
    hostile = by_id["17990000000000502"]
    assert hostile.text == "<img src=x onerror=alert('tag')> the seat broke after a week #AcmeRoadrunner"
    assert hostile.kind == "mention" and hostile.url == "https://www.instagram.com/p/DHash00502/"
    assert first.cursor["hashtags"] == {HASHTAG_ID: NEWEST}

    # the next poll reads the hashtag by its stored id, from its own floor: nothing new, no search
    again = get_connector(channel).fetch(first.cursor)
    assert len(wire.calls(SEARCH)) == 1
    assert {item.external_id for item in again.items} == {"17990000000000503"}  # the floor's own second
    assert again.cursor["hashtags"] == {HASHTAG_ID: NEWEST}
    assert hashtag_budget(ig_user_id=IG).used == 1


@pytest.mark.django_db
def test_hashtag_media_are_stored_once_and_shown_escaped(wire, team):
    from listening.polling import channel_poll

    serve(wire)
    channel = instagram_channel(wire, ["acmeroadrunner"], brand=team.brand, cursor={"since": SINCE})
    channel_poll(channel=channel)
    channel_poll(channel=channel)
    channel.refresh_from_db()
    assert channel.state == Channel.State.OK
    assert channel.mentions.count() == 3
    mention = channel.mentions.get(external_id="17990000000000502")
    assert mention.text.startswith("<img src=x onerror=alert('tag')>")
    client = Client()
    client.force_login(team.cm)
    page = client.get(f"/mentions/{mention.pk}/").content.decode()
    assert "&lt;img src=x onerror=alert(&#x27;tag&#x27;)&gt;" in page
    assert "<img src=x onerror" not in page


@pytest.mark.django_db
def test_the_budget_takes_thirty_refuses_the_thirty_first_and_says_when_a_slot_frees():
    searched([f"tag{n}" for n in range(29)], ago=timedelta(days=2))
    ok = {"ig_user_id": IG, "hashtags": ["tag0", "tag30"]}
    assert InstagramConnector.settings_errors(ok, channel=None) == {}  # the 30th
    searched(["tag30"], ago=timedelta(days=1))
    errors = InstagramConnector.settings_errors({"ig_user_id": IG, "hashtags": ["tag31"]}, channel=None)
    frees = timezone.localtime(timezone.now() - timedelta(days=2) + timedelta(days=7))
    assert "30 are taken, so #tag31 cannot be followed yet" in errors["hashtags"]
    assert f"The next slot frees up on {frees:%b}" in errors["hashtags"]
    # one looked up within the week counts once, however often it is followed again
    assert InstagramConnector.settings_errors({"ig_user_id": IG, "hashtags": ["tag5", "tag30"]}, channel=None) == {}
    # another account has a budget of its own
    assert InstagramConnector.settings_errors({"ig_user_id": "178999", "hashtags": ["tag31"]}, channel=None) == {}


@pytest.mark.django_db
def test_an_old_hashtag_is_free_and_a_slot_frees_after_seven_days(wire):
    searched(["old"], ago=timedelta(days=10))
    searched([f"tag{n}" for n in range(29)], ago=timedelta(days=1))
    searched(["expiring"], ago=timedelta(days=7, minutes=-5))
    assert hashtag_budget(ig_user_id=IG).used == 30
    # looked up 10 days ago: its id is kept, so following it again costs nothing
    assert InstagramConnector.settings_errors({"ig_user_id": IG, "hashtags": ["old"]}, channel=None) == {}
    assert InstagramConnector.settings_errors({"ig_user_id": IG, "hashtags": ["new"]}, channel=None)
    HashtagSearch.objects.filter(name="expiring").update(searched_at=timezone.now() - timedelta(days=7, minutes=1))
    assert hashtag_budget(ig_user_id=IG).used == 29
    assert InstagramConnector.settings_errors({"ig_user_id": IG, "hashtags": ["new"]}, channel=None) == {}

    # and a poll reads the old one by its id, without looking it up again
    HashtagSearch.objects.filter(name="old").update(hashtag_id=HASHTAG_ID)
    serve(wire)
    result = get_connector(instagram_channel(wire, ["old"])).fetch({"since": SINCE})
    assert not wire.calls(SEARCH) and len(result.items) == 3


@pytest.mark.django_db
def test_a_hashtag_another_channel_will_look_up_holds_its_slot(wire):
    searched([f"tag{n}" for n in range(29)], ago=timedelta(days=1))
    instagram_channel(wire, ["waiting"])  # saved, not polled yet
    errors = InstagramConnector.settings_errors({"ig_user_id": IG, "hashtags": ["another"]}, channel=None)
    assert "30 are taken" in errors["hashtags"]


@pytest.mark.django_db
def test_the_form_refuses_the_thirty_first_and_keeps_what_was_typed(team, wire):
    channel = instagram_channel(wire, ["tag0"], brand=team.brand, name="Acme IG")
    searched([f"tag{n}" for n in range(30)], ago=timedelta(days=3))
    client = Client()
    client.force_login(team.cm)
    page = client.get(f"/channels/{channel.pk}/edit/").content.decode()
    assert "30 of 30 hashtags used this week" in page
    assert "30 of 30 hashtags used this week" in client.get("/channels/").content.decode()
    assert 'value="tag0"' in page
    form = {
        "name": "Acme IG",
        "poll_interval_seconds": 300,
        "is_active": "on",
        "setting_ig_user_id": IG,
        "setting_hashtags": "#tag0, #summerride",
    }
    response = client.post(f"/channels/{channel.pk}/edit/", form)
    assert response.status_code == 200
    body = response.content.decode()
    assert "#summerride cannot be followed yet" in body and "The next slot frees up on" in body
    assert 'value="#tag0, #summerride"' in body
    channel.refresh_from_db()
    assert channel.settings["hashtags"] == ["tag0"]
    assert not HashtagSearch.objects.filter(name="summerride").exists()


@pytest.mark.django_db
def test_the_api_refuses_the_thirty_first_with_the_reason(team, wire):
    channel = instagram_channel(wire, [], brand=team.brand)
    searched([f"tag{n}" for n in range(30)], ago=timedelta(days=3))
    api = APIClient()
    api.force_authenticate(team.cm)
    response = api.patch(f"/api/v1/channels/{channel.pk}/", {"settings": {"hashtags": ["tag3", "x"]}}, format="json")
    assert response.status_code == 400
    (message,) = response.json()["settings.hashtags"]
    assert "#x cannot be followed yet" in message
    assert api.patch(
        f"/api/v1/channels/{channel.pk}/", {"settings": {"hashtags": "tag3 tag4"}}, format="json"
    ).status_code == 200  # fmt: skip
    channel.refresh_from_db()
    assert channel.settings["hashtags"] == ["tag3", "tag4"]


@pytest.mark.django_db
def test_a_poll_never_looks_up_a_hashtag_beyond_the_budget(wire, team):
    from listening.polling import channel_poll

    searched([f"tag{n}" for n in range(30)], ago=timedelta(days=3))
    serve(wire)
    # settled past the form (the admin site, an older version): the poll keeps the budget all the same
    channel = instagram_channel(wire, ["toomany"], brand=team.brand, cursor={"since": SINCE})
    channel_poll(channel=channel)
    assert not wire.calls(SEARCH) and not wire.calls(RECENT)
    channel.refresh_from_db()
    assert channel.state == Channel.State.OK
    assert [r["external_id"] for r in channel.rejected_items] == ["#toomany"]
    assert "30 hashtags of the last 7 days are taken" in channel.rejected_items[0]["reason"]


@pytest.mark.django_db
def test_instagrams_budget_refusal_sets_the_hashtag_aside_uncounted_and_the_rest_goes_on(wire, team):
    from listening.polling import channel_poll

    wire.add("GET", f"/v21.0/{IG}/media", fixture="instagram/media_page1.json")
    wire.add("GET", "/v21.0/17900000000000001/comments", fixture="instagram/comments_media2.json")
    wire.add("GET", "/v21.0/17900000000000002/comments", fixture="instagram/empty.json")
    wire.add("GET", f"/v21.0/{IG}/tags", fixture="instagram/empty.json")
    wire.add("GET", SEARCH, fixture="instagram/error_hashtag_limit.json", status=400)
    channel = instagram_channel(wire, ["spent", "alsonew"], brand=team.brand, cursor={"since": SINCE})
    channel_poll(channel=channel)
    channel.refresh_from_db()
    # Instagram counts the budget across every app of the account: its word is final for this poll
    assert [call.query["q"] for call in wire.calls(SEARCH)] == ["spent"]
    assert channel.state == Channel.State.OK and channel.consecutive_failures == 0
    assert channel.mentions.exists()  # the comments were stored all the same
    assert not HashtagSearch.objects.exists()
    reasons = {r["external_id"]: r["reason"] for r in channel.rejected_items}
    assert "maximum number of unique hashtags" in reasons["#spent"]
    assert "#alsonew" in reasons
    assert "hashtags" not in channel.cursor


@pytest.mark.parametrize(
    "status,body",
    [
        (429, {"error": {"message": "Too many calls", "type": "OAuthException"}}),
        (400, {"error": {"message": "(#4) Application request limit reached", "type": "OAuthException", "code": 4}}),
        (400, {"error": {"message": "(#17) User request limit reached", "type": "OAuthException", "code": 17}}),
        (400, {"error": {"message": "(#32) Page request limit reached", "type": "OAuthException", "code": 32}}),
    ],
)
@pytest.mark.parametrize("where", [SEARCH, RECENT])
@pytest.mark.django_db
def test_a_rate_limit_on_the_hashtags_keeps_their_floor_and_waits(wire, team, status, body, where):
    from listening.polling import channel_poll

    serve(wire)
    wire.prepend("GET", where, [(status, JSON, json.dumps(body).encode())])
    channel = instagram_channel(wire, ["acmeroadrunner"], brand=team.brand, cursor={"since": SINCE})
    if where == RECENT:
        searched(["acmeroadrunner"], ago=timedelta(days=1))
        HashtagSearch.objects.update(hashtag_id=HASHTAG_ID)
    with pytest.raises(RateLimited):
        get_connector(channel).fetch({"since": SINCE, "hashtags": {HASHTAG_ID: SINCE}})
    assert HashtagSearch.objects.filter(name="acmeroadrunner").exists() == (where == RECENT)

    wire.prepend("GET", where, [(status, JSON, json.dumps(body).encode())])
    channel_poll(channel=channel)
    channel.refresh_from_db()
    assert channel.state == Channel.State.RATE_LIMITED
    assert channel.cursor.get("hashtags", {}).get(HASHTAG_ID, SINCE) == SINCE
    assert channel.mentions.count() == 0
    channel_poll(channel=channel)  # the wait over, the next poll reads them
    channel.refresh_from_db()
    assert channel.state == Channel.State.OK and channel.mentions.count() == 3
    assert channel.cursor["hashtags"] == {HASHTAG_ID: NEWEST}


@pytest.mark.django_db
def test_a_hashtag_instagram_does_not_know_yet_is_looked_up_again_hourly_and_free_within_its_week(wire):
    serve(wire)
    wire.prepend("GET", SEARCH, [(200, JSON, fixture_bytes("instagram/hashtag_search_unknown.json"))])
    channel = instagram_channel(wire, ["launch2027"])  # a campaign's hashtag before its first post
    first = get_connector(channel).fetch({"since": SINCE})
    assert first.items == [] and not wire.calls(RECENT)
    assert HashtagSearch.objects.get(name="launch2027").hashtag_id == ""
    assert list(first.cursor["hashtag_checks"]) == ["launch2027"]
    # within the hour: not asked again
    get_connector(channel).fetch(first.cursor)
    assert len(wire.calls(SEARCH)) == 1
    # an hour later Instagram knows it: its media come in, and the look-up did not count twice
    later = {**first.cursor, "hashtag_checks": {"launch2027": first.cursor["hashtag_checks"]["launch2027"] - 3601}}
    found = get_connector(channel).fetch(later)
    assert len(wire.calls(SEARCH)) == 2 and len(found.items) == 3
    assert "hashtag_checks" not in found.cursor
    assert HashtagSearch.objects.get(name="launch2027").hashtag_id == HASHTAG_ID
    assert hashtag_budget(ig_user_id=IG).used == 1


@pytest.mark.django_db
def test_a_hashtag_not_found_more_than_a_week_ago_needs_a_slot_again():
    searched([f"tag{n}" for n in range(30)], ago=timedelta(days=1))
    HashtagSearch.objects.create(
        ig_user_id=IG, name="launch2027", hashtag_id="", searched_at=timezone.now() - timedelta(days=8)
    )
    errors = InstagramConnector.settings_errors({"ig_user_id": IG, "hashtags": ["launch2027"]}, channel=None)
    assert "#launch2027 cannot be followed yet" in errors["hashtags"]
    HashtagSearch.objects.filter(name="tag0").delete()
    assert InstagramConnector.settings_errors({"ig_user_id": IG, "hashtags": ["launch2027"]}, channel=None) == {}


@pytest.mark.django_db
def test_an_expired_token_while_reading_hashtags_asks_to_reconnect(wire):
    serve(wire)
    wire.prepend(
        "GET", SEARCH, [(400, JSON, b'{"error": {"message": "expired", "type": "OAuthException", "code": 190}}')]
    )
    with pytest.raises(ConnectorError) as error:
        get_connector(instagram_channel(wire, ["acmeroadrunner"])).fetch({"since": SINCE})
    assert error.value.reconnect


@pytest.mark.django_db
def test_two_channels_of_one_account_cannot_both_take_the_last_slot(wire):
    """The budget is checked and the look-up recorded while the account's slot is held: a channel
    polling while another channel of the account is looking a hashtag up waits for its next poll
    (neither searching nor setting its hashtag aside), so the two cannot both take the 30th slot."""
    from django.core.cache import cache

    from listening.hashtags import hashtag_slot

    searched([f"tag{n}" for n in range(29)], ago=timedelta(days=3))
    serve(wire)
    other = instagram_channel(wire, ["acmeroadrunner"])
    with hashtag_slot(ig_user_id=IG, name="othertag") as may_search:  # the other channel's look-up
        assert may_search is True
        waiting = get_connector(other).fetch({"since": SINCE})
        assert not wire.calls(SEARCH) and not waiting.rejected and not waiting.items
        HashtagSearch.objects.create(ig_user_id=IG, name="othertag", hashtag_id="1", searched_at=timezone.now())
    assert cache.get(f"listening:hashtag-slot:{IG}") is None  # released with the look-up recorded

    after = get_connector(other).fetch({"since": SINCE})  # the 30 slots are taken now
    assert not wire.calls(SEARCH)
    assert [r.external_id for r in after.rejected] == ["#acmeroadrunner"]
    assert hashtag_budget(ig_user_id=IG).used == 30
