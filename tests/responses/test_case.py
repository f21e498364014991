"""The case in the conversation: the mention page's case panel, opening a ticket from it, the
ticket page drawing the same conversation, and both pages' live updates."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

import pytest
import time_machine
from django.test import Client
from django.urls import reverse

from listening.models import Mention, Platform
from listening.services import mention_set_status
from responses.models import Reply, SlaPolicy, Ticket
from responses.tickets import ticket_add_note, ticket_assign, ticket_open, ticket_transition
from tests.factories import AuthorFactory, ChannelFactory, MentionFactory, ReplyFactory

pytestmark = pytest.mark.django_db
START = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)


@pytest.fixture
def mention(team) -> Mention:
    return MentionFactory(channel=ChannelFactory(brand=team.brand), text="I was charged twice")


@pytest.fixture
def ticket(team, mention) -> Ticket:
    SlaPolicy.objects.create(department=team.billing, priority="high", acknowledge_minutes=60, resolve_minutes=240)
    team.billing_member.first_name, team.billing_member.last_name = "Bruno", "Bravo"
    team.billing_member.save()
    with time_machine.travel(START, tick=False):
        ticket, _ = ticket_open(mention=mention, department=team.billing, priority="high")
    ticket_assign(ticket=ticket, assignee=team.billing_member, actor=team.billing_member)
    return ticket


def _page(client: Client, mention: Mention, query: str = "") -> str:
    return client.get(reverse("responses:mention_detail", args=[mention.pk]) + query).content.decode()


def _case(html: str) -> str:
    return html[html.index('id="case"') : html.index('id="mention-status"')]


def test_the_case_panel_shows_the_ticket_with_its_sla_and_assignee(client, team, mention, ticket) -> None:
    client.force_login(team.cm)
    with time_machine.travel(START + timedelta(minutes=20), tick=False):
        case = _case(_page(client, mention))
    assert f'href="/tickets/{ticket.pk}/"' in case and f"Ticket #{ticket.pk}" in case
    assert "Billing" in case and "High" in case and ">Open<" in case
    assert "Bruno Bravo" in case and "bruno" not in case
    assert "acknowledge within 40 min" in case and "sla-ok" in case
    assert "Open a ticket" not in case  # it has a live one


def test_a_resolved_case_shows_the_resolution_and_the_follow_up_link(client, team, mention, ticket) -> None:
    for status in ("acknowledged", "resolved"):
        ticket_transition(ticket=ticket, to_status=status, actor=team.billing_member, resolution="Refunded <b>both</b>")
    client.force_login(team.cm)
    html = _page(client, mention)
    case = _case(html)
    assert "Refunded &lt;b&gt;both&lt;/b&gt;" in case
    assert f'href="/mentions/{mention.pk}/?ticket={ticket.pk}#reply"' in case
    # The follow-up link opens the composer with the resolution as the draft, bound to the ticket.
    follow = _page(client, mention, f"?ticket={ticket.pk}")
    assert ">Refunded &lt;b&gt;both&lt;/b&gt;</textarea>" in follow
    assert f'name="ticket" value="{ticket.pk}"' in follow


def test_a_mention_without_a_ticket_offers_to_open_one_to_those_who_route(client, team, mention) -> None:
    client.force_login(team.cm)
    case = _case(_page(client, mention))
    assert "No ticket" in case and "Open a ticket" in case
    assert f'value="{team.billing.pk}"' in case and f'value="{team.support.pk}"' in case
    response = client.post(
        reverse("responses:mention_open_ticket", args=[mention.pk]), {"department": team.support.pk, "note": "VIP"}
    )
    assert response.status_code == 302 and response["Location"].endswith("#case")
    ticket = Ticket.objects.get(mention=mention)
    assert ticket.department == team.support and ticket.events.get(kind="created").body == "VIP"
    assert f"Ticket #{ticket.pk}" in _case(_page(client, mention))
    client.force_login(team.manager)  # reads, does not route
    assert "Open a ticket" not in _case(_page(client, mention))


def test_the_case_panel_opens_a_ticket_with_the_priority_chosen(client, team, mention) -> None:
    SlaPolicy.objects.create(department=team.billing, priority="urgent", acknowledge_minutes=15, resolve_minutes=60)
    client.force_login(team.cm)
    case = _case(_page(client, mention))
    assert '<select id="case-priority" name="priority">' in case
    assert '<option value="normal" selected>Normal</option>' in case  # the default, as routing's
    client.post(
        reverse("responses:mention_open_ticket", args=[mention.pk]),
        {"department": team.billing.pk, "priority": "urgent"},
    )
    ticket = Ticket.objects.get(mention=mention)
    assert ticket.priority == "urgent"
    # The deadlines are the department's for that priority.
    assert ticket.resolve_due_at - ticket.created_at == timedelta(minutes=60)
    assert "Urgent" in _case(_page(client, mention))


def test_a_priority_that_does_not_exist_opens_no_ticket(client, team, mention) -> None:
    client.force_login(team.cm)
    client.post(
        reverse("responses:mention_open_ticket", args=[mention.pk]), {"department": team.billing.pk, "priority": "meh"}
    )
    assert not Ticket.objects.exists()
    assert "Choose a priority." in _page(client, mention)


def test_opening_a_ticket_refuses_another_brands_department(client, team, mention) -> None:
    from tests.factories import DepartmentFactory

    elsewhere = DepartmentFactory(brand=team.other_brand, name="Their billing")
    client.force_login(team.cm)
    client.post(reverse("responses:mention_open_ticket", args=[mention.pk]), {"department": elsewhere.pk})
    assert not Ticket.objects.exists()
    assert "That department does not exist." in _page(client, mention)


def test_the_author_panel_links_the_authors_tickets(client, team, mention, ticket) -> None:
    earlier = MentionFactory(channel=mention.channel, author=mention.author, text="Still waiting")
    other, _ = ticket_open(mention=earlier, department=team.billing)
    client.force_login(team.cm)
    html = _page(client, mention)
    panel = html[html.index('id="author-panel"') :]
    assert f'<a href="/tickets/{ticket.pk}/">#{ticket.pk}' in panel
    assert f'<a href="/tickets/{other.pk}/">#{other.pk}' in panel


def test_the_ticket_page_draws_the_same_conversation_as_the_mention_page(client, team, mention, ticket) -> None:
    MentionFactory(
        channel=mention.channel,
        parent_external_id=mention.external_id,
        author=AuthorFactory(name="Olivia <script>", handle="oli"),
        text="Same here <img src=x>",
    )
    client.force_login(team.billing_member)
    ticket_html = client.get(reverse("responses:ticket_detail", args=[ticket.pk])).content.decode()
    client.force_login(team.cm)
    mention_html = _page(client, mention)

    def conversation(html: str) -> str:
        part = html[html.index('id="conversation"') :]
        part = re.sub(r"<h[12] id=\"thread-title\">", "<h>", part[: part.index("</section>")]).replace("</h1>", "</h2>")
        return re.sub(r"\s+", " ", part)

    seen_by_staff, seen_by_cm = conversation(ticket_html), conversation(mention_html)
    assert "Same here &lt;img src=x&gt;" in seen_by_staff and "Olivia &lt;script&gt;" in seen_by_staff
    assert '<span class="handle">@oli</span>' in seen_by_staff
    # The same markup, less the links to mentions that department staff may not open.
    assert re.sub(r' ?<a href="/mentions/\d+/">open</a> ?', " ", seen_by_cm) == seen_by_staff


def test_live_mention_poll_is_a_204_until_something_changes(
    client, team, mention, ticket, django_assert_max_num_queries
) -> None:
    client.force_login(team.cm)
    html = _page(client, mention)
    version = re.search(r'id="live"[^>]*\?v=(\w+)', html).group(1)
    live = reverse("responses:mention_live", args=[mention.pk])
    # The session, the user and their permissions (5), the mention, then four small reads: its
    # row and last event, our replies' states, the thread's size, its tickets.
    with django_assert_max_num_queries(10):
        assert client.get(f"{live}?v={version}").status_code == 204

    changes = [
        lambda: ReplyFactory(mention=mention, author=team.manager, text="Colleague's answer"),
        lambda: Reply.objects.filter(mention=mention).update(status=Reply.Status.SENT),
        lambda: mention_set_status(mention=mention, status=Mention.Status.OPEN, actor=team.cm),
        lambda: ticket_transition(ticket=ticket, to_status="acknowledged", actor=team.billing_member),
        lambda: ticket_add_note(ticket=ticket, body="Looking", actor=team.billing_member),
        lambda: MentionFactory(channel=mention.channel, parent_external_id=mention.external_id, text="Me too"),
        lambda: Ticket.objects.filter(pk=ticket.pk).update(acknowledge_breached_at=START),  # the SLA sweep
    ]
    for change in changes:
        change()
        response = client.get(f"{live}?v={version}", headers={"HX-Request": "true"})
        assert response.status_code == 200
        body = response.content.decode()
        for region in ("live", "conversation", "replies", "case", "mention-status", "history", "author-panel"):
            assert re.search(rf'id="{region}"[^>]*hx-swap-oob="true"', body), region
        assert 'id="composer"' not in body  # what is being typed stays
        version = re.search(r'id="live"[^>]*\?v=(\w+)', body).group(1)
        assert client.get(f"{live}?v={version}").status_code == 204
    assert "Colleague&#x27;s answer" in body and "Me too" in body


def test_live_polls_are_only_for_those_who_see_the_page(client, team, mention, ticket) -> None:
    client.force_login(team.outsider)
    assert client.get(reverse("responses:mention_live", args=[mention.pk])).status_code == 404
    assert client.get(reverse("responses:ticket_live", args=[ticket.pk])).status_code == 404
    client.force_login(team.billing_member)  # the mention was routed to Billing
    assert client.get(reverse("responses:mention_live", args=[mention.pk])).status_code == 200


def test_live_ticket_poll_redraws_the_ticket_and_keeps_text_being_typed(client, team, mention, ticket) -> None:
    ticket_transition(ticket=ticket, to_status="acknowledged", actor=team.billing_member)
    client.force_login(team.billing_member)
    html = client.get(reverse("responses:ticket_detail", args=[ticket.pk])).content.decode()
    version = re.search(r'id="live"[^>]*\?v=(\w+)', html).group(1)
    live = reverse("responses:ticket_live", args=[ticket.pk])
    assert client.get(f"{live}?v={version}").status_code == 204
    ReplyFactory(mention=mention, author=team.cm, text="We are on it", status=Reply.Status.SENT)
    body = client.get(f"{live}?v={version}").content.decode()
    for region in ("live", "ticket-summary", "ticket-actions", "conversation", "ticket-timeline"):
        assert re.search(rf'id="{region}"[^>]*hx-swap-oob="true"', body), region
    assert "We are on it" in body
    assert re.search(r'<textarea id="resolution"[^>]*hx-preserve', body)
    assert 'id="note-body"' not in body


def test_a_follow_up_that_goes_out_at_once_closes_the_case_on_the_page_it_was_sent_from(
    client, team, mention, ticket, monkeypatch
) -> None:
    """A fast worker posts the reply (and closes the ticket) before the answer to "Send" is drawn:
    that answer shows the closed case, since the live poll it starts sees nothing new after it."""
    from responses.tickets import ticket_on_reply_sent

    def post_at_once(reply) -> None:
        Reply.objects.filter(pk=reply.pk).update(status=Reply.Status.SENT, sent_at=START)
        reply.refresh_from_db()
        ticket_on_reply_sent(reply=reply)

    monkeypatch.setattr("responses.replies._enqueue", post_at_once)
    ticket_transition(ticket=ticket, to_status="acknowledged", actor=team.billing_member)
    ticket_transition(ticket=ticket, to_status="resolved", actor=team.billing_member, resolution="Refunded")
    client.force_login(team.cm)
    body = client.post(
        reverse("responses:reply_send", args=[mention.pk]),
        {"text": "We refunded you", "ticket": ticket.pk},
        headers={"HX-Request": "true"},
    ).content.decode()
    ticket.refresh_from_db()
    assert ticket.status == Ticket.Status.CLOSED
    case = body[body.index('id="case"') :]
    assert case.startswith('id="case" aria-labelledby="case-title" hx-swap-oob="true"')
    assert '<dd class="ticket-status">Closed</dd>' in case
    assert "Reply in public" not in case
    version = re.search(r'id="live"[^>]*\?v=(\w+)', body).group(1)
    assert client.get(f"{reverse('responses:mention_live', args=[mention.pk])}?v={version}").status_code == 204


def test_the_collision_guard_shows_the_colleagues_reply(client, team, mention, monkeypatch) -> None:
    monkeypatch.setattr("responses.replies._enqueue", lambda reply: None)
    client.force_login(team.cm)
    loaded_at = START.isoformat()
    with time_machine.travel(START + timedelta(minutes=1), tick=False):
        ReplyFactory(mention=mention, author=team.manager, text="Sorry <b>Dana</b>, DM us")
    with time_machine.travel(START + timedelta(minutes=3), tick=False):
        response = client.post(
            reverse("responses:reply_send", args=[mention.pk]),
            {"text": "Hello", "loaded_at": loaded_at},
            headers={"HX-Request": "true"},
        )
    body = response.content.decode()
    assert "send anyway?" in body
    assert '<blockquote class="colleague-reply"><p class="text">Sorry &lt;b&gt;Dana&lt;/b&gt;, DM us</p>' in body


def test_an_unstored_parent_is_named_without_its_id_and_linked_when_the_platform_allows(client, team) -> None:
    x = MentionFactory(channel=ChannelFactory(brand=team.brand), parent_external_id="1048576000111")
    feed = MentionFactory(
        channel=ChannelFactory(brand=team.brand, platform=Platform.FEED), parent_external_id="urn:post:9"
    )
    client.force_login(team.cm)
    html = _page(client, x)
    assert "In reply to an item we have not stored." in html and "(1048576000111)" not in html
    assert 'href="https://x.com/i/web/status/1048576000111"' in html
    html = _page(client, feed)
    assert "In reply to an item we have not stored." in html and "urn:post:9" not in html
