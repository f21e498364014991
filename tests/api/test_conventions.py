"""What every endpoint of /api/v1/ keeps alike: one cursor pagination with page_size, 401 with a
challenge for token problems, one error shape, ids in answers (slugs accepted where people type a
brand), PATCH that merges, read-only fields refused, and filters that refuse bad values."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from config.roles import ADMIN
from listening.models import Brand, Channel, Platform
from responses.models import TicketEvent
from tests.factories import (
    BrandFactory,
    ChannelFactory,
    DepartmentFactory,
    MembershipFactory,
    MentionFactory,
    ReplyFactory,
    RoutingRuleFactory,
    TicketFactory,
    UserFactory,
)

pytestmark = pytest.mark.django_db


def client_for(user) -> APIClient:
    client = APIClient()
    client.force_authenticate(user)
    return client


@pytest.fixture
def admin(team):
    user = UserFactory(username="ada", roles=[ADMIN])
    MembershipFactory(brand=team.brand, user=user)
    return user


# --- Authentication: 401 with a challenge ----------------------------------------------------------
@pytest.mark.parametrize("authorization", [None, "Token not-a-key", "Token ", "Bearer abc"])
@pytest.mark.parametrize("url", ["/api/v1/mentions/", "/api/v1/tickets/", "/api/v1/brands/", "/api/schema/"])
def test_a_missing_or_bad_token_is_a_401_with_a_challenge(team, url: str, authorization: str | None) -> None:
    client = APIClient()
    if authorization is not None:
        client.credentials(HTTP_AUTHORIZATION=authorization)
    response = client.get(url)
    assert response.status_code == 401
    assert response["WWW-Authenticate"] == "Token"
    if url.startswith("/api/v1/"):
        assert list(response.json()) == ["non_field_errors"]


def test_a_good_token_gets_in_and_a_role_without_the_permission_gets_403(team) -> None:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {Token.objects.create(user=team.billing_member).key}")
    assert client.get("/api/v1/tickets/").status_code == 200
    response = client.get("/api/v1/mentions/")
    assert response.status_code == 403
    assert "WWW-Authenticate" not in response


# --- One pagination for every list -------------------------------------------------------------------
def _brands(team, admin) -> tuple[str, list[int]]:
    # An Admin sees every brand.
    return "/api/v1/brands/", [team.brand.pk, team.other_brand.pk, *(BrandFactory().pk for _ in range(3))]


def _channels(team, admin) -> tuple[str, list[int]]:
    return "/api/v1/channels/", [ChannelFactory(brand=team.brand).pk for _ in range(5)]


def _mentions(team, admin) -> tuple[str, list[int]]:
    return "/api/v1/mentions/", [MentionFactory(channel__brand=team.brand).pk for _ in range(5)]


def _departments(team, admin) -> tuple[str, list[int]]:
    return "/api/v1/departments/", [
        team.billing.pk,
        team.support.pk,
        *(DepartmentFactory(brand=team.brand).pk for _ in range(3)),
    ]


def _rules(team, admin) -> tuple[str, list[int]]:
    return "/api/v1/routing-rules/", [RoutingRuleFactory(brand=team.brand).pk for _ in range(5)]


def _tickets(team, admin) -> tuple[str, list[int]]:
    return "/api/v1/tickets/", [TicketFactory(mention__channel__brand=team.brand, department=team.billing).pk for _ in range(5)]  # fmt: skip


def _notes(team, admin) -> tuple[str, list[int]]:
    ticket = TicketFactory(mention__channel__brand=team.brand, department=team.billing)
    notes = [TicketEvent.objects.create(ticket=ticket, kind=TicketEvent.Kind.NOTE, body=f"n{i}") for i in range(5)]
    return f"/api/v1/tickets/{ticket.pk}/notes/", [note.pk for note in notes]


def _replies(team, admin) -> tuple[str, list[int]]:
    mention = MentionFactory(channel__brand=team.brand)
    return f"/api/v1/mentions/{mention.pk}/replies/", [ReplyFactory(mention=mention).pk for _ in range(5)]


def _users(team, admin) -> tuple[str, list[int]]:
    extra = [UserFactory() for _ in range(1)]
    for user in extra:
        MembershipFactory(brand=team.brand, user=user)
    return f"/api/v1/brands/{team.brand.pk}/users/", [
        u.pk for u in (team.cm, team.billing_member, team.manager, admin, *extra)
    ]


def _posts(team, admin) -> tuple[str, list[int]]:
    from publishing.models import Post

    return "/api/v1/posts/", [Post.objects.create(brand=team.brand, author=team.cm, text=f"p{i}").pk for i in range(5)]


LISTS: dict[str, Callable[[Any, Any], tuple[str, list[int]]]] = {
    "brands": _brands,
    "channels": _channels,
    "mentions": _mentions,
    "departments": _departments,
    "routing-rules": _rules,
    "tickets": _tickets,
    "notes": _notes,
    "replies": _replies,
    "brand users": _users,
    "posts": _posts,
}


@pytest.mark.parametrize("make", LISTS.values(), ids=LISTS.keys())
def test_every_list_pages_by_cursor_with_page_size(team, admin, make) -> None:
    url, ids = make(team, admin)
    client = client_for(admin)
    seen: list[int] = []
    pages = 0
    next_url: str | None = f"{url}?page_size=2"
    while next_url:
        response = client.get(next_url)
        assert response.status_code == 200, response.content
        body = response.json()
        assert set(body) == {"results", "next", "page_size"}
        assert body["page_size"] == 2 and len(body["results"]) <= 2
        seen += [row["id"] for row in body["results"]]
        next_url = body["next"]
        pages += 1
    assert pages == 3
    assert sorted(seen) == sorted(ids)  # each once: no gap, no repeat
    default = client.get(url).json()
    assert default["page_size"] == 50 and default["next"] is None and len(default["results"]) == len(ids)


@pytest.mark.parametrize("make", LISTS.values(), ids=LISTS.keys())
@pytest.mark.parametrize("query", ["page_size=0", "page_size=501", "page_size=ten", "cursor=bm9wZQ"])
def test_every_list_refuses_a_bad_page_size_or_cursor(team, admin, make, query: str) -> None:
    url, _ids = make(team, admin)
    response = client_for(admin).get(f"{url}?{query}")
    assert response.status_code == 400
    assert list(response.json()) == [query.split("=")[0]]


# --- One error shape -------------------------------------------------------------------------------
def test_nested_errors_are_keyed_by_a_dotted_path(team, admin) -> None:
    response = client_for(admin).post(
        "/api/v1/brands/",
        {"name": "Hooli", "terms": [{"kind": "brand", "text": "Hooli"}, {"kind": "rival", "text": "#"}]},
        format="json",
    )
    assert response.status_code == 400
    body = response.json()
    assert set(body) == {"terms.1.kind", "terms.1.text"}
    assert all(isinstance(messages, list) and all(isinstance(m, str) for m in messages) for messages in body.values())


@pytest.mark.parametrize(
    ("method", "url", "who", "status"),
    [
        ("get", "/api/v1/mentions/999999/", "cm", 404),
        ("get", "/api/v1/mentions/1.5/", "cm", 404),  # a path no route matches
        ("post", "/api/v1/brands/", "cm", 403),
        ("delete", "/api/v1/mentions/", "cm", 405),
        ("post", "/api/v1/routing-rules/", "cm", 400),  # a body that is not JSON
    ],
)
def test_errors_about_no_field_are_non_field_errors(team, method: str, url: str, who: str, status: int) -> None:
    client = client_for(getattr(team, who))
    if method == "post" and url.endswith("routing-rules/"):
        response = client.post(url, "{not json", content_type="application/json")
    else:
        response = getattr(client, method)(url)
    assert response.status_code == status
    assert response["Content-Type"] == "application/json"
    body = response.json()
    assert list(body) == ["non_field_errors"] and isinstance(body["non_field_errors"][0], str)


# --- Ids, and slugs where people type a brand --------------------------------------------------------
def test_a_brand_is_named_by_id_or_slug_and_answered_by_id(team) -> None:
    channel = ChannelFactory(brand=team.brand)
    ChannelFactory(brand=BrandFactory(slug="initech"))
    client = client_for(team.cm)
    by_slug = client.get("/api/v1/channels/?brand=acme").json()["results"]
    by_id = client.get(f"/api/v1/channels/?brand={team.brand.pk}").json()["results"]
    assert [row["id"] for row in by_slug] == [row["id"] for row in by_id] == [channel.pk]
    assert by_slug[0]["brand"] == team.brand.pk
    created = client.post(
        "/api/v1/routing-rules/",
        {"brand": "acme", "name": "Spam", "conditions": [{"field": "text", "op": "any", "value": ["casino"]}],
         "actions": [{"type": "spam"}]},
        format="json",
    )  # fmt: skip
    assert created.status_code == 201, created.content
    assert created.json()["brand"] == team.brand.pk


@pytest.mark.parametrize("value", ["globex", "initech", "a b", "²"])
def test_a_brand_that_is_not_ones_own_is_a_400_whatever_it_is(team, value: str) -> None:
    BrandFactory(slug="initech")
    for url in ("/api/v1/channels/", "/api/v1/mentions/", "/api/v1/departments/", "/api/v1/routing-rules/",
                "/api/v1/tickets/", "/api/v1/reports/summary/"):  # fmt: skip
        response = client_for(team.cm).get(f"{url}?brand={value}")
        assert response.status_code == 400, url
        assert list(response.json()) == ["brand"], url


def test_ticket_notes_name_their_author_by_id(team) -> None:
    ticket = TicketFactory(mention__channel__brand=team.brand, department=team.billing)
    client = client_for(team.billing_member)
    assert client.post(f"/api/v1/tickets/{ticket.pk}/notes/", {"body": "Called"}, format="json").json()["actor"] == (
        team.billing_member.pk
    )


# --- Bodies: read-only and unknown fields, PATCH merges, a derived slug ---------------------------------
@pytest.mark.parametrize(
    ("url", "body", "field"),
    [
        ("channel", {"state": "ok"}, "state"),
        ("channel", {"last_error": ""}, "last_error"),
        ("channel", {"credentials_set": []}, "credentials_set"),
        ("channel", {"nmae": "typo"}, "nmae"),
        ("brand", {"id": 1}, "id"),
        ("brand", {"created_at": "2020-01-01T00:00:00Z"}, "created_at"),
        ("brand", {"terms": [{"text": "Acme", "is_active": False}]}, "terms.0.is_active"),
        ("ticket", {"department": 1}, "department"),
        ("ticket", {"priority": "urgent"}, "priority"),
        ("rule", {"brand": 1}, "brand"),
        ("mention", {"text": "edited"}, "text"),
        ("mention", {"sentiment": {"compound": 0.9}}, "sentiment.compound"),
    ],
)
def test_writes_to_read_only_or_unknown_fields_are_a_400_naming_them(team, url: str, body: dict, field: str) -> None:
    mention = MentionFactory(channel__brand=team.brand, text="original")
    objects = {
        "channel": f"/api/v1/channels/{ChannelFactory(brand=team.brand, settings={'user_id': '1'}).pk}/",
        "brand": f"/api/v1/brands/{team.brand.pk}/",
        "ticket": f"/api/v1/tickets/{TicketFactory(mention=mention, department=team.billing).pk}/",
        "rule": f"/api/v1/routing-rules/{RoutingRuleFactory(brand=team.brand).pk}/",
        "mention": f"/api/v1/mentions/{mention.pk}/",
    }
    response = client_for(team.cm).patch(objects[url], body, format="json")
    assert response.status_code == 400, response.content
    assert field in response.json()
    mention.refresh_from_db()
    assert mention.text == "original"


def test_patching_a_channels_settings_merges_like_its_credentials(team) -> None:
    channel = ChannelFactory(
        brand=team.brand,
        platform=Platform.X,
        settings={"user_id": "2244994945", "search_query": "acme"},
        credentials={"bearer_token": "b", "consumer_key": "k"},
    )
    client = client_for(team.cm)
    response = client.patch(f"/api/v1/channels/{channel.pk}/", {"settings": {"search_query": "acme -is:retweet"}}, format="json")  # fmt: skip
    assert response.status_code == 200, response.content
    assert response.json()["settings"] == {"user_id": "2244994945", "search_query": "acme -is:retweet"}
    response = client.patch(f"/api/v1/channels/{channel.pk}/", {"settings": {"search_query": None}}, format="json")
    assert response.json()["settings"] == {"user_id": "2244994945"}  # null removes a key
    channel.refresh_from_db()
    assert channel.settings == {"user_id": "2244994945"}
    assert channel.credentials == {"bearer_token": "b", "consumer_key": "k"}
    # A merge that leaves a required setting out is refused like a POST without it.
    response = client.patch(f"/api/v1/channels/{channel.pk}/", {"settings": {"user_id": None}}, format="json")
    assert response.status_code == 400 and "settings.user_id" in response.json()


def test_a_brand_created_without_a_slug_gets_one_from_its_name(team, admin) -> None:
    client = client_for(admin)
    first = client.post("/api/v1/brands/", {"name": "Café Olé"}, format="json")
    assert first.status_code == 201, first.content
    assert first.json()["slug"] == "cafe-ole"
    second = client.post("/api/v1/brands/", {"name": "Cafe Ole!"}, format="json")
    assert second.status_code == 201 and second.json()["slug"] == "cafe-ole-2"
    given = client.post("/api/v1/brands/", {"name": "Hooli", "slug": "hooli-xyz"}, format="json")
    assert given.json()["slug"] == "hooli-xyz"
    taken = client.post("/api/v1/brands/", {"name": "Other", "slug": "hooli-xyz"}, format="json")
    assert taken.status_code == 400 and "slug" in taken.json()
    assert Brand.objects.filter(slug__startswith="cafe-ole").count() == 2


# --- Filters refuse bad values alike ----------------------------------------------------------------------
@pytest.mark.parametrize(
    ("url", "query"),
    [
        ("/api/v1/channels/", "platform=myspace"),
        ("/api/v1/channels/", "is_active=maybe"),
        ("/api/v1/tickets/", "priority=soon"),
        ("/api/v1/tickets/", "status=done"),
        ("/api/v1/tickets/", "department=billing"),
        ("/api/v1/mentions/", "stored_since=yesterday"),
        ("/api/v1/mentions/", "stored_until=2026-02-30"),
        ("/api/v1/mentions/", "channel=x"),
        ("REPLIES", "status=lost"),
        ("/api/v1/reports/summary/?brand=acme", "since=2026-13-01"),
    ],
)
def test_a_bad_filter_value_is_a_400_naming_it(team, url: str, query: str) -> None:
    if url == "REPLIES":
        url = f"/api/v1/mentions/{MentionFactory(channel__brand=team.brand).pk}/replies/"
    separator = "&" if "?" in url else "?"
    response = client_for(team.cm).get(f"{url}{separator}{query}")
    assert response.status_code == 400, response.content
    assert list(response.json()) == [query.split("=")[0]]


def test_channel_filters(team) -> None:
    x = ChannelFactory(brand=team.brand, platform=Platform.X)
    feed = ChannelFactory(brand=team.brand, platform=Platform.FEED, is_active=False)
    client = client_for(team.cm)
    assert [r["id"] for r in client.get("/api/v1/channels/?platform=x").json()["results"]] == [x.pk]
    assert [r["id"] for r in client.get("/api/v1/channels/?is_active=false").json()["results"]] == [feed.pk]
    assert Channel.objects.count() == 2
