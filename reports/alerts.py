"""Spike alerts: tell a brand's community managers when negative mentions jump above their usual rate."""

from __future__ import annotations

from collections import Counter
from datetime import datetime, timedelta
from urllib.parse import urlencode

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import Count
from django.urls import reverse
from django.utils import timezone
from django.utils.text import format_lazy
from django.utils.translation import gettext_lazy

from listening.models import Brand, Mention, Sentiment
from reports.models import SpikeAlert
from reports.text import words_of
from responses.notifications import community_managers, notify

SPIKE_BASELINE_HOURS = 24


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
    for text, language in spike.values_list("text", "language")[:2000]:
        words.update(set(words_of(text, language)))
    terms = [w for w, _n in words.most_common(5)]
    authors = [
        f"@{row['author__handle']}" if row["author__handle"] else row["author__name"]
        for row in spike.values("author__handle", "author__name").annotate(n=Count("id")).order_by("-n")[:5]
    ]
    url = f"{reverse('responses:inbox')}?{urlencode({'brand': brand.pk, 'sentiment': Sentiment.NEGATIVE})}"
    message = gettext_lazy("%(brand)s: %(count)s negative mentions in the last hour (usual: %(baseline).1f an hour).")
    detail = gettext_lazy("Top terms: %(terms)s. Top authors: %(authors)s.")
    params = {
        "brand": brand.name,
        "count": alert.count,
        "baseline": alert.baseline,
        "terms": ", ".join(terms) or "—",
        "authors": ", ".join(authors) or "—",
    }
    # One line in the app; the e-mail names the spike in its subject and gives the detail a line of
    # its own; each community manager reads it in their language.
    notify(
        users=community_managers(brand.pk),
        verb="spike",
        message=format_lazy("{} {}", message, detail),
        params=params,
        url=url,
        subject=gettext_lazy("Negative spike: %(brand)s"),
        body=format_lazy("{}\n{}", message, detail),
    )
