"""Sending one thing to a platform exactly once: a reply (``responses.replies``), a post on one
channel (``publishing.services``).

The row is the idempotency key. It is claimed with a conditional UPDATE (ready → sending, with an
attempt and a claim stamp) before the platform is called, so a retried or redelivered task, or two
workers racing, send at most once; a row that is sending or done is never sent again. What the
platform answers decides the rest: its id is recorded; a transient error (5xx, timeout, 429) puts
the row back to ready with a backoff until the attempts run out; a permanent one fails it with the
platform's reason. A row left sending by a worker that died mid-send is never sent again blindly:
the platform is asked whether it has it (``find_reply`` / ``find_post``) and the row is recorded as
done, made ready again, or failed for a person to check.

Each kind of row says only what differs, by subclassing ``Outbound``: its model and statuses, how
to call the connector and how to look the row up there, and what history to record.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any, ClassVar

from celery.exceptions import SoftTimeLimitExceeded
from django.db import models, transaction
from django.db.models import F, QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _

from listening.connectors import scrub_error
from listening.connectors.base import ConnectorError, PostedReply, RateLimited

if TYPE_CHECKING:
    from listening.models import Channel

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class Attempt:
    """What one attempt did: done (``Outbound.done_outcome``: "sent", "published"), retry (in
    ``retry_in`` seconds), failed, skipped, or requeued (an interrupted send looked up and not found
    on the platform)."""

    outcome: str
    retry_in: float = 0.0


class Outbound:
    """One kind of row sent to a platform once. Subclasses set the attributes and the hooks."""

    model: ClassVar[type[models.Model]]
    # The row's statuses: claimable, claimed, sent and failed.
    ready: ClassVar[str]
    sending: ClassVar[str]
    done: ClassVar[str]
    failed: ClassVar[str]
    done_outcome: ClassVar[str]
    # The row's field stamped with the time the platform took it.
    done_at: ClassVar[str]
    # Attempts before a transient failure becomes "failed".
    max_attempts: ClassVar[int]
    # Longer than the send task's hard time limit: a row sending this long has no worker left.
    stale_seconds: ClassVar[int]
    # The lookup reads the platform from a little before the interrupted claim (clocks differ).
    lookup_margin: ClassVar[timedelta] = timedelta(minutes=2)
    # For the log: what a row is, and what sending it is called.
    noun: ClassVar[str]
    verb: ClassVar[str]

    # --- What differs ------------------------------------------------------------------------------
    def claimable(self, rows: QuerySet, *, now: datetime) -> QuerySet:
        """``rows`` narrowed to the ones that may be claimed ``now`` (a post waits for its time)."""
        return rows

    def load(self, pk: int) -> Any:
        """The row with what sending it reads (its channel above all)."""
        raise NotImplementedError

    def channel(self, row: Any) -> Channel:
        raise NotImplementedError

    def send(self, row: Any) -> PostedReply:
        """Call the platform: the one place that sends."""
        raise NotImplementedError

    def find(self, row: Any, *, since: datetime) -> PostedReply | None:
        """Ask the platform whether it has the row since ``since``; raises like the connector."""
        raise NotImplementedError

    def backoff(self, attempts: int) -> float:
        raise NotImplementedError

    def record(self, row: Any, posted: PostedReply, *, check: str = "") -> None:
        """Record a claimed row as done (``mark_done``) and what follows from it; ``check`` is the
        note of a lookup that found it on the platform."""
        raise NotImplementedError

    def failed_history(self, row: Any, reason: str) -> None:
        """What a row that just failed leaves behind (in the transaction that failed it)."""

    def requeue_changes(self) -> dict[str, Any]:
        """Fields set besides the status when an interrupted row is made ready again."""
        return {}

    def requeued_history(self, row: Any) -> None:
        """An interrupted row not on the platform was made ready again: its history, its task."""

    def unsure_history(self, row: Any, reason: str) -> None:
        """An interrupted row the platform could not tell about was failed: its history."""

    absent_note: ClassVar[Any]  # the row's error when an interrupted row is sent again
    unsure_note: ClassVar[Any]  # the row's error when a person must check the platform
    unreadable_note: ClassVar[Any]  # why a platform that cannot be read back cannot tell

    # --- The one mechanism -------------------------------------------------------------------------
    def deliver(self, pk: int) -> Attempt:
        """Send one ready row. Safe to call again: only the call that claims the row sends it."""
        now = timezone.now()
        rows = self.claimable(self.model.objects.filter(pk=pk, status=self.ready), now=now)
        if not rows.update(status=self.sending, attempts=F("attempts") + 1, claimed_at=now):
            # Gone, already done, being sent by another worker, not ready yet, or failed; or left
            # sending by a worker that died (the broker redelivered): that one is settled now.
            if self.settle_interrupted(self.model.objects.filter(pk=pk)):
                status = self.model.objects.filter(pk=pk).values_list("status", flat=True).first()
                return Attempt({self.done: self.done_outcome, self.ready: "requeued"}.get(status, "failed"))
            return Attempt("skipped")
        row = self.load(pk)
        channel = self.channel(row)
        try:
            posted = self.send(row)
        except RateLimited as exc:
            return self._transient(row, exc, wait=exc.retry_after)
        except ConnectorError as exc:
            if exc.permanent:
                return self._fail(row, scrub_error(exc, channel=channel))
            return self._transient(row, exc, wait=self.backoff(row.attempts))
        except Exception as exc:  # unknown outcome: it may have gone out, so never sent again alone
            logger.exception("%s %s: unexpected error while %s", self.noun, pk, self.verb)
            error = scrub_error(exc, channel=channel)
            return self._fail(
                row, _("Unexpected error (%(error)s); check the platform before retrying.") % {"error": error}
            )
        self.record(row, posted)
        return Attempt(self.done_outcome)

    def mark_done(self, row: Any, posted: PostedReply) -> None:
        """The claimed row is done as ``posted``: nothing after this may make it look unsent."""
        self.model.objects.filter(pk=row.pk).update(
            status=self.done,
            external_id=posted.external_id,
            external_url=posted.url,
            error="",
            **{self.done_at: timezone.now()},
        )

    def settle_interrupted(self, rows: QuerySet, *, budget_seconds: float | None = None, limit: int = 500) -> int:
        """Rows of ``rows`` sending long after their claim: whether the platform got them is unknown,
        so none is sent again blindly. Each is looked up: found, recorded as done; certainly absent,
        made ready again; else (and where the platform cannot be read back) failed for a person to
        check before retrying. Returns how many were settled.

        With ``budget_seconds``, no lookup starts after that long: the rest wait, still stale, for the
        next sweep (each lookup is an HTTP call of up to HTTP_TIMEOUT_SECONDS).
        """
        started = time.monotonic()
        stale = timezone.now() - timedelta(seconds=self.stale_seconds)
        settled = 0
        found_rows = rows.filter(status=self.sending, claimed_at__lt=stale).values_list("pk", "claimed_at")
        for pk, claimed_at in found_rows[:limit]:
            if budget_seconds is not None and time.monotonic() - started > budget_seconds:
                break
            # Taken anew by a conditional UPDATE, so one worker looks it up; the lookup is bounded by
            # the connector's HTTP timeout, far inside the stale time.
            if not self.model.objects.filter(pk=pk, status=self.sending, claimed_at=claimed_at).update(
                claimed_at=timezone.now()
            ):
                continue
            settled += 1
            row = self.load(pk)
            found, reason = self._look_up(row, since=claimed_at - self.lookup_margin)
            if found is not None:
                self.record(row, found, check=found.external_id)
            elif not reason:
                with transaction.atomic():
                    if self.model.objects.filter(pk=pk, status=self.sending).update(
                        status=self.ready, error=str(self.absent_note), **self.requeue_changes()
                    ):
                        self.requeued_history(row)
            else:
                with transaction.atomic():
                    # One row at a time, each conditional: the one that moves it is the one that tells.
                    if self.model.objects.filter(pk=pk, status=self.sending).update(
                        status=self.failed, error=str(self.unsure_note)
                    ):
                        self.unsure_history(row, reason)
        return settled

    def _look_up(self, row: Any, *, since: datetime) -> tuple[PostedReply | None, str]:
        """(the row found on the platform, "") / (None, "") when it is certainly not there /
        (None, why not) when the platform cannot tell or cannot be asked."""
        channel = self.channel(row)
        try:
            return self.find(row, since=since), ""
        except SoftTimeLimitExceeded:
            raise  # the task is out of time, not the platform unsure: the row stays for the next sweep
        except NotImplementedError:
            return None, str(self.unreadable_note)
        except ConnectorError as exc:
            return None, scrub_error(exc, channel=channel)
        except Exception as exc:  # any surprise means "cannot tell": a person looks
            logger.exception("%s %s: unexpected error while looking it up", self.noun, row.pk)
            return None, scrub_error(exc, channel=channel)

    def _transient(self, row: Any, exc: ConnectorError, *, wait: float) -> Attempt:
        error = scrub_error(exc, channel=self.channel(row))
        if row.attempts >= self.max_attempts:
            return self._fail(row, _("Gave up after %(n)d attempts: %(error)s") % {"n": row.attempts, "error": error})
        self.model.objects.filter(pk=row.pk, status=self.sending).update(
            status=self.ready, error=_("Retrying: %(error)s") % {"error": error}
        )
        return Attempt("retry", retry_in=wait)

    @transaction.atomic
    def _fail(self, row: Any, reason: str) -> Attempt:
        if self.model.objects.filter(pk=row.pk, status=self.sending).update(
            status=self.failed, error=str(reason)[:2000]
        ):
            self.failed_history(row, reason)
        return Attempt("failed")
