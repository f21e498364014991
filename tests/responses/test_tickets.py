"""Ticket lifecycle, assignment, notes, the closing reply, and who may see and change a ticket."""

from __future__ import annotations

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from config.roles import DEPARTMENT_STAFF
from responses.models import Priority, SlaPolicy, Ticket, TicketEvent
from responses.tickets import (
    TicketError,
    ticket_add_note,
    ticket_assign,
    ticket_on_reply_sent,
    ticket_open,
    ticket_transition,
)
from tests.factories import ChannelFactory, MembershipFactory, MentionFactory, ReplyFactory, TicketFactory, UserFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def ticket(team) -> Ticket:
    mention = MentionFactory(channel=ChannelFactory(brand=team.brand), text="I was charged twice")
    ticket, _ = ticket_open(mention=mention, department=team.billing, priority=Priority.HIGH)
    return ticket


@pytest.fixture
def sergio(team):
    """A support-only department member."""
    user = UserFactory(username="sergio", roles=[DEPARTMENT_STAFF])
    MembershipFactory(brand=team.brand, user=user)
    team.support.members.add(user)
    return user


def _walk(ticket, actor, *statuses, resolution="Refunded the double charge."):
    for status in statuses:
        ticket_transition(ticket=ticket, to_status=status, actor=actor, resolution=resolution)


def test_full_lifecycle_stamps_times_and_records_events(team, ticket) -> None:
    actor = team.billing_member
    _walk(ticket, actor, "acknowledged", "in_progress", "waiting", "in_progress", "resolved", "closed")
    ticket.refresh_from_db()
    assert ticket.status == "closed"
    assert ticket.acknowledged_at and ticket.resolved_at and ticket.closed_at
    assert ticket.resolution == "Refunded the double charge."
    moves = list(ticket.events.filter(kind="status").values_list("from_status", "to_status"))
    assert moves[0] == ("open", "acknowledged") and moves[-1] == ("resolved", "closed")
    assert ticket.events.filter(kind="status").first().actor == actor


@pytest.mark.parametrize(("path", "refused"), [((), "resolved"), ((), "closed"), (("acknowledged",), "open")])
def test_transitions_that_do_not_exist_are_refused(team, ticket, path, refused) -> None:
    _walk(ticket, team.billing_member, *path)
    with pytest.raises(TicketError, match="cannot become"):
        ticket_transition(ticket=ticket, to_status=refused, actor=team.billing_member, resolution="x")
    ticket.refresh_from_db()
    assert ticket.status == (path[-1] if path else "open")


def test_resolving_needs_a_resolution(team, ticket) -> None:
    _walk(ticket, team.billing_member, "acknowledged")
    with pytest.raises(TicketError, match="resolution"):
        ticket_transition(ticket=ticket, to_status="resolved", actor=team.billing_member, resolution="  ")


def test_reopen_from_resolved_and_closed(team, ticket) -> None:
    _walk(ticket, team.billing_member, "acknowledged", "resolved", "open")
    ticket.refresh_from_db()
    assert ticket.status == "open" and ticket.resolved_at is None
    _walk(ticket, team.billing_member, "acknowledged", "resolved", "closed", "open")
    assert Ticket.objects.get(pk=ticket.pk).status == "open"


def test_sla_due_times_come_from_the_department_policy(team) -> None:
    SlaPolicy.objects.create(department=team.billing, priority="urgent", acknowledge_minutes=30, resolve_minutes=480)
    mention = MentionFactory(channel=ChannelFactory(brand=team.brand))
    ticket, created = ticket_open(mention=mention, department=team.billing, priority="urgent")
    assert created
    assert (ticket.acknowledge_due_at - ticket.created_at).total_seconds() == 30 * 60
    assert (ticket.resolve_due_at - ticket.created_at).total_seconds() == 480 * 60
    again, created = ticket_open(mention=mention, department=team.billing, priority="urgent")
    assert again == ticket and not created


def test_assign_only_to_department_members_and_notes(team, ticket, sergio) -> None:
    ticket_assign(ticket=ticket, assignee=team.billing_member, actor=team.cm)
    assert Ticket.objects.get(pk=ticket.pk).assignee == team.billing_member
    with pytest.raises(TicketError):
        ticket_assign(ticket=ticket, assignee=sergio, actor=team.cm)
    ticket_add_note(ticket=ticket, body="Customer id 42", actor=team.billing_member)
    assert ticket.events.filter(kind="note", body="Customer id 42").exists()
    with pytest.raises(TicketError):
        ticket_add_note(ticket=ticket, body=" ", actor=team.billing_member)


def test_reply_to_resolved_ticket_follows_up_and_closes_once(team, ticket) -> None:
    _walk(ticket, team.billing_member, "acknowledged", "resolved")
    reply = ReplyFactory(mention=ticket.mention, author=team.cm, status="sent", sent_at=timezone.now())
    ticket_on_reply_sent(reply=reply)
    ticket_on_reply_sent(reply=reply)
    ticket.refresh_from_db()
    assert ticket.status == "closed" and ticket.followed_up_at == reply.sent_at
    assert ticket.events.filter(kind=TicketEvent.Kind.REPLY).count() == 1
    assert ticket.events.filter(kind="status", to_status="closed").count() == 1


def test_reply_to_a_ticket_still_being_worked_does_not_close_it(team, ticket) -> None:
    reply = ReplyFactory(mention=ticket.mention, author=team.cm, ticket=ticket, status="sent")
    ticket_on_reply_sent(reply=reply)
    assert Ticket.objects.get(pk=ticket.pk).status == "open"


# --- Who sees what (UI) ---------------------------------------------------------------------------


def test_department_member_sees_own_queue_only(client: Client, team, ticket, sergio) -> None:
    support_ticket = TicketFactory(
        mention=MentionFactory(channel=ChannelFactory(brand=team.brand)), department=team.support
    )
    client.force_login(team.billing_member)
    html = client.get(reverse("responses:ticket_list")).content.decode()
    assert f"#{ticket.pk}<" in html and f"#{support_ticket.pk}<" not in html
    assert client.get(reverse("responses:ticket_detail", args=[support_ticket.pk])).status_code == 404
    assert client.get(reverse("responses:inbox")).status_code == 403

    client.force_login(sergio)
    assert client.get(reverse("responses:ticket_detail", args=[ticket.pk])).status_code == 404
    response = client.post(reverse("responses:ticket_status", args=[ticket.pk]), {"status": "acknowledged"})
    assert response.status_code == 404
    assert Ticket.objects.get(pk=ticket.pk).status == "open"


def test_outsider_sees_nothing(client: Client, team, ticket) -> None:
    client.force_login(team.outsider)
    assert f"#{ticket.pk}<" not in client.get(reverse("responses:ticket_list")).content.decode()
    assert client.get(reverse("responses:ticket_detail", args=[ticket.pk])).status_code == 404
    assert client.post(reverse("responses:ticket_note", args=[ticket.pk]), {"body": "hi"}).status_code == 404


def test_queue_tabs(client: Client, team, ticket) -> None:
    client.force_login(team.billing_member)
    assert f"#{ticket.pk}<" in client.get(reverse("responses:ticket_list") + "?tab=unassigned").content.decode()
    assert f"#{ticket.pk}<" not in client.get(reverse("responses:ticket_list") + "?tab=mine").content.decode()
    ticket_assign(ticket=ticket, assignee=team.billing_member, actor=team.billing_member)
    assert f"#{ticket.pk}<" in client.get(reverse("responses:ticket_list") + "?tab=mine").content.decode()


def test_cm_filters_by_department(client: Client, team, ticket) -> None:
    client.force_login(team.cm)
    url = reverse("responses:ticket_list")
    assert f"#{ticket.pk}<" in client.get(url).content.decode()
    assert f"#{ticket.pk}<" not in client.get(f"{url}?department={team.support.pk}").content.decode()


def test_ticket_page_timeline_and_status_buttons(client: Client, team, ticket) -> None:
    ReplyFactory(mention=ticket.mention, author=team.cm, text="We are on it")
    ticket_add_note(ticket=ticket, body="Checking the ledger <b>now</b>", actor=team.billing_member)
    client.force_login(team.billing_member)
    html = client.get(reverse("responses:ticket_detail", args=[ticket.pk])).content.decode()
    assert "I was charged twice" in html and "We are on it" in html
    assert "Checking the ledger &lt;b&gt;now&lt;/b&gt;" in html
    response = client.post(reverse("responses:ticket_status", args=[ticket.pk]), {"status": "resolved"})
    assert response.status_code == 400 and "cannot become" in response.content.decode()
    client.post(reverse("responses:ticket_status", args=[ticket.pk]), {"status": "acknowledged"})
    response = client.post(
        reverse("responses:ticket_status", args=[ticket.pk]), {"status": "resolved", "resolution": "Refunded"}
    )
    assert response.status_code == 302
    assert Ticket.objects.get(pk=ticket.pk).status == "resolved"


def test_a_closed_tickets_timeline_shows_its_follow_up_once_by_name(client: Client, team, ticket) -> None:
    _walk(ticket, team.billing_member, "acknowledged", "resolved")
    team.cm.first_name, team.cm.last_name = "Carla", "Ruiz"
    team.cm.save()
    reply = ReplyFactory(mention=ticket.mention, author=team.cm, text="Refunded, sorry!", ticket=ticket, status="sent")
    ticket_on_reply_sent(reply=reply)
    assert Ticket.objects.get(pk=ticket.pk).status == "closed"
    client.force_login(team.cm)
    html = client.get(reverse("responses:ticket_detail", args=[ticket.pk])).content.decode()
    assert html.count("Public reply</strong>") == 1
    assert "by Carla Ruiz" in html and "by —" not in html


def test_follow_up_page_lists_resolved_tickets_for_the_cm(client: Client, team, ticket) -> None:
    _walk(ticket, team.billing_member, "acknowledged", "resolved")
    client.force_login(team.cm)
    html = client.get(reverse("responses:follow_up")).content.decode()
    assert "Refunded the double charge." in html
    assert f"/mentions/{ticket.mention_id}/?ticket={ticket.pk}#reply" in html
    client.force_login(team.billing_member)
    assert client.get(reverse("responses:follow_up")).status_code == 403


def test_queue_pages_with_a_keyset_cursor(client: Client, team, monkeypatch) -> None:
    from responses import selectors

    monkeypatch.setattr(selectors, "PAGE_SIZE", 2)
    channel = ChannelFactory(brand=team.brand)
    made = [TicketFactory(mention=MentionFactory(channel=channel), department=team.billing) for _ in range(5)]
    client.force_login(team.billing_member)
    seen, url = [], reverse("responses:ticket_list")
    for _ in range(5):
        tickets, cursor = selectors.ticket_queue(user=team.billing_member, tab="all", after=seen[-1][1] if seen else "")
        seen.append(([t.pk for t in tickets], cursor))
        if not cursor:
            break
    assert [pk for page, _ in seen for pk in page] == [t.pk for t in reversed(made)]
    assert "Older tickets" in client.get(url).content.decode()


def test_author_tickets_are_scoped(team) -> None:
    from responses.selectors import tickets_for_author

    mention = MentionFactory(channel=ChannelFactory(brand=team.brand))
    ticket = TicketFactory(mention=mention, department=team.support)
    assert list(tickets_for_author(user=team.cm, author_id=mention.author_id)) == [ticket]
    assert list(tickets_for_author(user=team.billing_member, author_id=mention.author_id)) == []
    assert list(tickets_for_author(user=team.outsider, author_id=mention.author_id)) == []
