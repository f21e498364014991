"""One way to name a member of the team: full name, else username — on every page that shows one."""

from __future__ import annotations

import pytest
from django.urls import reverse

from config.people import person_name
from listening.services import mention_assign
from responses.tickets import ticket_assign, ticket_open
from tests.factories import ChannelFactory, MentionFactory, UserFactory

pytestmark = pytest.mark.django_db


def test_full_name_else_username_else_nothing() -> None:
    assert person_name(UserFactory(username="cm1", first_name="Carla", last_name="Ruiz")) == "Carla Ruiz"
    assert person_name(UserFactory(username="cm2", first_name="", last_name="")) == "cm2"
    assert person_name(None) == ""


@pytest.fixture
def named(team):
    team.cm.first_name, team.cm.last_name = "Carla", "Ruiz"
    team.cm.save()
    team.billing_member.first_name, team.billing_member.last_name = "Bruno", "Bravo"
    team.billing_member.save()
    return team


def test_pages_name_people_by_their_full_name(client, named) -> None:
    team = named
    mention = MentionFactory(channel=ChannelFactory(brand=team.brand))
    mention_assign(mention=mention, assignee=team.cm, actor=team.cm)
    ticket, _ = ticket_open(mention=mention, department=team.billing, actor=team.cm)
    ticket_assign(ticket=ticket, assignee=team.billing_member, actor=team.billing_member)
    client.force_login(team.cm)
    page = client.get(reverse("responses:mention_detail", args=[mention.pk])).content.decode()
    assert '<strong class="assignee">Carla Ruiz</strong>' in page  # the mention's assignee
    assert f'<option value="{team.cm.pk}" selected>Carla Ruiz</option>' in page  # the assign menu
    history = page[page.index('id="history"') :]
    assert "· Carla Ruiz ·" in history and "· carla ·" not in history  # who did it
    assert "— → Carla Ruiz" in history  # whom it was given to
    ticket_page = client.get(reverse("responses:ticket_detail", args=[ticket.pk])).content.decode()
    assert '<span class="ticket-assignee">Bruno Bravo</span>' in ticket_page  # the ticket's header
    timeline = ticket_page[ticket_page.index('id="ticket-timeline"') :]
    assert '<p class="text">Bruno Bravo</p>' in timeline and ">bruno<" not in timeline
    tickets = client.get(reverse("responses:ticket_list")).content.decode()
    assert "<td>Bruno Bravo</td>" in tickets and "<td>bruno</td>" not in tickets


def test_a_rejected_reply_names_who_rejected_it(named) -> None:
    from responses.models import Reply
    from responses.replies import reply_reject
    from tests.factories import ReplyFactory

    reply = ReplyFactory(
        mention=MentionFactory(channel=ChannelFactory(brand=named.brand)), status=Reply.Status.PENDING_APPROVAL
    )
    reply_reject(reply=reply, user=named.cm)
    reply.refresh_from_db()
    assert reply.error == "Rejected by Carla Ruiz"
