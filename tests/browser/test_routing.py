"""Closing the loop in a real browser: a rule routes a complaint, billing resolves it, the CM answers
in public from the follow-up list, and that reply closes the ticket."""

from __future__ import annotations

import pytest

from listening.models import Platform, Sentiment
from responses.models import Ticket
from responses.routing import route_mentions
from sandbox.models import SandboxReply
from tests.browser.test_reply import SANDBOX_X_CREDENTIALS
from tests.factories import ChannelFactory, MentionFactory, RoutingRuleFactory

pytestmark = pytest.mark.django_db(transaction=True)


def test_routed_complaint_is_resolved_by_billing_and_closed_by_the_public_reply(
    team, login, live_server, settings
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

    page = login(team.billing_member)
    assert "/tickets/" in page.url
    row = page.locator("#ticket-rows tr.ticket", has_text="charged me twice")
    assert row.locator(".status").inner_text() == "Open"
    assert page.locator(".bell .unread-count").is_visible()  # the bell: a new ticket for billing
    row.get_by_role("link", name=f"#{ticket.pk}").click()
    page.get_by_role("button", name="Acknowledged").click()
    page.wait_for_selector(".ticket-status:text('Acknowledged')")
    page.get_by_role("button", name="Resolved").click()  # no resolution yet: refused with a message
    assert "Write the resolution" in page.get_by_role("alert").inner_text()
    page.fill("textarea[name=resolution]", "Refunded the duplicate charge of 19.90 €.")
    page.get_by_role("button", name="Resolved").click()
    page.wait_for_selector(".ticket-status:text('Resolved')")
    assert page.locator(".timeline").get_by_text("open → acknowledged").is_visible()

    page.get_by_role("button", name="Log out").click()
    page = login(team.cm)
    page.goto("/follow-up/")
    item = page.locator(".follow-up li", has_text="charged me twice")
    assert "Refunded the duplicate charge of 19.90 €." in item.inner_text()
    link = item.get_by_role("link", name="Reply in public")
    assert link.get_attribute("href") == f"/mentions/{mention.pk}/?ticket={ticket.pk}#reply"
    link.click()
    page.fill("#reply-text", "We have refunded the duplicate charge, sorry for the trouble.")
    page.get_by_role("button", name="Send reply").click()
    page.locator("#replies .reply.delivery-sent").wait_for()
    posted = SandboxReply.objects.get()
    assert posted.in_reply_to == "1861234567890123777"
    ticket.refresh_from_db()
    assert ticket.status == Ticket.Status.CLOSED
    assert ticket.followed_up_at is not None
