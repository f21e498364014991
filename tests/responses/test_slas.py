"""The SLA sweep flags each missed deadline once and tells the department and the CMs."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
import time_machine
from django.template import Context, Template
from django.urls import reverse

from responses.models import Notification, SlaPolicy, Ticket
from responses.tasks import check_slas
from responses.tickets import ticket_open, ticket_sla_clock, ticket_transition
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


# --- The clock the pages show ------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("minutes", "state", "words"),
    [
        (20, "ok", "acknowledge within 40 min"),
        (50, "soon", 'Due soon</strong> · <span class="sla-detail">acknowledge within 10 min'),
        (75, "overdue", 'Overdue</strong> · <span class="sla-detail">acknowledgement was due 15 min ago'),
    ],
)
def test_the_sla_clock_says_its_state_in_words_and_colour(team, ticket, minutes, state, words) -> None:
    with time_machine.travel(START + timedelta(minutes=minutes), tick=False):
        html = sla(ticket)
    assert f'class="sla sla-{state}"' in html and words in html
    assert 'datetime="2026-03-02T10:00:00+00:00"' in html


def test_after_acknowledging_the_clock_counts_to_the_resolve_deadline(team, ticket) -> None:
    with time_machine.travel(START + timedelta(minutes=10), tick=False):
        ticket_transition(ticket=ticket, to_status="acknowledged", actor=team.billing_member)
    with time_machine.travel(START + timedelta(minutes=100), tick=False):
        assert "resolve within 2 h 20 min" in sla(ticket)
    with time_machine.travel(START + timedelta(minutes=200), tick=False):
        assert "Due soon" in sla(ticket)  # 40 of 240 minutes left
    with time_machine.travel(START + timedelta(days=2, minutes=240), tick=False):
        assert "resolution was due 2 d 0 h ago" in sla(ticket)
    ticket_transition(ticket=ticket, to_status="resolved", actor=team.billing_member, resolution="Refunded")
    assert sla(ticket) == ""  # finished, and in time
    Ticket.objects.filter(pk=ticket.pk).update(resolve_breached_at=START)
    ticket.refresh_from_db()
    assert "SLA missed" in sla(ticket) and "sla-overdue" in sla(ticket)


def test_a_breach_stamped_by_the_sweep_stays_overdue(team, ticket) -> None:
    Ticket.objects.filter(pk=ticket.pk).update(
        acknowledge_breached_at=START, acknowledge_due_at=START + timedelta(days=1)
    )
    ticket.refresh_from_db()
    assert ticket_sla_clock(ticket, now=START + timedelta(minutes=5)).state == "overdue"


def test_the_clock_is_on_the_ticket_list_the_ticket_the_case_panel_and_the_inbox_row(client, team, ticket) -> None:
    client.force_login(team.cm)
    with time_machine.travel(START + timedelta(minutes=50), tick=False):
        pages = {
            "ticket list": client.get(reverse("responses:ticket_list")),
            "ticket": client.get(reverse("responses:ticket_detail", args=[ticket.pk])),
            "mention": client.get(reverse("responses:mention_detail", args=[ticket.mention_id])),
            # Routed, the mention has left the Open queue: All shows it.
            "inbox": client.get(reverse("responses:inbox") + "?tab=all"),
        }
    for name, response in pages.items():
        html = response.content.decode()
        assert 'class="sla sla-soon"' in html and "acknowledge within 10 min" in html, name


def sla(ticket: Ticket) -> str:
    return Template("{% load cases %}{% sla ticket %}").render(Context({"ticket": ticket})).strip()
