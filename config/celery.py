from __future__ import annotations

import logging
import os
import sys
from pathlib import Path
from typing import Any

from celery import Celery, Task, signals
from django.db import close_old_connections, connections, transaction
from kombu.exceptions import BatchPublishError

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
if Path(sys.argv[0]).name == "celery":
    # A worker or beat refuses a bad setting in one line, as manage.py and gunicorn do.
    from config.env import settings_or_exit

    settings_or_exit()

logger = logging.getLogger(__name__)

app = Celery("escucha")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()


# A worker's database connection lives as a web process's does: kept from task to task for
# DATABASE_CONN_MAX_AGE seconds, checked before a task uses it again (CONN_HEALTH_CHECKS), and closed
# after a task that failed, whose error may have left it unusable. Celery's own handling closed it
# before and after every task, so that each poll of 10,000 channels opened a connection of its own:
# a PostgreSQL backend started for every task, about a sixth of a polling worker's time
# (``bench/polling.py``). CELERY_DB_REUSE_MAX (config/settings.py) keeps Celery's to every so many tasks.
def _run_eagerly(task: Task | None) -> bool:
    """A task run inline (tests, CELERY_TASK_ALWAYS_EAGER) shares its caller's connection and
    transaction: it is left alone."""
    return task is None or bool(getattr(task.request, "is_eager", False))


@signals.task_prerun.connect
@signals.task_postrun.connect
def _connections_kept_between_tasks(task: Task | None = None, **kwargs: Any) -> None:
    if not _run_eagerly(task):
        close_old_connections()  # what Django does around a request: too old or broken, closed


@signals.task_failure.connect
def _connections_closed_after_a_failure(sender: Task | None = None, **kwargs: Any) -> None:
    if not _run_eagerly(sender):
        connections.close_all()


def queue_after_commit(task_name: str, *args: Any, **kwargs: Any) -> None:
    """Queue the task named ``task_name`` once the surrounding transaction commits.

    After commit, because a worker must never look for a row that is not visible yet, and a
    rolled-back change must not announce itself. By name, because the task that runs a service
    is often the one the service queues (a reply's delivery, a notification's e-mail): each
    module then imports only the one below it. Each app's ``ready()`` imports its tasks module,
    so the name resolves to the task itself (eager in tests) in every process.

    Robust: when the broker cannot be reached, the failure is logged and the caller's work stands
    (it is committed already); every queued job has a sweep that queues it again (replies,
    webhook deliveries) or a lease that expires (polls).
    """
    transaction.on_commit(lambda: app.signature(task_name, args=args, kwargs=kwargs).apply_async(), robust=True)


def queue_all_after_commit(calls: list[tuple[str, tuple[Any, ...], dict[str, Any]]]) -> None:
    """Queue many tasks (name, args, kwargs) once the surrounding transaction commits, in order.

    ``queue_after_commit`` for a batch (a page of routed mentions queues an e-mail per
    notification): one hook for all of them, one producer connection to the broker, and on Redis
    one exchange with it for all the messages (kombu's ``Producer.batch``: the same commands, sent
    as one pipeline), where each message was a round trip of its own, most of the CPU of queueing
    them. Celery tries a lone message again when the broker fails it (a blip, a restart); a
    batch's one exchange is not tried again, so when it fails its messages are sent again one by
    one, each with that retry. As for a lone message whose answer was lost, a message the failed
    exchange did deliver may then be queued twice: the tasks queued this way do their work once
    (an e-mail marked sent, a delivery claimed). What still fails is logged, as any failure to
    queue is (``robust``).
    """
    if not calls:
        return

    def publish(producer: Any) -> None:
        for task_name, args, kwargs in calls:
            app.signature(task_name, args=args, kwargs=kwargs).apply_async(
                producer=producer, argsrepr=shown(args), kwargsrepr=shown(kwargs)
            )

    def send() -> None:
        try:
            with app.producer_or_acquire() as producer, producer.batch():
                publish(producer)
        except (BatchPublishError, *app.connection_for_write().connection_errors):
            logger.warning("The broker failed a batch of %d task messages; sending them one by one", len(calls))
            with app.producer_or_acquire() as producer:
                publish(producer)

    transaction.on_commit(send, robust=True)


# As long as Celery's own ``argsrepr`` and ``kwargsrepr``.
SHOWN_SIZE = 1024


def shown(value: Any) -> str:
    """What a task message shows of its arguments (its ``argsrepr`` and ``kwargsrepr`` headers, for
    logs and monitors): their ``repr``, cut to ``SHOWN_SIZE``.

    Celery's own ``saferepr`` walks the values one by one to guard against objects that cannot be
    printed, most of a millisecond for a batch of 25 e-mails; a queued task's arguments are plain
    JSON values (the serializer refuses anything else), which ``repr`` prints at once.
    """
    text = repr(value)
    return text if len(text) <= SHOWN_SIZE else f"{text[: SHOWN_SIZE - 3]}..."


# Calls one batch task message carries: a page of routed mentions queues a few messages, not one
# per e-mail or delivery, while one message still stays short enough to run within its time limit.
BATCH_SIZE = 25


def batched(
    task_name: str, batch_task_name: str, calls: list[dict[str, Any]], size: int = BATCH_SIZE
) -> list[tuple[str, tuple[Any, ...], dict[str, Any]]]:
    """``queue_all_after_commit``'s calls for ``calls`` (each the keyword arguments of ``task_name``):
    one message to ``batch_task_name`` per ``size`` of them, which runs them one after the other. A
    lone call keeps ``task_name``'s own message, which a worker still running older code can run."""
    if len(calls) == 1:
        return [(task_name, (), calls[0])]
    return [(batch_task_name, (calls[i : i + size],), {}) for i in range(0, len(calls), size)]
