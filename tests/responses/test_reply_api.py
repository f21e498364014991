"""The replies API: queue a reply, read its delivery state."""

from __future__ import annotations

import pytest
from rest_framework.test import APIClient

from listening.models import Platform
from responses.models import Reply
from tests.factories import ChannelFactory, MentionFactory, ReplyFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def api() -> APIClient:
    return APIClient()


@pytest.fixture
def mention(team):
    return MentionFactory(channel=ChannelFactory(brand=team.brand, platform=Platform.X))


@pytest.fixture(autouse=True)
def no_delivery(monkeypatch):
    monkeypatch.setattr("responses.replies._enqueue", lambda reply: None)


def test_post_queues_a_reply_and_get_reads_its_delivery_state(api, team, mention):
    api.force_authenticate(team.cm)
    response = api.post(f"/api/v1/mentions/{mention.pk}/replies/", {"text": "Sorry!"}, format="json")
    assert response.status_code == 202
    assert response.json() == {"id": Reply.objects.get().pk, "status": "queued"}
    Reply.objects.update(status=Reply.Status.SENT, attempts=1, external_id="99", external_url="https://x.com/i/99")
    state = api.get(f"/api/v1/replies/{response.json()['id']}/").json()
    assert (state["status"], state["attempts"], state["external_id"], state["external_url"], state["error"]) == (
        "sent",
        1,
        "99",
        "https://x.com/i/99",
        "",
    )


@pytest.mark.parametrize("text", ["", "   ", "z" * 281])
def test_empty_or_too_long_is_400(api, team, mention, text):
    api.force_authenticate(team.cm)
    response = api.post(f"/api/v1/mentions/{mention.pk}/replies/", {"text": text}, format="json")
    assert response.status_code == 400 and "text" in response.json()
    assert not Reply.objects.exists()


def test_other_brands_are_404(api, team, mention):
    reply = ReplyFactory(mention=mention)
    api.force_authenticate(team.outsider)
    assert api.post(f"/api/v1/mentions/{mention.pk}/replies/", {"text": "hi"}, format="json").status_code == 404
    assert api.get(f"/api/v1/replies/{reply.pk}/").status_code == 404


@pytest.mark.parametrize("who", ["billing_member", "manager"])
def test_users_without_the_reply_permission_get_403(api, team, mention, who):
    api.force_authenticate(getattr(team, who))
    assert api.post(f"/api/v1/mentions/{mention.pk}/replies/", {"text": "hi"}, format="json").status_code == 403


def test_anonymous_is_refused(api, mention):
    assert api.post(f"/api/v1/mentions/{mention.pk}/replies/", {"text": "hi"}, format="json").status_code == 401
