"""Public replies: writing one, approving it, and delivering it through the channel's connector.

The ``Reply`` row is the idempotency key. Delivery claims the row with a conditional UPDATE
(queued → sending) before it calls the platform, so a retried or redelivered task, or two workers
racing, post at most once; a row that is sending or sent is never posted again.
"""

from __future__ import annotations

import logging
import re
import time
from dataclasses import dataclass
from datetime import datetime, timedelta

from celery.exceptions import SoftTimeLimitExceeded
from django.contrib.auth.models import AbstractBaseUser
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import F, Q, QuerySet
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from config.backoff import backoff_seconds as jittered_backoff
from config.celery import queue_after_commit
from config.people import person_name
from listening.connectors import connector_class, get_connector, scrub_error
from listening.connectors.base import ConnectorError, PostedReply, RateLimited
from listening.models import Mention, MentionEvent, Platform
from listening.services import mention_set_status
from responses.models import Reply, SavedReply, Ticket, WebhookEvent
from responses.tickets import ticket_on_reply_sent
from responses.webhooks import reply_data, webhook_event

logger = logging.getLogger(__name__)

# Deliveries per reply before a transient failure (5xx, timeout, 429) becomes "failed".
MAX_DELIVERY_ATTEMPTS = 5
BACKOFF_BASE_SECONDS = 15
BACKOFF_MAX_SECONDS = 15 * 60
# Longer than the send task's hard time limit: a row "sending" for this long has no worker left.
SENDING_STALE_SECONDS = 5 * 60


def reply_max_length(mention: Mention) -> int:
    """The platform's limit for one reply; 0 means the platform cannot be answered from here."""
    return connector_class(mention.channel.platform).reply_max_length


def reply_target(mention: Mention) -> str:
    """The platform id to answer so the reply lands in the mention's conversation.

    YouTube, Facebook and Instagram nest comments one level only: a reply is answered on its
    top-level comment (YouTube's comments.insert takes a top-level ``parentId``:
    https://developers.google.com/youtube/v3/docs/comments/insert; Instagram's replies edge only
    takes top-level comments:
    https://developers.facebook.com/docs/instagram-platform/instagram-graph-api/reference/ig-comment/replies;
    LinkedIn nests a comment under a top-level ``parentComment`` only:
    https://learn.microsoft.com/linkedin/marketing/community-management/shares/comments-api).
    X threads any tweet.
    """
    one_level = mention.channel.platform in (
        Platform.YOUTUBE,
        Platform.FACEBOOK,
        Platform.INSTAGRAM,
        Platform.LINKEDIN,
    )
    if one_level and mention.kind == Mention.Kind.REPLY and mention.parent_external_id:
        return mention.parent_external_id
    return mention.external_id


def reply_validate(*, mention: Mention, text: str) -> str:
    """The text as it will be posted, or a ValidationError a person can act on."""
    text = text.strip()
    limit = reply_max_length(mention)
    if limit <= 0:
        raise ValidationError(_("Feeds (blogs, forums, news) cannot be answered from Escucha: reply on the site."))
    if not text:
        raise ValidationError(_("Write a reply first."))
    # Counted as the platform counts it: X weighs characters and counts a link as 23.
    length = connector_class(mention.channel.platform).text_length(text)
    if length > limit:
        raise ValidationError(
            _("This reply is %(length)d characters long; %(platform)s allows %(limit)d."),
            params={"length": length, "platform": mention.channel.get_platform_display(), "limit": limit},
        )
    return text


def _enqueue(reply: Reply) -> None:
    queue_after_commit("responses.send_reply", reply.pk)


@transaction.atomic
def reply_create(*, mention: Mention, author: AbstractBaseUser, text: str, ticket: Ticket | None = None) -> Reply:
    """Write a reply. It waits for approval when the brand asks for it and the author may not publish."""
    text = reply_validate(mention=mention, text=text)
    needs_approval = mention.brand.require_reply_approval and not author.has_perm("responses.publish_reply")
    reply = Reply.objects.create(
        mention=mention,
        ticket=ticket,
        author=author,
        text=text,
        status=Reply.Status.PENDING_APPROVAL if needs_approval else Reply.Status.QUEUED,
    )
    if not needs_approval:
        _enqueue(reply)
    return reply


def _move(reply: Reply, source: str, **changes: object) -> bool:
    """Conditional UPDATE: only one caller wins a transition; the loser sees False."""
    won = Reply.objects.filter(pk=reply.pk, status=source).update(**changes) == 1
    if won:
        reply.refresh_from_db()
    return won


@transaction.atomic
def reply_approve(*, reply: Reply, user: AbstractBaseUser) -> Reply:
    if not user.has_perm("responses.publish_reply"):
        raise PermissionDenied
    if not _move(reply, Reply.Status.PENDING_APPROVAL, status=Reply.Status.QUEUED, approved_by=user):
        raise ValidationError(_("This reply is no longer waiting for approval."))
    _enqueue(reply)
    return reply


@transaction.atomic
def reply_reject(*, reply: Reply, user: AbstractBaseUser, reason: str = "") -> Reply:
    if not user.has_perm("responses.publish_reply"):
        raise PermissionDenied
    note = reason.strip() or _("Rejected by %(user)s") % {"user": person_name(user)}
    if not _move(reply, Reply.Status.PENDING_APPROVAL, status=Reply.Status.REJECTED, approved_by=user, error=note):
        raise ValidationError(_("This reply is no longer waiting for approval."))
    return reply


@transaction.atomic
def reply_retry(*, reply: Reply, user: AbstractBaseUser) -> Reply:
    """Queue a failed reply again. Only failed ones: a sent reply is never posted twice."""
    if not _move(reply, Reply.Status.FAILED, status=Reply.Status.QUEUED, error=""):
        raise ValidationError(_("Only a failed reply can be retried."))
    _enqueue(reply)
    return reply


@dataclass(frozen=True)
class Delivery:
    """What one delivery attempt did: sent, retry (in ``retry_in`` seconds), failed, skipped, or requeued
    (an interrupted delivery looked up and not found on the platform)."""

    outcome: str
    retry_in: float = 0.0


def backoff_seconds(attempt: int) -> float:
    """The platforms' backoff at the replies' own pace: 15 s doubling up to 15 minutes."""
    return jittered_backoff(attempt, base=BACKOFF_BASE_SECONDS, cap=BACKOFF_MAX_SECONDS)


def reply_deliver(*, reply_id: int) -> Delivery:
    """Post one queued reply. Called by the ``responses.send_reply`` task; safe to call again."""
    claimed = Reply.objects.filter(pk=reply_id, status=Reply.Status.QUEUED).update(
        status=Reply.Status.SENDING, attempts=F("attempts") + 1, claimed_at=timezone.now()
    )
    if not claimed:
        # Gone, already sent, being sent by another worker, waiting for approval or failed.
        if _give_up_interrupted(reply_id):
            status = Reply.objects.filter(pk=reply_id).values_list("status", flat=True).first()
            return Delivery({Reply.Status.SENT: "sent", Reply.Status.QUEUED: "requeued"}.get(status, "failed"))
        return Delivery("skipped")
    reply = Reply.objects.select_related("mention__channel", "mention__brand").get(pk=reply_id)
    mention = reply.mention
    try:
        posted = get_connector(mention.channel).post_reply(reply_target(mention), reply.text)
    except RateLimited as exc:
        return _transient(reply, exc, wait=exc.retry_after)
    except ConnectorError as exc:
        if exc.permanent:
            return _fail(reply, scrub_error(exc, channel=mention.channel))
        return _transient(reply, exc, wait=backoff_seconds(reply.attempts))
    except Exception as exc:  # unknown outcome: the post may have gone out, so never retry it alone
        logger.exception("reply %s: unexpected error while posting", reply_id)
        error = scrub_error(exc, channel=mention.channel)
        return _fail(reply, _("Unexpected error (%(error)s); check the platform before retrying.") % {"error": error})

    _record_sent(reply, posted)
    return Delivery("sent")


def _record_sent(reply: Reply, posted: PostedReply, *, check: str = "") -> None:
    """Mark a claimed reply sent as ``posted``, then what follows from it (``check``: the note of a
    platform lookup that found it, for the mention's history)."""
    mention = reply.mention
    # Recorded first, with its webhook only: the post is out, and nothing that follows may make it
    # look unsent (an unsent-looking row would invite a second post).
    with transaction.atomic():
        Reply.objects.filter(pk=reply.pk).update(
            status=Reply.Status.SENT,
            external_id=posted.external_id,
            external_url=posted.url,
            sent_at=timezone.now(),
            error="",
        )
        reply.refresh_from_db()
        _announce(reply, WebhookEvent.REPLY_SENT)
        if check:
            _history(reply, MentionEvent.ReplyCheck.FOUND, check)
    with transaction.atomic():
        # The claim makes this the only path to "sent" for this row: ticket_on_reply_sent runs once.
        mention_set_status(mention=mention, status=Mention.Status.REPLIED, actor=reply.author)
        ticket_on_reply_sent(reply=reply)


def _announce(reply: Reply, event: str) -> None:
    """The brand's webhooks hear that a reply went out or failed (in the caller's transaction)."""
    reply = Reply.objects.select_related("mention__brand").get(pk=reply.pk)
    webhook_event(event=event, brand=reply.mention.brand, data={"reply": reply_data(reply)})


def _give_up_interrupted(reply_id: int) -> bool:
    """A row still "sending" long after its claim: the worker died mid-post (the broker redelivered)."""
    return bool(_settle_interrupted(Reply.objects.filter(pk=reply_id)))


def _settle_interrupted(replies: QuerySet[Reply], *, budget_seconds: float | None = None) -> int:
    """Rows "sending" long after their claim: whether the platform got the post is unknown, so it
    is never posted again blindly. Where the platform lets us read the brand's answers back, the
    reply is looked up: found, it is recorded as sent; certainly absent, it is queued again; else
    (and where no lookup exists) it becomes failed for a person to check before retrying.

    With ``budget_seconds``, no lookup starts after that long: the rest wait, still stale, for the
    next sweep (each lookup is an HTTP call of up to HTTP_TIMEOUT_SECONDS).
    """
    started = time.monotonic()
    stale = timezone.now() - timedelta(seconds=SENDING_STALE_SECONDS)
    settled = 0
    rows = replies.filter(status=Reply.Status.SENDING, claimed_at__lt=stale).values_list("pk", "claimed_at")
    for pk, claimed_at in rows[:500]:
        if budget_seconds is not None and time.monotonic() - started > budget_seconds:
            break
        # Taken anew by a conditional UPDATE, so one worker looks it up; the lookup is bounded by
        # the connector's HTTP timeout, far inside SENDING_STALE_SECONDS.
        if not Reply.objects.filter(pk=pk, status=Reply.Status.SENDING, claimed_at=claimed_at).update(
            claimed_at=timezone.now()
        ):
            continue
        settled += 1
        reply = Reply.objects.select_related("mention__channel", "mention__brand").get(pk=pk)
        found, reason = _look_up(reply, since=claimed_at - LOOKUP_MARGIN)
        if found is not None:
            _record_sent(reply, found, check=found.external_id)
        elif not reason:
            with transaction.atomic():
                if Reply.objects.filter(pk=pk, status=Reply.Status.SENDING).update(
                    status=Reply.Status.QUEUED,
                    error=_("Delivery was interrupted and the reply is not on the platform; sending it again."),
                ):
                    _history(reply, MentionEvent.ReplyCheck.ABSENT, "")
                    _enqueue(reply)
        else:
            with transaction.atomic():
                # One row at a time, each conditional: the one that moves it is the one that announces it.
                if Reply.objects.filter(pk=pk, status=Reply.Status.SENDING).update(
                    status=Reply.Status.FAILED,
                    error=_("Delivery was interrupted; check on the platform whether it went out before retrying."),
                ):
                    _history(reply, MentionEvent.ReplyCheck.UNKNOWN, reason)
                    _announce(Reply(pk=pk), WebhookEvent.REPLY_FAILED)
    return settled


# The lookup reads the brand's answers from a little before the interrupted claim (clocks differ).
LOOKUP_MARGIN = timedelta(minutes=2)
# How long a sweep spends looking interrupted replies up: inside its 50 s soft time limit, with one
# lookup's HTTP timeout (20 s by default) to spare.
SWEEP_LOOKUP_SECONDS = 25


def _look_up(reply: Reply, *, since: datetime) -> tuple[PostedReply | None, str]:
    """(the brand's answer found on the platform, "") / (None, "") when it is certainly not there /
    (None, why not) when the platform cannot tell or cannot be asked."""
    channel = reply.mention.channel
    try:
        return get_connector(channel).find_reply(reply_target(reply.mention), reply.text, since=since), ""
    except SoftTimeLimitExceeded:
        raise  # the task is out of time, not the platform unsure: the row stays for the next sweep
    except NotImplementedError:
        return None, str(_("this platform's answers cannot be read back"))
    except ConnectorError as exc:
        return None, scrub_error(exc, channel=channel)
    except Exception as exc:  # any surprise means "cannot tell": a person looks
        logger.exception("reply %s: unexpected error while looking it up", reply.pk)
        return None, scrub_error(exc, channel=channel)


def _history(reply: Reply, outcome: str, note: str) -> None:
    MentionEvent.objects.create(
        mention_id=reply.mention_id,
        kind=MentionEvent.Kind.REPLY_CHECK,
        new_value=outcome,
        note=str(note)[:1000],
    )


QUEUED_LOST_SECONDS = 15 * 60


def replies_sweep() -> tuple[int, int]:
    """Catch replies whose task went missing; returns (interrupted ones settled, queued again).

    A row left "sending" by a worker that died, with no redelivery to notice it, is looked up on
    the platform and recorded as sent, queued again or failed with a reason for a person
    (``_settle_interrupted``); never posted again blindly. A row "queued" for long with no worker
    ever claiming it (a message lost with the broker) is queued again: the claim makes that safe.
    """
    interrupted = _settle_interrupted(Reply.objects.all(), budget_seconds=SWEEP_LOOKUP_SECONDS)
    lost_before = timezone.now() - timedelta(seconds=QUEUED_LOST_SECONDS)
    lost = list(
        Reply.objects.filter(status=Reply.Status.QUEUED, created_at__lt=lost_before)
        .filter(Q(claimed_at__isnull=True) | Q(claimed_at__lt=lost_before))
        .only("pk")[:500]
    )
    for reply in lost:
        _enqueue(reply)
    return interrupted, len(lost)


def _transient(reply: Reply, exc: ConnectorError, *, wait: float) -> Delivery:
    error = scrub_error(exc, channel=reply.mention.channel)
    if reply.attempts >= MAX_DELIVERY_ATTEMPTS:
        return _fail(reply, _("Gave up after %(n)d attempts: %(error)s") % {"n": reply.attempts, "error": error})
    Reply.objects.filter(pk=reply.pk, status=Reply.Status.SENDING).update(
        status=Reply.Status.QUEUED, error=_("Retrying: %(error)s") % {"error": error}
    )
    return Delivery("retry", retry_in=wait)


@transaction.atomic
def _fail(reply: Reply, reason: str) -> Delivery:
    if Reply.objects.filter(pk=reply.pk, status=Reply.Status.SENDING).update(
        status=Reply.Status.FAILED, error=str(reason)[:2000]
    ):
        _announce(reply, WebhookEvent.REPLY_FAILED)
    return Delivery("failed")


# --- Saved replies ----------------------------------------------------------------------------
# The variables a saved reply may use; the form refuses any other "{{ … }}".
SAVED_REPLY_VARIABLES = ("author.name", "author.handle", "brand.name", "agent.first_name")
_VARIABLE = re.compile(r"\{\{\s*(" + "|".join(re.escape(name) for name in SAVED_REPLY_VARIABLES) + r")\s*\}\}")


def saved_reply_render(*, saved_reply: SavedReply, mention: Mention, agent: AbstractBaseUser) -> str:
    """The saved reply's text with its four variables filled in.

    Plain substitution in one pass, never the template engine: an author called
    ``{{ brand.name }}`` or ``{% debug %}`` is inserted as those characters, not evaluated.
    """
    author = mention.author
    handle = f"@{author.handle}" if author.handle else author.name
    values = {
        "author.name": author.name or handle,
        "author.handle": handle,
        "brand.name": mention.brand.name,
        "agent.first_name": getattr(agent, "first_name", "") or agent.get_username(),
    }
    return _VARIABLE.sub(lambda match: values[match.group(1)], saved_reply.body)
