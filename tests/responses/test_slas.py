"""The SLA sweep flags each missed deadline once and tells the department and the CMs."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
import time_machine

from responses.models import Notification, SlaPolicy, Ticket
from responses.tasks import check_slas
from responses.tickets import ticket_open, ticket_transition
from tests.factories import ChannelFactory, MentionFactory

pytestmark = pytest.mark.django_db
START = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)


@pytest.fixture
def ticket(team) -> Ticket:
    SlaPolicy.objects.create(department=team.billing, priority="high", acknowledge_minutes=60, resolve_minutes=240)
    with time_machine.travel(START, tick=False):
        ticket, _ = ticket_open(
            mention=MentionFactory(channel=ChannelFactory(brand=team.brand)), department=team.billing, priority="high"
        )
    return ticket


def test_nothing_breached_before_the_deadline(team, ticket) -> None:
    with time_machine.travel(START + timedelta(minutes=59), tick=False):
        assert check_slas() == 0
    assert not Notification.objects.filter(verb="sla_breach").exists()


def test_acknowledge_breach_is_flagged_once_and_notified(
    team, ticket, django_capture_on_commit_callbacks, mailoutbox
) -> None:
    with time_machine.travel(START + timedelta(minutes=61), tick=False):
        with django_capture_on_commit_callbacks(execute=True):
            assert check_slas() == 1
            assert check_slas() == 0
    ticket.refresh_from_db()
    assert ticket.acknowledge_breached_at == START + timedelta(minutes=61)
    assert ticket.resolve_breached_at is None
    assert ticket.events.filter(kind="breach").count() == 1
    told = set(Notification.objects.filter(verb="sla_breach").values_list("user__username", flat=True))
    assert told == {"bruno", "carla"}
    recipients = {address for message in mailoutbox for address in message.to}
    assert {"bruno@example.com", "carla@example.com", team.billing.email} <= recipients


def test_resolve_breach_after_acknowledging_in_time(team, ticket) -> None:
    with time_machine.travel(START + timedelta(minutes=10), tick=False):
        ticket_transition(ticket=ticket, to_status="acknowledged", actor=team.billing_member)
    with time_machine.travel(START + timedelta(hours=5), tick=False):
        assert check_slas() == 1
    ticket.refresh_from_db()
    assert ticket.acknowledge_breached_at is None and ticket.resolve_breached_at is not None


def test_resolved_tickets_do_not_breach(team, ticket) -> None:
    with time_machine.travel(START + timedelta(minutes=10), tick=False):
        ticket_transition(ticket=ticket, to_status="acknowledged", actor=team.billing_member)
        ticket_transition(ticket=ticket, to_status="resolved", actor=team.billing_member, resolution="done")
    with time_machine.travel(START + timedelta(days=2), tick=False):
        assert check_slas() == 0
