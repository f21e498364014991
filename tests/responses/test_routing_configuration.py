"""Routing uses a brand's rules, departments, their members, SLA policies and webhook endpoints as a
worker read them for an earlier page, and the very next page uses a change to any of them, however it
was made: a member added or taken away, made inactive or given another language included."""

from __future__ import annotations

import itertools
import re
from datetime import timedelta

import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.models import update_last_login
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from listening.connectors import FetchedAuthor, FetchedItem
from listening.ingest import ingest_items
from listening.models import Brand, Channel, Mention, Platform, TrackedTerm
from responses.models import (
    Department,
    Notification,
    Profile,
    RoutingRule,
    SlaPolicy,
    Ticket,
    WebhookDelivery,
    WebhookEndpoint,
)
from responses.webhooks import endpoints_by_brand
from tests.factories import ChannelFactory, RoutingRuleFactory, TrackedTermFactory

pytestmark = pytest.mark.django_db

_ids = itertools.count()
REFUND = [{"field": "text", "op": "any", "value": ["refund"]}]
CONFIGURATION = re.compile(
    r'FROM "(listening_trackedterm|listening_analyzermodel|responses_routingrule|responses_department'
    r'|responses_department_members|responses_slapolicy|responses_webhookendpoint)"(\s|$)'
)


def routed(channel: Channel, text: str = "refund now") -> Mention:
    """The mention a page of one item made, as stored."""
    said = FetchedItem(
        external_id=f"r{next(_ids)}",
        text=text,
        author=FetchedAuthor(external_id="a1", handle="h1"),
        published_at=timezone.now(),
    )
    (created,) = ingest_items(channel=channel, items=[said]).created
    return Mention.objects.get(pk=created.pk)


def did(mention: Mention) -> list[str]:
    return [record for entry in mention.routing_log for record in entry["did"]]


@pytest.fixture
def channel(team) -> Channel:
    return ChannelFactory(brand=team.brand, platform=Platform.X)


def test_a_rule_changed_by_a_queryset_update_or_deleted_routes_the_next_page(team, channel) -> None:
    rule = RoutingRuleFactory(brand=team.brand, conditions=REFUND, actions=[{"type": "tag", "tag": "money"}])
    assert routed(channel).tags == ["money"]

    RoutingRule.objects.filter(pk=rule.pk).update(actions=[{"type": "tag", "tag": "cash"}])
    assert routed(channel).tags == ["cash"]

    RoutingRule.objects.filter(pk=rule.pk).update(is_active=False)
    assert routed(channel).tags == []

    RoutingRule.objects.filter(pk=rule.pk).update(is_active=True)
    assert routed(channel).tags == ["cash"]
    RoutingRule.objects.filter(pk=rule.pk).delete()
    assert routed(channel).tags == []


def test_a_department_renamed_by_a_queryset_update_is_missed_by_the_next_page(team, channel) -> None:
    RoutingRuleFactory(brand=team.brand, conditions=REFUND, actions=[{"type": "ticket", "department": "Support"}])
    assert Ticket.objects.get(mention=routed(channel)).department == team.support

    Department.objects.filter(pk=team.support.pk).update(name="Help desk")

    mention = routed(channel)
    assert did(mention) == ["ticket: department missing"]
    assert not Ticket.objects.filter(mention=mention).exists()


def test_sla_policies_added_in_bulk_changed_or_deleted_time_the_next_pages_tickets(team, channel) -> None:
    action = {"type": "ticket", "department": team.billing.pk, "priority": "high"}
    RoutingRuleFactory(brand=team.brand, conditions=REFUND, actions=[action])
    assert Ticket.objects.get(mention=routed(channel)).acknowledge_due_at is None

    SlaPolicy.objects.bulk_create(
        [SlaPolicy(department=team.billing, priority="high", acknowledge_minutes=60, resolve_minutes=240)]
    )
    ticket = Ticket.objects.get(mention=routed(channel))
    assert ticket.acknowledge_due_at - ticket.created_at == timedelta(minutes=60)

    SlaPolicy.objects.filter(department=team.billing).update(acknowledge_minutes=5)
    ticket = Ticket.objects.get(mention=routed(channel))
    assert ticket.acknowledge_due_at - ticket.created_at == timedelta(minutes=5)

    SlaPolicy.objects.filter(department=team.billing).delete()
    assert Ticket.objects.get(mention=routed(channel)).acknowledge_due_at is None


def test_a_member_removed_or_made_inactive_is_not_told_of_the_next_pages_tickets(team, channel) -> None:
    RoutingRuleFactory(brand=team.brand, conditions=REFUND, actions=[{"type": "ticket", "department": "Billing"}])
    told = Notification.objects.filter(user=team.billing_member, verb="ticket_opened")
    routed(channel)
    assert told.count() == 1

    team.billing.members.remove(team.billing_member)
    routed(channel)
    assert told.count() == 1

    team.billing.members.add(team.billing_member)
    routed(channel)
    assert told.count() == 2
    get_user_model().objects.filter(pk=team.billing_member.pk).update(is_active=False)
    routed(channel)
    assert told.count() == 2


def test_a_members_language_changed_is_the_language_of_the_next_pages_notice(team, channel) -> None:
    RoutingRuleFactory(brand=team.brand, conditions=REFUND, actions=[{"type": "ticket", "department": "Billing"}])
    told = Notification.objects.filter(user=team.billing_member, verb="ticket_opened").order_by("pk")
    Profile.objects.update_or_create(user=team.billing_member, defaults={"language": "en"})
    routed(channel)

    Profile.objects.filter(user=team.billing_member).update(language="es")
    routed(channel)
    Profile.objects.filter(user=team.billing_member).delete()
    Profile.objects.bulk_create([Profile(user=team.billing_member, language="en")])
    routed(channel)

    english, spanish, english_again = (n.message for n in told)
    assert english.startswith("New ticket") and english_again.startswith("New ticket")
    assert spanish.startswith("Nuevo ticket")


def test_a_login_leaves_the_brand_configuration_kept(team, channel) -> None:
    stamp = Brand.objects.values_list("configuration_stamp", flat=True)
    before = stamp.get(pk=team.brand.pk)
    update_last_login(None, team.billing_member)
    assert stamp.get(pk=team.brand.pk) == before

    get_user_model().objects.filter(pk=team.billing_member.pk).update(email="new@example.com")
    assert stamp.get(pk=team.brand.pk) != before


def test_a_user_a_rule_names_made_inactive_is_missing_for_the_next_page(team, channel) -> None:
    RoutingRuleFactory(brand=team.brand, conditions=REFUND, actions=[{"type": "notify", "user": team.cm.pk}])
    assert did(routed(channel)) == [f"notify {team.cm.get_username()}"]

    get_user_model().objects.filter(pk=team.cm.pk).update(is_active=False)

    assert did(routed(channel)) == ["notify: user missing"]


def test_webhook_endpoints_turned_off_or_added_in_bulk_are_told_of_the_next_page(team, channel) -> None:
    endpoint = WebhookEndpoint.objects.create(
        brand=team.brand, url="http://hooks.invalid/a", secret="s" * 20, events=["mention.created"]
    )
    told = WebhookDelivery.objects.filter(event="mention.created")
    routed(channel)
    assert told.count() == 1

    WebhookEndpoint.objects.filter(pk=endpoint.pk).update(is_active=False)
    routed(channel)
    assert told.count() == 1

    WebhookEndpoint.objects.bulk_create(
        [WebhookEndpoint(brand=team.brand, url="http://hooks.invalid/b", secret="s" * 20, events=["mention.created"])]
    )
    routed(channel)
    assert list(told.order_by("pk").values_list("endpoint__url", flat=True)) == [
        "http://hooks.invalid/a",
        "http://hooks.invalid/b",
    ]


def test_pages_after_the_first_read_none_of_the_brands_configuration(team, channel) -> None:
    TrackedTermFactory(brand=team.brand, kind=TrackedTerm.Kind.BRAND, text="Acme")
    RoutingRuleFactory(
        brand=team.brand,
        conditions=REFUND,
        actions=[
            {"type": "ticket", "department": "Billing", "priority": "high"},
            {"type": "notify", "user": team.cm.pk},
        ],
    )
    SlaPolicy.objects.create(department=team.billing, priority="high", acknowledge_minutes=60, resolve_minutes=240)
    WebhookEndpoint.objects.create(
        brand=team.brand, url="http://hooks.invalid/", secret="s" * 20, events=["ticket.opened", "mention.created"]
    )
    routed(channel, "Acme, refund now")

    with CaptureQueriesContext(connection) as queries:
        mention = routed(channel, "Acme, refund now")

    assert [q["sql"] for q in queries if CONFIGURATION.search(q["sql"])] == []
    ticket = Ticket.objects.get(mention=mention)
    assert (ticket.department, ticket.acknowledge_due_at - ticket.created_at) == (team.billing, timedelta(minutes=60))
    assert [t.text for t in mention.terms.all()] == ["Acme"]
    assert WebhookDelivery.objects.filter(event="ticket.opened").count() == 2  # one a page
    assert Notification.objects.filter(user=team.billing_member, verb="ticket_opened").count() == 2


def test_outside_a_page_each_read_is_fresh(team) -> None:
    WebhookEndpoint.objects.create(brand=team.brand, url="http://hooks.invalid/", secret="s" * 20, events=[])
    with CaptureQueriesContext(connection) as queries:
        endpoints_by_brand({team.brand.pk})
        endpoints_by_brand({team.brand.pk})
    assert len(queries) == 2
