"""Polling: which channels are due, fetching one through its connector, and keeping its health.

``channel_poll`` never raises for a platform failure: the failure is stored on the channel (shown
on the channels page, with no secret in it: ``scrub_error``) and decides when the next poll comes.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from django.core.cache import cache
from django.db import transaction
from django.utils import timezone

from config.backoff import backoff_seconds as jittered_backoff
from config.locks import cache_lock
from listening.connectors import ConnectorError, RateLimited, get_connector, scrub_error
from listening.connectors.base import storable_text
from listening.ingest import ingest_items
from listening.models import Channel

log = logging.getLogger(__name__)

BACKOFF_BASE_SECONDS = 30
BACKOFF_CAP_SECONDS = 3600
MORE_PAGES_DELAY_SECONDS = 2  # the platform has more waiting: come back almost at once
POLL_TIME_BUDGET_SECONDS = 30  # then let other channels have the worker (the task stops at 45 s)
POLL_MAX_PAGES = 10
# A poll holds its channel with a lease (next_poll_at pushed ahead) and a lock, both renewed
# after every page. A worker killed mid-poll stops renewing them: the channel is claimed and polled
# again within a minute, without waiting for the broker to hand the lost task back. The poll task's
# hard time limit is below it, so a live poll never loses its lock (see config/settings.py).
LEASE_SECONDS = 60


def backoff_seconds(failures: int) -> float:
    """How long a failing channel waits before its next poll: 30 s doubling up to an hour, jittered."""
    return jittered_backoff(failures, base=BACKOFF_BASE_SECONDS, cap=BACKOFF_CAP_SECONDS)


# The most channels one dispatch claims: every channel due, the longest waiting first, up to this.
# 10,000 channels polled every 1 to 60 minutes come due at about 110 a 2-second tick (270 a tick when
# beat dispatched every 5 seconds, when a fixed 200 a tick fell further behind at every tick:
# ``bench/polling.py``). The cap still spreads a backlog (beat back after an outage) over a few
# ticks rather than queueing it all at once.
CLAIM_MAX = 2000


def channels_claim_due(*, limit: int = CLAIM_MAX) -> list[int]:
    """Ids of channels due for a poll, each claimed with a lease so no other dispatcher queues it.

    Two statements whatever the number due: the due rows are locked (rows another dispatcher has
    locked are skipped, so two never claim the same one) and their lease set in one UPDATE. One
    UPDATE per channel took seconds per tick with 10,000 channels (``bench/polling.py``).
    """
    now = timezone.now()
    with transaction.atomic():
        due = list(
            Channel.objects.select_for_update(skip_locked=True)
            .filter(is_active=True, next_poll_at__lte=now)
            .exclude(state__in=[Channel.State.RECONNECT, Channel.State.PAUSED])
            .order_by("next_poll_at")
            .values_list("pk", flat=True)[:limit]
        )
        if due:
            Channel.objects.filter(pk__in=due).update(next_poll_at=now + timedelta(seconds=LEASE_SECONDS))
    return due


def _lock_key(channel_id: int) -> str:
    return f"listening:poll:{channel_id}"


@contextmanager
def poll_lock(channel_id: int) -> Iterator[bool]:
    """Whether this process may poll the channel now: False while another poll holds it.

    The lock lives LEASE_SECONDS unless renewed (``channel_poll`` renews it with every page), so
    the lock of a worker that died expires with its lease.
    """
    with cache_lock(_lock_key(channel_id), LEASE_SECONDS) as held:
        yield held


def _renew(channel: Channel) -> None:
    """Tell dispatchers this poll is alive: push its lease and its lock another LEASE_SECONDS ahead."""
    Channel.objects.filter(pk=channel.pk).update(next_poll_at=timezone.now() + timedelta(seconds=LEASE_SECONDS))
    cache.touch(_lock_key(channel.pk), LEASE_SECONDS)


@dataclass
class PollOutcome:
    created: int = 0
    skipped: int = 0
    pages: int = 0
    error: str = ""


def channel_poll(*, channel: Channel) -> PollOutcome:
    """Fetch ``channel`` from its cursor on, page by page within a time budget, and record health.

    Never raises for a platform failure: it is stored on the channel and decides the next poll.
    A rate limit waits for the reset; a revoked credential stops polling until someone fixes it.
    """
    outcome = PollOutcome()
    started = time.monotonic()
    now = timezone.now()
    Channel.objects.filter(pk=channel.pk).update(
        last_polled_at=now, next_poll_at=now + timedelta(seconds=LEASE_SECONDS)
    )
    more = False
    deferred = 0
    try:
        connector = get_connector(channel)
        while True:
            result = connector.fetch(dict(channel.cursor or {}))
            ingested = ingest_items(
                channel=channel,
                items=result.items,
                cursor=result.cursor,
                budget=result.budget,
                unreadable=result.rejected,
            )
            outcome.created += len(ingested.created)
            outcome.skipped += ingested.skipped
            outcome.pages += 1
            if result.error is not None:
                raise result.error  # what was read is stored; the failure is handled as any other
            more = result.has_more
            deferred = result.deferred
            if not more or outcome.pages >= POLL_MAX_PAGES or time.monotonic() - started > POLL_TIME_BUDGET_SECONDS:
                break
            _renew(channel)
    except RateLimited as error:
        outcome.error = scrub_error(error, channel=channel)
        wait = max(float(error.retry_after or 0), 1.0)
        _record_health(
            channel,
            state=Channel.State.RATE_LIMITED,
            last_error=outcome.error,
            last_error_at=timezone.now(),
            rate_limit_remaining=error.remaining,
            rate_limit_reset_at=timezone.now() + timedelta(seconds=wait),
            next_poll_at=timezone.now() + timedelta(seconds=wait),
        )
        return outcome
    except ConnectorError as error:
        outcome.error = scrub_error(error, channel=channel)
        # A poll that stored new items before its fault moved on: it waits the backoff's first
        # step. A poll of many requests (a Page's comments, post after post) meets a fault on most
        # polls when a platform is flaky; counted as failures in a row, its waits doubled to an hour
        # while each poll still had more to read.
        _record_failure(channel, outcome.error, stop=error.permanent or error.reconnect, progressed=outcome.created > 0)
        return outcome
    except Exception as error:
        log.exception("Polling channel %s failed unexpectedly", channel.pk)
        outcome.error = scrub_error(f"{type(error).__name__}: {error}", channel=channel)
        _record_failure(channel, outcome.error, stop=False)
        return outcome
    delay = MORE_PAGES_DELAY_SECONDS if more else channel.poll_interval_seconds
    _record_health(
        channel,
        state=Channel.State.OK,
        consecutive_failures=0,
        last_success_at=timezone.now(),
        threads_deferred=deferred,
        next_poll_at=timezone.now() + timedelta(seconds=delay),
    )
    return outcome


def channel_error_record(*, channel: Channel, message: str, reconnect: bool) -> None:
    """A failure outside a poll (a webhook delivery's read-back) shown with the channel's health:
    a refused credential stops polling as a poll's would ("reconnect needed"); any other leaves
    the poll schedule alone and shows as the channel's last error."""
    message = scrub_error(message, channel=channel)
    if reconnect:
        _record_failure(channel, message, stop=True)
    else:
        _record_health(channel, last_error=message[:2000], last_error_at=timezone.now())


def _record_failure(channel: Channel, message: str, *, stop: bool, progressed: bool = False) -> None:
    """``progressed``: the poll stored new items before the failure; the count of failures in a
    row starts again at one."""
    failures = Channel.objects.filter(pk=channel.pk).values_list("consecutive_failures", flat=True).first() or 0
    failures = 1 if progressed else failures + 1
    if stop:
        # Retrying with the same credentials or settings cannot help: wait for a person.
        state, next_poll = Channel.State.RECONNECT, timezone.now() + timedelta(days=3650)
    else:
        state, next_poll = Channel.State.BACKING_OFF, timezone.now() + timedelta(seconds=backoff_seconds(failures))
    _record_health(
        channel,
        state=state,
        consecutive_failures=failures,
        last_error=message[:2000],
        last_error_at=timezone.now(),
        next_poll_at=next_poll,
    )


def _record_health(channel: Channel, **fields: Any) -> None:
    # An UPDATE of these fields only: the cursor saved by ingestion is never overwritten. An error
    # message may quote what the platform sent, NUL included.
    fields = {name: storable_text(value) if isinstance(value, str) else value for name, value in fields.items()}
    Channel.objects.filter(pk=channel.pk).update(**fields)
    for name, value in fields.items():
        setattr(channel, name, value)


def channel_resume(*, channel: Channel, now: datetime | None = None) -> None:
    """Poll a channel now: after new credentials, a pause, or a person asking for it."""
    _record_health(channel, state=Channel.State.OK, consecutive_failures=0, next_poll_at=now or timezone.now())
