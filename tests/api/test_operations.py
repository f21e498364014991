"""The operations an integrator needs besides reading: changing a mention, listing its replies,
retiring a channel, editing a department's SLA policies, listing a brand's people, and syncing
mentions by when Escucha stored them."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone
from rest_framework.test import APIClient

from config.roles import ADMIN, COMMUNITY_MANAGER
from listening.models import Channel, Mention, MentionEvent, Platform, Sentiment
from listening.polling import channels_claim_due
from responses.models import Priority, Reply, SlaPolicy
from responses.tickets import ticket_open
from tests.factories import ChannelFactory, MembershipFactory, MentionFactory, ReplyFactory, UserFactory

pytestmark = pytest.mark.django_db


def client_for(user) -> APIClient:
    client = APIClient()
    client.force_authenticate(user)
    return client


@pytest.fixture
def mention(team) -> Mention:
    return MentionFactory(channel__brand=team.brand, sentiment=Sentiment.NEUTRAL, analyzer_sentiment=Sentiment.NEUTRAL)


# --- Changing a mention ---------------------------------------------------------------------------------
def test_a_mention_is_assigned_corrected_tagged_and_closed_with_its_history(team, mention) -> None:
    url = f"/api/v1/mentions/{mention.pk}/"
    client = client_for(team.cm)

    response = client.patch(url, {"assignee": team.cm.pk}, format="json")
    assert response.status_code == 200, response.content
    assert (response.json()["assignee"], response.json()["status"]) == (team.cm.pk, "open")  # new → open

    body = client.patch(
        url, {"sentiment": {"label": "negative"}, "tags": ["billing", "urgent", "billing"]}, format="json"
    ).json()
    assert body["sentiment"] == {"label": "negative", "compound": None, "analyzer_label": "neutral", "corrected": True}
    assert body["tags"] == ["billing", "urgent"]

    body = client.patch(url, {"tags": ["urgent"], "status": "closed", "assignee": None}, format="json").json()
    assert (body["tags"], body["status"], body["assignee"]) == (["urgent"], "closed", None)

    mention.refresh_from_db()
    assert (mention.status, mention.sentiment, mention.tags, mention.assignee) == (
        "closed",
        "negative",
        ["urgent"],
        None,
    )
    history = list(mention.events.values_list("kind", "old_value", "new_value", "actor"))
    assert history == [
        (MentionEvent.Kind.ASSIGNED, "", team.cm.username, team.cm.pk),
        (MentionEvent.Kind.SENTIMENT, "neutral", "negative", team.cm.pk),
        (MentionEvent.Kind.TAGGED, "", "billing", team.cm.pk),
        (MentionEvent.Kind.TAGGED, "", "urgent", team.cm.pk),
        (MentionEvent.Kind.ASSIGNED, team.cm.username, "", team.cm.pk),
        (MentionEvent.Kind.STATUS, "open", "closed", team.cm.pk),
        (MentionEvent.Kind.TAGGED, "billing", "", team.cm.pk),
    ]


def test_marking_spam_and_an_unchanged_value_records_nothing_new(team, mention) -> None:
    client = client_for(team.cm)
    assert client.patch(f"/api/v1/mentions/{mention.pk}/", {"status": "spam"}, format="json").json()["status"] == "spam"
    assert client.patch(f"/api/v1/mentions/{mention.pk}/", {"status": "spam"}, format="json").status_code == 200
    assert mention.events.count() == 1


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"status": "archived"}, "status"),
        ({"sentiment": {"label": "angry"}}, "sentiment.label"),
        ({"sentiment": "negative"}, "sentiment"),
        ({"tags": "billing"}, "tags"),
        ({"tags": ["x" * 101]}, "tags.0"),
        ({"assignee": 987654}, "assignee"),
        ({"assignee": "me"}, "assignee"),
    ],
)
def test_a_bad_change_is_a_400_naming_the_field_and_changes_nothing(team, mention, body, field) -> None:
    response = client_for(team.cm).patch(f"/api/v1/mentions/{mention.pk}/", body, format="json")
    assert response.status_code == 400
    assert list(response.json()) == [field]
    assert not mention.events.exists()


def test_a_mention_goes_only_to_someone_of_its_brand_and_the_answer_does_not_say_who_exists(team, mention) -> None:
    stranger = UserFactory(username="stranger", roles=[COMMUNITY_MANAGER])
    answers = set()
    for user in (team.outsider, stranger):
        response = client_for(team.cm).patch(f"/api/v1/mentions/{mention.pk}/", {"assignee": user.pk}, format="json")
        assert response.status_code == 400
        answers.add(str(response.json()).replace(str(user.pk), "ID"))
    assert len(answers) == 1
    mention.refresh_from_db()
    assert mention.assignee is None


@pytest.mark.parametrize(("who", "status"), [("outsider", 404), ("manager", 403), ("billing_member", 403)])
def test_only_the_brands_inbox_roles_change_a_mention(team, mention, who, status) -> None:
    response = client_for(getattr(team, who)).patch(f"/api/v1/mentions/{mention.pk}/", {"status": "closed"}, format="json")  # fmt: skip
    assert response.status_code == status
    mention.refresh_from_db()
    assert mention.status == Mention.Status.NEW


# --- A mention's replies ------------------------------------------------------------------------------
def test_a_mentions_replies_are_listed_newest_first(team, mention) -> None:
    now = timezone.now()
    older = ReplyFactory(mention=mention, author=team.cm, status=Reply.Status.SENT, created_at=now - timedelta(hours=1))
    newer = ReplyFactory(
        mention=mention, author=team.cm, status=Reply.Status.FAILED, error="rate limited", created_at=now
    )
    ReplyFactory(mention=MentionFactory(channel__brand=team.brand))
    url = f"/api/v1/mentions/{mention.pk}/replies/"
    rows = client_for(team.cm).get(url).json()["results"]
    assert [(r["id"], r["status"], r["author"], r["text"]) for r in rows] == [
        (newer.pk, "failed", team.cm.pk, newer.text),
        (older.pk, "sent", team.cm.pk, older.text),
    ]
    assert [r["id"] for r in client_for(team.cm).get(f"{url}?status=sent").json()["results"]] == [older.pk]
    assert client_for(team.outsider).get(url).status_code == 404
    # Department staff see the replies of a mention routed to them, like on the mention page.
    assert client_for(team.billing_member).get(url).status_code == 404
    ticket_open(mention=mention, department=team.billing)
    assert len(client_for(team.billing_member).get(url).json()["results"]) == 2


# --- Retiring a channel -----------------------------------------------------------------------------------
def test_deleting_a_channel_retires_it_and_keeps_its_mentions(team) -> None:
    channel = ChannelFactory(brand=team.brand, platform=Platform.X, settings={"user_id": "1"})
    kept = MentionFactory(channel=channel)
    client = client_for(team.cm)
    assert client_for(team.manager).delete(f"/api/v1/channels/{channel.pk}/").status_code == 403
    assert client_for(team.outsider).delete(f"/api/v1/channels/{channel.pk}/").status_code == 404
    assert client.delete(f"/api/v1/channels/{channel.pk}/").status_code == 204
    assert client.delete(f"/api/v1/channels/{channel.pk}/").status_code == 204  # already retired: the same
    channel.refresh_from_db()
    assert channel.is_active is False
    assert Mention.objects.filter(pk=kept.pk).exists()
    assert channel.pk not in channels_claim_due()
    assert client.get(f"/api/v1/channels/{channel.pk}/").json()["is_active"] is False
    assert client.get(f"/api/v1/mentions/{kept.pk}/").status_code == 200
    # Bringing it back is a PATCH.
    assert client.patch(f"/api/v1/channels/{channel.pk}/", {"is_active": True}, format="json").status_code == 200
    assert channel.pk in channels_claim_due()
    assert Channel.objects.count() == 1


# --- A department's SLA policies ---------------------------------------------------------------------------
@pytest.fixture
def admin(team):
    user = UserFactory(username="ada", roles=[ADMIN])
    MembershipFactory(brand=team.brand, user=user)
    return user


def test_an_admin_sets_a_departments_sla_policies_and_new_tickets_follow_them(team, admin) -> None:
    SlaPolicy.objects.create(department=team.billing, priority=Priority.LOW, acknowledge_minutes=600, resolve_minutes=6000)  # fmt: skip
    url = f"/api/v1/departments/{team.billing.pk}/"
    policies = [
        {"priority": "high", "acknowledge_minutes": 30, "resolve_minutes": 240},
        {"priority": "normal", "acknowledge_minutes": 60, "resolve_minutes": 1440},
    ]
    response = client_for(admin).patch(url, {"sla_policies": policies}, format="json")
    assert response.status_code == 200, response.content
    assert sorted(response.json()["sla_policies"], key=lambda p: p["priority"]) == policies
    assert set(team.billing.sla_policies.values_list("priority", flat=True)) == {"high", "normal"}  # low removed
    ticket, _created = ticket_open(mention=MentionFactory(channel__brand=team.brand), department=team.billing, priority="high")  # fmt: skip
    assert ticket.acknowledge_due_at - ticket.created_at == timedelta(minutes=30)
    # Other fields are left as they were.
    team.billing.refresh_from_db()
    assert team.billing.name == "Billing" and list(team.billing.members.all()) == [team.billing_member]


def test_a_department_is_created_with_its_sla_policies(team, admin) -> None:
    response = client_for(admin).post(
        "/api/v1/departments/",
        {"brand": "acme", "name": "Legal", "sla_policies": [{"priority": "urgent", "acknowledge_minutes": 15, "resolve_minutes": 60}]},
        format="json",
    )  # fmt: skip
    assert response.status_code == 201, response.content
    assert response.json()["sla_policies"] == [{"priority": "urgent", "acknowledge_minutes": 15, "resolve_minutes": 60}]


@pytest.mark.parametrize(
    ("policies", "field"),
    [
        ([{"priority": "high", "acknowledge_minutes": 30, "resolve_minutes": 60}] * 2, "sla_policies"),
        ([{"priority": "high", "acknowledge_minutes": 60, "resolve_minutes": 30}], "sla_policies.0.resolve_minutes"),
        ([{"priority": "high", "acknowledge_minutes": 0, "resolve_minutes": 30}], "sla_policies.0.acknowledge_minutes"),
        ([{"priority": "whenever", "acknowledge_minutes": 1, "resolve_minutes": 2}], "sla_policies.0.priority"),
        (
            [{"priority": "high", "acknowledge_minutes": 1, "resolve_minutes": 2, "department": 1}],
            "sla_policies.0.department",
        ),
        ([{"priority": "high", "acknowledge_minutes": 30}], "sla_policies.0.resolve_minutes"),
        ([{}], "sla_policies.0.priority"),
    ],
)
def test_bad_sla_policies_are_a_400_and_change_nothing(team, admin, policies, field) -> None:
    response = client_for(admin).patch(f"/api/v1/departments/{team.billing.pk}/", {"sla_policies": policies}, format="json")  # fmt: skip
    assert response.status_code == 400
    assert field in response.json()
    assert not team.billing.sla_policies.exists()


def test_only_admins_edit_departments_and_a_department_stays_with_its_brand(team, admin) -> None:
    url = f"/api/v1/departments/{team.billing.pk}/"
    assert client_for(team.cm).patch(url, {"sla_policies": []}, format="json").status_code == 403
    response = client_for(admin).patch(url, {"brand": team.other_brand.pk}, format="json")
    assert response.status_code == 400 and list(response.json()) == ["brand"]


# --- A brand's people -------------------------------------------------------------------------------------
def test_a_brands_users_with_their_roles(team) -> None:
    rows = client_for(team.manager).get(f"/api/v1/brands/{team.brand.pk}/users/").json()["results"]
    by_name = {row["username"]: row for row in rows}
    assert set(by_name) == {"carla", "bruno", "marta"}
    assert by_name["carla"] == {
        "id": team.cm.pk,
        "username": "carla",
        "name": team.cm.get_full_name(),
        "roles": [COMMUNITY_MANAGER],
    }
    assert client_for(team.outsider).get(f"/api/v1/brands/{team.brand.pk}/users/").status_code == 404
    assert client_for(team.billing_member).get(f"/api/v1/brands/{team.brand.pk}/users/").status_code == 403


# --- Syncing by when Escucha stored a mention ----------------------------------------------------------------
def test_stored_since_finds_an_old_post_stored_today_that_since_would_miss(team) -> None:
    now = timezone.now()
    backfilled = MentionFactory(channel__brand=team.brand, published_at=now - timedelta(days=400), fetched_at=now)
    MentionFactory(channel__brand=team.brand, published_at=now - timedelta(days=2), fetched_at=now - timedelta(days=2))
    client = client_for(team.cm)
    yesterday = (now - timedelta(days=1)).isoformat().replace("+00:00", "Z")
    assert client.get(f"/api/v1/mentions/?since={yesterday}").json()["results"] == []
    rows = client.get(f"/api/v1/mentions/?stored_since={yesterday}").json()["results"]
    assert [row["id"] for row in rows] == [backfilled.pk]
    assert rows[0]["fetched_at"] >= yesterday[:19]
    older = client.get(f"/api/v1/mentions/?stored_until={yesterday}").json()["results"]
    assert backfilled.pk not in [row["id"] for row in older] and len(older) == 1
