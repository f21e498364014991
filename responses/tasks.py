"""Celery tasks of the responses app: thin, named, taking ids."""

from __future__ import annotations

from celery import Task, shared_task
from celery.exceptions import Retry

from responses.replies import reply_deliver


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
