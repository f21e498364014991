"""Celery tasks of the responses app: thin, take ids, safe to run twice."""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

from celery import Task, shared_task
from celery.exceptions import Retry, SoftTimeLimitExceeded

from responses.notifications import (
    EMAIL_MAX_RETRIES,
    EmailDelivery,
    address_email_send,
    notification_email_send,
)
from responses.replies import replies_sweep, reply_deliver
from responses.tickets import ticket_flag_breaches
from responses.webhooks import webhook_deliveries_sweep, webhook_delivery_send

log = logging.getLogger(__name__)


def _again(task: Task, delivery: EmailDelivery, what: str) -> str | Retry:
    """Retry an e-mail that did not go out, with backoff, a bounded number of times."""
    if not delivery.retry_in:
        return delivery.outcome
    if task.request.retries >= EMAIL_MAX_RETRIES:
        log.error("Giving up on %s after %s attempts", what, task.request.retries + 1)
        return delivery.outcome
    # Run eagerly (tests, a broker-less setup), a returned Retry makes Celery run the retry at once.
    return task.retry(countdown=delivery.retry_in, max_retries=EMAIL_MAX_RETRIES, throw=not task.request.is_eager)


@shared_task(name="responses.notify_email", bind=True, soft_time_limit=30, time_limit=60)
def notify_email(self: Task, notification_id: int, subject: str = "", body: str = "") -> str | Retry:
    """E-mail one notification to its user, once; retried with backoff while the mail server fails.

    ``subject`` and ``body`` replace the ones drawn from the message (see notifications.notify).
    """
    delivery = notification_email_send(
        notification_id=notification_id, subject=subject, body=body, attempt=self.request.retries
    )
    return _again(self, delivery, f"notification {notification_id}")


@shared_task(name="responses.notify_email_address", bind=True, soft_time_limit=30, time_limit=60)
def notify_email_address(
    self: Task, address: str, message: str, url: str, subject: str = "", body: str = ""
) -> str | Retry:
    """E-mail a shared address (a department's inbox) that has no user behind it."""
    delivery = address_email_send(
        address=address, message=message, url=url, subject=subject, body=body, attempt=self.request.retries
    )
    return _again(self, delivery, f"the e-mail to {address}")


def _each(
    batch: Task,
    calls: list[dict[str, Any]],
    send: Callable[..., Any],
    alone: Task,
    retry_in: Callable[[Any], float | None],
) -> list[str]:
    """Run a batch task's calls one after the other, each as ``alone`` (the one-call task) would.

    A call that must be tried again later goes back to the queue as ``alone``'s own message, at its
    second attempt's backoff; the batch goes on. Stopped by its time limit, the batch queues what
    it had not done as a new batch (the interrupted call's claim was released, or goes stale).
    """
    outcomes: list[str] = []
    for done, call in enumerate(calls):
        try:
            outcome = send(**call)
        except SoftTimeLimitExceeded:
            batch.apply_async(args=[calls[done:]])
            raise
        if (wait := retry_in(outcome)) is not None:
            alone.apply_async(kwargs=call, countdown=wait, retries=1)
        outcomes.append(outcome.outcome)
    return outcomes


@shared_task(name="responses.notify_emails", bind=True, soft_time_limit=180, time_limit=230)
def notify_emails(self: Task, calls: list[dict[str, Any]]) -> list[str]:
    """``notify_email`` for a batch of notifications (the e-mails a page of routed mentions sends)."""
    return _each(self, calls, notification_email_send, notify_email, lambda delivery: delivery.retry_in or None)


@shared_task(name="responses.notify_email_addresses", bind=True, soft_time_limit=180, time_limit=230)
def notify_email_addresses(self: Task, calls: list[dict[str, Any]]) -> list[str]:
    """``notify_email_address`` for a batch of e-mails to shared addresses."""
    return _each(self, calls, address_email_send, notify_email_address, lambda delivery: delivery.retry_in or None)


@shared_task(name="responses.check_slas", soft_time_limit=50, time_limit=60)
def check_slas() -> int:
    """Flag tickets past their acknowledge or resolve deadline; each breach is flagged once."""
    return ticket_flag_breaches()


# max_retries=None on the task: the attempt counter on the row bounds the retries
# (MAX_DELIVERY_ATTEMPTS); passing None to retry() itself would mean Celery's default of 3.
@shared_task(
    name="responses.send_reply", bind=True, acks_late=True, max_retries=None, soft_time_limit=60, time_limit=90
)
def send_reply(self: Task, reply_id: int) -> str | Retry:
    """Post one reply. The row's status makes a redelivered or repeated task a no-op."""
    delivery = reply_deliver(reply_id=reply_id)
    if delivery.outcome == "retry":
        # Run eagerly (tests, a broker-less setup), a returned Retry makes Celery run the retry at
        # once instead of raising it into the caller.
        return self.retry(countdown=delivery.retry_in, throw=not self.request.is_eager)
    return delivery.outcome


@shared_task(name="responses.sweep_replies", soft_time_limit=50, time_limit=60)
def sweep_replies() -> tuple[int, int]:
    """Settle replies interrupted mid-send (looked up on the platform) and queue again the ones
    whose task was lost."""
    return replies_sweep()


# Longer limits than a reply's: the outbound policy allows HTTP_TIMEOUT_SECONDS to connect, as long
# for the answer to start and as long for the whole of it. The row's attempt counter bounds the
# retries (webhooks.MAX_ATTEMPTS), as for replies.
@shared_task(
    name="responses.deliver_webhook", bind=True, acks_late=True, max_retries=None, soft_time_limit=90, time_limit=120
)
def deliver_webhook(self: Task, delivery_id: int) -> str | Retry:
    """Send one webhook delivery or Slack/Teams post; a delivered one is never sent again by this task."""
    outcome = webhook_delivery_send(delivery_id=delivery_id)
    if outcome.outcome == "retry":
        return self.retry(countdown=outcome.retry_in, throw=not self.request.is_eager)
    return outcome.outcome


@shared_task(
    name="responses.deliver_webhooks", bind=True, acks_late=True, max_retries=None, soft_time_limit=180, time_limit=230
)
def deliver_webhooks(self: Task, calls: list[dict[str, Any]]) -> list[str]:
    """``deliver_webhook`` for a batch of deliveries (a page of routed mentions' events); one that
    failed for now is retried on its own, on its row's backoff. A delivery this batch lost (its
    worker died) is found by the sweep, as a lone one's."""
    return _each(
        self, calls, webhook_delivery_send, deliver_webhook, lambda o: o.retry_in if o.outcome == "retry" else None
    )


@shared_task(name="responses.sweep_webhook_deliveries", soft_time_limit=50, time_limit=60)
def sweep_webhook_deliveries() -> tuple[int, int]:
    """Queue again the deliveries interrupted mid-request and the ones whose task was lost."""
    return webhook_deliveries_sweep()
