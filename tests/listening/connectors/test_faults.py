"""Every connector through every fault a platform throws, polled to recovery with the real client library.

One matrix: each connector by each fault. A fault hits the poll's second page where the platform pages (the
first one for a feed). The channel is polled as the dispatcher would until it recovers (a person
reconnects a revoked channel), and then everything must be as after a poll that met no fault: every
item stored exactly once, the same cursor, the channel healthy.
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass, field
from typing import Any

import pytest

from listening.models import Channel, Platform
from listening.polling import channel_poll, channel_resume
from tests.factories import ChannelFactory
from tests.listening.connectors import test_facebook as fb
from tests.listening.connectors import test_instagram as ig
from tests.listening.connectors import test_linkedin as li
from tests.listening.connectors import test_x as x
from tests.listening.connectors import test_youtube as yt
from tests.listening.connectors.conftest import fixture_bytes

JSON = {"Content-Type": "application/json; charset=utf-8"}
HTML = {"Content-Type": "text/html; charset=utf-8"}
HTML_PAGE = b"<!DOCTYPE html><html><head><title>502 Bad Gateway</title></head><body><h1>Bad Gateway</h1></body></html>"
RSS = "/alerts.rss"
RSS_HEADERS = {"Content-Type": "application/rss+xml", "ETag": '"v1-abc"'}


@dataclass
class Spec:
    platform: str
    settings: Any  # dict, or a function of the wire's URL
    credentials: dict[str, str]
    serve: Any  # puts the platform's normal answers on the wire
    faulty: tuple[str, str, dict[str, str]]  # the route the fault hits: method, path, query
    items_key: str = ""  # where a page lists its items (JSON platforms)
    rate_limited: tuple[int, dict[str, str], bytes] | None = None
    server_error: tuple[int, dict[str, str], bytes] | None = None
    revoked: tuple[int, dict[str, str], bytes] | None = None
    base_url: bool = True
    not_applicable: dict[str, str] = field(default_factory=dict)
    # The cursor of a channel polled before, at the recordings' day: a first poll reads back a
    # few days from today, which recordings dated on a fixed day fall behind as the calendar moves.
    cursor: dict[str, Any] = field(default_factory=dict)


def _serve_feed(wire) -> None:
    wire.add("GET", RSS, fixture="feeds/alerts.rss", headers={"ETag": '"v1-abc"'}, content_type="application/rss+xml")


PLATFORMS = {
    "x": Spec(
        Platform.X,
        {"user_id": x.BRAND_ID},
        x.CREDENTIALS,
        x.serve_two_pages,
        ("GET", x.MENTIONS, {"pagination_token": x.NEXT}),
        items_key="data",
        rate_limited=(429, {**JSON, **x.rate_headers(0, int(time.time()) + 60)}, fixture_bytes("x/error_429.json")),
        server_error=(503, JSON, fixture_bytes("x/error_503.json")),
        revoked=(401, JSON, fixture_bytes("x/error_401.json")),
    ),
    "facebook": Spec(
        Platform.FACEBOOK,
        {"page_id": fb.PAGE, "graph_version": "v21.0", "page_name": "Acme"},
        {"page_access_token": "PAGE_TOKEN"},
        fb.serve_page,
        ("GET", fb.FEED, {"after": fb.AFTER}),
        items_key="data",
        rate_limited=(
            400,
            {**JSON, "x-business-use-case-usage": json.dumps({fb.PAGE: [{"estimated_time_to_regain_access": 1}]})},
            fixture_bytes("facebook/error_rate_limit.json"),
        ),
        server_error=(500, JSON, fixture_bytes("facebook/error_500.json")),
        revoked=(400, JSON, fixture_bytes("facebook/error_190.json")),
        cursor={"since": fb.SINCE},
    ),
    "instagram": Spec(
        Platform.INSTAGRAM,
        {"ig_user_id": ig.IG, "graph_version": "v21.0"},
        ig.CREDENTIALS,
        ig.serve_account,
        ("GET", ig.COMMENTS_1, {"after": ig.COMMENTS_AFTER}),
        items_key="data",
        rate_limited=(
            400,
            {**JSON, "x-business-use-case-usage": json.dumps({ig.IG: [{"estimated_time_to_regain_access": 1}]})},
            fixture_bytes("instagram/error_rate_limit.json"),
        ),
        server_error=(500, JSON, fixture_bytes("facebook/error_500.json")),
        revoked=(400, JSON, fixture_bytes("instagram/error_190.json")),
        cursor={"since": ig.SINCE},
    ),
    "youtube": Spec(
        Platform.YOUTUBE,
        {"channel_id": yt.CHANNEL_ID},
        {"api_key": "AIza-test"},
        yt.serve_threads,
        ("GET", yt.THREADS, {"pageToken": yt.TOKEN}),
        items_key="items",
        rate_limited=(403, JSON, fixture_bytes("youtube/error_quota.json")),
        server_error=(503, JSON, fixture_bytes("youtube/error_503.json")),
        revoked=(401, JSON, fixture_bytes("youtube/error_401.json")),
    ),
    "linkedin": Spec(
        Platform.LINKEDIN,
        # Days enough to keep the recorded posts recent whenever this runs.
        li.settings(lookback_days=36500),
        {"access_token": "AQVaccess-token"},
        li.serve_page,
        ("GET", li.comments(li.POST_1), {"start": "2"}),
        items_key="elements",
        rate_limited=(429, JSON, fixture_bytes("linkedin/error_429_day.json")),
        server_error=(500, JSON, b'{"status": 500, "message": "Internal Server Error"}'),
        revoked=(401, JSON, fixture_bytes("linkedin/error_401_revoked.json")),
    ),
    "feed": Spec(
        Platform.FEED,
        lambda url: {"url": f"{url}{RSS}"},
        {},
        _serve_feed,
        ("GET", RSS, {}),
        rate_limited=(429, {"Retry-After": "120"}, b""),
        server_error=(503, {"Content-Type": "text/plain"}, b"Service Unavailable"),
        base_url=False,
        not_applicable={
            "revoked_midway": "a feed has no token and one page",
            "page_repeats_items": "a feed is one document",
        },
    ),
}

# fault → the state the channel is in after the poll it hit
FAULTS = {
    "rate_limited": Channel.State.RATE_LIMITED,
    "server_error_burst": Channel.State.BACKING_OFF,
    "timeout": Channel.State.BACKING_OFF,
    "truncated_json": Channel.State.BACKING_OFF,
    "malformed_json": Channel.State.BACKING_OFF,
    "html_instead_of_json": Channel.State.BACKING_OFF,
    "revoked_midway": Channel.State.RECONNECT,
    "page_repeats_items": Channel.State.OK,
}


def _channel(spec: Spec, wire) -> Channel:
    settings = spec.settings(wire.url) if callable(spec.settings) else spec.settings
    return ChannelFactory(
        platform=spec.platform,
        api_base_url=wire.url if spec.base_url else "",
        settings=settings,
        credentials=spec.credentials,
        cursor=dict(spec.cursor),
    )


def _normal_body(wire, method: str, path: str, when: dict[str, str]) -> bytes:
    route = next(r for r in wire.routes if r.method == method and r.path == path and r.when == when)
    return route.responses[-1][2]


def _with_previous_items(wire, spec: Spec) -> bytes:
    """The faulty page with the items of the page before it repeated in front of its own."""
    method, path, when = spec.faulty
    previous = json.loads(_normal_body(wire, method, path, {}))
    page = json.loads(_normal_body(wire, method, path, when))
    page[spec.items_key] = previous[spec.items_key] + page[spec.items_key]
    if "includes" in previous:  # X lists the people of a page apart from its posts
        page.setdefault("includes", {})["users"] = previous["includes"].get("users", []) + page["includes"].get(
            "users", []
        )
    return json.dumps(page).encode()


def _inject(wire, spec: Spec, fault: str, settings) -> None:
    method, path, when = spec.faulty
    normal = _normal_body(wire, method, path, when)
    kind = {"Content-Type": "application/rss+xml"} if spec.platform == Platform.FEED else JSON
    responses = {
        "rate_limited": [spec.rate_limited],
        "server_error_burst": [spec.server_error, (500, kind, normal[:0]), spec.server_error],
        "timeout": [(200, kind, normal)],
        "truncated_json": [(200, kind, normal[: len(normal) // 3])],
        "malformed_json": [(200, kind, b'{"data": [{"id": "1",, }' if spec.items_key else b"<rss><channel><item><")],
        "html_instead_of_json": [(200, HTML, HTML_PAGE)],
        "revoked_midway": [spec.revoked],
        "page_repeats_items": [(200, kind, _with_previous_items(wire, spec) if spec.items_key else normal)],
    }[fault]
    delay = 0.0
    if fault == "timeout":
        settings.HTTP_TIMEOUT_SECONDS = 1
        delay = 2.5
    wire.prepend(method, path, responses, when=when, delay=delay)


def _poll_until_recovered(channel: Channel) -> list[str]:
    """Poll as the dispatcher would, whatever the wait asked; a person reconnects a stopped channel."""
    states = []
    for _ in range(6):
        outcome = channel_poll(channel=channel)
        channel.refresh_from_db()
        states.append(channel.state)
        if channel.state == Channel.State.RECONNECT:
            channel_resume(channel=channel)
        elif channel.state == Channel.State.OK and not outcome.error:
            break
    return states


def _stored(channel: Channel) -> list[str]:
    return sorted(channel.mentions.values_list("external_id", flat=True))


@pytest.mark.parametrize("fault", list(FAULTS))
@pytest.mark.parametrize("name", list(PLATFORMS))
def test_a_fault_loses_nothing_doubles_nothing_and_the_channel_recovers(db, wire, settings, name, fault):
    spec = PLATFORMS[name]
    if fault in spec.not_applicable:
        pytest.skip(spec.not_applicable[fault])
    spec.serve(wire)
    # What a poll that met no fault stores, and the cursor it leaves.
    clean = _channel(spec, wire)
    channel_poll(channel=clean)
    clean.refresh_from_db()
    assert clean.state == Channel.State.OK and _stored(clean)

    channel = _channel(spec, wire)
    _inject(wire, spec, fault, settings)
    states = _poll_until_recovered(channel)

    assert states[0] == FAULTS[fault], channel.last_error
    if fault != "page_repeats_items":
        assert channel.last_error_at is not None
    assert _stored(channel) == _stored(clean)  # every item, each once
    assert channel.cursor == clean.cursor
    assert channel.state == Channel.State.OK
    assert channel.consecutive_failures == 0


def _break_x(post: dict) -> None:
    post["created_at"] = "yesterday"


def _break_facebook(post: dict) -> None:
    post["from"] = "a name where an object belongs"


def _break_youtube(thread: dict) -> None:
    thread["snippet"]["topLevelComment"]["snippet"]["authorChannelId"] = "UC-not-an-object"


# How each platform's item is sent unreadable: the shape the platform promised, a value it is not.
BREAK = {"x": _break_x, "facebook": _break_facebook, "instagram": _break_facebook, "youtube": _break_youtube}


@pytest.mark.parametrize("name", list(BREAK))
def test_an_unreadable_item_is_set_aside_on_the_channel_and_the_rest_stored(db, wire, name):
    """One item the platform sent unreadable once failed its whole page on every poll: the channel
    was silent from then on. It is set aside, named on the channel; everything else is stored, and
    the item itself once the platform sends it readable."""
    spec = PLATFORMS[name]
    spec.serve(wire)
    clean = _channel(spec, wire)
    channel_poll(channel=clean)

    method, path, _when = spec.faulty
    page = json.loads(_normal_body(wire, method, path, {}))
    broken = next(item for item in page[spec.items_key] if item["id"] in _stored(clean))
    BREAK[name](broken)
    wire.prepend(method, path, [(200, JSON, json.dumps(page).encode())])
    channel = _channel(spec, wire)
    outcome = channel_poll(channel=channel)
    channel.refresh_from_db()

    assert not outcome.error and channel.state == Channel.State.OK
    assert _stored(channel) == sorted(set(_stored(clean)) - {broken["id"]})
    (record,) = channel.rejected_items
    assert record["external_id"] == broken["id"] and "unreadable" in record["reason"]

    channel.cursor = dict(spec.cursor)  # the platform sends the page again, readable now
    channel.save(update_fields=["cursor"])
    channel_poll(channel=channel)
    assert _stored(channel) == _stored(clean)
