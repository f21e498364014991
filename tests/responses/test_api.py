"""/api/v1/routing-rules/ and /api/v1/tickets/: same validation and lifecycle as the UI, scoped."""

from __future__ import annotations

import pytest
from rest_framework.test import APIClient

from config.roles import DEPARTMENT_STAFF
from responses.models import RoutingRule, Ticket
from tests.factories import (
    ChannelFactory,
    MembershipFactory,
    MentionFactory,
    RoutingRuleFactory,
    TicketFactory,
    UserFactory,
)

pytestmark = pytest.mark.django_db

RULE = {
    "name": "Refunds to billing",
    "match": "all",
    "conditions": [{"field": "text", "op": "any", "value": ["refund"]}],
    "actions": [{"type": "ticket", "department": "Billing", "priority": "high"}],
    "stop_processing": True,
}


@pytest.fixture
def api() -> APIClient:
    return APIClient()


@pytest.fixture
def billing_ticket(team) -> Ticket:
    return TicketFactory(mention=MentionFactory(channel=ChannelFactory(brand=team.brand)), department=team.billing)


@pytest.fixture
def support_ticket(team) -> Ticket:
    return TicketFactory(mention=MentionFactory(channel=ChannelFactory(brand=team.brand)), department=team.support)


def test_cm_creates_lists_patches_and_deletes_a_rule(api, team) -> None:
    api.force_authenticate(team.cm)
    response = api.post("/api/v1/routing-rules/", {**RULE, "brand": team.brand.pk}, format="json")
    assert response.status_code == 201, response.data
    rule = RoutingRule.objects.get(pk=response.data["id"])
    assert rule.actions == [{"type": "ticket", "department": team.billing.pk, "priority": "high"}]
    assert [r["id"] for r in api.get("/api/v1/routing-rules/").data["results"]] == [rule.pk]
    response = api.patch(f"/api/v1/routing-rules/{rule.pk}/", {"is_active": False}, format="json")
    assert response.status_code == 200 and response.data["is_active"] is False
    assert api.delete(f"/api/v1/routing-rules/{rule.pk}/").status_code == 204


def test_invalid_rule_is_a_400_with_per_field_messages(api, team) -> None:
    api.force_authenticate(team.cm)
    bad = {**RULE, "brand": team.brand.pk, "conditions": [{"field": "sentiment", "op": "below", "value": "bad"}]}
    response = api.post("/api/v1/routing-rules/", bad, format="json")
    assert response.status_code == 400
    assert "conditions.0.value" in response.data
    assert not RoutingRule.objects.exists()


def test_rules_of_other_brands_are_invisible(api, team) -> None:
    theirs = RoutingRuleFactory(brand=team.other_brand)
    api.force_authenticate(team.cm)
    assert api.get("/api/v1/routing-rules/").data["results"] == []
    assert api.patch(f"/api/v1/routing-rules/{theirs.pk}/", {"name": "x"}, format="json").status_code == 404
    response = api.post("/api/v1/routing-rules/", {**RULE, "brand": team.other_brand.pk}, format="json")
    assert response.status_code == 400 and "brand" in response.data


def test_department_staff_cannot_write_rules(api, team) -> None:
    api.force_authenticate(team.billing_member)
    assert api.post("/api/v1/routing-rules/", {**RULE, "brand": team.brand.pk}, format="json").status_code == 403


def test_ticket_status_follows_the_lifecycle(api, team, billing_ticket) -> None:
    api.force_authenticate(team.billing_member)
    url = f"/api/v1/tickets/{billing_ticket.pk}/"
    response = api.patch(url, {"status": "resolved", "resolution": "done"}, format="json")
    assert response.status_code == 400 and "cannot become" in response.data["status"][0]
    assert api.patch(url, {"status": "acknowledged"}, format="json").data["status"] == "acknowledged"
    response = api.patch(url, {"status": "resolved", "resolution": "Refunded"}, format="json")
    assert response.status_code == 200
    assert response.data["status"] == "resolved" and response.data["resolution"] == "Refunded"
    assert billing_ticket.events.filter(kind="status", actor=team.billing_member).count() == 2


def test_notes_are_added_and_read(api, team, billing_ticket) -> None:
    api.force_authenticate(team.billing_member)
    url = f"/api/v1/tickets/{billing_ticket.pk}/notes/"
    assert api.post(url, {"body": "Called the bank"}, format="json").status_code == 201
    assert [n["body"] for n in api.get(url).data["results"]] == ["Called the bank"]
    assert api.post(url, {"body": ""}, format="json").status_code == 400


def test_department_member_of_a_cannot_touch_b(api, team, billing_ticket, support_ticket) -> None:
    sergio = UserFactory(username="sergio", roles=[DEPARTMENT_STAFF])
    MembershipFactory(brand=team.brand, user=sergio)
    team.support.members.add(sergio)
    api.force_authenticate(sergio)
    assert [t["id"] for t in api.get("/api/v1/tickets/").data["results"]] == [support_ticket.pk]
    assert api.get(f"/api/v1/tickets/{billing_ticket.pk}/").status_code == 404
    assert (
        api.patch(f"/api/v1/tickets/{billing_ticket.pk}/", {"status": "acknowledged"}, format="json").status_code == 404
    )
    assert api.post(f"/api/v1/tickets/{billing_ticket.pk}/notes/", {"body": "x"}, format="json").status_code == 404
    assert Ticket.objects.get(pk=billing_ticket.pk).status == "open"


def test_outsider_and_anonymous_see_nothing(api, team, billing_ticket) -> None:
    assert api.get("/api/v1/tickets/").status_code == 401
    api.force_authenticate(team.outsider)
    assert api.get("/api/v1/tickets/").data["results"] == []
    assert api.get(f"/api/v1/tickets/{billing_ticket.pk}/").status_code == 404


def test_cm_sees_every_department_of_the_brand(api, team, billing_ticket, support_ticket) -> None:
    api.force_authenticate(team.cm)
    ids = {t["id"] for t in api.get("/api/v1/tickets/").data["results"]}
    assert ids == {billing_ticket.pk, support_ticket.pk}
    filtered = api.get(f"/api/v1/tickets/?department={team.support.pk}").data["results"]
    assert [t["id"] for t in filtered] == [support_ticket.pk]


def test_assign_through_the_api_only_to_department_members(api, team, billing_ticket) -> None:
    api.force_authenticate(team.cm)
    url = f"/api/v1/tickets/{billing_ticket.pk}/"
    assert (
        api.patch(url, {"assignee": team.billing_member.pk}, format="json").data["assignee"] == team.billing_member.pk
    )
    response = api.patch(url, {"assignee": team.outsider.pk}, format="json")
    assert response.status_code == 400 and "assignee" in response.data
