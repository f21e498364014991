"""Celery tasks of the responses app: thin, take ids, safe to run twice."""

from __future__ import annotations

from celery import Task, shared_task
from celery.exceptions import Retry
from django.conf import settings
from django.core.mail import send_mail
from django.utils import timezone

from responses.models import Notification
from responses.replies import replies_sweep, reply_deliver
from responses.tickets import ticket_flag_breaches


def _absolute(url: str) -> str:
    if url.startswith(("http://", "https://")):
        return url
    return f"{settings.SITE_URL}{url}"


@shared_task(name="responses.notify_email", soft_time_limit=30, time_limit=60)
def notify_email(notification_id: int, subject: str = "", body: str = "") -> None:
    """E-mail one notification to its user, once: the stamp is claimed before sending.

    ``subject`` and ``body`` replace the ones drawn from the message (see notifications.notify).
    """
    claimed = Notification.objects.filter(pk=notification_id, emailed_at__isnull=True).update(emailed_at=timezone.now())
    if not claimed:
        return
    notification = Notification.objects.select_related("user").get(pk=notification_id)
    if not notification.user.email:
        return
    text = body or notification.message
    text = f"{text}\n\n{_absolute(notification.url)}" if notification.url else text
    send_mail(subject or f"[Escucha] {notification.message[:80]}", text, None, [notification.user.email])


@shared_task(name="responses.notify_email_address", soft_time_limit=30, time_limit=60)
def notify_email_address(address: str, message: str, url: str, subject: str = "", body: str = "") -> None:
    """E-mail a shared address (a department's inbox) that has no user behind it."""
    send_mail(subject or f"[Escucha] {message[:80]}", f"{body or message}\n\n{_absolute(url)}", None, [address])


@shared_task(name="responses.check_slas", soft_time_limit=50, time_limit=60)
def check_slas() -> int:
    """Flag tickets past their acknowledge or resolve deadline; each breach is flagged once."""
    return ticket_flag_breaches()


@shared_task(name="responses.send_reply", bind=True, acks_late=True, soft_time_limit=60, time_limit=90)
def send_reply(self: Task, reply_id: int) -> str | Retry:
    """Post one reply. The row's status makes a redelivered or repeated task a no-op."""
    delivery = reply_deliver(reply_id=reply_id)
    if delivery.outcome == "retry":
        # The attempt counter on the row bounds the retries, so no max_retries here. Run eagerly
        # (tests, a broker-less setup), a returned Retry makes Celery run the retry at once
        # instead of raising it into the caller.
        return self.retry(countdown=delivery.retry_in, max_retries=None, throw=not self.request.is_eager)
    return delivery.outcome


@shared_task(name="responses.sweep_replies", soft_time_limit=50, time_limit=60)
def sweep_replies() -> tuple[int, int]:
    """Fail replies interrupted mid-send and queue again the ones whose task was lost."""
    return replies_sweep()
