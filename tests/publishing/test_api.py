"""/api/v1/posts/: writing, approving, scheduling and listing posts as an integration does."""

from __future__ import annotations

import pytest
from rest_framework.test import APIClient

from config.roles import COMMUNITY_MANAGER
from publishing.models import Post
from tests.factories import MembershipFactory, UserFactory


def client_for(user) -> APIClient:
    client = APIClient()
    client.force_authenticate(user)
    return client


@pytest.fixture
def approver(team):
    user = UserFactory(username="alba", roles=[COMMUNITY_MANAGER])
    MembershipFactory(brand=team.brand, user=user)
    return user


def test_a_post_is_written_approved_and_scheduled_through_the_api(team, x_channel, fb_channel, approver):
    team.brand.require_post_approval = True
    team.brand.save()
    body = {
        "brand": "acme",
        "channels": [x_channel.pk, fb_channel.pk],
        "text": "A longer text for the Page",
        "texts": {str(x_channel.pk): "Short for X"},
        "link": "https://shop.acme.com/summer",
        "scheduled_at": "2026-12-01T09:00:00-06:00",
        "submit": True,
    }
    response = client_for(team.cm).post("/api/v1/posts/", body, format="json")
    assert response.status_code == 201, response.json()
    post = response.json()
    assert post["status"] == "pending_approval" and post["scheduled_at"] == "2026-12-01T15:00:00Z"
    assert {t["platform"]: t["text"] for t in post["targets"]} == {
        "x": "Short for X",
        "facebook": "A longer text for the Page",
    }

    own = client_for(team.cm).post(f"/api/v1/posts/{post['id']}/approve/", {}, format="json")
    assert own.status_code == 400 and "another community manager" in own.json()["non_field_errors"][0]
    changes = client_for(approver).post(f"/api/v1/posts/{post['id']}/request-changes/", {}, format="json")
    assert changes.status_code == 400
    approved = client_for(approver).post(f"/api/v1/posts/{post['id']}/approve/", {"comment": "Fine"}, format="json")
    assert approved.status_code == 200 and approved.json()["status"] == "scheduled"

    moved = client_for(team.cm).post(
        f"/api/v1/posts/{post['id']}/schedule/", {"scheduled_at": "2026-12-02T10:00:00+01:00"}, format="json"
    )
    assert moved.status_code == 200 and moved.json()["scheduled_at"] == "2026-12-02T09:00:00Z"
    listed = client_for(team.manager).get("/api/v1/posts/?brand=acme&status=scheduled").json()
    assert [p["id"] for p in listed["results"]] == [post["id"]]
    assert client_for(team.manager).get("/api/v1/posts/?status=published").json()["results"] == []


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"scheduled_at": "2026-12-01T09:00:00"}, "scheduled_at"),  # no offset: whose 9:00?
        ({"text": "日" * 141}, "text"),  # 282 as X counts it
        ({"channels": []}, "text"),
        ({"brand": "globex"}, "brand"),
        ({"texts": {"x": "Hi"}}, "texts"),
        ({"colour": "red"}, "colour"),
    ],
)
def test_a_bad_post_is_a_400_naming_the_field(team, x_channel, change, field):
    body = {"brand": team.brand.pk, "channels": [x_channel.pk], "text": "Hi", **change}
    response = client_for(team.cm).post("/api/v1/posts/", body, format="json")
    assert response.status_code == 400 and field in response.json(), response.json()
    assert not Post.objects.exists()


def test_another_brands_channel_or_post_is_not_reachable(team, x_channel):
    response = client_for(team.outsider).post(
        "/api/v1/posts/", {"brand": "globex", "channels": [x_channel.pk], "text": "Hi"}, format="json"
    )
    assert response.status_code == 400 and "channels" in response.json()
    post = (
        client_for(team.cm)
        .post("/api/v1/posts/", {"brand": "acme", "channels": [x_channel.pk], "text": "Hi"}, format="json")
        .json()
    )
    assert client_for(team.outsider).get(f"/api/v1/posts/{post['id']}/").status_code == 404
    assert client_for(team.billing_member).get("/api/v1/posts/").status_code == 403
