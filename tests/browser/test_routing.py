"""Closing the loop in a real browser, at a laptop's and a phone's width, in English and Spanish: a
rule routes a complaint, billing resolves it, and the community manager follows it up from the
mention's case panel; that public reply closes the ticket."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from listening.models import Platform, Sentiment
from responses.models import Ticket
from responses.routing import route_mentions
from sandbox.models import SandboxReply
from tests.browser.test_reply import SANDBOX_X_CREDENTIALS
from tests.factories import ChannelFactory, MentionFactory, RoutingRuleFactory

pytestmark = pytest.mark.django_db(transaction=True)

RESOLUTION = "Refunded the duplicate charge of 19.90 €."


def test_billing_resolves_a_routed_complaint_and_the_cm_follows_it_up_from_the_case_panel(
    team, login, live_server, settings, walk
) -> None:
    settings.CELERY_TASK_ALWAYS_EAGER = True
    settings.SITE_URL = live_server.url
    RoutingRuleFactory(
        brand=team.brand,
        name="Billing complaints go to Billing",
        conditions=[
            {"field": "text", "op": "any", "value": ["charged", "refund"]},
            {"field": "sentiment", "op": "below", "value": -0.05},
        ],
        actions=[{"type": "ticket", "department": team.billing.pk, "priority": "high"}],
    )
    sandbox_x = ChannelFactory(
        brand=team.brand,
        platform=Platform.X,
        api_base_url=f"{live_server.url}/sandbox/x",
        credentials=SANDBOX_X_CREDENTIALS,
    )
    mention = MentionFactory(
        channel=sandbox_x,
        external_id="1861234567890123777",
        text="You charged me twice for the same order!",
        sentiment=Sentiment.NEGATIVE,
        sentiment_score=-0.6,
    )
    route_mentions([mention])
    ticket = Ticket.objects.get(mention=mention)
    status = Ticket.Status

    # Billing: the ticket list is their home; the bell says something new came in.
    page = walk.sign_in(login, team.billing_member)
    page.wait_for_url("**/tickets/")
    row = page.locator("#ticket-rows tr.ticket", has_text="charged me twice")
    expect(row.locator(".status")).to_have_text(walk.label(status.OPEN))
    assert page.locator(".bell .unread-count").is_visible()
    if walk.phone:  # a card per ticket, as wide as the screen
        card = row.bounding_box()
        assert card and card["width"] > 300, card
    row.get_by_role("link", name=f"#{ticket.pk}").click()
    page.wait_for_url(f"**/tickets/{ticket.pk}/")
    walk.fits()
    page.get_by_role("button", name=walk.label(status.ACKNOWLEDGED)).click()
    expect(page.locator("#ticket-summary .ticket-status")).to_have_text(walk.label(status.ACKNOWLEDGED))
    page.get_by_role("button", name=walk.label(status.RESOLVED)).click()  # no resolution yet: refused
    expect(page.get_by_role("alert")).to_contain_text(
        walk.t("Write the resolution before resolving: the community manager will pass it on.")
    )
    page.get_by_label(walk.t("Resolution"), exact=True).fill(RESOLUTION)
    page.get_by_role("button", name=walk.label(status.RESOLVED)).click()
    expect(page.locator("#ticket-summary .ticket-status")).to_have_text(walk.label(status.RESOLVED))
    change = f"{walk.label(status.OPEN)} → {walk.label(status.ACKNOWLEDGED)}"
    expect(page.locator("#ticket-timeline")).to_contain_text(change)
    walk.fits()
    page.get_by_role("button", name=walk.t("Log out")).click()

    # The community manager: the follow-up list, the ticket, its conversation and the case panel.
    page = walk.sign_in(login, team.cm)
    page.get_by_role("navigation", name=walk.t("Main")).get_by_role("link", name=walk.t("Follow-up")).click()
    item = page.locator(".follow-up li", has_text="charged me twice")
    expect(item).to_contain_text(RESOLUTION)
    walk.fits()
    item.get_by_role("link", name=f"#{ticket.pk}").click()
    page.get_by_role("link", name=walk.t("Open the conversation")).click()
    page.wait_for_url(f"**/mentions/{mention.pk}/")
    if walk.phone:
        walk.stacked(".mention-main", ".mention-side")  # the case panel under the conversation
    case = page.locator("#case")
    expect(case.locator(".ticket-status")).to_have_text(walk.label(status.RESOLVED))
    expect(case.locator(".resolution")).to_contain_text(RESOLUTION)
    walk.fits()
    case.get_by_role("link", name=walk.t("Reply in public")).click()
    page.wait_for_url(f"**/mentions/{mention.pk}/?ticket={ticket.pk}#reply")
    # The resolution is the draft: she makes it her own and sends it.
    reply = page.locator("#reply-text")
    expect(reply).to_have_value(RESOLUTION)
    reply.fill("We have refunded the duplicate charge, sorry for the trouble.")
    page.get_by_role("button", name=walk.t("Send reply")).click()
    page.locator("#replies .reply.delivery-sent").wait_for()
    expect(case.locator(".ticket-status")).to_have_text(walk.label(status.CLOSED))  # no reload needed
    walk.fits()
    posted = SandboxReply.objects.get()
    assert posted.in_reply_to == "1861234567890123777"
    ticket.refresh_from_db()
    assert ticket.status == Ticket.Status.CLOSED
    assert ticket.followed_up_at is not None
    assert page.console_errors == []
