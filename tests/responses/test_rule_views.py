"""The rule builder: save, errors without losing input, preview, order, activate, delete, scope."""

from __future__ import annotations

import pytest
from django.test import Client
from django.urls import reverse

from responses.models import RoutingRule
from tests.factories import ChannelFactory, MentionFactory, RoutingRuleFactory

pytestmark = pytest.mark.django_db


def _form(team, **extra):
    data = {
        "name": "Refunds",
        "brand": team.brand.pk,
        "match": "all",
        "cond-0-field": "text",
        "cond-0-op": "any",
        "cond-0-value": "refund, reembolso",
        "cond-1-field": "sentiment",
        "cond-1-op": "below",
        "cond-1-value": "-0.05",
        "act-0-type": "ticket",
        "act-0-department": team.billing.pk,
        "act-0-priority": "high",
        "stop_processing": "on",
        "is_active": "on",
    }
    data.update(extra)
    return data


def test_cm_creates_a_rule_in_the_builder(client: Client, team) -> None:
    client.force_login(team.cm)
    assert client.get(reverse("responses:rule_create")).status_code == 200
    response = client.post(reverse("responses:rule_create"), _form(team))
    assert response.status_code == 302
    rule = RoutingRule.objects.get(name="Refunds")
    assert rule.conditions == [
        {"field": "text", "op": "any", "value": ["refund", "reembolso"]},
        {"field": "sentiment", "op": "below", "value": -0.05},
    ]
    assert rule.actions == [{"type": "ticket", "department": team.billing.pk, "priority": "high"}]
    html = client.get(reverse("responses:rule_list")).content.decode()
    assert "Refunds" in html and "Billing" in html


def test_errors_are_shown_and_nothing_is_lost(client: Client, team) -> None:
    client.force_login(team.cm)
    response = client.post(reverse("responses:rule_create"), _form(team, **{"cond-1-value": "very bad", "name": ""}))
    assert response.status_code == 400
    html = response.content.decode()
    assert "Enter a number between -1 and 1." in html
    assert "Give the rule a name." in html
    assert 'value="refund, reembolso"' in html and 'value="very bad"' in html
    assert not RoutingRule.objects.exists()


def test_preview_shows_count_and_examples_without_saving(client: Client, team) -> None:
    channel = ChannelFactory(brand=team.brand)
    MentionFactory(channel=channel, text="I want a refund <script>alert(1)</script>", sentiment_score=-0.5)
    MentionFactory(channel=channel, text="refund but happy", sentiment_score=0.5)
    client.force_login(team.cm)
    response = client.post(reverse("responses:rule_preview"), _form(team), HTTP_HX_REQUEST="true")
    html = response.content.decode()
    assert "Would have matched 1 mention" in html
    assert "&lt;script&gt;" in html and "<script>alert" not in html
    assert not RoutingRule.objects.exists()
    # Without JavaScript the same button posts to the builder, which shows the preview in the page.
    response = client.post(reverse("responses:rule_create"), _form(team, preview="1"))
    assert "Would have matched 1 mention" in response.content.decode()
    assert not RoutingRule.objects.exists()


def test_edit_move_toggle_delete(client: Client, team) -> None:
    first = RoutingRuleFactory(brand=team.brand, name="First", position=0, conditions=[], actions=[])
    second = RoutingRuleFactory(brand=team.brand, name="Second", position=1, conditions=[], actions=[])
    client.force_login(team.cm)
    client.post(reverse("responses:rule_move", args=[second.pk]), {"direction": "up"})
    assert list(RoutingRule.objects.order_by("position").values_list("name", flat=True)) == ["Second", "First"]
    client.post(reverse("responses:rule_toggle", args=[first.pk]))
    assert RoutingRule.objects.get(pk=first.pk).is_active is False
    response = client.post(reverse("responses:rule_edit", args=[first.pk]), _form(team, name="First, renamed"))
    assert response.status_code == 302
    assert RoutingRule.objects.get(pk=first.pk).name == "First, renamed"
    client.post(reverse("responses:rule_delete", args=[second.pk]))
    assert not RoutingRule.objects.filter(pk=second.pk).exists()


def test_rules_are_for_configurers_of_their_own_brands(client: Client, team) -> None:
    theirs = RoutingRuleFactory(brand=team.other_brand, name="Theirs")
    client.force_login(team.billing_member)
    assert client.get(reverse("responses:rule_list")).status_code == 403
    assert client.post(reverse("responses:rule_create"), _form(team)).status_code == 403
    client.force_login(team.cm)
    assert "Theirs" not in client.get(reverse("responses:rule_list")).content.decode()
    assert client.get(reverse("responses:rule_edit", args=[theirs.pk])).status_code == 404
    assert client.post(reverse("responses:rule_delete", args=[theirs.pk])).status_code == 404
    response = client.post(reverse("responses:rule_create"), _form(team, brand=team.other_brand.pk))
    assert response.status_code == 400 and not RoutingRule.objects.filter(name="Refunds").exists()
