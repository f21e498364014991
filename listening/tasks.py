"""Celery tasks of the listening app: thin, named, idempotent; the work is in ``listening.polling``,
``listening.learning`` and ``listening.privacy``."""

from __future__ import annotations

import ctypes
import gc
import logging
from typing import Any

from celery import Task, shared_task
from celery.exceptions import Retry
from celery.signals import worker_init
from django.urls import get_resolver

from config.celery import queue_all_after_commit
from config.locks import cache_lock
from listening import learning, polling, privacy, webhooks
from listening.connectors.base import ConnectorError, RateLimited
from listening.models import Channel

log = logging.getLogger(__name__)


# The queues whose tasks ingest mentions: only their workers load the models ahead.
INGESTING_QUEUES = frozenset({"polling", "webhooks"})


@worker_init.connect
def load_models_before_forking(sender: Any = None, **kwargs: Any) -> None:
    """Load the read-only models of ingestion in the worker's parent, before it forks its pool.

    Each pool process then shares one copy of them (copy-on-write pages it reads but never
    writes) instead of loading its own on its first ingestion: lingua's language models alone are
    ~140 MiB; the URLconf too. Every page the parent holds is mapped by each pool process too, so the parent holds
    no more than the models: the built-in intent models are fitted in a child of their own (their
    fitting alone imports scikit-learn), and the C heap's free pages that lingua's loading left
    behind are given back. ``gc.freeze`` keeps the collector from touching, and so copying, the
    objects. A worker of other queues only (replies, reports) never ingests, and loads nothing.
    """
    consumed = set(sender.app.amqp.queues.consume_from or ()) if sender is not None else set()
    if consumed and not consumed & INGESTING_QUEUES:
        return
    from listening.language import language_models_preload
    from listening.learning import builtin_models_fit_apart
    from listening.sentiment import analyze

    builtin_models_fit_apart(CARE_LANGUAGES)  # before lingua's loading: a smaller process to fork
    language_models_preload()
    for language, text in (("en", "Thanks, it works again"), ("es", "Gracias, ya funciona")):
        analyze(text, language, care=True)  # the lexicons and the built-in intent model of each
    # Routing writes links to tickets and mentions: the first reverse() of a process imports the
    # whole URLconf (every app's views), a tenth of a first page's routing when each pool process
    # did it on its own.
    get_resolver().url_patterns  # noqa: B018
    _free_pages_release()
    gc.freeze()


# The languages of the built-in intent models (listening/lexicons/care_<language>.tsv).
CARE_LANGUAGES = ("en", "es")


def _free_pages_release() -> None:
    """Give the C heap's free pages back to the system (glibc's ``malloc_trim``; elsewhere nothing).

    Loading lingua's models frees ~50 MiB of buffers that the C allocator otherwise keeps, in the
    parent and, once it forks, in the page tables of every pool process."""
    try:
        ctypes.CDLL(None).malloc_trim(0)
    except (OSError, AttributeError):  # not glibc: its allocator keeps what it keeps
        pass


@shared_task(name="listening.dispatch_due_channels", ignore_result=True, soft_time_limit=30, time_limit=60)
def dispatch_due_channels() -> int:
    """Queue a poll for every channel that is due (beat runs this every few seconds)."""
    claimed = polling.channels_claim_due()
    # In one exchange with the broker: 10,000 channels come due at about 110 a 2-second tick, and a
    # message sent on its own each took most of the tick's time (``bench/polling.py``). With the
    # broker unreachable the claim stands and expires with its lease, and the next dispatch queues
    # the poll again.
    queue_all_after_commit([(poll_channel.name, (channel_id,), {}) for channel_id in claimed])
    return len(claimed)


# Hard limit below polling.LEASE_SECONDS: a running poll never outlives its lock (config/settings.py).
@shared_task(name="listening.poll_channel", ignore_result=True, acks_late=True, soft_time_limit=45, time_limit=55)
def poll_channel(channel_id: int) -> None:
    """Poll one channel. A second copy of this task for the same channel returns at once."""
    with polling.poll_lock(channel_id) as held:
        if not held:
            log.info("Channel %s is already being polled", channel_id)
            return
        channel = Channel.objects.filter(pk=channel_id, is_active=True).first()
        if channel is None:
            return
        outcome = polling.channel_poll(channel=channel)
        log.info(
            "Polled channel %s: %s new, %s known, %s pages%s",
            channel_id,
            outcome.created,
            outcome.skipped,
            outcome.pages,
            f", error: {outcome.error}" if outcome.error else "",
        )


# As long as a poll may take: a pool process's first ingestion also loads the language models.
# An Instagram @mention read back from Graph may meet a rate limit or an outage: retried with
# backoff, a few times (Instagram does not deliver a mention again once it was answered 200).
WEBHOOK_RETRIES = 6


@shared_task(
    name="listening.ingest_webhook",
    bind=True,
    ignore_result=True,
    acks_late=True,
    max_retries=WEBHOOK_RETRIES,
    soft_time_limit=45,
    time_limit=55,
)
def ingest_webhook(self: Task, channel_id: int, payload: dict) -> int | Retry:
    """Store a signed Facebook or Instagram webhook delivery, on the ``webhooks`` queue, as soon as a
    worker is free.

    The payload travels with the task: it was checked against the app secret by the view, and a
    redelivered or retried task stores nothing twice.
    """
    try:
        return webhooks.webhook_delivery_ingest(channel_id=channel_id, payload=payload)
    except ConnectorError as exc:
        if exc.permanent or exc.reconnect or self.request.retries >= WEBHOOK_RETRIES:
            log.warning("Webhook delivery for channel %s not read back: %s", channel_id, exc)
            webhooks.webhook_readback_failed(channel_id=channel_id, payload=payload, error=exc)
            return 0
        wait = exc.retry_after if isinstance(exc, RateLimited) else polling.backoff_seconds(self.request.retries + 1)
        return self.retry(countdown=wait, throw=not self.request.is_eager)


# Longer than a training of every brand can run: a second copy of the task returns at once. The
# task is acknowledged when it starts (it outlasts the broker's visibility timeout); a night's
# training lost with its worker is the next night's.
TRAIN_LOCK_SECONDS = 3600


@shared_task(
    name="listening.train_analyzers", ignore_result=True, acks_late=False, soft_time_limit=3000, time_limit=3300
)
def train_analyzers() -> int:
    """Retrain each brand's learned analyzers on its team's corrections (beat runs this nightly)."""
    with cache_lock("listening:train-analyzers", TRAIN_LOCK_SECONDS) as held:
        if not held:
            log.info("Analyzers are already being trained")
            return 0
        return learning.analyzer_models_train_all()


RETENTION_LOCK_SECONDS = 3 * 3600


@shared_task(
    name="listening.retention_run", ignore_result=True, acks_late=False, soft_time_limit=10_000, time_limit=10_800
)
def retention_run() -> int:
    """Erase every brand's mentions past its retention period (beat runs this nightly), in batches;
    a brand with more than a night's share left finishes on the following nights."""
    with cache_lock("listening:retention-run", RETENTION_LOCK_SECONDS) as held:
        if not held:
            log.info("A retention run is already going")
            return 0
        return privacy.retention_run_all()


DELETIONS_LOCK_SECONDS = 300


# The work stops at privacy.DELETION_RUN_SECONDS (180 s); a lock keeps two runs from asking the
# platforms twice. Acknowledged when it starts: a run lost with its worker is the next one's.
@shared_task(
    name="listening.check_platform_deletions", ignore_result=True, acks_late=False, soft_time_limit=210,
    time_limit=230,
)  # fmt: skip
def check_platform_deletions() -> int:
    """Ask each channel's platform which stored mentions were deleted there, and erase them (beat
    runs this every 10 minutes; each channel's check has its own interval and backoff)."""
    with cache_lock("listening:platform-deletions", DELETIONS_LOCK_SECONDS) as held:
        if not held:
            log.info("A platform deletion check is already going")
            return 0
        return privacy.platform_deletions_check_all()
