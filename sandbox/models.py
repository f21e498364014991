"""What the sandbox platforms hold: the posts people wrote there, and the replies we published."""

from __future__ import annotations

from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


class SandboxPost(models.Model):
    """One item on a sandbox platform. ``payload`` carries the author and platform extras."""

    class Kind(models.TextChoices):
        TWEET = "tweet", _("Tweet")
        PAGE_POST = "page_post", _("Page post")
        VISITOR_POST = "visitor_post", _("Visitor post")
        TAGGED = "tagged", _("Post tagging the page")
        COMMENT = "comment", _("Comment")
        REPLY = "reply", _("Reply")
        ARTICLE = "article", _("Article")

    platform = models.CharField(_("platform"), max_length=16)
    external_id = models.CharField(_("platform id"), max_length=255)
    kind = models.CharField(_("kind"), max_length=16, choices=Kind.choices)
    text = models.TextField(_("text"))
    # The item this one answers, and the post or video the thread hangs on.
    parent_external_id = models.CharField(max_length=255, blank=True)
    thread_external_id = models.CharField(max_length=255, blank=True)
    # Time-ordered numeric key (an X snowflake for tweets): since_id and paging compare on it.
    sort_key = models.BigIntegerField(db_index=True)
    payload = models.JSONField(default=dict, blank=True)
    created_at = models.DateTimeField(default=timezone.now, db_index=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["platform", "external_id"], name="sandbox_post_unique_per_platform")
        ]
        indexes = [models.Index(fields=["platform", "kind", "-sort_key"], name="sandbox_post_listing_idx")]
        verbose_name = _("sandbox post")
        verbose_name_plural = _("sandbox posts")

    def __str__(self) -> str:
        return f"{self.platform}:{self.external_id}"

    @property
    def author(self) -> dict:
        return self.payload.get("author") or {}


class SandboxReply(models.Model):
    """A reply Escucha published on a sandbox platform."""

    platform = models.CharField(_("platform"), max_length=16)
    external_id = models.CharField(_("platform id"), max_length=255, unique=True)
    in_reply_to = models.CharField(_("in reply to"), max_length=255)
    text = models.TextField(_("text"))
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-created_at"]
        verbose_name = _("sandbox reply")
        verbose_name_plural = _("sandbox replies")

    def __str__(self) -> str:
        return f"{self.platform}:{self.external_id} → {self.in_reply_to}"
