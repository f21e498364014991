"""What the brand says: posts for its own channels, their approval, their publication, and how they did.

A ``Post`` is what a community manager writes once; a ``PostTarget`` is that post on one channel,
with the text for that platform, its own state and, once out, the platform's id and address. The
target is the idempotency key of a publication, as a ``Reply`` row is of a reply: publishing claims
it with a conditional UPDATE before the platform is called, so it goes out at most once.
"""

from __future__ import annotations

from zoneinfo import ZoneInfo

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from listening.models import Brand, Channel, Mention, Platform, TrackedTerm


def engagement(metrics: dict[str, int]) -> int:
    """One number for how much people engaged with a post, whatever the platform counts: X's likes,
    reposts, replies and quotes; a Page's or a LinkedIn post's reactions, comments and shares (not
    impressions)."""
    keys = ("like_count", "retweet_count", "reply_count", "quote_count", "reactions", "comments", "shares")
    return sum(int(metrics.get(key) or 0) for key in keys)


class Post(models.Model):
    brand = models.ForeignKey(Brand, on_delete=models.CASCADE, related_name="posts")
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="posts"
    )
    text = models.TextField(_("text"), help_text=_("What every channel publishes unless its own text is given."))
    link = models.URLField(_("link"), max_length=2000, blank=True)
    campaign = models.ForeignKey(
        TrackedTerm,
        verbose_name=_("campaign"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="posts",
        limit_choices_to={"kind": TrackedTerm.Kind.CAMPAIGN},
    )
    # When it goes out (UTC in the database; shown and entered in the brand's time zone).
    scheduled_at = models.DateTimeField(_("publish at"), null=True, blank=True)
    approved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(_("created"), default=timezone.now)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["brand", "scheduled_at"], name="post_calendar_idx")]
        permissions = [("approve_post", _("Can approve other people's posts"))]
        verbose_name = _("post")
        verbose_name_plural = _("posts")

    def __str__(self) -> str:
        return self.text[:60]

    @property
    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.brand.time_zone)


class PostTarget(models.Model):
    """One post on one channel: draft → pending approval → approved → scheduled → publishing →
    published, or failed with the platform's reason; rejected ends it."""

    class Status(models.TextChoices):
        DRAFT = "draft", _("Draft")
        PENDING_APPROVAL = "pending_approval", _("Pending approval")
        APPROVED = "approved", _("Approved")
        SCHEDULED = "scheduled", _("Scheduled")
        PUBLISHING = "publishing", pgettext_lazy("post status", "Publishing")
        PUBLISHED = "published", _("Published")
        FAILED = "failed", _("Failed")
        REJECTED = "rejected", _("Rejected")

    post = models.ForeignKey(Post, on_delete=models.CASCADE, related_name="targets")
    channel = models.ForeignKey(Channel, on_delete=models.PROTECT, related_name="post_targets")
    text = models.TextField(_("text"))
    status = models.CharField(_("status"), max_length=20, choices=Status.choices, default=Status.DRAFT)
    external_id = models.CharField(_("platform id"), max_length=255, blank=True)
    external_url = models.URLField(_("on the platform"), max_length=2000, blank=True)
    error = models.TextField(_("platform's reason"), blank=True)
    attempts = models.PositiveSmallIntegerField(default=0)
    # When a dispatch queued it, and when a worker claimed it (a claim stale for long is a dead worker).
    queued_at = models.DateTimeField(null=True, blank=True)
    claimed_at = models.DateTimeField(null=True, blank=True)
    published_at = models.DateTimeField(null=True, blank=True)
    # The latest public counts read back from the platform (see ``PostMetrics`` for each reading).
    metrics = models.JSONField(default=dict, blank=True)

    class Meta:
        ordering = ["post", "channel__name"]
        constraints = [models.UniqueConstraint(fields=["post", "channel"], name="post_target_unique_per_channel")]
        indexes = [
            # The dispatch: scheduled targets, soonest first.
            models.Index(fields=["status"], name="post_target_due_idx", condition=Q(status="scheduled")),
            # Comments on a published post are linked to it by the platform's id.
            models.Index(fields=["channel", "external_id"], name="post_target_platform_id_idx"),
        ]
        verbose_name = _("post on a channel")
        verbose_name_plural = _("posts on channels")

    def __str__(self) -> str:
        return f"{self.post_id} → {self.channel}"


class PostMetrics(models.Model):
    """One reading of a published post's public counts, at a fixed age (1 h, 24 h, 7 days)."""

    class Age(models.TextChoices):
        HOUR = "1h", _("after 1 hour")
        DAY = "24h", _("after 24 hours")
        WEEK = "7d", _("after 7 days")

    target = models.ForeignKey(PostTarget, on_delete=models.CASCADE, related_name="readings")
    age = models.CharField(max_length=4, choices=Age.choices)
    values = models.JSONField(default=dict)
    read_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["target", "age"], name="post_metrics_once_per_age")]
        verbose_name = _("post metrics")
        verbose_name_plural = _("post metrics")

    def __str__(self) -> str:
        return f"{self.target_id} {self.age}"


class PostEvent(models.Model):
    """One line of a post's history; only ever added to."""

    class Kind(models.TextChoices):
        CREATED = "created", _("Written")
        EDITED = "edited", _("Edited")
        SUBMITTED = "submitted", _("Sent for approval")
        APPROVED = "approved", _("Approved")
        CHANGES = "changes", _("Changes asked")
        REJECTED = "rejected", _("Rejected")
        SCHEDULED = "scheduled", _("Scheduled")
        PUBLISHED = "published", _("Published")
        FAILED = "failed", _("Failed")
        RETRIED = "retried", _("Retried")
        CHECKED = "checked", _("Looked up on the platform")

    post = models.ForeignKey(Post, on_delete=models.CASCADE, related_name="events")
    target = models.ForeignKey(PostTarget, on_delete=models.CASCADE, null=True, blank=True, related_name="events")
    actor = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True)
    kind = models.CharField(max_length=16, choices=Kind.choices)
    note = models.TextField(blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["created_at", "id"]
        indexes = [models.Index(fields=["post", "created_at"], name="post_event_history_idx")]
        verbose_name = _("post event")
        verbose_name_plural = _("post events")

    def __str__(self) -> str:
        return f"{self.post_id} {self.kind}"


class PostComment(models.Model):
    """A mention that answers one of the brand's published posts: a comment on it, a reply in its
    thread. Linked as it is stored (``publishing.comments``), by the platform id of the post.

    A table of its own rather than a column of every mention: few mentions are comments on the
    brand's posts, and listening stays unaware of publishing."""

    target = models.ForeignKey(PostTarget, on_delete=models.CASCADE, related_name="comments")
    mention = models.OneToOneField(Mention, on_delete=models.CASCADE, related_name="post_comment")
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name = _("comment on a post")
        verbose_name_plural = _("comments on posts")

    def __str__(self) -> str:
        return f"{self.mention_id} → {self.target_id}"


class CompetitorAccount(models.Model):
    """A competitor's public account on one platform (an X handle, a public Facebook Page), read on
    a schedule for how much it posts and how people engage with it (``publishing.competitors``).

    ``competitor`` is the label of one of the brand's competitor term groups (``TrackedTerm.label``):
    the same competitor as in the share of voice."""

    class Platform(models.TextChoices):
        X = Platform.X.value, Platform.X.label
        FACEBOOK = Platform.FACEBOOK.value, Platform.FACEBOOK.label

    brand = models.ForeignKey(Brand, on_delete=models.CASCADE, related_name="competitor_accounts")
    competitor = models.CharField(_("competitor"), max_length=120, help_text=_("One of the brand's competitor groups."))
    platform = models.CharField(_("platform"), max_length=16, choices=Platform.choices)
    handle = models.CharField(
        _("account"), max_length=255, help_text=_("The @handle on X; the Page's id or user name on Facebook.")
    )
    is_active = models.BooleanField(_("active"), default=True)
    # The schedule and its health, as a channel's polls keep theirs.
    next_read_at = models.DateTimeField(_("next read"), default=timezone.now)
    last_success_at = models.DateTimeField(_("last read"), null=True, blank=True)
    last_error = models.TextField(_("last error"), blank=True)
    last_error_at = models.DateTimeField(_("last error at"), null=True, blank=True)
    consecutive_failures = models.PositiveIntegerField(default=0)

    class Meta:
        ordering = ["brand", "competitor", "platform"]
        constraints = [
            models.UniqueConstraint(fields=["brand", "platform", "handle"], name="competitor_account_unique")
        ]
        indexes = [models.Index(fields=["next_read_at"], name="competitor_due_idx", condition=Q(is_active=True))]
        verbose_name = _("competitor account")
        verbose_name_plural = _("competitor accounts")

    def __str__(self) -> str:
        return f"{self.competitor}: {self.handle} ({self.get_platform_display()})"

    def clean(self) -> None:
        from django.core.exceptions import ValidationError

        groups = (
            {term.label for term in self.brand.terms.filter(kind=TrackedTerm.Kind.COMPETITOR)}
            if self.brand_id
            else set()
        )
        if self.competitor not in groups:
            raise ValidationError(
                {
                    "competitor": _("Use one of the brand's competitor groups: %(groups)s.")
                    % {"groups": ", ".join(sorted(groups)) or "—"}
                }
            )


class CompetitorDay(models.Model):
    """What one competitor account published on one day of the brand's calendar, as last read."""

    account = models.ForeignKey(CompetitorAccount, on_delete=models.CASCADE, related_name="days")
    day = models.DateField()
    posts = models.PositiveIntegerField(default=0)
    engagement = models.PositiveBigIntegerField(default=0)
    read_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["account", "day"], name="competitor_day_unique")]
        verbose_name = _("competitor day")
        verbose_name_plural = _("competitor days")

    def __str__(self) -> str:
        return f"{self.account_id} {self.day}"


class CalendarFeed(models.Model):
    """A person's private calendar subscription: a secret address that serves, without signing in,
    the iCalendar of the posts of the brands they may see. Only the token's SHA-256 is kept: the
    address is shown once, when made; resetting it makes a new one, revoking deletes it."""

    user = models.OneToOneField(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="calendar_feed")
    token_hash = models.CharField(max_length=64, unique=True)
    created_at = models.DateTimeField(default=timezone.now)
    last_used_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("calendar subscription")
        verbose_name_plural = _("calendar subscriptions")

    def __str__(self) -> str:
        return f"{self.user} ({self.created_at:%Y-%m-%d})"
