"""FeedConnector: requests fetches, feedparser parses, against recorded RSS and Atom served locally."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from listening.connectors import get_connector
from listening.connectors.base import ConnectorError
from listening.models import Platform
from tests.factories import ChannelFactory

RSS = "/alerts.rss"
RSS_HEADERS = {"ETag": '"v1-abc"', "Last-Modified": "Mon, 23 Nov 2026 14:00:00 GMT"}


@pytest.fixture
def channel(db, wire):
    return ChannelFactory(platform=Platform.FEED, settings={"url": f"{wire.url}{RSS}"})


def test_first_poll_reads_every_entry(channel, wire):
    wire.add("GET", RSS, fixture="feeds/alerts.rss", headers=RSS_HEADERS, content_type="application/rss+xml")
    result = get_connector(channel).fetch({})
    assert len(result.items) == 3
    review = result.items[0]
    assert review.external_id == "techpress-48213"
    assert review.kind == "article"
    assert review.title == "Acme Roadrunner Pro review: the summer's best gadget?"
    assert review.url == "https://news.techpress.example/2026/11/acme-roadrunner-pro-review"
    assert review.source == "news.techpress.example"  # an alert feed points to many sites
    assert review.author.name == "Priya Natarajan"
    assert review.published_at == datetime(2026, 11, 23, 14, 0, tzinfo=UTC)
    # no author: the feed's title speaks
    assert result.items[1].author.name == "Gadgets Forum — Acme alerts"
    assert result.items[1].published_at == datetime(2026, 11, 22, 8, 30, tzinfo=UTC)
    # a guid longer than the column is hashed
    assert result.items[2].external_id.startswith("sha256:")
    assert len(result.items[2].external_id) <= 255
    assert result.cursor["etag"] == '"v1-abc"'
    assert result.cursor["last_modified"] == "Mon, 23 Nov 2026 14:00:00 GMT"


def test_hostile_entries_keep_their_text_but_lose_non_http_links(channel, wire):
    wire.add("GET", RSS, fixture="feeds/alerts.rss", content_type="application/rss+xml")
    forum = get_connector(channel).fetch({}).items[1]
    assert forum.url == ""
    assert forum.source == "forum.gadgets.example"
    assert forum.text == "<script>alert('feed')</script>Varios usuarios informan de cobros dobles."
    assert "Varios usuarios informan de cobros dobles." in forum.text


def test_conditional_get_304_brings_nothing_and_keeps_the_cursor(channel, wire):
    wire.add("GET", RSS, status=304, headers={"ETag": '"v1-abc"'})
    cursor = {"etag": '"v1-abc"', "last_modified": "Mon, 23 Nov 2026 14:00:00 GMT", "seen": ["techpress-48213"]}
    result = get_connector(channel).fetch(cursor)
    assert result.items == []
    assert result.cursor == cursor
    call = wire.calls(RSS)[0]
    assert call.headers["if-none-match"] == '"v1-abc"'
    assert call.headers["if-modified-since"] == "Mon, 23 Nov 2026 14:00:00 GMT"


def test_entries_already_seen_are_not_sent_again(channel, wire):
    wire.add("GET", RSS, fixture="feeds/alerts.rss", headers=RSS_HEADERS, content_type="application/rss+xml")
    connector = get_connector(channel)
    first = connector.fetch({})
    second = connector.fetch({**first.cursor, "etag": "", "last_modified": ""})
    assert second.items == []


def test_atom_feed_uses_the_api_base_url_when_no_url_is_set(db, wire):
    channel = ChannelFactory(platform=Platform.FEED, api_base_url=f"{wire.url}/blog.atom")
    wire.add("GET", "/blog.atom", fixture="feeds/blog.atom", content_type="application/atom+xml")
    [item] = get_connector(channel).fetch({}).items
    assert item.external_id == "tag:blog.ruta.example,2026:post-77"
    assert item.author.name == "Blog de Ruta"
    assert item.source == "blog.ruta.example"
    assert item.raw_language == "es"


def test_server_error_is_transient_and_missing_feed_permanent(channel, wire):
    wire.add("GET", RSS, status=503, body="down")
    with pytest.raises(ConnectorError) as error:
        get_connector(channel).fetch({})
    assert not error.value.permanent
    wire.routes.clear()
    wire.add("GET", RSS, status=404, body="gone")
    with pytest.raises(ConnectorError) as error:
        get_connector(channel).fetch({})
    assert error.value.permanent


def test_garbage_is_a_transient_error(channel, wire):
    wire.add("GET", RSS, body="<html><body>Cloudflare says wait<", content_type="text/html")
    with pytest.raises(ConnectorError) as error:
        get_connector(channel).fetch({})
    assert not error.value.permanent


def test_feeds_cannot_be_answered(channel):
    connector = get_connector(channel)
    assert connector.reply_max_length == 0
    with pytest.raises(ConnectorError, match="feeds cannot be answered") as error:
        connector.post_reply("techpress-48213", "thanks")
    assert error.value.permanent


def test_a_character_reference_to_no_character_loses_only_itself(channel, wire):
    # "&#xD800;" (a lone surrogate) and "&#x110000;" (past Unicode) used to crash the whole feed.
    wire.add("GET", RSS, fixture="feeds/hostile_chars.rss", content_type="application/rss+xml")
    items = get_connector(channel).fetch({}).items
    assert [i.external_id for i in items] == ["ruta-1001", "ruta-1002", "ruta-1003"]
    assert items[2].text == "Sigo esperando el reembolso de Acme  tres semanas después."
    # "&#0;" parses to NUL, which the item drops; everything else stays as written.
    assert items[1].title == "Acme cobra dos veces"
    assert items[1].author.name == "Pedro"
    assert items[1].text.endswith("😡 \u202b\u0645\u0631\u062d\u0628\u0627\u202c\nSegunda línea.")
