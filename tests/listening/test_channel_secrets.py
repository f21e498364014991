"""A channel's secrets go only where they were entered for, and never show in an error."""

from __future__ import annotations

import json
from collections.abc import Iterator
from urllib.parse import quote

import pytest
from django.core.exceptions import ValidationError
from django.test import Client
from django.utils import translation
from rest_framework.test import APIClient

from listening import polling
from listening.connectors import scrub_error
from listening.models import Channel, Platform
from listening.services import channel_update
from tests.factories import ChannelFactory
from tests.listening.connectors.conftest import wire  # noqa: F401 - the local platform server fixture

pytestmark = pytest.mark.django_db

SECRET = "S3cr3t-Tok3n/with+odd=chars"
X_CREDENTIALS = {
    "bearer_token": SECRET,
    "consumer_key": "ck-1234",
    "consumer_secret": "cs-5678",
    "access_token": "at-9012",
    "access_token_secret": "ats-3456",
}


@pytest.fixture(autouse=True)
def english() -> Iterator[None]:
    """Messages made outside a request are in the thread's language; an earlier request may have left Spanish."""
    with translation.override("en"):
        yield


def api(user) -> APIClient:
    client = APIClient()
    client.force_authenticate(user)
    return client


def browser(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


@pytest.fixture
def x_channel(team):
    return ChannelFactory(
        brand=team.brand,
        platform=Platform.X,
        settings={"user_id": "1"},
        api_base_url="https://api.x.com",
        credentials=X_CREDENTIALS,
    )


# --- Credentials are bound to their address ------------------------------------------------------
def test_the_api_refuses_a_new_address_without_the_credentials_again(team, x_channel):
    response = api(team.cm).patch(
        f"/api/v1/channels/{x_channel.pk}/", {"api_base_url": "https://collector.example/2"}, format="json"
    )
    assert response.status_code == 400
    message = response.json()["api_base_url"][0]
    assert "give the stored credentials again" in message
    assert "access_token, access_token_secret, bearer_token, consumer_key, consumer_secret" in message
    x_channel.refresh_from_db()
    assert x_channel.api_base_url == "https://api.x.com"


def test_the_api_refuses_a_new_address_with_only_some_of_the_credentials(team, x_channel):
    response = api(team.cm).patch(
        f"/api/v1/channels/{x_channel.pk}/",
        {"api_base_url": "https://collector.example/2", "credentials": {"bearer_token": "new"}},
        format="json",
    )
    assert response.status_code == 400
    assert "(access_token, access_token_secret, consumer_key, consumer_secret)" in response.json()["api_base_url"][0]
    x_channel.refresh_from_db()
    assert x_channel.credentials == X_CREDENTIALS


def test_a_new_address_with_every_credential_again_is_saved(team, x_channel):
    fresh = {key: f"{value}-new" for key, value in X_CREDENTIALS.items()}
    response = api(team.cm).patch(
        f"/api/v1/channels/{x_channel.pk}/",
        {"api_base_url": "https://gateway.example/x", "credentials": fresh},
        format="json",
    )
    assert response.status_code == 200, response.content
    x_channel.refresh_from_db()
    assert x_channel.api_base_url == "https://gateway.example/x"
    assert x_channel.credentials == fresh


def test_the_same_address_written_differently_needs_no_credentials(team, x_channel):
    response = api(team.cm).patch(
        f"/api/v1/channels/{x_channel.pk}/", {"api_base_url": "HTTPS://API.X.COM/", "name": "X"}, format="json"
    )
    assert response.status_code == 200, response.content


def test_the_channel_form_asks_for_the_credentials_again(team, x_channel):
    form = {
        "name": x_channel.name,
        "api_base_url": "https://collector.example",
        "poll_interval_seconds": 300,
        "is_active": "on",
        "setting_user_id": "1",
    }
    page = browser(team.cm).post(f"/channels/{x_channel.pk}/edit/", form)
    assert page.status_code == 200
    assert "give the stored credentials again" in page.content.decode()
    assert page.content.decode().count("Enter it again: the address changed.") == len(X_CREDENTIALS)
    x_channel.refresh_from_db()
    assert x_channel.api_base_url == "https://api.x.com"
    given = {f"credential_{key}": f"{value}-new" for key, value in X_CREDENTIALS.items()}
    assert browser(team.cm).post(f"/channels/{x_channel.pk}/edit/", {**form, **given}).status_code == 302
    x_channel.refresh_from_db()
    assert x_channel.api_base_url == "https://collector.example"
    assert x_channel.credentials["bearer_token"] == f"{SECRET}-new"


def test_the_service_refuses_it_too_whoever_calls_it(x_channel):
    with pytest.raises(ValidationError, match="give the stored credentials again"):
        channel_update(channel=x_channel, api_base_url="https://collector.example")
    x_channel.refresh_from_db()
    assert x_channel.api_base_url == "https://api.x.com"


# --- A private address is refused when it is saved ------------------------------------------------
@pytest.mark.parametrize(
    ("payload", "key"),
    [
        ({"platform": "feed", "settings": {"url": "http://127.0.0.1:6379/"}}, "settings.url"),
        ({"platform": "feed", "settings": {"url": "http://169.254.169.254/latest/meta-data/"}}, "settings.url"),
        ({"platform": "feed", "settings": {}, "api_base_url": "http://[::1]:5432/"}, "api_base_url"),
        ({"platform": "x", "settings": {"user_id": "1"}, "api_base_url": "http://10.0.0.7/"}, "api_base_url"),
    ],
)
def test_the_api_refuses_a_private_address_naming_the_setting(team, settings, payload, key):
    settings.PRIVATE_NETWORK_ALLOWLIST = []
    response = api(team.cm).post("/api/v1/channels/", {"brand": team.brand.pk, "name": "C", **payload}, format="json")
    assert response.status_code == 400
    errors = response.json()[key]
    assert "metadata" in errors[0] or "PRIVATE_NETWORK_ALLOWLIST" in errors[0]
    assert not Channel.objects.filter(name="C").exists()


def test_the_form_refuses_a_private_feed_address(team, settings):
    settings.PRIVATE_NETWORK_ALLOWLIST = []
    page = browser(team.cm).post(
        f"/brands/{team.brand.slug}/channels/new/feed/",
        {"name": "Internal", "poll_interval_seconds": 300, "setting_url": "http://127.0.0.1:9200/_cat/indices"},
    )
    assert page.status_code == 200
    assert "127.0.0.1:9200 is on a private network" in page.content.decode()
    assert not Channel.objects.filter(name="Internal").exists()


# --- No secret in a stored or shown error, whatever the connector ------------------------------------
def what_people_see(team, channel: Channel) -> dict[str, str]:
    polling.channel_poll(channel=channel)
    channel.refresh_from_db()
    assert channel.last_error
    return {
        "last_error": channel.last_error,
        "channel API": api(team.manager).get(f"/api/v1/channels/{channel.pk}/").content.decode(),
        "channel page": browser(team.cm).get("/channels/").content.decode(),
    }


def assert_hidden(shown: dict[str, str], *secrets: str) -> None:
    for where, text in shown.items():
        for secret in secrets:
            for form in (secret, quote(secret, safe=""), json.dumps(secret)[1:-1]):
                assert form not in text, f"{form!r} in the {where}"


def test_x_an_error_that_echoes_the_bearer_token_is_stored_without_it(team, wire):  # noqa: F811
    wire.add(
        "GET",
        "/2/users/1/mentions",
        status=400,
        body={"errors": [{"message": f"Invalid header Authorization: Bearer {SECRET}"}], "title": "Invalid Request"},
    )
    channel = ChannelFactory(
        brand=team.brand,
        platform=Platform.X,
        api_base_url=wire.url,
        settings={"user_id": "1"},
        credentials=X_CREDENTIALS,
    )
    shown = what_people_see(team, channel)
    assert shown["last_error"].startswith("X rejected the request")
    assert_hidden(shown, SECRET)


def test_facebook_an_unreachable_graph_never_shows_the_page_token(team, settings):
    settings.PRIVATE_NETWORK_ALLOWLIST = ["127.0.0.1:9"]  # a closed port: the client reports the URL it tried
    channel = ChannelFactory(
        brand=team.brand,
        platform=Platform.FACEBOOK,
        api_base_url="http://127.0.0.1:9",
        settings={"page_id": "42"},
        credentials={"page_access_token": SECRET, "app_secret": "app-secret-1", "verify_token": "verify-1"},
    )
    shown = what_people_see(team, channel)
    assert shown["last_error"].startswith("Facebook could not be reached")
    assert_hidden(shown, SECRET, "access_token=")


def test_youtube_an_error_that_echoes_the_api_key_is_stored_without_it(team, wire):  # noqa: F811
    error = {"code": 400, "errors": [{"reason": f"badRequest for key {SECRET}", "domain": "youtube.parameter"}]}
    wire.add("GET", "/youtube/v3/commentThreads", status=400, body={"error": error})
    channel = ChannelFactory(
        brand=team.brand,
        platform=Platform.YOUTUBE,
        api_base_url=wire.url,
        settings={"channel_id": "UC1"},
        credentials={"api_key": SECRET},
    )
    shown = what_people_see(team, channel)
    assert shown["last_error"].startswith("YouTube rejected the request")
    assert_hidden(shown, SECRET)


def test_feed_an_unreachable_feed_never_shows_the_token_in_its_address(team, settings):
    settings.PRIVATE_NETWORK_ALLOWLIST = ["127.0.0.1:9"]
    channel = ChannelFactory(
        brand=team.brand, platform=Platform.FEED, settings={"url": f"http://127.0.0.1:9/private.rss?token={SECRET}"}
    )
    shown = what_people_see(team, channel)
    assert shown["last_error"].startswith("Feed could not be reached")
    # The API shows the feed's address itself among the channel's settings.
    shown.pop("channel API")
    assert_hidden(shown, SECRET, "token=")


def test_the_admin_site_cannot_move_a_channel_away_from_its_credentials(team, x_channel):
    admin = team.cm.__class__.objects.create_superuser("root", "root@example.com", "pw")
    client = browser(admin)
    page = client.get(f"/admin/listening/channel/{x_channel.pk}/change/").content.decode()
    assert 'name="api_base_url"' not in page and 'name="settings"' not in page
    response = client.post(
        f"/admin/listening/channel/{x_channel.pk}/change/",
        {
            "brand": team.brand.pk,
            "platform": "x",
            "name": x_channel.name,
            "api_base_url": "https://collector.example",
            "settings": '{"user_id": "1"}',
            "poll_interval_seconds": 300,
            "is_active": "on",
            "cursor": "{}",
            "next_poll_at_0": "2026-01-01",
            "next_poll_at_1": "00:00:00",
        },
    )
    assert response.status_code == 302, response.content  # saved, without the address
    x_channel.refresh_from_db()
    assert x_channel.api_base_url == "https://api.x.com"


def test_an_error_loses_query_strings_passwords_in_urls_and_every_credential_however_written():
    channel = Channel(credentials={"page_access_token": SECRET, "app_secret": "app-1"})
    message = (
        "could not be reached: HTTPSConnectionPool(host='graph.example', port=443): Max retries exceeded with "
        "url: /v21.0/42/feed?fields=id&access_token=abc (Caused by …); see https://user:pw@proxy.example/x?k=v then "
        f"echo {SECRET} {quote(SECRET, safe='')} app-1. Anyone there? and/or"
    )
    assert scrub_error(message, channel=channel) == (
        "could not be reached: HTTPSConnectionPool(host='graph.example', port=443): Max retries exceeded with "
        "url: /v21.0/42/feed?… (Caused by …); see https://proxy.example/x?… then "
        "echo [hidden] [hidden] [hidden]. Anyone there? and/or"
    )
