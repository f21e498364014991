"""Writes for reports: rebuilding rollups, subscriptions, spike alerts and the scheduled e-mail."""

from __future__ import annotations

import re
import unicodedata
from collections import Counter
from collections.abc import Iterable
from datetime import UTC, date, datetime, time, timedelta
from email.mime.image import MIMEImage
from urllib.parse import urlencode

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.mail import EmailMultiAlternatives, send_mail
from django.db import IntegrityError, transaction
from django.db.models import Count, F, Max, Q, QuerySet
from django.db.models.functions import TruncDate
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from config.roles import COMMUNITY_MANAGER
from listening.models import Brand, Mention, Sentiment
from listening.selectors import brands_for_user
from reports import charts
from reports.models import (
    AuthorDay,
    ChannelDay,
    QualityDay,
    QuestionDay,
    ReportSubscription,
    RollupState,
    SourceDay,
    SpikeAlert,
    TermDay,
    WordDay,
)
from responses.models import Notification

# Days always recounted: late edits that skip updated_at (a term added through the M2M) land here.
RECENT_DAYS = 2
# Per (brand, day, sentiment) only this many words are kept, so WordDay stays bounded.
WORDS_PER_DAY = 200
QUESTIONS_PER_DAY = 100

STOPWORDS = frozenset(
    """
    the and for are but not you your with this that have has had was were from they them their there what when
    where which who why how all any can our out its it's just about into more some than then too very will would
    should could been being get got also only one two like dont don't i'm im yes http https www com
    que los las del por con una para como pero sus mas más este esta estos estas ese esa eso muy sin sobre
    entre cuando donde quien porque hay fue son está están ser tiene tienen todo todos nos les ella ellos
    desde hasta también tambien solo ya qué cómo cuál cuándo dónde por qué
    """.split()
)
# Words that open a question. Unaccented Spanish forms ("como", "que") are left out: without the
# accent they are ordinary words ("I eat", "that"); a question mark still catches those questions.
QUESTION_STARTS = (
    "how", "what", "why", "when", "where", "who", "which",
    "cómo", "qué", "por qué", "cuándo", "dónde", "quién", "cuál", "cuánto", "cuánta",
)  # fmt: skip
WORD_RE = re.compile(r"#?[^\W\d_][\w'-]{2,63}", re.UNICODE)
HANDLE_OR_URL_RE = re.compile(r"https?://\S+|@\w+")
SENTIMENT_SIGN = {Sentiment.POSITIVE: 1, Sentiment.NEGATIVE: -1}


def utc_day_bounds(day: date) -> tuple[datetime, datetime]:
    start = datetime.combine(day, time.min, tzinfo=UTC)
    return start, start + timedelta(days=1)


def words_of(text: str) -> list[str]:
    """Lower-cased words of three letters or more, minus en/es stopwords; hashtags keep their #."""
    text = HANDLE_OR_URL_RE.sub(" ", text.lower())
    return [w for w in WORD_RE.findall(text) if w.lstrip("#") not in STOPWORDS]


def question_of(text: str) -> str | None:
    """The normalized wording of a question, or None: what groups "How do I reset?" with "how do i reset".

    A question ends with "?" (or starts with "¿") or starts with a question word; handles, links,
    accents and punctuation are dropped so that near-identical wordings fall together.
    """
    text = HANDLE_OR_URL_RE.sub(" ", text).strip()
    sentence = re.split(r"(?<=[?.!])\s", text)[0].strip() if text else ""
    lowered = sentence.lower()
    if not lowered:
        return None
    first_words = lowered.split()
    is_question = (
        lowered.endswith("?")
        or lowered.startswith("¿")
        or first_words[0] in QUESTION_STARTS
        or " ".join(first_words[:2]) in QUESTION_STARTS
    )
    if not is_question:
        return None
    plain = unicodedata.normalize("NFKD", lowered.lstrip("¿"))
    plain = "".join(c for c in plain if not unicodedata.combining(c))
    plain = re.sub(r"[^\w\s]", " ", plain)
    plain = " ".join(plain.split())[:200]
    return plain or None


def _recount_day(brand_id: int, day: date) -> None:
    """Replace every rollup row of one (brand, day) with a fresh count, atomically."""
    start, end = utc_day_bounds(day)
    mentions = Mention.objects.filter(brand_id=brand_id, published_at__gte=start, published_at__lt=end)
    with transaction.atomic():
        for model in (ChannelDay, TermDay, AuthorDay, SourceDay, WordDay, QuestionDay, QualityDay):
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
        )
        QualityDay.objects.create(brand_id=brand_id, day=day, **quality)

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
      status changes — every action in listening/actions.py bumps updated_at);
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


# --- Spike alerts ---------------------------------------------------------------------------

SPIKE_BASELINE_HOURS = 24


def _community_managers(brand: Brand) -> QuerySet:
    return (
        get_user_model()
        .objects.filter(brand_memberships__brand=brand, groups__name=COMMUNITY_MANAGER, is_active=True)
        .distinct()
    )


def spikes_detect(*, now: datetime | None = None) -> int:
    """Alert each brand whose negative mentions in the last hour exceed its baseline; returns alerts sent.

    Baseline = mean negative mentions per hour over the SPIKE_BASELINE_HOURS before that hour.
    Both counts are index range scans on mention_inbox_sentiment_idx (brand, sentiment, published_at).
    """
    now = now or timezone.now()
    hour_ago = now - timedelta(hours=1)
    sent = 0
    negative = Mention.objects.filter(sentiment=Sentiment.NEGATIVE)
    recent = dict(
        negative.filter(published_at__gte=hour_ago, published_at__lt=now)
        .values("brand_id")
        .annotate(n=Count("id"))
        .filter(n__gte=settings.SPIKE_MIN_COUNT)
        .values_list("brand_id", "n")
    )
    for brand in Brand.objects.filter(pk__in=recent):
        count = recent[brand.pk]
        baseline_count = negative.filter(
            brand=brand, published_at__gte=hour_ago - timedelta(hours=SPIKE_BASELINE_HOURS), published_at__lt=hour_ago
        ).count()
        baseline = baseline_count / SPIKE_BASELINE_HOURS
        if count <= settings.SPIKE_FACTOR * baseline:
            continue
        if SpikeAlert.objects.filter(brand=brand, created_at__gt=hour_ago).exists():
            continue  # at most one alert per brand per hour
        try:
            with transaction.atomic():
                alert = SpikeAlert.objects.create(
                    brand=brand, hour=now.replace(minute=0, second=0, microsecond=0), count=count, baseline=baseline
                )
        except IntegrityError:
            continue  # another worker alerted this hour
        _spike_notify(brand, alert, hour_ago, now)
        sent += 1
    return sent


def _spike_notify(brand: Brand, alert: SpikeAlert, since: datetime, until: datetime) -> None:
    spike = Mention.objects.filter(
        brand=brand, sentiment=Sentiment.NEGATIVE, published_at__gte=since, published_at__lt=until
    )
    words: Counter[str] = Counter()
    for text in spike.values_list("text", flat=True)[:2000]:
        words.update(set(words_of(text)))
    terms = [w for w, _n in words.most_common(5)]
    authors = [
        f"@{row['author__handle']}" if row["author__handle"] else row["author__name"]
        for row in spike.values("author__handle", "author__name").annotate(n=Count("id")).order_by("-n")[:5]
    ]
    url = f"{reverse('responses:inbox')}?{urlencode({'brand': brand.pk, 'sentiment': Sentiment.NEGATIVE})}"
    message = _("%(brand)s: %(count)s negative mentions in the last hour (usual: %(baseline).1f an hour).") % {
        "brand": brand.name,
        "count": alert.count,
        "baseline": alert.baseline,
    }
    detail = _("Top terms: %(terms)s. Top authors: %(authors)s.") % {
        "terms": ", ".join(terms) or "—",
        "authors": ", ".join(authors) or "—",
    }
    for user in _community_managers(brand):
        Notification.objects.create(user=user, verb="spike", message=f"{message} {detail}"[:500], url=url)
        if user.email:
            send_mail(
                subject=_("Negative spike: %(brand)s") % {"brand": brand.name},
                message=f"{message}\n{detail}\n\n{settings.SITE_URL}{url}\n",
                from_email=None,
                recipient_list=[user.email],
            )


# --- Scheduled e-mail report ----------------------------------------------------------------

FREQUENCY_DAYS = {ReportSubscription.Frequency.DAILY: 1, ReportSubscription.Frequency.WEEKLY: 7}


def scheduled_reports_send(*, now: datetime | None = None) -> int:
    """Send each due subscription its report; returns how many were sent.

    A subscription is claimed by a conditional UPDATE of last_sent_at, so two workers (or a
    retried task) never send the same report twice.
    """
    now = now or timezone.now()
    sent = 0
    for sub in ReportSubscription.objects.select_related("user", "brand"):
        days = FREQUENCY_DAYS[sub.frequency]
        # An hour of slack so that a report sent at 08:00:05 is due again at 08:00 next time.
        if sub.last_sent_at and sub.last_sent_at > now - timedelta(days=days) + timedelta(hours=1):
            continue
        if not sub.user.email or not brands_for_user(sub.user).filter(pk=sub.brand_id).exists():
            continue
        claimed = ReportSubscription.objects.filter(pk=sub.pk, last_sent_at=sub.last_sent_at).update(last_sent_at=now)
        if not claimed:
            continue
        try:
            _send_report(sub, now, days)
        except Exception:
            ReportSubscription.objects.filter(pk=sub.pk).update(last_sent_at=sub.last_sent_at)
            raise
        sent += 1
    return sent


def _send_report(sub: ReportSubscription, now: datetime, days: int) -> None:
    # Imported here: selectors import nothing from services, but keeping the e-mail's reads
    # next to the page's avoids a second definition of every number.
    from reports import selectors

    until = now.astimezone(UTC).date() - timedelta(days=1)
    period = selectors.Period(until - timedelta(days=days - 1), until)
    data = selectors.report(sub.brand, period)
    url = (
        f"{settings.SITE_URL}{reverse('reports:report')}?brand={sub.brand_id}&since={period.since}&until={period.until}"
    )
    context = {"brand": sub.brand, "period": period, "report": data, "url": url, "bars": email_bars(data)}
    with translation.override(getattr(sub.user, "language", None) or settings.LANGUAGE_CODE):
        subject = _("%(brand)s: report %(since)s to %(until)s") % {
            "brand": sub.brand.name,
            "since": period.since,
            "until": period.until,
        }
        images = email_charts(data)
        context["charts"] = set(images)
        # The images' sizes in the HTML, so that clients lay the e-mail out before they load.
        context["chart_sizes"] = {
            "volume": charts.VOLUME_SIZE,
            "share_of_voice": charts.share_of_voice_size(len(data.share_of_voice["groups"])),
        }
        text = render_to_string("reports/email/report.txt", context)
        html = render_to_string("reports/email/report.html", context)
    message = EmailMultiAlternatives(subject=str(subject), body=text, to=[sub.user.email])
    message.attach_alternative(html, "text/html")
    # multipart/related: the images belong to the HTML part (cid: links) rather than showing
    # up as separate downloads; the plain-text part stays for clients that show no HTML.
    message.mixed_subtype = "related"
    for content_id, png in images.items():
        image = MIMEImage(png, "png")
        image.add_header("Content-ID", f"<{content_id}>")
        image.add_header("Content-Disposition", "inline", filename=f"{content_id}.png")
        message.attach(image)
    message.send()


def email_charts(data: object) -> dict[str, bytes]:
    """The report's charts as PNG images, by the Content-ID the HTML e-mail refers to them with."""
    volume = data.volume  # type: ignore[attr-defined]
    days = [d["day"] for d in volume["days"]]
    series = {s: [d[s] for d in volume["days"]] for s in charts.COLOURS}
    images = {"volume": charts.volume_chart_png(days, series)}
    groups = data.share_of_voice["groups"]  # type: ignore[attr-defined]
    if groups:  # no tracked brand or competitor term matched: nothing to compare
        images["share-of-voice"] = charts.share_of_voice_png([(g["label"], g["share"]) for g in groups])
    return images


def email_bars(data: object) -> dict[str, list[dict]]:
    """The numbers beside the e-mail's chart images, as rows with a bar width in percent (CSS only):
    readable where a client blocks images, and by screen readers."""

    def bars(rows: list[tuple[str, int | float]]) -> list[dict]:
        top = max((v for _label, v in rows), default=0) or 1
        return [{"label": label, "value": value, "width": round(value / top * 100)} for label, value in rows]

    volume = data.volume  # type: ignore[attr-defined]
    return {
        "days": bars([(d["day"].strftime("%d %b"), d["total"]) for d in volume["days"]]),
        "platforms": bars([(p["platform"], p["total"]) for p in volume["platforms"]]),
        "share_of_voice": bars([(g["label"], g["share"]) for g in data.share_of_voice["groups"]]),  # type: ignore[attr-defined]
        "negative_terms": bars([(w["word"], w["count"]) for w in data.topics["negative_words"]]),  # type: ignore[attr-defined]
    }
