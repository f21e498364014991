"""What people say: brands, what we track, where we listen, who speaks, and what they said."""

from __future__ import annotations

import functools
import uuid

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import MinValueValidator
from django.db import models
from django.db.models import Q
from django.db.models.functions import Coalesce
from django.utils import timezone, translation
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext, pgettext_lazy

from listening.fields import EncryptedJSONField


class Platform(models.TextChoices):
    X = "x", _("X (Twitter)")
    FACEBOOK = "facebook", _("Facebook Page")
    INSTAGRAM = "instagram", _("Instagram")
    YOUTUBE = "youtube", _("YouTube")
    LINKEDIN = "linkedin", _("LinkedIn Page")
    FEED = "feed", _("RSS / Atom feed")


class Sentiment(models.TextChoices):
    POSITIVE = "positive", _("Positive")
    NEUTRAL = "neutral", _("Neutral")
    NEGATIVE = "negative", _("Negative")
    UNSCORED = "unscored", _("Unscored")


class Intent(models.TextChoices):
    """What a mention wants from the brand; ``unclassified`` for languages without intent rules."""

    COMPLAINT = "complaint", _("Complaint")
    QUESTION = "question", _("Question")
    PRAISE = "praise", _("Praise")
    OTHER = "other", _("Other")
    UNCLASSIFIED = "unclassified", _("Unclassified")


def choice_label(choices: type[models.TextChoices], value: str) -> str:
    """A stored value as its choice's label in the reader's language ("new" reads "Nuevo" in
    Spanish); a value that is not one of the choices as it is."""
    return _choice_labels(choices, translation.get_language()).get(value, value)


@functools.cache
def _choice_labels(choices: type[models.TextChoices], language: str | None) -> dict[str, str]:
    # Translated once per language: an inbox page shows four labels on each of its fifty rows, and
    # building the enum member and translating its label each time was a tenth of the page.
    return {value: str(label) for value, label in choices.choices}


def default_languages() -> list[str]:
    return ["en", "es"]


def validate_languages(value: object) -> None:
    """A list of ISO 639-1 codes the detector knows ("en", "es", "ca" …)."""
    from listening.language import DETECTABLE

    if not isinstance(value, list) or not all(isinstance(code, str) for code in value):
        raise ValidationError(_('List language codes, e.g. ["en", "es"].'))
    unknown = [code for code in value if code not in DETECTABLE]
    if unknown:
        raise ValidationError(
            _("Unknown language %(codes)s; use: %(known)s.")
            % {"codes": ", ".join(unknown), "known": ", ".join(sorted(DETECTABLE))}
        )


def default_time_zone() -> str:
    return settings.TIME_ZONE


def validate_time_zone(value: str) -> None:
    """An IANA time zone name ("Europe/Madrid", "America/Mexico_City")."""
    import zoneinfo

    try:
        zoneinfo.ZoneInfo(value)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError) as exc:
        raise ValidationError(
            _("Unknown time zone %(zone)s; use a name like Europe/Madrid."), params={"zone": value}
        ) from exc


class Brand(models.Model):
    name = models.CharField(_("name"), max_length=120, unique=True)
    slug = models.SlugField(_("slug"), max_length=120, unique=True)
    require_reply_approval = models.BooleanField(
        _("replies need approval"),
        default=False,
        help_text=_("Replies from users without the publish permission wait for a community manager."),
    )
    require_post_approval = models.BooleanField(
        _("posts need approval"),
        default=False,
        help_text=_("Every post waits for another community manager with the approval permission."),
    )
    # Posts are scheduled, and the calendar drawn, in the brand's own time, wherever the team sits.
    time_zone = models.CharField(
        _("time zone"),
        max_length=64,
        default=default_time_zone,
        validators=[validate_time_zone],
        help_text=_("Posts are scheduled in this time zone, e.g. Europe/Madrid."),
    )
    # Short posts are read among these first: "Me encanta Acme" is Spanish for a brand that expects
    # Spanish, not Portuguese. Other languages are still detected when the text is long enough.
    languages = models.JSONField(
        _("expected languages"),
        default=default_languages,
        blank=True,
        validators=[validate_languages],
        help_text=_('Language codes the brand\'s audience writes in, e.g. ["en", "es"].'),
    )
    # How long mentions are kept before they are erased (listening.privacy.retention_run): the GDPR
    # asks for a period, and two years covers year-on-year reports.
    retention_days = models.PositiveIntegerField(
        _("keep mentions for (days)"),
        default=730,
        validators=[MinValueValidator(1)],
        help_text=_("Older mentions are erased every night; their counts stay in the reports."),
    )
    retention_mode = models.CharField(
        _("then"),
        max_length=16,
        choices=[("anonymise", _("Anonymise them")), ("delete", _("Delete them, keeping only their counts"))],
        default="anonymise",
    )
    members = models.ManyToManyField(
        settings.AUTH_USER_MODEL, through="BrandMembership", related_name="brands", blank=True
    )
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    # A new random value whenever the brand's configuration changes, set by the database's own
    # triggers whatever wrote it (``listening.configuration``): workers keep what they read of it
    # until then.
    configuration_stamp = models.UUIDField(default=uuid.uuid4, editable=False)

    class Meta:
        ordering = ["name"]
        verbose_name = _("brand")
        verbose_name_plural = _("brands")
        permissions = [
            ("work_inbox", _("Can work the mention inbox")),
            ("view_reports", _("Can read reputation and team reports")),
            ("configure_brand", _("Can configure channels, terms and routing")),
        ]

    def __str__(self) -> str:
        return self.name


class BrandMembership(models.Model):
    brand = models.ForeignKey(Brand, on_delete=models.CASCADE, related_name="memberships")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="brand_memberships")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["brand", "user"], name="brand_membership_unique")]
        verbose_name = _("brand membership")
        verbose_name_plural = _("brand memberships")

    def __str__(self) -> str:
        return f"{self.user} @ {self.brand}"


class TrackedTerm(models.Model):
    class Kind(models.TextChoices):
        BRAND = "brand", _("Brand")
        COMPETITOR = "competitor", _("Competitor")
        PRODUCT = "product", _("Product")
        CAMPAIGN = "campaign", _("Campaign")
        KEYWORD = "keyword", _("Keyword")

    brand = models.ForeignKey(Brand, on_delete=models.CASCADE, related_name="terms")
    kind = models.CharField(_("kind"), max_length=16, choices=Kind.choices, default=Kind.KEYWORD)
    text = models.CharField(_("text"), max_length=200, help_text=_("A word, a phrase, a #hashtag or an @handle."))
    # Several spellings of one competitor are grouped for share of voice by this label.
    group = models.CharField(_("group"), max_length=120, blank=True, help_text=_("Defaults to the text."))
    exclusions = models.JSONField(
        _("exclusions"), default=list, blank=True, help_text=_("Phrases that cancel a match (e.g. 'acme road runner').")
    )
    is_active = models.BooleanField(_("active"), default=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["kind", "text"]
        constraints = [models.UniqueConstraint(fields=["brand", "kind", "text"], name="term_unique_per_brand")]
        verbose_name = _("tracked term")
        verbose_name_plural = _("tracked terms")

    def __str__(self) -> str:
        return f"{self.get_kind_display()}: {self.text}"

    @property
    def label(self) -> str:
        return self.group or self.text


class Channel(models.Model):
    class State(models.TextChoices):
        OK = "ok", _("Healthy")
        BACKING_OFF = "backing_off", _("Retrying after errors")
        RATE_LIMITED = "rate_limited", _("Waiting for rate limit")
        RECONNECT = "reconnect", _("Reconnect needed")
        PAUSED = "paused", _("Paused")

    brand = models.ForeignKey(Brand, on_delete=models.CASCADE, related_name="channels")
    platform = models.CharField(_("platform"), max_length=16, choices=Platform.choices)
    name = models.CharField(_("name"), max_length=120)
    settings = models.JSONField(_("platform settings"), default=dict, blank=True)
    credentials = EncryptedJSONField(_("credentials"), blank=True, default=dict)
    api_base_url = models.URLField(
        _("API base URL"), blank=True, help_text=_("Blank uses the platform's official host.")
    )
    poll_interval_seconds = models.PositiveIntegerField(_("poll interval (seconds)"), default=300)
    is_active = models.BooleanField(_("active"), default=True)
    cursor = models.JSONField(_("cursor"), default=dict, blank=True)

    state = models.CharField(_("state"), max_length=16, choices=State.choices, default=State.OK)
    last_polled_at = models.DateTimeField(_("last poll"), null=True, blank=True)
    last_success_at = models.DateTimeField(_("last success"), null=True, blank=True)
    last_error_at = models.DateTimeField(_("last error at"), null=True, blank=True)
    last_error = models.TextField(_("last error"), blank=True)
    consecutive_failures = models.PositiveIntegerField(default=0)
    next_poll_at = models.DateTimeField(_("next poll"), default=timezone.now)
    rate_limit_remaining = models.IntegerField(_("rate limit remaining"), null=True, blank=True)
    rate_limit_reset_at = models.DateTimeField(_("rate limit resets"), null=True, blank=True)
    newest_item_at = models.DateTimeField(_("newest item"), null=True, blank=True)
    # The latest items the database refused even on their own, newest first: {"external_id",
    # "reason", "at"}. The rest of their page was stored; these are shown so nobody wonders.
    rejected_items = models.JSONField(
        _("items not stored"),
        default=list,
        blank=True,
        help_text=_(
            "The latest items the database refused (platform id, reason, time); the rest of their page was stored."
        ),
    )
    # Conversations whose new comments the last poll could not read within its request budget;
    # the cursor owes them to the next polls (Facebook reads comments one post at a time).
    threads_deferred = models.PositiveIntegerField(_("conversations not read this poll"), default=0)
    # Platform deletions (``listening.privacy.platform_deletions_check``): when the next check is
    # due, how many failed in a row, the last error, and a check the platform is still running
    # (an X compliance job: {"job_id": …}).
    deletion_check = models.JSONField(_("deletion check"), default=dict, blank=True)
    # Set, and never unset, before the first of the channel's mentions is erased
    # (``listening.privacy.mentions_erase``): only then does ingestion look for each new item under
    # its erased id too, a digest and an index probe per item that channels nobody erased from skip.
    has_erased_mentions = models.BooleanField(default=False, editable=False)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["brand", "name"]
        indexes = [
            # dispatch_due_channels: active channels whose next poll has come.
            models.Index(fields=["next_poll_at"], name="channel_due_idx", condition=Q(is_active=True)),
        ]
        verbose_name = _("channel")
        verbose_name_plural = _("channels")

    def __str__(self) -> str:
        return f"{self.name} ({self.get_platform_display()})"

    @property
    def platform_label(self) -> str:
        """``get_platform_display`` without rebuilding the choices on each call (every inbox row)."""
        return choice_label(Platform, self.platform)

    @property
    def poll_interrupted(self) -> bool:
        """A poll started, then neither finished nor renewed its lease: its worker stopped. The
        next dispatch polls the channel again (within a minute); the page says so meanwhile."""
        if self.last_polled_at is None:
            return False
        ended = max((at for at in (self.last_success_at, self.last_error_at) if at is not None), default=None)
        return (ended is None or ended < self.last_polled_at) and self.next_poll_at <= timezone.now()

    @property
    def current_error(self) -> str:
        """The last error while it still stands: a poll that succeeded after it clears it from the
        channels page (the error and its time stay recorded, for the API and the admin)."""
        if (
            self.last_error
            and self.last_success_at
            and self.last_error_at
            and self.last_success_at > self.last_error_at
        ):
            return ""
        return self.last_error

    @property
    def lag_seconds(self) -> float | None:
        """How far behind the platform we may be: time since the last successful poll."""
        if self.last_success_at is None:
            return None
        return (timezone.now() - self.last_success_at).total_seconds()


# The platform id of each platform's placeholder author: erased mentions point to it, so their
# counts stay in the reports without anyone's identity. No platform issues an id with a space.
ANONYMOUS_EXTERNAL_ID = "anonymous author"


class Author(models.Model):
    platform = models.CharField(_("platform"), max_length=16, choices=Platform.choices)
    external_id = models.CharField(_("platform id"), max_length=255)
    handle = models.CharField(_("handle"), max_length=255, blank=True)
    name = models.CharField(_("name"), max_length=255, blank=True)
    followers = models.PositiveBigIntegerField(_("followers"), default=0)
    verified = models.BooleanField(_("verified"), default=False)
    profile_url = models.URLField(_("profile URL"), max_length=1000, blank=True)
    avatar_url = models.URLField(_("avatar URL"), max_length=1000, blank=True)
    is_internal = models.BooleanField(
        _("internal"), default=False, help_text=_("Staff or brand ambassador: an internal opinion leader.")
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        # The platform id first, as the mentions' (``listening.ingest.by_external_id``).
        constraints = [models.UniqueConstraint(fields=["external_id", "platform"], name="author_unique_per_platform")]
        indexes = [models.Index(fields=["platform", "handle"], name="author_handle_idx")]
        verbose_name = _("author")
        verbose_name_plural = _("authors")

    def __str__(self) -> str:
        if self.is_anonymous:
            return str(_("Anonymous"))
        return f"@{self.handle}" if self.handle else (self.name or self.external_id)

    @property
    def is_anonymous(self) -> bool:
        """The one placeholder per platform that erased mentions point to (``listening.privacy``)."""
        return self.external_id == ANONYMOUS_EXTERNAL_ID

    @property
    def followers_label(self) -> str:
        """How many follow them in the reader's language ("1 follower", "250 followers"), as an
        inbox row says it: the template's plural block cost as much as the rest of the row's author."""
        return ngettext("%(counter)s follower", "%(counter)s followers", self.followers) % {"counter": self.followers}


class ErasureReason(models.TextChoices):
    REQUEST = "request", _("erased at the person's request")
    PLATFORM = "platform", _("deleted on the platform")
    RETENTION = "retention", _("past the retention period")


# A reply stored before its parent: it names the parent's platform id, and has no parent yet.
WAITING_FOR_PARENT = Q(parent__isnull=True) & ~Q(parent_external_id="")


class Mention(models.Model):
    class Moderation(models.TextChoices):
        """What the brand did to the item on its platform (hide, delete); blank: left as it was."""

        VISIBLE = "", _("Visible on the platform")
        HIDDEN = "hidden", _("Hidden on the platform")
        DELETED = "deleted", _("Deleted on the platform")

    class Kind(models.TextChoices):
        POST = "post", _("Post")
        COMMENT = "comment", _("Comment")
        REPLY = "reply", _("Reply")
        MENTION = "mention", _("Mention")
        ARTICLE = "article", _("Article")

    class Status(models.TextChoices):
        # A context of their own: in Spanish a mention is feminine ("abierta"), a ticket masculine.
        NEW = "new", pgettext_lazy("mention status", "New")
        OPEN = "open", pgettext_lazy("mention status", "Open")
        REPLIED = "replied", pgettext_lazy("mention status", "Replied")
        ROUTED = "routed", pgettext_lazy("mention status", "Routed")
        CLOSED = "closed", pgettext_lazy("mention status", "Closed")
        SPAM = "spam", pgettext_lazy("mention status", "Spam")

    # brand is the channel's, copied so that every inbox and report query is one index range.
    # A foreign key's own index is left out where an index in Meta begins with its column: every
    # index is written on every new mention, and one that another serves costs ingestion for nothing.
    brand = models.ForeignKey(Brand, on_delete=models.CASCADE, related_name="mentions", db_index=False)
    channel = models.ForeignKey(Channel, on_delete=models.CASCADE, related_name="mentions", db_index=False)
    external_id = models.CharField(_("platform id"), max_length=255)
    author = models.ForeignKey(Author, on_delete=models.PROTECT, related_name="mentions", db_index=False)
    text = models.TextField(_("text"))
    title = models.CharField(_("title"), max_length=500, blank=True)
    url = models.URLField(_("URL"), max_length=2000, blank=True)
    language = models.CharField(_("language"), max_length=8, blank=True)
    kind = models.CharField(_("kind"), max_length=16, choices=Kind.choices, default=Kind.MENTION)
    parent = models.ForeignKey(
        "self", on_delete=models.SET_NULL, null=True, blank=True, related_name="children", db_index=False
    )
    # The platform id of the item this one answers, kept so a parent fetched later still links.
    parent_external_id = models.CharField(max_length=255, blank=True)
    source = models.CharField(
        _("source"), max_length=255, blank=True, help_text=_("Site, forum, video or page the item was found on.")
    )

    analyzer_sentiment = models.CharField(
        _("analyzer sentiment"), max_length=16, choices=Sentiment.choices, default=Sentiment.UNSCORED
    )
    sentiment_score = models.FloatField(_("sentiment compound"), null=True, blank=True)
    # What the inbox and reports use: the analyzer's label unless an agent corrected it.
    sentiment = models.CharField(_("sentiment"), max_length=16, choices=Sentiment.choices, default=Sentiment.UNSCORED)
    sentiment_corrected_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+", db_index=False
    )
    sentiment_corrected_at = models.DateTimeField(null=True, blank=True)
    analyzer_intent = models.CharField(
        _("analyzer intent"), max_length=16, choices=Intent.choices, default=Intent.UNCLASSIFIED
    )
    # What the inbox, rules and reports use: the analyzer's intent unless an agent corrected it.
    intent = models.CharField(_("intent"), max_length=16, choices=Intent.choices, default=Intent.UNCLASSIFIED)
    intent_corrected_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+", db_index=False
    )
    intent_corrected_at = models.DateTimeField(null=True, blank=True)
    # Why the analyzer said so: its cues and weighed words, the lexicon's own score, which analyzer.
    analysis = models.JSONField(_("analysis"), default=dict, blank=True)

    terms = models.ManyToManyField(TrackedTerm, blank=True, related_name="mentions")
    tags = models.JSONField(_("tags"), default=list, blank=True)
    metrics = models.JSONField(_("engagement"), default=dict, blank=True)
    routing_log = models.JSONField(_("routing"), default=list, blank=True)

    published_at = models.DateTimeField(_("published"))
    fetched_at = models.DateTimeField(_("fetched"), default=timezone.now)
    # When its platform last said it still exists (``listening.privacy.platform_deletions_check``);
    # null: not checked since it was stored.
    checked_at = models.DateTimeField(_("checked on the platform"), null=True, blank=True)
    status = models.CharField(_("status"), max_length=16, choices=Status.choices, default=Status.NEW)
    assignee = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="assigned_mentions",
        verbose_name=_("assignee"),
        db_index=False,
    )
    updated_at = models.DateTimeField(auto_now=True)
    # Set when the mention's content and author were erased (``listening.privacy``): only what the
    # reports count is left, and the reason is shown where the mention is cited (a ticket).
    erased_at = models.DateTimeField(_("erased"), null=True, blank=True)
    # A database default as well: bulk loads that COPY mentions in (bench/) need not know the column.
    erased_reason = models.CharField(
        _("erased because"), max_length=16, choices=ErasureReason.choices, blank=True, default="", db_default=""
    )
    # Set by ``responses.moderation``: the comment hidden or deleted on its platform by the brand.
    moderation = models.CharField(
        _("on the platform"), max_length=16, choices=Moderation.choices, blank=True, default="", db_default=""
    )
    # How the platform takes an answer to this item when not the way it takes answers to the channel's
    # own content (``FetchedItem.reply_route``): Instagram's @mentions elsewhere are answered through the
    # account's ``mentions`` edge. Blank: the usual way.
    reply_route = models.CharField(max_length=16, blank=True, default="", db_default="")

    class Meta:
        permissions = [("moderate_mention", _("Can hide and delete comments on their platform"))]
        constraints = [
            # The platform id first: a page asks which of its ids are stored by them alone
            # (``listening.ingest``), which no other index can answer, so PostgreSQL probes this one
            # once per id whatever its statistics say of the channel.
            models.UniqueConstraint(fields=["external_id", "channel"], name="mention_unique_per_channel"),
        ]
        indexes = [
            # The inbox: a brand's mentions newest first, keyset-paginated on (published_at, id).
            models.Index(fields=["brand", "-published_at", "-id"], name="mention_inbox_idx"),
            # Inbox filtered by status ("new", "open" …), the most common filter.
            models.Index(fields=["brand", "status", "-published_at", "-id"], name="mention_inbox_status_idx"),
            # Inbox filtered by sentiment ("negative"), and the sentiment reports' recounts.
            models.Index(fields=["brand", "sentiment", "-published_at", "-id"], name="mention_inbox_sentiment_idx"),
            # Inbox filtered by intent ("complaint").
            models.Index(fields=["brand", "intent", "-published_at", "-id"], name="mention_inbox_intent_idx"),
            # "Assigned to me", and what a deleted user leaves behind (SET NULL). New mentions have
            # no assignee: only the assigned ones are in it, and storing a page writes none of it.
            models.Index(
                fields=["assignee", "status", "-published_at"],
                name="mention_assignee_idx",
                condition=Q(assignee__isnull=False),
            ),
            # The inbox's Open queue (new and open, what still needs someone) and its count: the
            # handled mentions of a large brand are not in it, so a page and a capped count read
            # only the queue. The Unassigned tab has its own, as most open work is assigned.
            models.Index(
                fields=["brand", "-published_at", "-id"],
                name="mention_open_queue_idx",
                condition=Q(status__in=["new", "open"]),
            ),
            models.Index(
                fields=["brand", "-published_at", "-id"],
                name="mention_unassigned_queue_idx",
                condition=Q(status__in=["new", "open"], assignee__isnull=True),
            ),
            # A channel's stream, and the channel filter.
            models.Index(fields=["channel", "-published_at", "-id"], name="mention_channel_idx"),
            # The author page: every earlier mention of one author.
            models.Index(fields=["author", "-published_at"], name="mention_author_idx"),
            # Threading: children found by the parent's platform id.
            models.Index(fields=["channel", "parent_external_id"], name="mention_parent_lookup_idx"),
            # Ingestion: the replies stored before their parent, looked up by each page. A few rows,
            # where the index above holds every mention.
            models.Index(fields=["parent_external_id"], name="mention_waiting_idx", condition=WAITING_FOR_PARENT),
            # A mention's replies, and the links a deleted parent or user leaves behind
            # (SET NULL): only the rows that have one are in these, where most have none.
            models.Index(fields=["parent"], name="mention_children_idx", condition=Q(parent__isnull=False)),
            models.Index(
                fields=["sentiment_corrected_by"],
                name="mention_sentiment_fixer_idx",
                condition=Q(sentiment_corrected_by__isnull=False),
            ),
            models.Index(
                fields=["intent_corrected_by"],
                name="mention_intent_fixer_idx",
                condition=Q(intent_corrected_by__isnull=False),
            ),
            # Retention: a brand's oldest mentions not erased yet, a batch at a time; the husks of the
            # ones erased are not in it, so each batch reads only what it erases.
            models.Index(
                fields=["brand", "published_at", "id"],
                name="mention_retention_idx",
                condition=Q(erased_at__isnull=True),
            ),
            # Platform deletion checks: a channel's mentions by when the platform last said they
            # exist (or when they were stored): each run reads only the ones due.
            models.Index(
                "channel",
                Coalesce("checked_at", "fetched_at"),
                name="mention_deletion_check_idx",
                condition=Q(erased_at__isnull=True),
            ),
        ]
        verbose_name = _("mention")
        verbose_name_plural = _("mentions")

    def __str__(self) -> str:
        return f"{self.channel.platform}:{self.external_id}"

    @property
    def sentiment_corrected(self) -> bool:
        return self.sentiment_corrected_by_id is not None

    @property
    def erased_because(self) -> str:
        """Why its content is gone, as its pages say: a deletion names the platform ("deleted on
        X (Twitter)"). Reads ``channel``: lists select it with the mention."""
        if self.erased_reason == ErasureReason.PLATFORM:
            return _("deleted on %(platform)s") % {"platform": self.channel.get_platform_display()}
        return str(self.get_erased_reason_display())

    @property
    def intent_corrected(self) -> bool:
        return self.intent_corrected_by_id is not None

    # The inbox row's labels. ``get_FOO_display`` builds the field's whole choices mapping again on
    # every call, and a page of the inbox shows three on each of its fifty rows.
    @property
    def sentiment_label(self) -> str:
        return choice_label(Sentiment, self.sentiment)

    @property
    def intent_label(self) -> str:
        return choice_label(Intent, self.intent)

    @property
    def status_label(self) -> str:
        return choice_label(self.Status, self.status)

    @property
    def moderation_label(self) -> str:
        return choice_label(self.Moderation, self.moderation)

    @property
    def term_labels(self) -> list[tuple[str, str]]:
        """(kind, label) of the matched terms, once each: "Acme" and "@acme" are one brand.

        Reads ``terms.all()``, so a prefetch of ``terms`` keeps a list of mentions at one query.
        """
        return sorted({(term.kind, term.label) for term in self.terms.all()}, key=lambda pair: pair[1].casefold())


class MentionEvent(models.Model):
    """Who did what to a mention, and when: status, assignment, sentiment, routing."""

    class Kind(models.TextChoices):
        STATUS = "status", _("Status changed")
        ASSIGNED = "assigned", _("Assigned")
        SENTIMENT = "sentiment", _("Sentiment corrected")
        INTENT = "intent", _("Intent corrected")
        ROUTED = "routed", _("Routed")
        TAGGED = "tagged", _("Tagged")
        NOTE = "note", _("Note")
        REPLY_CHECK = "reply_check", _("Interrupted reply looked up on the platform")
        MODERATED = "moderated", _("Moderated on the platform")

    class ReplyCheck(models.TextChoices):
        """What the platform said of a reply whose delivery was interrupted (``REPLY_CHECK``'s new value)."""

        FOUND = "found", _("found there, recorded as sent")
        ABSENT = "absent", _("not there, posted again")
        UNKNOWN = "unknown", _("could not tell, check before retrying")

    # Served by the timeline index, which begins with it.
    mention = models.ForeignKey(Mention, on_delete=models.CASCADE, related_name="events", db_index=False)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, db_index=False
    )
    kind = models.CharField(max_length=16, choices=Kind.choices)
    old_value = models.CharField(max_length=255, blank=True)
    new_value = models.CharField(max_length=255, blank=True)
    note = models.TextField(blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["created_at", "id"]
        indexes = [
            models.Index(fields=["mention", "created_at"], name="mention_event_timeline_idx"),
            # What a deleted user leaves behind (SET NULL): routing's events, most of them, have no actor.
            models.Index(fields=["actor"], name="mention_event_actor_idx", condition=Q(actor__isnull=False)),
        ]
        verbose_name = _("mention event")
        verbose_name_plural = _("mention events")

    def __str__(self) -> str:
        return f"{self.kind}: {self.old_value} → {self.new_value}"

    def _label(self, value: str) -> str:
        """A stored status, sentiment or intent as its choice's label, in the reader's language
        ("new" reads "Nuevo" in Spanish); other values (a username, a tag) as they are."""
        choices = {
            self.Kind.STATUS: Mention.Status,
            self.Kind.SENTIMENT: Sentiment,
            self.Kind.INTENT: Intent,
            self.Kind.REPLY_CHECK: self.ReplyCheck,
            self.Kind.MODERATED: Mention.Moderation,
        }
        kind = choices.get(self.kind)
        return choice_label(kind, value) if kind is not None else value

    @property
    def old_label(self) -> str:
        return self._label(self.old_value)

    @property
    def new_label(self) -> str:
        return self._label(self.new_value)


class AnalyzerModel(models.Model):
    """A brand's learned model of one language and one target (intent or sentiment), trained by
    ``listening.train_analyzers`` on the mentions its team reviewed.

    ``model_accuracy`` and ``builtin_accuracy`` are cross-validated on those same mentions; the
    model is used (``in_use``) only while it beats the built-in analyzer. ``weights`` is a NumPy
    archive read without pickle (``listening.learning.CareModel``).
    """

    class Target(models.TextChoices):
        INTENT = "intent", _("Intent")
        SENTIMENT = "sentiment", _("Sentiment")

    brand = models.ForeignKey(Brand, on_delete=models.CASCADE, related_name="analyzer_models")
    language = models.CharField(_("language"), max_length=8)
    target = models.CharField(_("target"), max_length=16, choices=Target.choices)
    trained_at = models.DateTimeField(_("trained"), default=timezone.now)
    examples = models.PositiveIntegerField(_("reviewed mentions"), default=0)
    corrections = models.PositiveIntegerField(_("corrections"), default=0)
    model_accuracy = models.FloatField(_("model's agreement with agents"))
    builtin_accuracy = models.FloatField(_("built-in analyzer's agreement with agents"))
    in_use = models.BooleanField(_("in use"), default=False)
    features_version = models.PositiveSmallIntegerField(default=1)
    weights = models.BinaryField()

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["brand", "language", "target"], name="analyzer_model_unique"),
        ]
        verbose_name = _("learned analyzer")
        verbose_name_plural = _("learned analyzers")

    def __str__(self) -> str:
        return f"{self.brand_id} {self.language} {self.target}"


class ImportCheckpoint(models.Model):
    """How far ``import_mentions`` got with one file into one channel: the last line whose batch
    was committed. Saved in the same transaction as that batch, so an import stopped by Ctrl-C or
    a crash resumes after it, storing nothing twice and losing nothing. Deleted when the file is
    done. A file is known by its absolute path, its size and a hash of its first kilobyte, so a
    different file at the same path starts from the beginning."""

    channel = models.ForeignKey(Channel, on_delete=models.CASCADE, related_name="import_checkpoints")
    path = models.TextField(_("file"))
    size = models.BigIntegerField(_("size (bytes)"))
    head_sha256 = models.CharField(_("hash of the first kilobyte"), max_length=64)
    line = models.PositiveBigIntegerField(_("last committed line"), default=0)
    updated_at = models.DateTimeField(_("updated"), auto_now=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["channel", "path", "size", "head_sha256"], name="import_checkpoint_unique"),
        ]
        verbose_name = _("import checkpoint")
        verbose_name_plural = _("import checkpoints")

    def __str__(self) -> str:
        return f"{self.path}:{self.line} → {self.channel_id}"


class SourceTitle(models.Model):
    """What a source of a channel's mentions is called where the platform names it apart from the
    items (a YouTube video's title, read when its comments are polled). Reports name a source by
    it; it is kept current by every page that carries the source."""

    channel = models.ForeignKey(Channel, on_delete=models.CASCADE, related_name="source_titles")
    source = models.CharField(_("source"), max_length=255)
    title = models.CharField(_("title"), max_length=500)
    updated_at = models.DateTimeField(_("updated"), auto_now=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["channel", "source"], name="source_title_unique")]
        verbose_name = _("source title")
        verbose_name_plural = _("source titles")

    def __str__(self) -> str:
        return f"{self.source}: {self.title}"


class HashtagSearch(models.Model):
    """A hashtag an Instagram account looked up (``ig_hashtag_search``), and the id it got.

    Instagram lets one account look up 30 distinct hashtags in any 7 days; the id never changes, so
    each is looked up once and read by its id from then on. ``listening.hashtags`` keeps the budget.
    https://developers.facebook.com/docs/instagram-platform/instagram-graph-api/reference/ig-hashtag-search
    """

    ig_user_id = models.CharField(_("Instagram account id"), max_length=100)
    name = models.CharField(_("hashtag"), max_length=100)
    # Blank: Instagram knows no such hashtag (the look-up counted all the same).
    hashtag_id = models.CharField(_("hashtag id"), max_length=100, blank=True)
    searched_at = models.DateTimeField(_("looked up"), default=timezone.now)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["ig_user_id", "name"], name="hashtag_search_unique")]
        indexes = [models.Index(fields=["ig_user_id", "-searched_at"], name="hashtag_search_budget_idx")]
        verbose_name = _("hashtag look-up")
        verbose_name_plural = _("hashtag look-ups")

    def __str__(self) -> str:
        return f"#{self.name} ({self.ig_user_id})"


class SuppressedAuthor(models.Model):
    """A person who asked not to be processed again: their future mentions are dropped at ingestion.

    Only a salted hash of (platform, platform id) is kept (``listening.privacy.subject_digest``),
    so the list itself names nobody.
    """

    digest = models.CharField(_("hash"), max_length=64, unique=True)
    created_at = models.DateTimeField(_("added"), default=timezone.now)

    class Meta:
        verbose_name = _("suppressed author")
        verbose_name_plural = _("suppressed authors")

    def __str__(self) -> str:
        return self.digest[:12]


class PrivacyAuditEntry(models.Model):
    """One export, erasure, retention run or platform deletion: who, when, what, how many rows.

    Holds no personal data: the person is named by the salted hash of their platform and id, the
    same a suppression keeps, so one person's entries can be found again without naming them.
    """

    class Action(models.TextChoices):
        EXPORT = "export", _("Export")
        ERASURE = "erasure", _("Erasure")
        RETENTION = "retention", _("Retention run")
        PLATFORM_DELETION = "platform_deletion", _("Deleted on the platform")

    class Mode(models.TextChoices):
        ANONYMISE = "anonymise", _("Anonymise")
        DELETE = "delete", _("Delete")

    created_at = models.DateTimeField(_("when"), default=timezone.now, db_index=True)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+",
        verbose_name=_("who"),
    )  # fmt: skip
    action = models.CharField(_("what"), max_length=24, choices=Action.choices)
    # The brand of a retention run; a person's export or erasure spans every brand.
    brand = models.ForeignKey(
        Brand, on_delete=models.SET_NULL, null=True, blank=True, related_name="+", verbose_name=_("brand")
    )
    mode = models.CharField(_("mode"), max_length=16, choices=Mode.choices, blank=True)
    subject = models.CharField(_("person (hash)"), max_length=64, blank=True)
    suppressed = models.BooleanField(_("future mentions dropped"), default=False)
    # {"listening.Mention": 12, "responses.Reply": 3, …}: rows read (export) or changed (erasure).
    counts = models.JSONField(_("rows per table"), default=dict, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = _("privacy audit entry")
        verbose_name_plural = _("privacy audit log")
        permissions = [("handle_personal_data", _("Can search, export and erase a person's data"))]

    def __str__(self) -> str:
        return f"{self.action} {self.created_at:%Y-%m-%d %H:%M}"

    @property
    def total(self) -> int:
        return sum(n for n in self.counts.values() if isinstance(n, int))

    @property
    def mentions(self) -> int:
        """Mentions read (an export) or erased."""
        value = self.counts.get("listening.Mention", self.counts.get("mentions", 0))
        return value if isinstance(value, int) else 0
