"""One outbound policy for every connector and the feed reader: no private address unless allowed,
no cloud metadata ever, redirects checked (or refused for APIs), a size cap and a time limit."""

from __future__ import annotations

import gzip
import ipaddress
import socket
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
from django.utils import translation

from listening import polling
from listening.connectors import _http, get_connector
from listening.connectors.base import ConnectorError
from listening.models import Channel, Platform
from tests.factories import ChannelFactory

RSS = (
    '<?xml version="1.0"?><rss version="2.0"><channel><title>Blog</title>'
    "<item><guid>1</guid><title>Acme is great</title><link>https://blog.example/1</link></item>"
    "</channel></rss>"
)
PRIVATE = (
    "{address} is on a private network; Escucha connects there only when the PRIVATE_NETWORK_ALLOWLIST "
    "setting lists it."
)
# path, settings, credentials, base URL suffix and a valid answer, per platform
CASES = {
    Platform.X: ("/2/users/1/mentions", {"user_id": "1"}, {"bearer_token": "t"}, "", {"meta": {"result_count": 0}}),
    Platform.FACEBOOK: ("/v21.0/42/feed", {"page_id": "42"}, {"page_access_token": "t"}, "", {"data": []}),
    Platform.INSTAGRAM: ("/v21.0/17841/media", {"ig_user_id": "17841"}, {"page_access_token": "t"}, "", {"data": []}),
    Platform.LINKEDIN: (
        "/rest/posts",
        {"organization_id": "2414183", "skip_mentions": True},
        {"access_token": "t"},
        "",
        {"paging": {"start": 0, "count": 50, "links": []}, "elements": []},
    ),
    Platform.YOUTUBE: ("/youtube/v3/commentThreads", {"channel_id": "UC1"}, {"api_key": "k"}, "", {"items": []}),
    Platform.FEED: ("/feed.xml", {}, {}, "/feed.xml", RSS),
}


@pytest.fixture(autouse=True)
def english() -> Iterator[None]:
    """Messages made outside a request are in the thread's language; an earlier request may have left Spanish."""
    with translation.override("en"):
        yield


def feed_channel(url: str) -> Channel:
    return ChannelFactory(platform=Platform.FEED, settings={"url": url})


def poll(channel: Channel) -> Channel:
    polling.channel_poll(channel=channel)
    channel.refresh_from_db()
    return channel


# --- Which addresses ---------------------------------------------------------------------------------
@pytest.mark.parametrize(
    "address",
    [
        "127.0.0.1",
        "10.1.2.3",
        "172.16.0.1",
        "192.168.1.1",
        "100.64.0.1",  # carrier-grade NAT
        "169.254.169.254",  # link-local, and the metadata service
        "0.0.0.0",  # noqa: S104 - an address to refuse, not to bind
        "224.0.0.1",
        "233.252.0.1",  # multicast that Python calls global
        "240.0.0.1",
        "::1",
        "::",
        "fe80::1",
        "fc00::1",
        "fd00:ec2::254",
        "fec0::1",
        "ff02::1",
        "::ffff:127.0.0.1",  # IPv4-mapped
        "::ffff:169.254.169.254",
        "2002:7f00:1::",  # 6to4 of 127.0.0.1
        "2002:a9fe:a9fe::",  # 6to4 of the metadata service
        "64:ff9b::a00:1",  # NAT64 of 10.0.0.1
        "2001:0:4136:e378:8000:63bf:80ff:fffe",  # Teredo client 127.0.0.1
        "168.63.129.16",  # Azure's wire server: public range, still metadata
        "192.0.0.192",  # Oracle Cloud metadata
    ],
)
def test_private_reserved_and_metadata_addresses_are_not_public(address):
    assert not _http.is_public_address(ipaddress.ip_address(address))


@pytest.mark.parametrize(
    "address", ["93.184.215.14", "2606:4700:4700::1111", "::ffff:93.184.215.14", "64:ff9b::5db8:d70e"]
)
def test_public_addresses_are(address):
    assert _http.is_public_address(ipaddress.ip_address(address))


@pytest.mark.parametrize(
    "url",
    [
        "http://127.0.0.1:8080/feed",
        "http://2130706433/feed",  # 127.0.0.1 written as one number
        "http://127.1/feed",
        "http://localhost/feed",
        "http://[::1]/feed",
        "http://[::ffff:127.0.0.1]:8000/feed",
        "http://[::ffff:7f00:1]/feed",
        "http://10.0.0.5/",
    ],
)
def test_a_private_url_is_refused_at_save_time_with_the_setting_named(db, settings, url):
    settings.PRIVATE_NETWORK_ALLOWLIST = []
    assert "PRIVATE_NETWORK_ALLOWLIST" in _http.destination_refusal(url)


def test_metadata_is_refused_even_when_allowlisted(db, settings):
    settings.PRIVATE_NETWORK_ALLOWLIST = ["169.254.169.254:80"]
    assert _http.destination_refusal("http://169.254.169.254/latest/meta-data/") == (
        "169.254.169.254:80 is a cloud metadata address; Escucha never connects to it."
    )


def test_allowlisted_and_public_or_unresolvable_addresses_pass_at_save_time(db, settings):
    settings.PRIVATE_NETWORK_ALLOWLIST = ["127.0.0.1:8000"]
    assert _http.destination_refusal("http://127.0.0.1:8000/sandbox/x") == ""
    assert _http.destination_refusal("http://93.184.215.14/feed") == ""
    assert "PRIVATE_NETWORK_ALLOWLIST" in _http.destination_refusal("http://127.0.0.1:8001/sandbox/x")
    assert _http.destination_refusal("https://no-such-host.invalid/feed") == ""  # the poll will tell


# --- Every connector, at poll time ---------------------------------------------------------------------
@pytest.mark.parametrize("platform", list(CASES))
def test_no_connector_sends_a_request_to_a_private_address_that_is_not_allowlisted(db, wire, settings, platform):
    path, channel_settings, credentials, suffix, body = CASES[platform]
    wire.add("GET", path, body=body, content_type="application/rss+xml" if platform == Platform.FEED else "text/json")
    settings.PRIVATE_NETWORK_ALLOWLIST = []
    channel = ChannelFactory(
        platform=platform, api_base_url=wire.url + suffix, settings=channel_settings, credentials=credentials
    )
    with pytest.raises(ConnectorError) as error:
        get_connector(channel).fetch({})
    assert str(error.value) == PRIVATE.format(address=wire.url.removeprefix("http://"))
    assert error.value.permanent  # a person changes the address or the allowlist; retrying cannot help
    assert wire.requests == []


@pytest.mark.parametrize(
    ("platform", "credentials"),
    [
        (Platform.X, {"consumer_key": "ck", "consumer_secret": "cs", "access_token": "at", "access_token_secret": "s"}),
        (Platform.FACEBOOK, {"page_access_token": "page-token"}),
        (Platform.INSTAGRAM, {"page_access_token": "page-token"}),
        (Platform.YOUTUBE, {"client_id": "id", "client_secret": "secret", "refresh_token": "refresh"}),
        (Platform.LINKEDIN, {"client_id": "id", "client_secret": "secret", "refresh_token": "refresh"}),
    ],
)
def test_no_reply_or_token_refresh_goes_to_a_private_address(db, wire, settings, platform, credentials):
    settings.PRIVATE_NETWORK_ALLOWLIST = []
    channel = ChannelFactory(platform=platform, api_base_url=wire.url, credentials=credentials)
    with pytest.raises(ConnectorError, match="PRIVATE_NETWORK_ALLOWLIST"):
        get_connector(channel).post_reply("123", "Thanks!")
    assert wire.requests == []


def test_a_poll_tells_no_open_port_from_a_closed_or_silent_one(db, wire, settings):
    settings.PRIVATE_NETWORK_ALLOWLIST = []
    settings.HTTP_TIMEOUT_SECONDS = 1
    wire.add("GET", "/feed.xml", body=RSS, content_type="application/rss+xml")
    listening = wire.url.removeprefix("http://")
    addresses = [listening, "127.0.0.1:9", "10.255.255.1:80"]  # open, closed, nothing answers
    channels = [poll(feed_channel(f"http://{address}/feed.xml")) for address in addresses]
    assert [channel.last_error for channel in channels] == [PRIVATE.format(address=a) for a in addresses]
    assert {channel.state for channel in channels} == {Channel.State.RECONNECT}
    assert wire.requests == []


def test_a_name_is_checked_when_the_connection_opens_not_only_when_it_was_saved(db, wire, settings, monkeypatch):
    """A name that resolved to a public address at save time and to a private one at poll time
    (DNS rebinding) is refused: the address checked is the address connected to."""
    wire.add("GET", "/feed.xml", body=RSS, content_type="application/rss+xml")
    port = int(wire.url.rsplit(":", 1)[1])
    real_getaddrinfo = socket.getaddrinfo
    answers = iter(["93.184.215.14", "127.0.0.1"])

    def rebinding(host: str, *args: Any, **kwargs: Any) -> Any:
        return real_getaddrinfo(next(answers) if host == "feeds.example" else host, *args, **kwargs)

    monkeypatch.setattr(socket, "getaddrinfo", rebinding)
    settings.PRIVATE_NETWORK_ALLOWLIST = []
    url = f"http://feeds.example:{port}/feed.xml"
    assert _http.destination_refusal(url) == ""  # saved: it looked public
    channel = poll(feed_channel(url))
    assert channel.last_error == PRIVATE.format(address=f"feeds.example:{port}")
    assert wire.requests == []


def test_the_allowlist_lets_exactly_its_host_and_port_through(db, wire, settings):
    wire.add("GET", "/feed.xml", body=RSS, content_type="application/rss+xml")
    settings.PRIVATE_NETWORK_ALLOWLIST = [wire.url.removeprefix("http://")]
    assert [item.external_id for item in get_connector(feed_channel(f"{wire.url}/feed.xml")).fetch({}).items] == ["1"]
    other_port = "127.0.0.1:9"
    with pytest.raises(ConnectorError, match="PRIVATE_NETWORK_ALLOWLIST"):
        get_connector(feed_channel(f"http://{other_port}/feed.xml")).fetch({})


# --- Redirects ---------------------------------------------------------------------------------------
def test_a_feed_follows_a_redirect_that_stays_allowed(db, wire):
    wire.add("GET", "/old.xml", status=301, headers={"Location": f"{wire.url}/feed.xml"})
    wire.add("GET", "/feed.xml", body=RSS, content_type="application/rss+xml")
    items = get_connector(feed_channel(f"{wire.url}/old.xml")).fetch({}).items
    assert [item.external_id for item in items] == ["1"]


@pytest.mark.parametrize(
    ("location", "message"),
    [
        ("http://169.254.169.254/latest/meta-data/", "169.254.169.254:80 is a cloud metadata address"),
        (
            "http://[::ffff:169.254.169.254]/latest/meta-data/",
            "[::ffff:169.254.169.254]:80 is a cloud metadata address",
        ),
        ("http://127.0.0.2:6379/", "127.0.0.2:6379 is on a private network"),
    ],
)
def test_every_redirect_of_a_feed_is_checked_again(db, wire, settings, location, message):
    settings.HTTP_TIMEOUT_SECONDS = 1
    wire.add("GET", "/feed.xml", status=302, headers={"Location": location})
    with pytest.raises(ConnectorError) as error:
        get_connector(feed_channel(f"{wire.url}/feed.xml")).fetch({})
    assert str(error.value).startswith(message)


def test_a_platform_api_redirect_is_refused_and_the_token_does_not_follow_it(db, wire):
    wire.add("GET", "/2/users/1/mentions", status=307, headers={"Location": f"{wire.url}/collect"})
    wire.add("GET", "/collect", body={"meta": {"result_count": 0}})
    channel = ChannelFactory(
        platform=Platform.X, api_base_url=wire.url, settings={"user_id": "1"}, credentials={"bearer_token": "t"}
    )
    with pytest.raises(ConnectorError, match="answered with a redirect"):
        get_connector(channel).fetch({})
    assert wire.calls("/collect") == []


# --- Size and time ---------------------------------------------------------------------------------------
def test_an_answer_larger_than_the_cap_is_not_read(db, wire, monkeypatch):
    monkeypatch.setattr(_http, "MAX_RESPONSE_BYTES", 4096)
    big = RSS.replace("Acme is great", "Acme " * 2000)
    wire.add("GET", "/big.xml", body=big, content_type="application/rss+xml")
    with pytest.raises(ConnectorError, match=r"sent more than 4\.0"):
        get_connector(feed_channel(f"{wire.url}/big.xml")).fetch({})


def test_a_compressed_answer_is_capped_after_decompression(db, wire, monkeypatch):
    monkeypatch.setattr(_http, "MAX_RESPONSE_BYTES", 4096)
    bomb = gzip.compress(RSS.replace("Acme is great", " " * 1_000_000).encode())
    assert len(bomb) < 4096
    wire.add("GET", "/bomb.xml", body=bomb, headers={"Content-Encoding": "gzip"}, content_type="application/rss+xml")
    with pytest.raises(ConnectorError, match="sent more than"):
        get_connector(feed_channel(f"{wire.url}/bomb.xml")).fetch({})


@pytest.fixture
def trickle(settings) -> Iterator[str]:
    """A server that answers at once and then sends its body a byte at a time, never pausing long
    enough for a read timeout."""

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            body = RSS.encode()
            self.send_response(200)
            self.send_header("Content-Type", "application/rss+xml")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            try:
                for byte in body:
                    self.wfile.write(bytes([byte]))
                    self.wfile.flush()
                    time.sleep(0.05)
            except OSError:
                pass  # the reader gave up

        def log_message(self, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True).start()
    address = f"127.0.0.1:{server.server_address[1]}"
    settings.PRIVATE_NETWORK_ALLOWLIST = [address]
    try:
        yield f"http://{address}"
    finally:
        server.shutdown()
        server.server_close()


def test_a_body_that_trickles_in_is_given_up_after_the_time_limit(db, settings, trickle):
    settings.HTTP_TIMEOUT_SECONDS = 1
    with pytest.raises(ConnectorError, match="took too long to send its answer") as error:
        get_connector(feed_channel(f"{trickle}/feed.xml")).fetch({})
    assert not error.value.permanent
