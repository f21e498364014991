"""A poll of X, YouTube, LinkedIn or a feed cut short by a fault keeps what it read before the fault.

The real client libraries (tweepy, google-api-python-client, linkedin-api-client, feedparser via
requests) against recorded payloads served locally; the fault is answered once the poll has read a
page (a 429, a 5xx, a timeout, malformed JSON, an HTML error page, a token revoked mid-poll; for a
feed, the document cut off in transfer). The first poll stores the pages read before the fault and
shows the fault on the channel; the channel is then polled until it recovers, and everything must be
as after a poll that met no fault: every item stored exactly once, the same cursor, the channel healthy.
"""

from __future__ import annotations

import pytest

from listening.models import Channel
from listening.polling import channel_poll
from tests.listening.connectors import test_linkedin as li
from tests.listening.connectors import test_x as x
from tests.listening.connectors import test_youtube as yt
from tests.listening.connectors.conftest import fixture_bytes
from tests.listening.connectors.test_faults import (
    HTML,
    HTML_PAGE,
    JSON,
    PLATFORMS,
    RSS,
    _channel,
    _poll_until_recovered,
    _stored,
)

# Where the fault falls (method, path, query) and what the poll has read completely by then.
WHERE = {
    "x, second page of mentions": (
        "x",
        ("GET", x.MENTIONS, {"pagination_token": x.NEXT}),
        {"1861234567890123460", "1861234567890123455"},
    ),
    "youtube, second page of threads": (
        "youtube",
        ("GET", yt.THREADS, {"pageToken": yt.TOKEN}),
        {"UgzT1aBcDeFgHiJkLmN4AaABAg", "UgzT1aBcDeFgHiJkLmN4AaABAg.9x_ReplyOne000AbC", "UgxQ2wErTyUiOpAsDf5g4AaABAg"},
    ),
    "linkedin, the second post's comments": (
        "linkedin",
        ("GET", li.comments(li.POST_2), {}),
        {
            li.C1,
            li.C3,
            f"urn:li:comment:({li.ACTIVITY_1},7266000000000000021)",
            f"urn:li:comment:({li.ACTIVITY_1},7266000000000000032)",
        },
    ),
    "linkedin, the mentions after every comment": (
        "linkedin",
        ("GET", li.NOTIFICATIONS, {}),
        "every comment",
    ),
}
FAULTS = {
    "rate_limited": Channel.State.RATE_LIMITED,
    "server_error": Channel.State.BACKING_OFF,
    "timeout": Channel.State.BACKING_OFF,
    "malformed_json": Channel.State.BACKING_OFF,
    "html_instead_of_json": Channel.State.BACKING_OFF,
    "revoked_midway": Channel.State.RECONNECT,
}


def _answer(name: str, fault: str, normal: bytes) -> tuple[int, dict[str, str], bytes]:
    spec = PLATFORMS[name]
    return {
        "rate_limited": spec.rate_limited,
        "server_error": spec.server_error,
        "timeout": (200, JSON, normal),
        "malformed_json": (200, JSON, b'{"data": [{"id": "1",, }'),
        "html_instead_of_json": (200, HTML, HTML_PAGE),
        "revoked_midway": spec.revoked,
    }[fault]


def _clean(name: str, wire) -> tuple[Channel, list[str]]:
    """A channel polled once with no fault, and what it stored: what every fault must end in."""
    spec = PLATFORMS[name]
    spec.serve(wire)
    clean = _channel(spec, wire)
    channel_poll(channel=clean)
    clean.refresh_from_db()
    assert clean.state == Channel.State.OK
    return clean, _stored(clean)


@pytest.mark.parametrize("fault", list(FAULTS))
@pytest.mark.parametrize("where", list(WHERE))
def test_a_fault_part_way_keeps_the_pages_read_and_the_next_polls_store_the_rest_once(db, wire, settings, where, fault):
    name, (method, path, when), read_first = WHERE[where]
    clean, expected = _clean(name, wire)
    if read_first == "every comment":
        read_first = set(clean.mentions.exclude(kind="mention").values_list("external_id", flat=True))
    assert read_first < set(expected)

    channel = _channel(PLATFORMS[name], wire)
    route = next(r for r in wire.routes if r.method == method and r.path == path and r.when == when)
    delay = 0.0
    if fault == "timeout":
        settings.HTTP_TIMEOUT_SECONDS = 1
        delay = 2.5
    wire.prepend(method, path, [_answer(name, fault, route.responses[-1][2])], when=when, delay=delay)

    first = channel_poll(channel=channel)
    channel.refresh_from_db()
    # the fault is on the channel, as for any failure
    assert first.error and channel.state == FAULTS[fault] and channel.last_error
    # and what was read before it is stored
    assert set(_stored(channel)) == read_first and first.created == len(read_first)

    _poll_until_recovered(channel)
    assert channel.state == Channel.State.OK and channel.consecutive_failures == 0
    assert _stored(channel) == expected  # every item, each once
    assert channel.cursor == clean.cursor


def test_a_feed_cut_off_in_transfer_keeps_its_whole_entries_and_the_next_poll_reads_the_rest(db, wire):
    clean, expected = _clean("feed", wire)
    document = fixture_bytes("feeds/alerts.rss")
    third = document.index(b"<item>", document.index(b"<item>", document.index(b"<item>") + 1) + 1)
    cut = document[: third + 40]  # in the middle of the third entry
    wire.prepend("GET", RSS, [(200, {"Content-Type": "application/rss+xml", "ETag": '"v1-abc"'}, cut)])
    channel = _channel(PLATFORMS["feed"], wire)

    first = channel_poll(channel=channel)
    channel.refresh_from_db()
    assert "cut off in transfer" in first.error and channel.state == Channel.State.BACKING_OFF
    # the two whole entries are stored; the cut one is not, nor are its validators kept (a
    # conditional GET would answer "not modified" and the rest would never be read)
    assert set(_stored(channel)) == {"techpress-48213", "gadgets-forum-9912"}
    assert channel.cursor["etag"] == "" and channel.cursor["last_modified"] == ""

    second = channel_poll(channel=channel)
    channel.refresh_from_db()
    assert second.error == "" and channel.state == Channel.State.OK
    assert "If-None-Match" not in wire.calls(RSS)[-1].headers
    assert _stored(channel) == expected
    assert first.created + second.created == len(expected)
    assert channel.cursor == clean.cursor


def test_a_linkedin_poll_cut_short_owes_the_posts_not_read_from_where_their_comments_stood(db, wire):
    """The cursor the fault leaves: the floor moves to the newest comment stored, the posts whose
    comments were not read are owed from the old floor, and the mentions are read again."""
    spec = PLATFORMS["linkedin"]
    spec.serve(wire)
    wire.prepend("GET", li.comments(li.POST_2), [spec.server_error])
    channel = _channel(spec, wire)
    channel.cursor = {"since": li.SINCE}
    channel.save(update_fields=["cursor"])

    channel_poll(channel=channel)
    channel.refresh_from_db()
    newest_read = max(int(at.timestamp() * 1000) for at in channel.mentions.values_list("published_at", flat=True))
    assert channel.cursor["since"] == newest_read > li.SINCE
    assert channel.cursor["comments_owed"] == {li.POST_2: li.SINCE, li.POST_OLD: li.SINCE}
    assert channel.cursor["mentions_since"] == li.SINCE

    channel_poll(channel=channel)
    channel.refresh_from_db()
    assert "comments_owed" not in channel.cursor
    # the owed post was read from the old floor: its comment older than the new floor is stored
    assert "urn:li:comment:(urn:li:activity:7265000000000000002,7266000000000000041)" in _stored(channel)
