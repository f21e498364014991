"""How we are doing: rollups that keep reports fast on millions of mentions.

Each rollup row counts one brand's mentions of one UTC day along one dimension. The report reads
only these rows (a month is a few thousand rows whatever the mention volume). They are kept
current by deltas as mentions are stored, relabelled or deleted, and a (brand, day) can always be
recounted whole from its mentions (reports/rollups.py).
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from listening.models import Author, Brand, Channel, Intent, Sentiment, TrackedTerm


class RollupRow(models.Model):
    """One brand's count for one UTC day; subclasses add the dimension."""

    # Rollups are derived rows written by the hundred thousand in a recount: their references are
    # not checked by the database (a deferred check per row and reference made a cold refresh's
    # commit take as long as its counting) and need no index of their own (brand leads every
    # unique constraint below). Django still deletes them with what they count (on_delete).
    brand = models.ForeignKey(Brand, on_delete=models.CASCADE, related_name="+", db_constraint=False, db_index=False)
    day = models.DateField()

    class Meta:
        abstract = True

    def __str__(self) -> str:
        return f"{type(self).__name__} {self.brand_id} {self.day}"


class ChannelDay(RollupRow):
    """Volume by channel (and so platform) and sentiment."""

    channel = models.ForeignKey(Channel, on_delete=models.CASCADE, related_name="+", db_constraint=False)
    sentiment = models.CharField(max_length=16, choices=Sentiment.choices)
    count = models.PositiveIntegerField(default=0)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["brand", "day", "channel", "sentiment"], name="rollup_channel_day_unique")
        ]


class TermDay(RollupRow):
    """Volume by tracked term, with sentiment: a mention naming two terms counts for each."""

    term = models.ForeignKey(TrackedTerm, on_delete=models.CASCADE, related_name="+", db_constraint=False)
    sentiment = models.CharField(max_length=16, choices=Sentiment.choices)
    count = models.PositiveIntegerField(default=0)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["brand", "day", "term", "sentiment"], name="rollup_term_day_unique")
        ]


class GroupDay(RollupRow):
    """Share of voice: mentions naming a group, each mention once per group it names.

    The brand's own terms (every variant: "Acme", "@acme", "#acme") are one group with
    ``is_brand``; each competitor's terms are one group named by their label (TrackedTerm.group,
    or the text). A mention naming the brand and a competitor counts once for each.
    """

    group = models.CharField(max_length=200)
    is_brand = models.BooleanField(default=False)
    sentiment = models.CharField(max_length=16, choices=Sentiment.choices)
    count = models.PositiveIntegerField(default=0)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["brand", "day", "is_brand", "group", "sentiment"], name="rollup_group_day_unique"
            )
        ]


# The author rollups' rows are read by brand and day (their unique key), never by author: an index
# on the author alone was a third of the work of each row a recount inserts (by the hundred
# thousand), for the one query that needs it, an author's deletion (rare: an erasure), which
# reads the table instead.


class AuthorDay(RollupRow):
    """An author's mentions of the brand in a day: the opinion leaders' ranking.

    ``sentiment_sum`` is positive minus negative; ``scored`` the mentions with a label, so the
    average sentiment over a period is sum(sentiment_sum) / sum(scored).
    """

    author = models.ForeignKey(Author, on_delete=models.CASCADE, related_name="+", db_constraint=False, db_index=False)
    count = models.PositiveIntegerField(default=0)
    scored = models.PositiveIntegerField(default=0)
    negative = models.PositiveIntegerField(default=0)
    # Likes, shares, replies … the platforms reported on these mentions (Mention.metrics summed).
    engagement = models.PositiveBigIntegerField(default=0)
    sentiment_sum = models.IntegerField(default=0)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["brand", "day", "author"], name="rollup_author_day_unique")]


class AuthorWeek(RollupRow):
    """AuthorDay summed over a week, ``day`` being its Monday (UTC): what a period's whole weeks
    read instead of seven days each, so that opinion leaders and repeat complaints over a month
    read about a quarter of the rows (a busy brand has hundreds of thousands of author-days a month)."""

    author = models.ForeignKey(Author, on_delete=models.CASCADE, related_name="+", db_constraint=False, db_index=False)
    count = models.PositiveIntegerField(default=0)
    scored = models.PositiveIntegerField(default=0)
    negative = models.PositiveIntegerField(default=0)
    engagement = models.PositiveBigIntegerField(default=0)
    sentiment_sum = models.IntegerField(default=0)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["brand", "day", "author"], name="rollup_author_week_unique")]


class SourceDay(RollupRow):
    """Where the conversation happens: a platform, a site/video/page, or a hashtag."""

    class Kind(models.TextChoices):
        PLATFORM = "platform", _("Platform")
        SITE = "site", _("Site, page or video")
        HASHTAG = "hashtag", _("Hashtag")

    kind = models.CharField(max_length=16, choices=Kind.choices)
    name = models.CharField(max_length=255)
    # What a person calls it: the page, video or article title, or the channel's name, when the
    # platform's id is all the mention carries (a YouTube video id, a Facebook page id).
    label = models.CharField(max_length=255, blank=True)
    sentiment = models.CharField(max_length=16, choices=Sentiment.choices)
    count = models.PositiveIntegerField(default=0)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["brand", "day", "kind", "name", "sentiment"], name="rollup_source_day_unique"
            )
        ]


class WordDay(RollupRow):
    """Mentions using a word (or #hashtag) that day: each mention counts once per word, whatever
    its repetitions; stop words of the mention's language are left out when counting (reports/text.py),
    the brand's tracked terms when reading (so a new term needs no recount)."""

    word = models.CharField(max_length=64)
    sentiment = models.CharField(max_length=16, choices=Sentiment.choices)
    count = models.PositiveIntegerField(default=0)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["brand", "day", "word", "sentiment"], name="rollup_word_day_unique")
        ]


class IntentDay(RollupRow):
    """What people wanted that day: complaints, questions, praise, other."""

    intent = models.CharField(max_length=16, choices=Intent.choices)
    count = models.PositiveIntegerField(default=0)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["brand", "day", "intent"], name="rollup_intent_day_unique")]


class QuestionDay(RollupRow):
    """Mentions asking a question that day, grouped by its normalized wording (reports/text.py)."""

    question = models.CharField(max_length=200)
    count = models.PositiveIntegerField(default=0)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["brand", "day", "question"], name="rollup_question_day_unique")]


class QualityDay(RollupRow):
    """Analyzer quality: mentions an agent reviewed, corrected, and where the analyzer agreed, for
    sentiment and for intent."""

    total = models.PositiveIntegerField(default=0)
    reviewed = models.PositiveIntegerField(default=0)
    corrected = models.PositiveIntegerField(default=0)
    agreed = models.PositiveIntegerField(default=0)
    intent_reviewed = models.PositiveIntegerField(default=0)
    intent_corrected = models.PositiveIntegerField(default=0)
    intent_agreed = models.PositiveIntegerField(default=0)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["brand", "day"], name="rollup_quality_day_unique")]


class RollupVersion(models.Model):
    """How many times a brand's rollups changed: one more with every delta and recount, in the
    transaction that makes the change. What a ReportSummary was computed at."""

    brand = models.OneToOneField(
        Brand, on_delete=models.CASCADE, primary_key=True, related_name="+", db_constraint=False
    )
    version = models.BigIntegerField(default=0)
    # How many of those changes edited what was counted (corrections, deletions, erasures,
    # recounts), as opposed to counting new mentions in.
    edited = models.BigIntegerField(default=0)

    def __str__(self) -> str:
        return f"{self.brand_id}: {self.version}"


class ReportSummary(models.Model):
    """The report's blocks that rank many rollup rows (top and emerging terms, sources, questions,
    the authors' ranking behind opinion leaders and repeat complaints) for one brand and period,
    as computed at the brand's rollup ``version`` with the tracked words ``terms`` (a digest).
    Read instead of computed again while both still stand (reports/selectors.py ``period_summary``);
    written by the page on a miss and by the rollup job for the usual periods."""

    brand = models.ForeignKey(Brand, on_delete=models.CASCADE, related_name="+", db_constraint=False, db_index=False)
    since = models.DateField()
    until = models.DateField()
    version = models.BigIntegerField()
    edited = models.BigIntegerField(default=0)  # the brand's RollupVersion.edited when it was built
    terms = models.CharField(max_length=64)
    data = models.JSONField()
    computed_at = models.DateTimeField()

    class Meta:
        constraints = [models.UniqueConstraint(fields=["brand", "since", "until"], name="report_summary_period_unique")]

    def __str__(self) -> str:
        return f"{self.brand_id} {self.since}..{self.until} @ {self.version}"


class ReportPdf(models.Model):
    """A report's PDF for one brand, period and language, built in the background on the reports
    queue (reports/pdfs.py): the page asks for it, shows it being prepared and downloads it when
    ready; the scheduled e-mail of the same report attaches it rather than building another."""

    class Status(models.TextChoices):
        PREPARING = "preparing", _("Preparing")
        READY = "ready", _("Ready")
        FAILED = "failed", _("Failed")

    brand = models.ForeignKey(Brand, on_delete=models.CASCADE, related_name="+", db_index=False)
    since = models.DateField()
    until = models.DateField()
    language = models.CharField(max_length=16)
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.PREPARING)
    pdf = models.BinaryField(null=True, blank=True)
    # The brand's RollupVersion when it was built: a later change to the rollups makes it stale.
    version = models.BigIntegerField(default=0)
    error = models.CharField(max_length=500, blank=True)
    requested_at = models.DateTimeField()
    built_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["brand", "since", "until", "language"], name="report_pdf_period_unique")
        ]

    def __str__(self) -> str:
        return f"{self.brand_id} {self.since}..{self.until} {self.language}: {self.status}"


class RollupState(models.Model):
    """When the rollups were last checked against the mentions (and any day that no longer
    matched recounted): what the report page shows as their freshness."""

    key = models.CharField(max_length=32, unique=True, default="default")
    refreshed_at = models.DateTimeField(null=True, blank=True)

    def __str__(self) -> str:
        return f"{self.key}: {self.refreshed_at}"


class ReportSubscription(models.Model):
    class Frequency(models.TextChoices):
        WEEKLY = "weekly", _("Weekly")
        DAILY = "daily", _("Daily")

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="report_subscriptions")
    brand = models.ForeignKey(Brand, on_delete=models.CASCADE, related_name="report_subscriptions")
    frequency = models.CharField(_("frequency"), max_length=8, choices=Frequency.choices, default=Frequency.WEEKLY)
    last_sent_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["user", "brand"], name="report_subscription_unique")]
        verbose_name = _("report subscription")
        verbose_name_plural = _("report subscriptions")

    def __str__(self) -> str:
        return f"{self.user} / {self.brand} ({self.frequency})"


class SpikeAlert(models.Model):
    """One row per alert sent: at most one per brand per hour."""

    brand = models.ForeignKey(Brand, on_delete=models.CASCADE, related_name="+")
    hour = models.DateTimeField()
    count = models.PositiveIntegerField()
    baseline = models.FloatField()
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["brand", "hour"], name="spike_alert_one_per_hour")]

    def __str__(self) -> str:
        return f"{self.brand_id} {self.hour}: {self.count}"
