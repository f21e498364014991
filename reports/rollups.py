"""Rollups: per-day counts of each brand's mentions that the reports read instead of the mentions.

A (brand, day) is always recounted whole, so a refresh can run again at any time; which days are
stale is worked out from the mentions' timestamps and a comparison of totals (see dirty_days).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from datetime import UTC, date, datetime, time, timedelta

from django.db import transaction
from django.db.models import Count, F, Max, Q
from django.db.models.functions import TruncDate
from django.utils import timezone

from listening.models import Intent, Mention, Sentiment
from reports.models import (
    AuthorDay,
    ChannelDay,
    IntentDay,
    QualityDay,
    QuestionDay,
    RollupState,
    SourceDay,
    TermDay,
    WordDay,
)
from reports.text import question_of, words_of

# Days always recounted: late edits that skip updated_at (a term added through the M2M) land here.
RECENT_DAYS = 2
# Per (brand, day, sentiment) only this many words are kept, so WordDay stays bounded.
WORDS_PER_DAY = 200
QUESTIONS_PER_DAY = 100


def utc_day_bounds(day: date) -> tuple[datetime, datetime]:
    start = datetime.combine(day, time.min, tzinfo=UTC)
    return start, start + timedelta(days=1)


def _recount_day(brand_id: int, day: date) -> None:
    """Replace every rollup row of one (brand, day) with a fresh count, atomically."""
    start, end = utc_day_bounds(day)
    mentions = Mention.objects.filter(brand_id=brand_id, published_at__gte=start, published_at__lt=end)
    with transaction.atomic():
        for model in (ChannelDay, TermDay, AuthorDay, SourceDay, WordDay, QuestionDay, QualityDay, IntentDay):
            model.objects.filter(brand_id=brand_id, day=day).delete()
        # Words and questions need the text: one pass over this day's texts (a bounded slice).
        words: dict[str, Counter[str]] = {s: Counter() for s in Sentiment.values}
        questions: Counter[str] = Counter()
        hashtags: Counter[tuple[str, str]] = Counter()
        engagement: Counter[int] = Counter()
        rows = mentions.values_list("text", "sentiment", "author_id", "metrics").iterator(chunk_size=2000)
        for text, sentiment, author_id, metrics in rows:
            # metrics is JSON whose keys differ per platform: summed here, not in SQL, to stay portable.
            engagement[author_id] += sum(v for v in (metrics or {}).values() if isinstance(v, int) and v > 0)
            found = set(words_of(text))
            words[sentiment].update(found)
            hashtags.update((w, sentiment) for w in found if w.startswith("#"))
            if question := question_of(text):
                questions[question] += 1
        ChannelDay.objects.bulk_create(
            ChannelDay(
                brand_id=brand_id, day=day, channel_id=row["channel_id"], sentiment=row["sentiment"], count=row["n"]
            )
            for row in mentions.values("channel_id", "sentiment").annotate(n=Count("id")).order_by()
        )
        TermDay.objects.bulk_create(
            TermDay(brand_id=brand_id, day=day, term_id=row["terms"], sentiment=row["sentiment"], count=row["n"])
            for row in mentions.filter(terms__isnull=False)
            .values("terms", "sentiment")
            .annotate(n=Count("id"))
            .order_by()
        )
        AuthorDay.objects.bulk_create(
            AuthorDay(
                brand_id=brand_id,
                day=day,
                author_id=row["author_id"],
                count=row["n"],
                scored=row["pos"] + row["neg"] + row["neu"],
                negative=row["neg"],
                engagement=engagement[row["author_id"]],
                sentiment_sum=row["pos"] - row["neg"],
            )
            for row in mentions.values("author_id")
            .annotate(
                n=Count("id"),
                pos=Count("id", filter=Q(sentiment=Sentiment.POSITIVE)),
                neg=Count("id", filter=Q(sentiment=Sentiment.NEGATIVE)),
                neu=Count("id", filter=Q(sentiment=Sentiment.NEUTRAL)),
            )
            .order_by()
        )
        sources = [
            SourceDay(brand_id=brand_id, day=day, kind=SourceDay.Kind.PLATFORM, name=row["channel__platform"],
                      sentiment=row["sentiment"], count=row["n"])
            for row in mentions.values("channel__platform", "sentiment").annotate(n=Count("id")).order_by()
        ] + [
            SourceDay(brand_id=brand_id, day=day, kind=SourceDay.Kind.SITE, name=row["source"][:255],
                      sentiment=row["sentiment"], count=row["n"])
            for row in mentions.exclude(source="").values("source", "sentiment").annotate(n=Count("id")).order_by()
        ]  # fmt: skip
        quality = mentions.aggregate(
            total=Count("id"),
            reviewed=Count("id", filter=_reviewed()),
            corrected=Count("id", filter=Q(sentiment_corrected_by__isnull=False)),
            agreed=Count("id", filter=_reviewed() & Q(analyzer_sentiment=F("sentiment"))),
            intent_reviewed=Count("id", filter=_intent_reviewed()),
            intent_corrected=Count("id", filter=Q(intent_corrected_by__isnull=False)),
            intent_agreed=Count("id", filter=_intent_reviewed() & Q(analyzer_intent=F("intent"))),
        )
        QualityDay.objects.create(brand_id=brand_id, day=day, **quality)
        IntentDay.objects.bulk_create(
            IntentDay(brand_id=brand_id, day=day, intent=row["intent"], count=row["n"])
            for row in mentions.values("intent").annotate(n=Count("id")).order_by()
        )

        WordDay.objects.bulk_create(
            WordDay(brand_id=brand_id, day=day, word=word, sentiment=sentiment, count=n)
            for sentiment, counter in words.items()
            for word, n in counter.most_common(WORDS_PER_DAY)
        )
        sources += [
            SourceDay(brand_id=brand_id, day=day, kind=SourceDay.Kind.HASHTAG, name=tag, sentiment=s, count=n)
            for (tag, s), n in hashtags.items()
        ]
        SourceDay.objects.bulk_create(sources)
        QuestionDay.objects.bulk_create(
            QuestionDay(brand_id=brand_id, day=day, question=q, count=n)
            for q, n in questions.most_common(QUESTIONS_PER_DAY)
        )


def _reviewed() -> Q:
    """A mention a person looked at and labelled: corrected, or handled and left as scored."""
    return Q(sentiment_corrected_by__isnull=False) | (
        Q(status__in=[Mention.Status.REPLIED, Mention.Status.ROUTED, Mention.Status.CLOSED])
        & ~Q(analyzer_sentiment=Sentiment.UNSCORED)
    )


def _intent_reviewed() -> Q:
    """A mention whose intent a person looked at: corrected, or handled with the analyzer's kept."""
    return Q(intent_corrected_by__isnull=False) | (
        Q(status__in=[Mention.Status.REPLIED, Mention.Status.ROUTED, Mention.Status.CLOSED])
        & ~Q(analyzer_intent=Intent.UNCLASSIFIED)
    )


def _day_counts(brand_id: int | None, since: date | None) -> dict[tuple[int, date], int]:
    mentions = Mention.objects.all()
    if brand_id:
        mentions = mentions.filter(brand_id=brand_id)
    if since:
        mentions = mentions.filter(published_at__gte=utc_day_bounds(since)[0])
    return {
        (row["brand_id"], row["day"]): row["n"]
        for row in mentions.annotate(day=TruncDate("published_at", tzinfo=UTC))
        .values("brand_id", "day")
        .annotate(n=Count("id"))
        .order_by()
    }


def dirty_days(*, watermark: datetime | None, brand_id: int | None = None) -> set[tuple[int, date]]:
    """The (brand, day) pairs whose rollups may be stale.

    - days of mentions fetched or updated after the watermark (new mentions, corrections,
      status changes — every mention_* service in listening/services.py bumps updated_at);
    - the last RECENT_DAYS days, always (cheap, and catches edits that skip updated_at);
    - days whose raw mention count differs from the rollup's total: deletions leave no row to
      find by timestamp, so a grouped count per day (an index-only scan of mention_inbox_idx)
      is compared with the stored totals.
    """
    mentions = Mention.objects.all()
    if brand_id:
        mentions = mentions.filter(brand_id=brand_id)
    changed = mentions
    if watermark is not None:
        changed = mentions.filter(Q(updated_at__gt=watermark) | Q(fetched_at__gt=watermark))
    days = {
        (row["brand_id"], row["day"])
        for row in changed.annotate(day=TruncDate("published_at", tzinfo=UTC)).values("brand_id", "day").distinct()
    }
    today = timezone.now().astimezone(UTC).date()
    recent = {today - timedelta(days=n) for n in range(RECENT_DAYS)}
    raw = _day_counts(brand_id, None)
    stored_qs = QualityDay.objects.all()
    if brand_id:
        stored_qs = stored_qs.filter(brand_id=brand_id)
    stored = {(row["brand_id"], row["day"]): row["total"] for row in stored_qs.values("brand_id", "day", "total")}
    days |= {key for key in raw.keys() | stored.keys() if raw.get(key, 0) != stored.get(key, 0)}
    days |= {key for key in raw if key[1] in recent}
    return days


def rollups_refresh(*, brand: int | None = None, days: Iterable[date] | None = None) -> int:
    """Bring rollups up to date; returns how many (brand, day) pairs were recounted.

    With ``days`` those days are recounted (for ``brand`` or every brand with mentions or rollups
    on them); otherwise the dirty days since the stored watermark. The new watermark is taken
    before counting, so a mention changed during the refresh is seen again next time.
    """
    started = timezone.now()
    state, _created = RollupState.objects.get_or_create(key="default")
    if days is not None:
        wanted = set(days)
        brands = (
            {brand}
            if brand
            else set(Mention.objects.values_list("brand_id", flat=True).distinct())
            | set(QualityDay.objects.values_list("brand_id", flat=True).distinct())
        )
        pairs = {(b, d) for b in brands for d in wanted}
    else:
        pairs = dirty_days(watermark=state.watermark, brand_id=brand)
    for brand_id, day in sorted(pairs):
        _recount_day(brand_id, day)
    if days is None and brand is None:
        RollupState.objects.filter(pk=state.pk).update(watermark=started, refreshed_at=timezone.now())
    return len(pairs)


def last_refreshed_at() -> datetime | None:
    return RollupState.objects.filter(key="default").aggregate(at=Max("refreshed_at"))["at"]
