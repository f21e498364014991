"""The case in the conversation in real Chromium: the case panel on the mention page, opening a
ticket from it, and the mention and ticket pages changing in place when someone else acts."""

from __future__ import annotations

import pytest

from listening.models import Mention
from listening.services import mention_set_status
from responses.models import Reply, SlaPolicy, Ticket
from responses.tickets import ticket_add_note, ticket_open, ticket_transition
from tests.factories import AuthorFactory, ChannelFactory, MentionFactory, ReplyFactory

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def mention(team) -> Mention:
    return MentionFactory(
        channel=ChannelFactory(brand=team.brand),
        author=AuthorFactory(name="Dana Díaz", handle="danad"),
        text="You charged me twice for the same order!",
    )


def test_the_case_panel_follows_a_ticket_from_opening_to_the_public_follow_up(team, mention, login) -> None:
    SlaPolicy.objects.create(department=team.billing, priority="high", acknowledge_minutes=120, resolve_minutes=600)
    page = login(team.cm)
    page.goto(f"/mentions/{mention.pk}/")
    case = page.locator("#case")
    assert "No ticket" in case.inner_text()
    case.get_by_label("Department", exact=True).select_option(label="Billing")
    priority = case.get_by_label("Priority", exact=True)
    assert priority.input_value() == "normal"  # routing's default, changed here for an angry customer
    priority.select_option(label="High")
    case.get_by_role("button", name="Open a ticket").click()

    ticket = Ticket.objects.get(mention=mention)
    link = case.get_by_role("link", name=f"Ticket #{ticket.pk}")
    link.wait_for()
    assert "Billing" in case.inner_text() and "High" in case.inner_text()
    assert ticket.priority == "high"
    assert case.locator(".sla.sla-ok").inner_text().startswith("acknowledge within ")
    assert "Open a ticket" not in case.inner_text()

    # Billing resolves it while the community manager has the page open: the panel changes in place.
    ticket_transition(ticket=ticket, to_status="acknowledged", actor=team.billing_member)
    ticket_transition(
        ticket=ticket, to_status="resolved", actor=team.billing_member, resolution="We refunded the second charge."
    )
    case.locator(".resolution", has_text="We refunded the second charge.").wait_for()
    assert case.locator(".ticket-status").inner_text() == "Resolved"
    case.get_by_role("link", name="Reply in public").click()
    page.wait_for_url(f"**/mentions/{mention.pk}/?ticket={ticket.pk}#reply")
    assert page.input_value("#reply-text") == "We refunded the second charge."
    assert link.get_attribute("href") == f"/tickets/{ticket.pk}/"
    assert page.console_errors == []


def test_a_reply_turning_sent_elsewhere_shows_without_a_reload(team, mention, login) -> None:
    reply = ReplyFactory(mention=mention, author=team.cm, text="Sorry, DM us", status=Reply.Status.QUEUED)
    page = login(team.cm)
    page.goto(f"/mentions/{mention.pk}/")
    page.fill("#reply-text", "a second thought, half typed")
    assert page.locator(f"#reply-{reply.pk} .delivery").inner_text() == "Queued"

    # The worker (another thread here) posts it, and a colleague answers too.
    Reply.objects.filter(pk=reply.pk).update(status=Reply.Status.SENT, external_id="1870000000000000001")
    mention_set_status(mention=mention, status=Mention.Status.REPLIED, actor=None)
    ReplyFactory(mention=mention, author=team.manager, text="Colleague <b>here</b>", status=Reply.Status.SENT)

    page.locator(f"#reply-{reply.pk}.delivery-sent").wait_for()
    assert "1870000000000000001" in page.locator(f"#reply-{reply.pk}").inner_text()
    page.locator("#replies .reply", has_text="Colleague <b>here</b>").wait_for()
    page.locator("#mention-status .status", has_text="Replied").wait_for()
    assert "→ Replied" in page.locator("#history").inner_text()
    assert page.input_value("#reply-text") == "a second thought, half typed"  # the composer was left alone
    assert page.console_errors == []


def test_the_ticket_page_shows_a_colleagues_note_and_keeps_the_resolution_being_typed(team, mention, login) -> None:
    ticket, _ = ticket_open(mention=mention, department=team.billing)
    ticket_transition(ticket=ticket, to_status="acknowledged", actor=team.billing_member)
    page = login(team.billing_member)
    page.goto(f"/tickets/{ticket.pk}/")
    assert "You charged me twice" in page.locator("#conversation").inner_text()
    page.fill("#resolution", "Refund on its way")

    ticket_add_note(ticket=ticket, body="Customer called again", actor=team.cm)
    page.locator("#ticket-timeline", has_text="Customer called again").wait_for()
    assert page.input_value("#resolution") == "Refund on its way"
    page.get_by_role("button", name="Resolved").click()
    page.locator("#ticket-summary .ticket-status", has_text="Resolved").wait_for()
    assert Ticket.objects.get(pk=ticket.pk).resolution == "Refund on its way"
    assert page.console_errors == []
