"""Posts: writing one, its approval, scheduling, and publishing it through the channel's connector.

Every state change is a conditional UPDATE on the targets' status, so two people (or a person and a
worker) acting at once cannot both win, and each change adds a line to the post's history.

Publishing sends once as replies do, through ``listening.delivery``: the ``PostTarget`` row is claimed
(scheduled → publishing) before the platform is called, so a redelivered or repeated task publishes
nothing; a row left "publishing" by a dead worker is looked up on the platform (``find_post``)
before anything is published again, never posted twice blindly.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from datetime import datetime, timedelta

from django.contrib.auth.models import AbstractBaseUser
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import Q, QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from config.backoff import backoff_seconds as jittered_backoff
from config.celery import queue_after_commit
from listening.connectors import connector_class, get_connector, scrub_error
from listening.connectors.base import ConnectorError, PostedReply
from listening.delivery import Attempt, Outbound
from listening.models import Brand, Channel, TrackedTerm
from listening.selectors import brands_for_user
from publishing.models import Post, PostEvent, PostMetrics, PostTarget

logger = logging.getLogger(__name__)

Status = PostTarget.Status
# Publications per target before a transient failure (5xx, timeout, 429) becomes "failed".
MAX_ATTEMPTS = 5
# Longer than the publish task's hard time limit: a row "publishing" this long has no worker left.
PUBLISHING_STALE_SECONDS = 5 * 60
# A queued target no worker claimed for this long lost its message (a broker restart): queued again.
QUEUED_LOST_SECONDS = 15 * 60
# The lookup reads the brand's posts from a little before the interrupted claim (clocks differ).
LOOKUP_MARGIN = timedelta(minutes=2)
EDITABLE = (Status.DRAFT,)


# --- What a channel can take ---------------------------------------------------------------------
def channel_can_publish(channel: Channel) -> bool:
    """Whether Escucha can publish on this channel's platform (not on feeds, YouTube or Instagram)."""
    return connector_class(channel.platform).post_max_length > 0


def publishable_channels(brand: Brand) -> list[Channel]:
    return [channel for channel in brand.channels.order_by("name") if channel_can_publish(channel)]


def post_length(*, channel: Channel, text: str, link: str = "") -> tuple[int, int]:
    """(the text's length as the platform counts it, with the link where it travels in the text; the limit)."""
    connector = connector_class(channel.platform)
    return connector.text_length(connector.post_text(text, link)), connector.post_max_length


def post_text_validate(*, channel: Channel, text: str, link: str = "") -> str:
    """The text as it will be published on ``channel``, or a ValidationError a person can act on."""
    text = text.strip()
    if not channel_can_publish(channel):
        raise ValidationError(
            _("%(platform)s cannot be posted to from Escucha: publish there by hand.")
            % {"platform": channel.get_platform_display()}
        )
    if not text:
        raise ValidationError(_("Write the post for %(channel)s first.") % {"channel": channel.name})
    length, limit = post_length(channel=channel, text=text, link=link)
    if length > limit:
        raise ValidationError(
            _(
                "The post for %(channel)s is %(length)d characters long as %(platform)s counts them; it allows %(limit)d."
            )
            % {"channel": channel.name, "length": length, "platform": channel.get_platform_display(), "limit": limit}
        )
    return text


def _history(post: Post, kind: str, actor: AbstractBaseUser | None = None, note: str = "", target=None) -> None:
    PostEvent.objects.create(post=post, target=target, actor=actor, kind=kind, note=str(note)[:4000])


def _check_brand(brand: Brand, user: AbstractBaseUser) -> None:
    if not brands_for_user(user).filter(pk=brand.pk).exists():
        raise PermissionDenied


# --- Writing -------------------------------------------------------------------------------------
@transaction.atomic
def post_create(
    *,
    brand: Brand,
    author: AbstractBaseUser,
    text: str,
    channels: Iterable[Channel],
    texts: dict[int, str] | None = None,
    link: str = "",
    campaign: TrackedTerm | None = None,
    scheduled_at: datetime | None = None,
) -> Post:
    """A draft post for ``channels`` of ``brand``; ``texts`` (channel id → text) where a platform gets its own."""
    if not author.has_perm("publishing.add_post"):
        raise PermissionDenied
    _check_brand(brand, author)
    post = Post(brand=brand, author=author, campaign=campaign, scheduled_at=scheduled_at)
    _write(post, text=text, channels=channels, texts=texts or {}, link=link, campaign=campaign)
    _history(post, PostEvent.Kind.CREATED, author)
    return post


@transaction.atomic
def post_update(
    *,
    post: Post,
    user: AbstractBaseUser,
    text: str,
    channels: Iterable[Channel],
    texts: dict[int, str] | None = None,
    link: str = "",
    campaign: TrackedTerm | None = None,
    scheduled_at: datetime | None = None,
) -> Post:
    """Rewrite a draft (a post sent back with changes asked is a draft again)."""
    if not user.has_perm("publishing.change_post"):
        raise PermissionDenied
    _check_brand(post.brand, user)
    post = Post.objects.select_for_update().get(pk=post.pk)
    if post.targets.exclude(status__in=EDITABLE).exists():
        raise ValidationError(_("Only a draft can be edited."))
    post.scheduled_at = scheduled_at
    _write(post, text=text, channels=channels, texts=texts or {}, link=link, campaign=campaign)
    _history(post, PostEvent.Kind.EDITED, user)
    return post


def _write(
    post: Post,
    *,
    text: str,
    channels: Iterable[Channel],
    texts: dict[int, str],
    link: str,
    campaign: TrackedTerm | None,
) -> None:
    channels = list(channels)
    if not channels:
        raise ValidationError(_("Choose at least one channel."))
    if any(channel.brand_id != post.brand_id for channel in channels):
        raise ValidationError(_("Every channel must be one of the brand's."))
    if campaign is not None and (campaign.brand_id != post.brand_id or campaign.kind != TrackedTerm.Kind.CAMPAIGN):
        raise ValidationError(_("The campaign must be one of the brand's campaign terms."))
    errors = []
    cleaned = {}
    for channel in channels:
        try:
            cleaned[channel.pk] = post_text_validate(channel=channel, text=texts.get(channel.pk) or text, link=link)
        except ValidationError as error:
            errors.extend(error.messages)
    if errors:
        raise ValidationError(errors)
    post.text = text.strip()
    post.link = link.strip()
    post.campaign = campaign
    post.save()
    post.targets.exclude(channel__in=channels).delete()
    for channel in channels:
        PostTarget.objects.update_or_create(
            post=post, channel=channel, defaults={"text": cleaned[channel.pk], "status": Status.DRAFT, "error": ""}
        )


# --- Approval ------------------------------------------------------------------------------------
def _move(post: Post, source: Iterable[str], **changes: object) -> int:
    """Move every target of ``post`` in one of ``source`` states; how many moved (0: someone else won)."""
    return PostTarget.objects.filter(post=post, status__in=list(source)).update(**changes)


def _ready_status(post: Post) -> str:
    return Status.SCHEDULED if post.scheduled_at else Status.APPROVED


@transaction.atomic
def post_submit(*, post: Post, user: AbstractBaseUser) -> Post:
    """Send a draft on: to approval where the brand asks for it, else approved (scheduled if timed)."""
    if not user.has_perm("publishing.change_post"):
        raise PermissionDenied
    _check_brand(post.brand, user)
    post = Post.objects.select_for_update().select_related("brand").get(pk=post.pk)
    if post.brand.require_post_approval:
        if not _move(post, [Status.DRAFT], status=Status.PENDING_APPROVAL):
            raise ValidationError(_("Only a draft can be sent for approval."))
        _history(post, PostEvent.Kind.SUBMITTED, user)
        return post
    if not _move(post, [Status.DRAFT], status=_ready_status(post)):
        raise ValidationError(_("Only a draft can be sent on."))
    Post.objects.filter(pk=post.pk).update(approved_by=user)
    _history(post, PostEvent.Kind.APPROVED, user, _("No approval needed for this brand."))
    if post.scheduled_at:
        _history(post, PostEvent.Kind.SCHEDULED, user, _scheduled_note(post))
    return post


def _approver(post: Post, user: AbstractBaseUser) -> None:
    if not user.has_perm("publishing.approve_post"):
        raise PermissionDenied
    _check_brand(post.brand, user)
    if post.author_id == user.pk:
        raise ValidationError(_("A post is approved by another community manager, not its author."))


@transaction.atomic
def post_approve(*, post: Post, user: AbstractBaseUser, comment: str = "") -> Post:
    post = Post.objects.select_for_update().select_related("brand").get(pk=post.pk)
    _approver(post, user)
    if not _move(post, [Status.PENDING_APPROVAL], status=_ready_status(post)):
        raise ValidationError(_("This post is no longer waiting for approval."))
    Post.objects.filter(pk=post.pk).update(approved_by=user)
    _history(post, PostEvent.Kind.APPROVED, user, comment.strip())
    if post.scheduled_at:
        _history(post, PostEvent.Kind.SCHEDULED, user, _scheduled_note(post))
    return post


@transaction.atomic
def post_request_changes(*, post: Post, user: AbstractBaseUser, comment: str) -> Post:
    """Back to its author as a draft, with what to change."""
    post = Post.objects.select_for_update().select_related("brand").get(pk=post.pk)
    _approver(post, user)
    if not comment.strip():
        raise ValidationError(_("Say what should change."))
    if not _move(post, [Status.PENDING_APPROVAL], status=Status.DRAFT):
        raise ValidationError(_("This post is no longer waiting for approval."))
    _history(post, PostEvent.Kind.CHANGES, user, comment.strip())
    return post


@transaction.atomic
def post_reject(*, post: Post, user: AbstractBaseUser, comment: str = "") -> Post:
    post = Post.objects.select_for_update().select_related("brand").get(pk=post.pk)
    _approver(post, user)
    if not _move(post, [Status.PENDING_APPROVAL], status=Status.REJECTED):
        raise ValidationError(_("This post is no longer waiting for approval."))
    _history(post, PostEvent.Kind.REJECTED, user, comment.strip())
    return post


# --- Scheduling ----------------------------------------------------------------------------------
def _scheduled_note(post: Post) -> str:
    local = timezone.localtime(post.scheduled_at, post.zone)
    return local.strftime("%Y-%m-%d %H:%M ") + post.brand.time_zone


@transaction.atomic
def post_schedule(*, post: Post, user: AbstractBaseUser, at: datetime) -> Post:
    """Set when an approved post goes out (``at``: aware; now or earlier means at the next dispatch).

    A post still in draft or waiting for approval keeps the time and goes out once approved.
    """
    if not user.has_perm("publishing.change_post"):
        raise PermissionDenied
    _check_brand(post.brand, user)
    if timezone.is_naive(at):
        raise ValidationError(_("The time must carry its time zone."))
    post = Post.objects.select_for_update().select_related("brand").get(pk=post.pk)
    if not post.targets.filter(status__in=[Status.DRAFT, Status.PENDING_APPROVAL, Status.APPROVED, Status.SCHEDULED]):
        raise ValidationError(_("This post can no longer be rescheduled."))
    post.scheduled_at = at
    post.save(update_fields=["scheduled_at", "updated_at"])
    _move(post, [Status.APPROVED, Status.SCHEDULED], status=Status.SCHEDULED, queued_at=None)
    _history(post, PostEvent.Kind.SCHEDULED, user, _scheduled_note(post))
    return post


@transaction.atomic
def post_retry(*, target: PostTarget, user: AbstractBaseUser) -> PostTarget:
    """Publish a failed target again. Only failed ones: a published post is never posted twice."""
    if not user.has_perm("publishing.change_post"):
        raise PermissionDenied
    _check_brand(target.post.brand, user)
    if not PostTarget.objects.filter(pk=target.pk, status=Status.FAILED).update(
        status=Status.SCHEDULED, error="", attempts=0, queued_at=timezone.now()
    ):
        raise ValidationError(_("Only a failed post can be retried."))
    _history(target.post, PostEvent.Kind.RETRIED, user, target=target)
    _enqueue(target.pk)
    target.refresh_from_db()
    return target


def _enqueue(target_id: int) -> None:
    queue_after_commit("publishing.publish_target", target_id)


def posts_dispatch_due(*, now: datetime | None = None) -> int:
    """Queue the scheduled targets whose time has come (and those whose message went missing).
    Queued twice is harmless: the claim lets one publication through."""
    now = now or timezone.now()
    lost = now - timedelta(seconds=QUEUED_LOST_SECONDS)
    due = list(
        PostTarget.objects.filter(status=Status.SCHEDULED, post__scheduled_at__lte=now)
        .filter(Q(queued_at__isnull=True) | Q(queued_at__lt=lost))
        .values_list("pk", flat=True)[:500]
    )
    with transaction.atomic():
        PostTarget.objects.filter(pk__in=due, status=Status.SCHEDULED).update(queued_at=now)
        for pk in due:
            _enqueue(pk)
    return len(due)


# --- Publishing ----------------------------------------------------------------------------------
class _Targets(Outbound):
    """A post is published on a channel once as ``listening.delivery`` sends anything: here only
    what is its own (it is claimed only once its time has come, and its history is the post's)."""

    model = PostTarget
    ready = Status.SCHEDULED
    sending = Status.PUBLISHING
    done = Status.PUBLISHED
    failed = Status.FAILED
    done_outcome = "published"
    done_at = "published_at"
    max_attempts = MAX_ATTEMPTS
    stale_seconds = PUBLISHING_STALE_SECONDS
    lookup_margin = LOOKUP_MARGIN
    noun, verb = "post target", "publishing"
    absent_note = gettext_lazy("Publishing was interrupted and the post is not on the platform; publishing it again.")
    unsure_note = gettext_lazy("Publishing was interrupted; check on the platform whether it went out before retrying.")
    unreadable_note = gettext_lazy("this platform's posts cannot be read back")

    def claimable(self, rows: QuerySet, *, now: datetime) -> QuerySet:
        return rows.filter(post__scheduled_at__lte=now)

    def load(self, pk: int) -> PostTarget:
        return PostTarget.objects.select_related("post", "channel").get(pk=pk)

    def channel(self, target: PostTarget) -> Channel:
        return target.channel

    def send(self, target: PostTarget) -> PostedReply:
        return get_connector(target.channel).publish_post(target.text, target.post.link)

    def find(self, target: PostTarget, *, since: datetime) -> PostedReply | None:
        return get_connector(target.channel).find_post(target.text, target.post.link, since=since)

    def backoff(self, attempts: int) -> float:
        return jittered_backoff(attempts, base=15, cap=15 * 60)

    def record(self, target: PostTarget, posted: PostedReply, *, check: str = "") -> None:
        _record_published(target, posted, check=check)

    def failed_history(self, target: PostTarget, reason: str) -> None:
        _history(target.post, PostEvent.Kind.FAILED, note=reason, target=target)

    def requeue_changes(self) -> dict[str, object]:
        return {"queued_at": timezone.now()}

    def requeued_history(self, target: PostTarget) -> None:
        _history(target.post, PostEvent.Kind.CHECKED, note=_("Not on the platform."), target=target)
        _enqueue(target.pk)

    def unsure_history(self, target: PostTarget, reason: str) -> None:
        _history(target.post, PostEvent.Kind.CHECKED, note=reason, target=target)


TARGETS = _Targets()


def target_publish(*, target_id: int) -> Attempt:
    """Publish one due target. Called by the ``publishing.publish_target`` task; safe to call again.
    Outcomes: published, retry, failed, skipped or requeued (``listening.delivery.Attempt``)."""
    return TARGETS.deliver(target_id)


def _record_published(target: PostTarget, posted: PostedReply, *, check: str = "") -> None:
    with transaction.atomic():
        TARGETS.mark_done(target, posted)
        if check:
            _history(
                target.post,
                PostEvent.Kind.CHECKED,
                note=_("Found on the platform: %(id)s") % {"id": check},
                target=target,
            )
        _history(target.post, PostEvent.Kind.PUBLISHED, note=posted.external_id, target=target)


def posts_sweep() -> int:
    """Settle targets left "publishing" by a worker that died with no redelivery to notice it."""
    return TARGETS.settle_interrupted(PostTarget.objects.all(), limit=100)


# --- How it did ----------------------------------------------------------------------------------
# A published post's public counts are read at these ages (a decaying schedule: most engagement
# comes in the first hours, the rest within a week).
METRICS_AGES = (
    (PostMetrics.Age.HOUR, timedelta(hours=1)),
    (PostMetrics.Age.DAY, timedelta(days=1)),
    (PostMetrics.Age.WEEK, timedelta(days=7)),
)


def posts_read_metrics(*, now: datetime | None = None) -> int:
    """Read the counts of every published target that reached an age not read yet; one call per
    channel and age (the connectors batch the ids). A channel whose platform fails is read on the
    next run; returns how many readings were stored."""
    now = now or timezone.now()
    stored = 0
    for age, delay in METRICS_AGES:
        due = (
            PostTarget.objects.filter(status=Status.PUBLISHED, published_at__lte=now - delay)
            .exclude(external_id="")
            .exclude(readings__age=age)
            .select_related("channel")
            .order_by("channel_id", "pk")[:500]
        )
        by_channel: dict[int, list[PostTarget]] = {}
        for target in due:
            by_channel.setdefault(target.channel_id, []).append(target)
        for targets in by_channel.values():
            channel = targets[0].channel
            try:
                counts = get_connector(channel).post_metrics([t.external_id for t in targets])
            except NotImplementedError:
                continue
            except ConnectorError as exc:
                logger.warning("post metrics of channel %s: %s", channel.pk, scrub_error(exc, channel=channel))
                continue
            for target in targets:
                values = counts.get(target.external_id)
                if values is None:
                    continue  # gone from the platform: nothing to count
                with transaction.atomic():
                    _, created = PostMetrics.objects.get_or_create(target=target, age=age, defaults={"values": values})
                    if created:
                        PostTarget.objects.filter(pk=target.pk).update(metrics=values)
                        stored += 1
    return stored
