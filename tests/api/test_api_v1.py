"""REST API v1: brands, channels, mentions, departments; every endpoint's 400s and 404s."""

from __future__ import annotations

import io
from datetime import timedelta

import pytest
from django.core.management import call_command
from django.utils import timezone
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from config.roles import ADMIN
from listening.models import Channel, Mention, Platform, Sentiment, TrackedTerm
from tests.factories import ChannelFactory, MentionFactory, TicketFactory, TrackedTermFactory, UserFactory

pytestmark = pytest.mark.django_db


def client_for(user) -> APIClient:
    client = APIClient()
    client.force_authenticate(user)
    return client


@pytest.fixture
def admin(team):
    return UserFactory(username="ada", roles=[ADMIN])


# --- authentication --------------------------------------------------------------------------
def test_anonymous_gets_401_and_a_token_from_the_command_works(team):
    assert APIClient().get("/api/v1/mentions/").status_code == 401
    out = io.StringIO()
    call_command("drf_create_token", team.cm.username, stdout=out)
    key = Token.objects.get(user=team.cm).key
    assert key in out.getvalue()
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {key}")
    assert client.get("/api/v1/mentions/").status_code == 200


def test_schema_and_docs_are_served(team):
    client = client_for(team.cm)
    schema = client.get("/api/schema/")
    assert schema.status_code == 200
    assert b"/api/v1/mentions/" in schema.content
    client.force_login(team.cm)  # the docs are a page for people signed in to the app
    assert client.get("/api/docs/").status_code == 200


# --- brands ----------------------------------------------------------------------------------
def test_brands_list_only_the_users_brands(team):
    names = [brand["name"] for brand in client_for(team.cm).get("/api/v1/brands/").json()["results"]]
    assert names == ["Acme"]
    assert client_for(team.outsider).get(f"/api/v1/brands/{team.brand.pk}/").status_code == 404


def test_admin_creates_a_brand_with_terms_and_becomes_its_member(admin):
    response = client_for(admin).post(
        "/api/v1/brands/",
        {
            "name": "Hooli",
            "slug": "hooli",
            "terms": [
                {"kind": "brand", "text": "Hooli"},
                {"kind": "competitor", "text": "Pied Piper", "exclusions": ["pied piper of hamelin"]},
            ],
        },
        format="json",
    )
    assert response.status_code == 201, response.content
    body = response.json()
    assert {(t["kind"], t["text"]) for t in body["terms"]} == {("brand", "Hooli"), ("competitor", "Pied Piper")}
    assert admin.brand_memberships.filter(brand_id=body["id"]).exists()


def test_a_community_manager_cannot_create_brands(team):
    response = client_for(team.cm).post("/api/v1/brands/", {"name": "X", "slug": "x"}, format="json")
    assert response.status_code == 403


@pytest.mark.parametrize(
    ("terms", "field"),
    [
        ([{"kind": "rival", "text": "Globex"}], "terms.0.kind"),
        ([{"kind": "brand", "text": "#"}], "terms.0.text"),
        ([{"kind": "brand", "text": "Acme"}, {"kind": "brand", "text": "acme"}], "terms"),
    ],
)
def test_bad_terms_get_a_400_naming_the_field(admin, terms, field):
    response = client_for(admin).post("/api/v1/brands/", {"name": "N", "slug": "n", "terms": terms}, format="json")
    assert response.status_code == 400
    assert list(response.json()) == [field]


def test_patching_terms_keeps_the_listed_ones_and_deactivates_the_rest(team):
    old = TrackedTermFactory(brand=team.brand, kind="competitor", text="Globex")
    response = client_for(team.cm).patch(
        f"/api/v1/brands/{team.brand.pk}/",
        {"terms": [{"kind": "competitor", "text": "Initech"}]},
        format="json",
    )
    assert response.status_code == 200, response.content
    assert [t["text"] for t in response.json()["terms"]] == ["Initech"]
    old.refresh_from_db()
    assert old.is_active is False  # kept for the mentions and reports that used it


# --- channels --------------------------------------------------------------------------------
X_CHANNEL = {
    "platform": "x",
    "name": "Acme on X",
    "settings": {"user_id": "2244994945", "search_query": "acme -is:retweet"},
    "credentials": {"bearer_token": "secret-bearer"},
}


def test_create_a_channel_credentials_are_write_only_and_encrypted(team):
    response = client_for(team.cm).post("/api/v1/channels/", {**X_CHANNEL, "brand": team.brand.pk}, format="json")
    assert response.status_code == 201, response.content
    body = response.json()
    assert "credentials" not in body
    assert body["credentials_set"] == ["bearer_token"]
    assert body["state"] == "ok"
    assert b"secret-bearer" not in response.content
    channel = Channel.objects.get(pk=body["id"])
    assert channel.credentials == {"bearer_token": "secret-bearer"}
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("SELECT credentials FROM listening_channel WHERE id = %s", [channel.pk])
        assert "secret-bearer" not in cursor.fetchone()[0]


def test_a_channel_for_another_brand_is_refused(team):
    response = client_for(team.cm).post("/api/v1/channels/", {**X_CHANNEL, "brand": team.other_brand.pk}, format="json")
    assert response.status_code == 400
    assert "brand" in response.json()


@pytest.mark.parametrize(
    ("payload", "key"),
    [
        ({"platform": "facebook", "settings": {"graph_version": "v21.0"}}, "settings.page_id"),
        ({"platform": "facebook", "settings": {"page_id": "1", "graph_version": "21"}}, "settings.graph_version"),
        ({"platform": "x", "settings": {}}, "settings.user_id"),
        ({"platform": "x", "settings": {"user_id": "1", "userid": "2"}}, "settings.userid"),
        ({"platform": "youtube", "settings": {"search_terms": "acme"}}, "settings.channel_id"),
        ({"platform": "feed", "settings": {"url": "javascript:alert(1)"}}, "settings.url"),
        ({"platform": "x", "settings": {"user_id": "1"}, "credentials": {"password": "x"}}, "credentials.password"),
        ({"platform": "x", "settings": ["user_id"]}, "settings"),
        ({"platform": "myspace", "settings": {}}, "platform"),
        ({"platform": "x", "settings": {"user_id": "1"}, "poll_interval_seconds": 1}, "poll_interval_seconds"),
    ],
)
def test_bad_channel_input_gets_a_400_with_the_field(team, payload, key):
    response = client_for(team.cm).post(
        "/api/v1/channels/", {"brand": team.brand.pk, "name": "C", **payload}, format="json"
    )
    assert response.status_code == 400, response.content
    errors = response.json()
    assert key in errors, errors
    assert all(isinstance(message, str) for message in errors[key])
    assert not Channel.objects.filter(name="C").exists()


def test_new_credentials_resume_a_channel_that_needed_reconnecting(team):
    channel = ChannelFactory(
        brand=team.brand,
        platform=Platform.X,
        settings={"user_id": "1"},
        credentials={"bearer_token": "old", "consumer_key": "k"},
        state=Channel.State.RECONNECT,
        next_poll_at=timezone.now() + timedelta(days=365),
    )
    response = client_for(team.cm).patch(
        f"/api/v1/channels/{channel.pk}/", {"credentials": {"bearer_token": "new"}}, format="json"
    )
    assert response.status_code == 200, response.content
    channel.refresh_from_db()
    assert channel.credentials == {"bearer_token": "new", "consumer_key": "k"}
    assert channel.state == Channel.State.OK
    assert channel.next_poll_at <= timezone.now()


def test_a_channel_cannot_change_platform_and_others_cannot_see_it(team):
    channel = ChannelFactory(brand=team.brand, platform=Platform.X, settings={"user_id": "1"})
    cm = client_for(team.cm)
    assert cm.patch(f"/api/v1/channels/{channel.pk}/", {"platform": "feed"}, format="json").status_code == 400
    assert client_for(team.outsider).get(f"/api/v1/channels/{channel.pk}/").status_code == 404
    assert client_for(team.outsider).patch(f"/api/v1/channels/{channel.pk}/", {"name": "mine"}).status_code == 404
    assert client_for(team.billing_member).get("/api/v1/channels/").status_code == 403
    assert client_for(team.manager).patch(f"/api/v1/channels/{channel.pk}/", {"name": "m"}).status_code == 403


# --- mentions --------------------------------------------------------------------------------
def test_mentions_are_paged_by_cursor_without_gaps_or_repeats(team):
    channel = ChannelFactory(brand=team.brand)
    same_moment = timezone.now() - timedelta(hours=1)
    ids = {MentionFactory(channel=channel, published_at=same_moment).pk for _ in range(5)}
    ids |= {MentionFactory(channel=channel, published_at=same_moment - timedelta(minutes=i)).pk for i in range(1, 3)}
    client = client_for(team.cm)
    seen: list[int] = []
    url = "/api/v1/mentions/?page_size=3"
    while url:
        body = client.get(url).json()
        assert body["page_size"] == 3
        seen += [row["id"] for row in body["results"]]
        url = body["next"]
    assert len(seen) == len(set(seen)) == 7
    assert set(seen) == ids


def test_mention_shape_and_filters(team):
    channel = ChannelFactory(brand=team.brand, platform=Platform.YOUTUBE)
    term = TrackedTermFactory(brand=team.brand, kind=TrackedTerm.Kind.COMPETITOR, text="Globex")
    negative = MentionFactory(
        channel=channel, text="Globex is better", sentiment=Sentiment.NEGATIVE, sentiment_score=-0.6, language="en"
    )
    negative.terms.add(term)
    ticket = TicketFactory(mention=negative, department=team.billing)
    MentionFactory(channel=channel, sentiment=Sentiment.POSITIVE, language="es")
    MentionFactory(channel=ChannelFactory(brand=team.other_brand), sentiment=Sentiment.NEGATIVE)
    client = client_for(team.cm)

    rows = client.get("/api/v1/mentions/?sentiment=negative").json()["results"]
    assert [row["id"] for row in rows] == [negative.pk]
    row = rows[0]
    assert row["platform"] == "youtube"
    assert row["sentiment"]["label"] == "negative"
    assert row["sentiment"]["compound"] == -0.6
    assert row["author"]["handle"] == negative.author.handle
    assert row["ticket"] == ticket.pk
    assert row["terms"] == [{"id": term.pk, "kind": "competitor", "text": "Globex"}]
    assert len(client.get("/api/v1/mentions/?language=es").json()["results"]) == 1
    assert len(client.get("/api/v1/mentions/?term=competitor").json()["results"]) == 1
    assert len(client.get(f"/api/v1/mentions/?brand={team.brand.pk}&platform=youtube").json()["results"]) == 2
    assert client.get("/api/v1/mentions/?q=globex").json()["results"][0]["id"] == negative.pk
    future = (timezone.now() + timedelta(days=1)).date().isoformat()
    assert client.get(f"/api/v1/mentions/?since={future}").json()["results"] == []


@pytest.mark.parametrize(
    "query",
    [
        "sentiment=angry",
        "page_size=501",
        "page_size=0",
        "since=yesterday",
        "cursor=bm9wZQ",
        "brand=a%20b",
        "status=done",
    ],
)
def test_bad_mention_queries_get_a_400(team, query):
    response = client_for(team.cm).get(f"/api/v1/mentions/?{query}")
    assert response.status_code == 400
    assert query.split("=")[0] in response.json()


def test_mentions_of_other_brands_are_invisible(team):
    theirs = MentionFactory(channel=ChannelFactory(brand=team.other_brand))
    assert client_for(team.cm).get(f"/api/v1/mentions/{theirs.pk}/").status_code == 404
    response = client_for(team.cm).get(f"/api/v1/mentions/?brand={team.other_brand.pk}")
    assert response.status_code == 400 and list(response.json()) == ["brand"]
    assert client_for(team.billing_member).get("/api/v1/mentions/").status_code == 403
    assert Mention.objects.count() == 1


# --- departments -----------------------------------------------------------------------------
def test_departments_are_listed_per_brand_and_created_by_admins(team, admin):
    names = [d["name"] for d in client_for(team.cm).get("/api/v1/departments/").json()["results"]]
    assert sorted(names) == ["Billing", "Support"]
    assert client_for(team.outsider).get(f"/api/v1/departments/{team.billing.pk}/").status_code == 404
    assert (
        client_for(team.cm).post("/api/v1/departments/", {"brand": team.brand.pk, "name": "Legal"}).status_code == 403
    )

    api = client_for(admin)
    created = api.post(
        "/api/v1/departments/",
        {"brand": team.brand.pk, "name": "Legal", "email": "legal@acme.example", "members": [team.cm.pk]},
        format="json",
    )
    assert created.status_code == 201, created.content
    duplicate = api.post("/api/v1/departments/", {"brand": team.brand.pk, "name": "legal"}, format="json")
    assert duplicate.status_code == 400 and "name" in duplicate.json()
    stranger = api.post(
        "/api/v1/departments/", {"brand": team.brand.pk, "name": "PR", "members": [team.outsider.pk]}, format="json"
    )
    assert stranger.status_code == 400 and "members" in stranger.json()
    bad_email = api.post(
        "/api/v1/departments/", {"brand": team.brand.pk, "name": "Ops", "email": "nope"}, format="json"
    )
    assert bad_email.status_code == 400 and "email" in bad_email.json()


def test_until_a_date_includes_that_whole_day(team):
    channel = ChannelFactory(brand=team.brand)
    evening = timezone.make_aware(timezone.datetime(2026, 3, 3, 21, 30))
    MentionFactory(channel=channel, published_at=evening)
    MentionFactory(channel=channel, published_at=evening + timedelta(days=1))
    rows = client_for(team.cm).get("/api/v1/mentions/?since=2026-03-03&until=2026-03-03").json()["results"]
    assert [row["published_at"][:10] for row in rows] == ["2026-03-03"]
