"""Slack and Microsoft Teams: a department's ticket notifications, posted to its channel.

``notify()`` (``responses.notifications``) is the one way people are told; a department with an
incoming-webhook URL for Slack or Teams gets the same message there too, written in the
department's language, with a button to the page. Each post is a ``WebhookDelivery`` that the
webhook delivery sends under the outbound policy, retries and records (``responses.webhooks``).

The text comes partly from strangers (a ticket's subject is the start of a mention), so it is
never read as markup: Slack's control characters are escaped, and Teams gets it as a plain text
run, where Adaptive Cards read no Markdown.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable
from typing import Any

from django.conf import settings
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from responses.models import Department, WebhookDelivery
from responses.webhooks import deliveries_queue

# Slack's limit for a section's text is 3,000 characters, a button's URL 3,000.
SLACK_TEXT_LIMIT = 3000


def slack_escape(text: str) -> str:
    """Slack reads ``<…>`` as links and mentions (``<!channel>`` pings everyone): escape the three
    control characters, as https://api.slack.com/reference/surfaces/formatting#escaping says."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def slack_message(*, title: str, text: str, url: str, link_label: str) -> dict[str, Any]:
    """A Block Kit message: the text, and a button to ``url``; ``text`` at the top is the fallback
    shown in the phone's notification."""
    escaped = slack_escape(text)[:SLACK_TEXT_LIMIT]
    return {
        "text": escaped,
        "blocks": [
            {"type": "context", "elements": [{"type": "mrkdwn", "text": slack_escape(title)}]},
            {"type": "section", "text": {"type": "mrkdwn", "text": escaped}},
            {
                "type": "actions",
                "elements": [
                    {"type": "button", "text": {"type": "plain_text", "text": link_label}, "url": url[:3000]},
                ],
            },
        ],
    }


def teams_message(*, title: str, text: str, url: str, link_label: str) -> dict[str, Any]:
    """An Adaptive Card in a message, as Teams' incoming webhooks and Workflows accept it
    (https://learn.microsoft.com/en-us/microsoftteams/platform/webhooks-and-connectors/how-to/connectors-using).

    A RichTextBlock's text runs are plain text: what a stranger wrote cannot become a link.
    """
    card = {
        "$schema": "http://adaptivecards.io/schemas/adaptive-card.json",
        "type": "AdaptiveCard",
        "version": "1.4",
        "body": [
            {"type": "RichTextBlock", "inlines": [{"type": "TextRun", "text": title, "isSubtle": True}]},
            {"type": "RichTextBlock", "inlines": [{"type": "TextRun", "text": text}]},
        ],
        "actions": [{"type": "Action.OpenUrl", "title": link_label, "url": url}],
    }
    return {
        "type": "message",
        "attachments": [
            {"contentType": "application/vnd.microsoft.card.adaptive", "contentUrl": None, "content": card}
        ],
    }


def chat_post(*, department: Department, verb: str, text: Callable[[], str], url: str) -> list[WebhookDelivery]:
    """Post a notification to the department's Slack and Teams channels, in its language.

    ``text`` is called with the department's language active. The posts are written with the
    change that caused them and sent after it commits.
    """
    return deliveries_queue(chat_deliveries(department=department, verb=verb, text=text, url=url))


def chat_deliveries(*, department: Department, verb: str, text: Callable[[], str], url: str) -> list[WebhookDelivery]:
    """The posts ``chat_post`` writes, not yet stored: a batch of notifications stores them together."""
    targets = [
        (WebhookDelivery.Target.SLACK, slack_message, department.slack_webhook_url),
        (WebhookDelivery.Target.TEAMS, teams_message, department.teams_webhook_url),
    ]
    targets = [(target, build) for target, build, address in targets if address]
    if not targets:
        return []
    link = url if url.startswith(("http://", "https://")) else f"{settings.SITE_URL}{url}"
    with translation.override(department.language or settings.LANGUAGE_CODE):
        message = text()
        title = _("Escucha · %(department)s") % {"department": department.name}
        label = _("Open in Escucha")
    event_id, now = uuid.uuid4(), timezone.now()
    return [
        WebhookDelivery(
            brand_id=department.brand_id,
            target=target,
            department=department,
            event=verb,
            event_id=event_id,
            body=json.dumps(build(title=title, text=message, url=link, link_label=label), separators=(",", ":")),
            created_at=now,
            next_attempt_at=now,
        )
        for target, build in targets
    ]
