"""Slack and Teams: a department's new tickets and SLA breaches posted to its channel, formatted for
each, in the department's language, through the one notification path; the URL never shown again."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.test import Client
from django.utils import timezone, translation

from responses.models import Department, Notification, Ticket, WebhookDelivery
from responses.tickets import ticket_flag_breaches, ticket_open, ticket_transition
from responses.webhooks import MAX_ATTEMPTS, webhook_delivery_send
from tests.factories import ChannelFactory, MentionFactory, UserFactory

pytestmark = pytest.mark.django_db

SLACK_PATH = "/services/T0001/B0002/xoxSecretToken42"
TEAMS_PATH = "/workflows/7c1d/triggers/manual/paths/invoke?sig=TeamsSecretSig99"


@pytest.fixture(autouse=True)
def english():
    with translation.override("en"):
        yield


@pytest.fixture
def billing(team, receiver) -> Department:
    team.billing.slack_webhook_url = f"{receiver.url}{SLACK_PATH}"
    team.billing.teams_webhook_url = f"{receiver.url}{TEAMS_PATH}"
    team.billing.save()
    return team.billing


def open_ticket(team, department, text="Charged twice for one order"):
    mention = MentionFactory(channel=ChannelFactory(brand=team.brand), text=text)
    ticket, _ = ticket_open(mention=mention, department=department)
    return ticket


def posts(receiver) -> dict[str, dict]:
    """What the receiver got, by kind: the Slack path and the Teams path."""
    by_path = {request.path: request.json() for request in receiver.received}
    return {"slack": by_path.get(SLACK_PATH), "teams": by_path.get(TEAMS_PATH)}


def test_a_new_ticket_is_posted_to_slack_and_teams_with_a_button_to_it(
    team, billing, receiver, settings, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        ticket = open_ticket(team, billing)
    link = f"{settings.SITE_URL}/tickets/{ticket.pk}/"
    text = f"New ticket #{ticket.pk} for Billing: Charged twice for one order"
    got = posts(receiver)
    assert got["slack"] == {
        "text": text,
        "blocks": [
            {"type": "context", "elements": [{"type": "mrkdwn", "text": "Escucha · Billing"}]},
            {"type": "section", "text": {"type": "mrkdwn", "text": text}},
            {
                "type": "actions",
                "elements": [
                    {"type": "button", "text": {"type": "plain_text", "text": "Open in Escucha"}, "url": link}
                ],
            },
        ],
    }
    teams = got["teams"]
    assert teams["type"] == "message"
    (attachment,) = teams["attachments"]
    assert attachment["contentType"] == "application/vnd.microsoft.card.adaptive"
    card = attachment["content"]
    assert card["type"] == "AdaptiveCard" and card["version"] == "1.4"
    assert card["body"][1] == {"type": "RichTextBlock", "inlines": [{"type": "TextRun", "text": text}]}
    assert card["actions"] == [{"type": "Action.OpenUrl", "title": "Open in Escucha", "url": link}]
    # The same message the department's members got in the app: one path, not a second one.
    assert Notification.objects.get(verb="ticket_opened").message == text
    assert set(WebhookDelivery.objects.values_list("target", "status")) == {
        ("slack", "delivered"),
        ("teams", "delivered"),
    }
    for request in receiver.received:  # bearer URLs authenticate these; no signature headers
        assert "x-escucha-signature-256" not in request.headers


def test_the_post_is_in_the_departments_language_whatever_the_actors(
    team, billing, receiver, django_capture_on_commit_callbacks
):
    billing.language = "es"
    billing.save()
    with django_capture_on_commit_callbacks(execute=True):
        ticket = open_ticket(team, billing)
    slack = posts(receiver)["slack"]
    assert slack["text"] == f"Nuevo ticket #{ticket.pk} para Billing: Charged twice for one order"
    assert slack["blocks"][2]["elements"][0]["text"]["text"] == "Abrir en Escucha"
    teams = posts(receiver)["teams"]["attachments"][0]["content"]
    assert teams["actions"][0]["title"] == "Abrir en Escucha"
    # The people were told in the language of the moment, as before.
    assert Notification.objects.get(verb="ticket_opened").message.startswith("New ticket")


def test_a_missed_deadline_is_posted_but_a_resolution_is_not(
    team, billing, receiver, django_capture_on_commit_callbacks
):
    ticket = open_ticket(team, billing)
    WebhookDelivery.objects.all().delete()
    Ticket.objects.filter(pk=ticket.pk).update(acknowledge_due_at=timezone.now() - timedelta(minutes=1))
    with django_capture_on_commit_callbacks(execute=True):
        ticket_flag_breaches()
        ticket_transition(ticket=ticket, to_status="acknowledged", actor=team.billing_member)
        ticket_transition(ticket=ticket, to_status="resolved", actor=team.billing_member, resolution="Refunded")
    assert set(WebhookDelivery.objects.values_list("event", flat=True)) == {"sla_breach"}
    assert posts(receiver)["slack"]["text"] == f"Ticket #{ticket.pk} missed its acknowledge deadline (Billing)."


def test_what_a_stranger_wrote_is_never_read_as_markup(team, billing, receiver, django_capture_on_commit_callbacks):
    hostile = "<!channel> refund me <https://evil.example|your bank> & [click](https://evil.example)"
    with django_capture_on_commit_callbacks(execute=True):
        open_ticket(team, billing, text=hostile)
    slack = posts(receiver)["slack"]
    section = slack["blocks"][1]["text"]["text"]
    assert "<" not in section and ">" not in section and "<" not in slack["text"]
    assert "&lt;!channel&gt; refund me &lt;https://evil.example|your bank&gt; &amp; [click]" in section
    inlines = posts(receiver)["teams"]["attachments"][0]["content"]["body"][1]["inlines"]
    assert inlines == [{"type": "TextRun", "text": inlines[0]["text"]}] and hostile in inlines[0]["text"]


def test_a_department_without_chat_gets_no_post(team, receiver, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        open_ticket(team, team.support)
    assert not WebhookDelivery.objects.exists()
    assert receiver.received == []


def test_a_slack_failure_is_recorded_without_the_token(team, billing, receiver, django_capture_on_commit_callbacks):
    billing.teams_webhook_url = ""
    billing.save()
    receiver.answers = [(404, f"no_service {SLACK_PATH}")]
    with django_capture_on_commit_callbacks(execute=True):
        open_ticket(team, billing)
    delivery = WebhookDelivery.objects.get()
    attempt = delivery.attempt_log.get()
    assert (delivery.status, attempt.status_code) == ("failed", 404)
    assert "xoxSecretToken42" not in attempt.response_excerpt + delivery.error
    assert attempt.response_excerpt == "no_service [hidden]"


def test_a_chat_address_on_a_private_network_is_refused_without_naming_its_token(team, billing, settings):
    settings.PRIVATE_NETWORK_ALLOWLIST = []
    billing.teams_webhook_url = ""
    billing.save()
    open_ticket(team, billing)
    delivery = WebhookDelivery.objects.get()
    assert webhook_delivery_send(delivery_id=delivery.pk).outcome == "failed"
    delivery.refresh_from_db()
    assert "is on a private network" in delivery.error and "xoxSecretToken42" not in delivery.error


def test_a_removed_address_fails_its_pending_posts_with_the_reason(team, billing, receiver):
    open_ticket(team, billing)
    billing.slack_webhook_url = billing.teams_webhook_url = ""
    billing.save()
    for delivery in WebhookDelivery.objects.all():
        assert webhook_delivery_send(delivery_id=delivery.pk).outcome == "failed"
    assert sorted(WebhookDelivery.objects.values_list("error", flat=True)) == [
        "The department has no Microsoft Teams address any more.",
        "The department has no Slack address any more.",
    ]
    assert receiver.received == []


# --- The admin: written, never shown again ------------------------------------------------------------
@pytest.fixture
def admin_client(db) -> Client:
    client = Client()
    client.force_login(UserFactory(username="root", is_staff=True, is_superuser=True))
    return client


def department_form(department: Department, **changes) -> dict:
    return {
        "brand": department.brand_id,
        "name": department.name,
        "email": department.email,
        "language": department.language,
        "members": [user.pk for user in department.members.all()],
        "slack_url": "",
        "teams_url": "",
        "sla_policies-TOTAL_FORMS": "0",
        "sla_policies-INITIAL_FORMS": "0",
        **changes,
    }


def test_the_admin_stores_a_chat_address_and_shows_only_its_host_and_end(team, billing, admin_client):
    page = admin_client.get(f"/admin/responses/department/{billing.pk}/change/").content.decode()
    assert "xoxSecretToken42" not in page and "T0001" not in page
    assert "Stored: http://127.0.0.1/…en42. Leave blank to keep it." in page

    saved = admin_client.post(
        f"/admin/responses/department/{billing.pk}/change/", department_form(billing, language="es", forget_teams="on")
    )
    assert saved.status_code == 302
    billing.refresh_from_db()
    assert billing.slack_webhook_url.endswith(SLACK_PATH)  # blank kept it
    assert billing.teams_webhook_url == "" and billing.language == "es"


def test_the_admin_refuses_a_chat_address_in_clear_or_on_a_private_network(team, admin_client):
    form = department_form(team.support, slack_url="http://hooks.slack.com/services/T/B/x")
    page = admin_client.post(f"/admin/responses/department/{team.support.pk}/change/", form)
    assert "Use https://" in page.content.decode()
    form = department_form(team.support, teams_url="https://10.0.0.8/workflows/x")
    page = admin_client.post(f"/admin/responses/department/{team.support.pk}/change/", form)
    assert "10.0.0.8:443 is on a private network" in page.content.decode()
    team.support.refresh_from_db()
    assert (team.support.slack_webhook_url, team.support.teams_webhook_url) == ("", "")


def test_the_admin_posts_a_test_message(team, billing, receiver, admin_client, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        admin_client.post(
            "/admin/responses/department/", {"action": "post_test_message", "_selected_action": [billing.pk]}
        )
    assert posts(receiver)["slack"]["text"].startswith("Escucha can post here")
    assert set(WebhookDelivery.objects.values_list("event", "status")) == {("test", "delivered")}


def test_a_new_department_speaks_the_sites_language(team, settings):
    settings.LANGUAGE_CODE = "es"
    assert Department.objects.create(brand=team.brand, name="Legal").language == "es"


@pytest.mark.parametrize(
    ("error", "status", "retried"),
    [("429 with ContextId tcid=0", 429, True), ("400 with ContextId MS-CV=Mg", 400, False)],
)
def test_a_teams_200_that_says_it_failed_is_not_counted_delivered(
    team, billing, receiver, django_capture_on_commit_callbacks, error, status, retried
):
    billing.slack_webhook_url = ""
    billing.save()
    receiver.answers = [
        (200, f"Webhook message delivery failed with error: Microsoft Teams endpoint returned HTTP error {error}")
    ]
    with django_capture_on_commit_callbacks(execute=True):
        open_ticket(team, billing)
    delivery = WebhookDelivery.objects.get()
    # Tasks run eagerly here, so a retried post is tried until the attempts run out.
    assert (delivery.status, delivery.delivered_at) == ("failed", None)
    assert delivery.attempts == (MAX_ATTEMPTS if retried else 1)
    assert f"error {status}" in delivery.error and "TeamsSecretSig99" not in delivery.error


def test_a_teams_200_with_its_success_body_is_delivered(team, billing, receiver, django_capture_on_commit_callbacks):
    billing.slack_webhook_url = ""
    billing.save()
    receiver.answers = [(200, "1")]
    with django_capture_on_commit_callbacks(execute=True):
        open_ticket(team, billing)
    assert WebhookDelivery.objects.get().status == "delivered"
