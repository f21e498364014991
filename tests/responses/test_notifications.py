"""Who is told what, in the app and by e-mail with a link; the bell and the notifications page."""

from __future__ import annotations

import pytest
from django.test import Client
from django.urls import reverse

from responses.models import Notification
from responses.notifications import notify
from responses.tickets import ticket_assign, ticket_open, ticket_transition
from tests.factories import ChannelFactory, MentionFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def opened(team, django_capture_on_commit_callbacks, mailoutbox):
    with django_capture_on_commit_callbacks(execute=True):
        ticket, _ = ticket_open(
            mention=MentionFactory(channel=ChannelFactory(brand=team.brand)), department=team.billing
        )
    return ticket


def test_new_ticket_tells_the_department_members_and_its_address(team, opened, mailoutbox, settings) -> None:
    assert list(Notification.objects.values_list("user__username", "verb")) == [("bruno", "ticket_opened")]
    recipients = sorted(address for message in mailoutbox for address in message.to)
    assert recipients == ["bruno@example.com", team.billing.email]
    assert f"{settings.SITE_URL}/tickets/{opened.pk}/" in mailoutbox[0].body


def test_assignee_is_told(team, opened, django_capture_on_commit_callbacks, mailoutbox) -> None:
    mailoutbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        ticket_assign(ticket=opened, assignee=team.billing_member, actor=team.cm)
    assert Notification.objects.filter(user=team.billing_member, verb="ticket_assigned").exists()
    assert [m.to for m in mailoutbox] == [["bruno@example.com"]]


def test_resolution_tells_the_community_managers(team, opened, django_capture_on_commit_callbacks, mailoutbox) -> None:
    mailoutbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        ticket_transition(ticket=opened, to_status="acknowledged", actor=team.billing_member)
        ticket_transition(ticket=opened, to_status="resolved", actor=team.billing_member, resolution="Refunded")
    told = list(Notification.objects.filter(verb="ticket_resolved").values_list("user__username", flat=True))
    assert told == ["carla"]  # not the outsider, not the manager
    assert [m.to for m in mailoutbox] == [["carla@example.com"]]
    assert "/follow-up/" in mailoutbox[0].body


def test_each_notification_is_mailed_once(team, opened, mailoutbox) -> None:
    from responses.tasks import notify_email

    sent = len(mailoutbox)
    notify_email(Notification.objects.get(user=team.billing_member).pk)
    assert len(mailoutbox) == sent


def test_an_email_may_say_more_than_the_app(team, django_capture_on_commit_callbacks, mailoutbox, settings) -> None:
    with django_capture_on_commit_callbacks(execute=True):
        notify(
            users=[team.cm],
            verb="spike",
            message="Acme: 12 negative mentions.",
            url="/inbox/",
            emails=["desk@example.com"],
            subject="Negative spike: Acme",
            body="Acme: 12 negative mentions.\nTop terms: outage.",
        )
    assert Notification.objects.get(user=team.cm).message == "Acme: 12 negative mentions."
    assert sorted(m.to[0] for m in mailoutbox) == ["carla@example.com", "desk@example.com"]
    for message in mailoutbox:
        assert message.subject == "Negative spike: Acme"
        assert message.body == f"Acme: 12 negative mentions.\nTop terms: outage.\n\n{settings.SITE_URL}/inbox/"


def test_bell_count_and_mark_read(client: Client, team, opened) -> None:
    client.force_login(team.billing_member)
    html = client.get(reverse("responses:ticket_list")).content.decode()
    assert 'class="unread-count"' in html
    page = client.get(reverse("responses:notification_list")).content.decode()
    assert f"New ticket #{opened.pk}" in page
    notification = Notification.objects.get(user=team.billing_member)
    response = client.post(reverse("responses:notification_read"), {"id": notification.pk, "next": notification.url})
    assert response["Location"] == f"/tickets/{opened.pk}/"
    assert 'class="unread-count"' not in client.get(reverse("responses:ticket_list")).content.decode()


def test_mark_read_refuses_offsite_redirects(client: Client, team, opened) -> None:
    client.force_login(team.billing_member)
    response = client.post(reverse("responses:notification_read"), {"next": "https://evil.example/"})
    assert response["Location"] == reverse("responses:notification_list")


def test_no_one_reads_another_persons_notifications(client: Client, team, opened) -> None:
    client.force_login(team.outsider)
    assert "New ticket" not in client.get(reverse("responses:notification_list")).content.decode()
    notification = Notification.objects.get(user=team.billing_member)
    client.post(reverse("responses:notification_read"), {"id": notification.pk})
    notification.refresh_from_db()
    assert notification.read_at is None


# --- e-mail that must go out -------------------------------------------------------------------
@pytest.fixture
def flaky_smtp(monkeypatch):
    """The mail server drops the first ``failures[address]`` attempts to each address."""
    from smtplib import SMTPServerDisconnected

    from django.core.mail.backends.locmem import EmailBackend

    failures: dict[str, int] = {}
    attempts: list[str] = []
    send_messages = EmailBackend.send_messages

    def flaky(self, messages):
        for message in messages:
            attempts.append(message.to[0])
            if failures.get(message.to[0], 0) > 0:
                failures[message.to[0]] -= 1
                raise SMTPServerDisconnected("Connection unexpectedly closed")
        return send_messages(self, messages)

    monkeypatch.setattr(EmailBackend, "send_messages", flaky)
    return failures, attempts


def test_a_mention_with_a_newline_still_reaches_the_department(
    team, django_capture_on_commit_callbacks, mailoutbox
) -> None:
    mention = MentionFactory(channel=ChannelFactory(brand=team.brand), text="Charged twice\r\nBcc: everyone@evil\nhelp")
    with django_capture_on_commit_callbacks(execute=True):
        ticket, _ = ticket_open(mention=mention, department=team.billing)
    assert sorted(m.to[0] for m in mailoutbox) == ["bruno@example.com", team.billing.email]
    for message in mailoutbox:
        assert (
            message.subject == f"[Escucha] New ticket #{ticket.pk} for Billing: Charged twice Bcc: everyone@evil help"
        )
        assert "\n" not in message.message()["Subject"]
        assert message.bcc == []
    assert Notification.objects.get(user=team.billing_member).emailed_at is not None


def test_an_smtp_failure_is_retried_and_each_email_sent_once(
    team, flaky_smtp, django_capture_on_commit_callbacks, mailoutbox
) -> None:
    failures, attempts = flaky_smtp
    failures.update({"bruno@example.com": 1, team.billing.email: 2})
    with django_capture_on_commit_callbacks(execute=True):
        ticket_open(mention=MentionFactory(channel=ChannelFactory(brand=team.brand)), department=team.billing)
    assert sorted(m.to[0] for m in mailoutbox) == ["bruno@example.com", team.billing.email]
    assert sorted(attempts) == ["bruno@example.com"] * 2 + [team.billing.email] * 3
    assert Notification.objects.get(user=team.billing_member).emailed_at is not None


def test_a_notification_is_not_marked_emailed_while_the_mail_server_is_down(
    team, flaky_smtp, django_capture_on_commit_callbacks, mailoutbox
) -> None:
    from responses.notifications import EMAIL_MAX_RETRIES

    failures, attempts = flaky_smtp
    failures["carla@example.com"] = 1000
    with django_capture_on_commit_callbacks(execute=True):
        [notification] = notify(users=[team.cm], verb="spike", message="Acme: 12 negative mentions.", url="/inbox/")
    assert mailoutbox == []
    assert len(attempts) == EMAIL_MAX_RETRIES + 1  # bounded
    notification.refresh_from_db()
    assert notification.emailed_at is None and notification.email_claimed_at is None

    # The server is back: the next run of the task sends it, once.
    from responses.tasks import notify_email

    failures.clear()
    notify_email.apply(args=[notification.pk])
    notify_email.apply(args=[notification.pk])
    assert [m.to for m in mailoutbox] == [["carla@example.com"]]


def test_two_workers_never_both_send_a_notification_and_a_dead_ones_claim_is_taken_again(team, mailoutbox) -> None:
    from datetime import timedelta

    from django.utils import timezone

    from responses.notifications import EMAIL_CLAIM_SECONDS, notification_email_send

    notification = Notification.objects.create(user=team.cm, verb="spike", message="Acme spike", url="/inbox/")
    # Another worker claimed it a moment ago and is sending it: this one stays away, and looks
    # again once that claim would be stale.
    Notification.objects.filter(pk=notification.pk).update(email_claimed_at=timezone.now())
    busy = notification_email_send(notification_id=notification.pk)
    assert busy.outcome == "busy" and 0 < busy.retry_in <= EMAIL_CLAIM_SECONDS
    assert mailoutbox == []
    # That worker died without sending: its claim goes stale and is taken again.
    stale = timezone.now() - timedelta(seconds=EMAIL_CLAIM_SECONDS + 1)
    Notification.objects.filter(pk=notification.pk).update(email_claimed_at=stale)
    assert notification_email_send(notification_id=notification.pk).outcome == "sent"
    assert notification_email_send(notification_id=notification.pk).outcome == "done"
    assert [m.to for m in mailoutbox] == [["carla@example.com"]]


@pytest.fixture
def queued(monkeypatch):
    """The names of the task messages queued, in order."""
    from config.celery import app

    names: list[str] = []
    signature = app.signature

    def recording(name, *args, **kwargs):
        names.append(name)
        return signature(name, *args, **kwargs)

    monkeypatch.setattr(app, "signature", recording)
    return names


def test_a_page_of_tickets_queues_a_few_messages_and_every_email_goes_out_once(
    team, flaky_smtp, queued, django_capture_on_commit_callbacks, mailoutbox
) -> None:
    from responses.tickets import TicketBatch

    failures, attempts = flaky_smtp
    failures.update({"bruno@example.com": 1, team.billing.email: 1})
    mentions = [MentionFactory(channel=ChannelFactory(brand=team.brand)) for _ in range(40)]
    with django_capture_on_commit_callbacks(execute=True):
        batch = TicketBatch(mentions=mentions, departments=[team.billing])
        for mention in mentions:
            batch.open(mention=mention, department=team.billing)
        batch.save()
    # Forty tickets, eighty e-mails: four messages (25 e-mails each at most); the e-mails that failed
    # were retried on their own.
    assert sorted(queued) == ["responses.notify_email_addresses"] * 2 + ["responses.notify_emails"] * 2
    assert sorted(m.to[0] for m in mailoutbox) == sorted(["bruno@example.com", team.billing.email] * 40)
    assert len(attempts) == 82
    assert not Notification.objects.filter(emailed_at__isnull=True).exists()


def test_a_batch_of_notices_stores_each_users_own_notification_and_mails_it_to_them(
    team, django_capture_on_commit_callbacks, mailoutbox
) -> None:
    from responses.notifications import Notice, notify_all
    from responses.preferences import user_language_set

    user_language_set(user=team.billing_member, language="es")
    notices = [
        Notice(users=[team.cm, team.billing_member], verb="spike", message="Spike %(n)s", url="/a/", params={"n": 1}),
        Notice(users=[team.manager], verb="spike", message="Spike %(n)s", url="/b/", params={"n": 2}),
        Notice(users=[team.billing_member], verb="assigned", message="Yours %(n)s", url="/c/", params={"n": 3}),
    ]
    with django_capture_on_commit_callbacks(execute=True):
        created = notify_all(notices)

    # What the caller gets back is what was stored, each with its user.
    stored = {n.pk: (n.user.username, n.verb, n.message, n.url) for n in Notification.objects.all()}
    assert {n.pk: (n.user.username, n.verb, n.message, n.url) for n in created} == stored
    assert [(n.user.username, n.url) for n in created] == [
        ("carla", "/a/"),
        ("bruno", "/a/"),
        ("marta", "/b/"),
        ("bruno", "/c/"),
    ]
    # Each e-mail reached the user its notification is for, and says what that notification says.
    mailed = sorted((m.to[0], m.subject) for m in mailoutbox)
    assert mailed == [
        ("bruno@example.com", "[Escucha] Spike 1"),
        ("bruno@example.com", "[Escucha] Yours 3"),
        ("carla@example.com", "[Escucha] Spike 1"),
        ("marta@example.com", "[Escucha] Spike 2"),
    ]
    assert all(n.emailed_at is not None for n in Notification.objects.all())
