from __future__ import annotations

import smtplib
from datetime import UTC, datetime, timedelta

import pytest
import time_machine
from django.core import mail
from django.core.mail import EmailMultiAlternatives

from listening.models import Sentiment
from reports.alerts import spikes_detect
from reports.models import ReportSubscription
from reports.scheduled import scheduled_reports_send
from reports.tasks import detect_spikes, send_scheduled_reports
from responses.models import Notification
from tests.factories import AuthorFactory, ChannelFactory, MentionFactory
from tests.reports.conftest import NOW

NEG = Sentiment.NEGATIVE


@pytest.mark.django_db
def test_weekly_report_in_the_outbox_once_a_week(team, week, settings):
    settings.SITE_URL = "https://escucha.example"
    team.manager.email = "marta@example.com"
    team.manager.save()
    ReportSubscription.objects.create(user=team.manager, brand=team.brand)
    with time_machine.travel(NOW, tick=False):
        assert send_scheduled_reports() == 1
        assert scheduled_reports_send() == 0  # already sent this week
    message = mail.outbox[0]
    assert message.to == ["marta@example.com"]
    assert "Acme" in message.subject
    # 1-7 March, against 22-28 February; a change always says what it compares with.
    assert "Mentions: 9 in 7 days; +800 % vs the previous 7 days, which had 1" in message.body
    assert "SLA met: 33.3 % of 3 tickets with an SLA" in message.body
    assert "https://escucha.example/reports/?brand=" in message.body
    html = message.alternatives[0][0]
    assert "width:100%" in html  # a bar chart drawn with CSS
    assert "refund" in html
    with time_machine.travel(NOW + timedelta(days=7), tick=False):
        assert scheduled_reports_send() == 1
    assert len(mail.outbox) == 2


@pytest.mark.django_db
def test_one_report_that_cannot_be_sent_does_not_stop_the_others(team, week, monkeypatch):
    for user, address in ((team.manager, "marta@example.com"), (team.cm, "carla@example.com")):
        user.email = address
        user.save()
        ReportSubscription.objects.create(user=user, brand=team.brand)
    real = EmailMultiAlternatives.send

    def refuse_marta(message, *args, **kwargs):
        if message.to == ["marta@example.com"]:
            raise smtplib.SMTPRecipientsRefused({"marta@example.com": (550, b"mailbox unavailable")})
        return real(message, *args, **kwargs)

    monkeypatch.setattr(EmailMultiAlternatives, "send", refuse_marta)
    with time_machine.travel(NOW, tick=False):
        assert scheduled_reports_send() == 1
    assert [m.to for m in mail.outbox] == [["carla@example.com"]]
    assert ReportSubscription.objects.get(user=team.manager).last_sent_at is None  # tried again next run
    monkeypatch.setattr(EmailMultiAlternatives, "send", real)
    with time_machine.travel(NOW, tick=False):
        assert scheduled_reports_send() == 1
    assert mail.outbox[-1].to == ["marta@example.com"]


@pytest.mark.django_db
def test_no_report_for_a_brand_the_user_left(team, week):
    team.outsider.email = "olga@example.com"
    team.outsider.save()
    ReportSubscription.objects.create(user=team.outsider, brand=team.brand)
    with time_machine.travel(NOW, tick=False):
        assert scheduled_reports_send() == 0
    assert mail.outbox == []


def _leave_brand(user) -> None:
    user.brand_memberships.all().delete()


def _lose_report_permission(user) -> None:
    user.groups.clear()


def _deactivate(user) -> None:
    user.is_active = False
    user.save()


@pytest.mark.django_db
@pytest.mark.parametrize("change", [_deactivate, _lose_report_permission, _leave_brand])
def test_the_report_recipient_is_checked_again_at_send_time(team, week, change):
    """A manager subscribed while they could read the report; by the next send they can't."""
    team.manager.email = "marta@example.com"
    team.manager.save()
    ReportSubscription.objects.create(user=team.manager, brand=team.brand)
    with time_machine.travel(NOW, tick=False):
        assert scheduled_reports_send() == 1
    change(team.manager)
    with time_machine.travel(NOW + timedelta(days=7), tick=False):
        assert scheduled_reports_send() == 0
    assert len(mail.outbox) == 1
    assert ReportSubscription.objects.filter(user=team.manager).exists()  # resumes if access comes back


def negative_mentions(channel, count: int, since: datetime, text: str, author=None) -> None:
    for n in range(count):
        kwargs = {"author": author} if author else {}
        MentionFactory(channel=channel, sentiment=NEG, published_at=since + timedelta(minutes=n), text=text, **kwargs)


SPIKE_AT = datetime(2026, 4, 1, 12, 0, tzinfo=UTC)


@pytest.mark.django_db
def test_spike_alerts_community_managers_once_an_hour(team, settings, django_capture_on_commit_callbacks):
    settings.SPIKE_FACTOR = 3
    settings.SPIKE_MIN_COUNT = 10
    team.cm.email = "carla@example.com"
    team.cm.save()
    channel = ChannelFactory(brand=team.brand)
    # Baseline: 24 negative mentions over the 24 h before the last hour = 1 an hour.
    for hour in range(2, 26):
        negative_mentions(channel, 1, SPIKE_AT - timedelta(hours=hour), "meh")
    loud = AuthorFactory(handle="loudone")
    negative_mentions(channel, 12, SPIKE_AT - timedelta(minutes=50), "outage again app down", author=loud)
    # The e-mails are queued when the alert's transaction commits.
    with time_machine.travel(SPIKE_AT, tick=False), django_capture_on_commit_callbacks(execute=True):
        assert detect_spikes() == 1
    with time_machine.travel(SPIKE_AT + timedelta(minutes=30), tick=False):
        assert spikes_detect() == 0  # at most one alert per brand an hour
    note = Notification.objects.get(user=team.cm, verb="spike")
    assert "12 negative mentions" in note.message
    assert "outage" in note.message and "@loudone" in note.message
    assert not Notification.objects.filter(user=team.manager).exists()  # community managers only
    assert mail.outbox[0].to == ["carla@example.com"]
    assert "outage" in mail.outbox[0].body


@pytest.mark.django_db
def test_the_spike_email_names_the_spike_and_links_its_mentions(team, settings, django_capture_on_commit_callbacks):
    settings.SITE_URL = "https://escucha.example"
    settings.SPIKE_MIN_COUNT = 10
    loud = AuthorFactory(handle="loudone")
    negative_mentions(ChannelFactory(brand=team.brand), 12, SPIKE_AT - timedelta(minutes=50), "outage", author=loud)
    with time_machine.travel(SPIKE_AT, tick=False), django_capture_on_commit_callbacks(execute=True):
        assert spikes_detect() == 1
    (message,) = mail.outbox
    assert message.subject == "Negative spike: Acme"
    assert message.body.splitlines()[:2] == [
        "Acme: 12 negative mentions in the last hour (usual: 0.0 an hour).",
        "Top terms: outage. Top authors: @loudone.",
    ]
    assert f"https://escucha.example/inbox/?brand={team.brand.pk}&sentiment=negative" in message.body


@pytest.mark.django_db
def test_no_spike_under_the_factor_or_the_minimum(team, settings):
    settings.SPIKE_FACTOR = 3
    settings.SPIKE_MIN_COUNT = 10
    channel = ChannelFactory(brand=team.brand)
    # Baseline 4 an hour: 12 in the last hour is 3 times, not more.
    for hour in range(2, 26):
        negative_mentions(channel, 4, SPIKE_AT - timedelta(hours=hour), "meh")
    negative_mentions(channel, 12, SPIKE_AT - timedelta(minutes=50), "outage")
    other = ChannelFactory(brand=team.other_brand)
    negative_mentions(other, 9, SPIKE_AT - timedelta(minutes=50), "outage")  # no baseline, under the minimum
    with time_machine.travel(SPIKE_AT, tick=False):
        assert spikes_detect() == 0
    assert not Notification.objects.exists()


@pytest.mark.django_db
def test_a_brand_name_with_a_line_break_still_gets_its_report(team, week):
    team.brand.name = "Acme\r\nBcc: everyone@example.com"
    team.brand.save()
    team.manager.email = "marta@example.com"
    team.manager.save()
    ReportSubscription.objects.create(user=team.manager, brand=team.brand)
    with time_machine.travel(NOW, tick=False):
        assert scheduled_reports_send() == 1
    (message,) = mail.outbox
    assert message.subject.startswith("Acme Bcc: everyone@example.com: report ")
    assert message.bcc == [] and message.to == ["marta@example.com"]
