"""Celery tasks of the publishing app: thin, take ids, safe to run twice."""

from __future__ import annotations

from celery import Task, shared_task
from celery.exceptions import Retry

from publishing.competitors import competitors_read_due
from publishing.services import posts_dispatch_due, posts_read_metrics, posts_sweep, target_publish


# max_retries=None: the attempt counter on the row bounds the retries (services.MAX_ATTEMPTS).
@shared_task(
    name="publishing.publish_target", bind=True, acks_late=True, max_retries=None, soft_time_limit=60, time_limit=90
)
def publish_target(self: Task, target_id: int) -> str | Retry:
    """Publish one post on one channel. The row's status makes a redelivered or repeated task a no-op."""
    publication = target_publish(target_id=target_id)
    if publication.outcome == "retry":
        # Run eagerly (tests, a broker-less setup), a returned Retry makes Celery run it at once.
        return self.retry(countdown=publication.retry_in, throw=not self.request.is_eager)
    return publication.outcome


@shared_task(name="publishing.dispatch_due_posts", soft_time_limit=50, time_limit=60)
def dispatch_due_posts() -> tuple[int, int]:
    """Queue the posts whose time has come; settle the ones a dead worker left half-published."""
    return posts_dispatch_due(), posts_sweep()


@shared_task(name="publishing.read_post_metrics", soft_time_limit=120, time_limit=150)
def read_post_metrics() -> int:
    """Read the public counts of the posts that are 1 hour, 24 hours or 7 days old."""
    return posts_read_metrics()


@shared_task(name="publishing.read_competitors", acks_late=False, soft_time_limit=600, time_limit=660)
def read_competitors() -> int:
    """Read the competitor accounts due: their posts of the last days and how people engaged.

    Acknowledged on receipt: a run longer than the broker's visibility timeout must not be handed
    out twice, and a run a dead worker dropped loses nothing, as the accounts stay due for the next
    beat tick."""
    return competitors_read_due()
