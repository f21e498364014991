"""Public replies: writing one, approving it, and delivering it through the channel's connector.

The ``Reply`` row is the idempotency key. Delivery (``listening.delivery``, as for posts) claims the
row with a conditional UPDATE (queued → sending) before it calls the platform, so a retried or
redelivered task, or two workers racing, post at most once; a row that is sending or sent is never
posted again, and one left sending by a dead worker is looked up on the platform first.
"""

from __future__ import annotations

import re
from datetime import datetime, timedelta

from django.contrib.auth.models import AbstractBaseUser
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from config.backoff import backoff_seconds as jittered_backoff
from config.celery import queue_after_commit
from config.people import person_name
from listening.connectors import connector_class, get_connector
from listening.connectors.base import PostedReply
from listening.delivery import Attempt, Outbound
from listening.models import Channel, Mention, MentionEvent, Platform
from listening.services import mention_set_status
from responses.models import Reply, SavedReply, Ticket, WebhookEvent
from responses.tickets import ticket_on_reply_sent
from responses.webhooks import reply_data, webhook_event

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


def backoff_seconds(attempt: int) -> float:
    """The platforms' backoff at the replies' own pace: 15 s doubling up to 15 minutes."""
    return jittered_backoff(attempt, base=BACKOFF_BASE_SECONDS, cap=BACKOFF_MAX_SECONDS)


class _Replies(Outbound):
    """A reply is sent once as ``listening.delivery`` sends anything: here only what is its own."""

    model = Reply
    ready = Reply.Status.QUEUED
    sending = Reply.Status.SENDING
    done = Reply.Status.SENT
    failed = Reply.Status.FAILED
    done_outcome = "sent"
    done_at = "sent_at"
    max_attempts = MAX_DELIVERY_ATTEMPTS
    stale_seconds = SENDING_STALE_SECONDS
    noun, verb = "reply", "posting"
    absent_note = _("Delivery was interrupted and the reply is not on the platform; sending it again.")
    unsure_note = _("Delivery was interrupted; check on the platform whether it went out before retrying.")
    unreadable_note = _("this platform's answers cannot be read back")

    def load(self, pk: int) -> Reply:
        return Reply.objects.select_related("mention__channel", "mention__brand").get(pk=pk)

    def channel(self, reply: Reply) -> Channel:
        return reply.mention.channel

    def send(self, reply: Reply) -> PostedReply:
        return get_connector(reply.mention.channel).post_reply(reply_target(reply.mention), reply.text)

    def find(self, reply: Reply, *, since: datetime) -> PostedReply | None:
        return get_connector(reply.mention.channel).find_reply(reply_target(reply.mention), reply.text, since=since)

    def backoff(self, attempts: int) -> float:
        return backoff_seconds(attempts)

    def record(self, reply: Reply, posted: PostedReply, *, check: str = "") -> None:
        _record_sent(reply, posted, check=check)

    def failed_history(self, reply: Reply, reason: str) -> None:
        _announce(reply, WebhookEvent.REPLY_FAILED)

    def requeued_history(self, reply: Reply) -> None:
        _history(reply, MentionEvent.ReplyCheck.ABSENT, "")
        _enqueue(reply)

    def unsure_history(self, reply: Reply, reason: str) -> None:
        _history(reply, MentionEvent.ReplyCheck.UNKNOWN, reason)
        _announce(Reply(pk=reply.pk), WebhookEvent.REPLY_FAILED)


REPLIES = _Replies()


def reply_deliver(*, reply_id: int) -> Attempt:
    """Post one queued reply. Called by the ``responses.send_reply`` task; safe to call again.
    Outcomes: sent, retry, failed, skipped or requeued (``listening.delivery.Attempt``)."""
    return REPLIES.deliver(reply_id)


def _record_sent(reply: Reply, posted: PostedReply, *, check: str = "") -> None:
    """Mark a claimed reply sent as ``posted``, then what follows from it (``check``: the note of a
    platform lookup that found it, for the mention's history)."""
    mention = reply.mention
    # Recorded first, with its webhook only: the post is out, and nothing that follows may make it
    # look unsent (an unsent-looking row would invite a second post).
    with transaction.atomic():
        REPLIES.mark_done(reply, posted)
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


def _history(reply: Reply, outcome: str, note: str) -> None:
    MentionEvent.objects.create(
        mention_id=reply.mention_id,
        kind=MentionEvent.Kind.REPLY_CHECK,
        new_value=outcome,
        note=str(note)[:1000],
    )


# How long a sweep spends looking interrupted replies up: inside its 50 s soft time limit, with one
# lookup's HTTP timeout (20 s by default) to spare.
SWEEP_LOOKUP_SECONDS = 25
QUEUED_LOST_SECONDS = 15 * 60


def replies_sweep() -> tuple[int, int]:
    """Catch replies whose task went missing; returns (interrupted ones settled, queued again).

    A row left "sending" by a worker that died, with no redelivery to notice it, is looked up on
    the platform and recorded as sent, queued again or failed with a reason for a person
    (``Outbound.settle_interrupted``); never posted again blindly. A row "queued" for long with no
    worker ever claiming it (a message lost with the broker) is queued again: the claim makes that safe.
    """
    interrupted = REPLIES.settle_interrupted(Reply.objects.all(), budget_seconds=SWEEP_LOOKUP_SECONDS)
    lost_before = timezone.now() - timedelta(seconds=QUEUED_LOST_SECONDS)
    lost = list(
        Reply.objects.filter(status=Reply.Status.QUEUED, created_at__lt=lost_before)
        .filter(Q(claimed_at__isnull=True) | Q(claimed_at__lt=lost_before))
        .only("pk")[:500]
    )
    for reply in lost:
        _enqueue(reply)
    return interrupted, len(lost)


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
