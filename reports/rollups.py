"""Rollups: per-day counts of each brand's mentions that the reports read instead of the mentions.

Two ways in, one meaning:

- **Deltas**, as things happen: a stored batch of mentions adds its contribution (a pipeline step
  registered in ``ReportsConfig.ready``), a relabelled mention moves its own (a change step), a
  deleted mention takes it away (``pre_delete``). Each is one statement per rollup table per
  batch, in the same transaction as the change, so words, hashtags and questions are counted once
  per mention when it arrives and never by re-reading a day's texts.
- **Recounts**, to repair: ``rollups_refresh`` recounts whole (brand, day)s from their mentions
  — the days whose mention count differs from the rollups' total (mentions stored without the
  pipeline: an import with routing off, a bulk load, a channel's deletion), or every day from a
  date on (``manage.py refresh_rollups --since``).

``contributions`` (deltas) and ``_recount`` (SQL aggregates plus one pass over the texts) are
held equal by tests/reports/test_rollup_properties.py.
"""

from __future__ import annotations

import dataclasses
from collections import Counter, defaultdict
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from django.db import connection, models, transaction
from django.db.models import Count, F, Max, Q, Sum, Value
from django.db.models.functions import Coalesce, NullIf, TruncDate
from django.utils import timezone

from listening.models import Channel, Intent, Mention, Platform, Sentiment, SourceTitle, TrackedTerm
from reports.models import (
    AuthorDay,
    ChannelDay,
    GroupDay,
    IntentDay,
    QualityDay,
    QuestionDay,
    RollupState,
    SourceDay,
    TermDay,
    WordDay,
)
from reports.text import question_of, words_of

HANDLED = (Mention.Status.REPLIED, Mention.Status.ROUTED, Mention.Status.CLOSED)
# Days recounted in one transaction by a full refresh: fewer statements per day, yet a bounded
# transaction (a month of a million-mention year is ~100,000 mentions read once).
RECOUNT_CHUNK_DAYS = 31
ROLLUPS = (ChannelDay, TermDay, GroupDay, AuthorDay, SourceDay, WordDay, QuestionDay, QualityDay, IntentDay)
# Per table: the columns after (brand, day) that make a row, and the counted columns.
DIMENSIONS: dict[type[models.Model], tuple[str, ...]] = {
    ChannelDay: ("channel_id", "sentiment"),
    TermDay: ("term_id", "sentiment"),
    GroupDay: ("is_brand", "group", "sentiment"),
    AuthorDay: ("author_id",),
    SourceDay: ("kind", "name", "sentiment"),
    WordDay: ("word", "sentiment"),
    QuestionDay: ("question",),
    QualityDay: (),
    IntentDay: ("intent",),
}
COUNTED: dict[type[models.Model], tuple[str, ...]] = {
    AuthorDay: ("count", "scored", "negative", "engagement", "sentiment_sum"),
    QualityDay: (
        "total", "reviewed", "corrected", "agreed", "intent_reviewed", "intent_corrected", "intent_agreed",
    ),
}  # fmt: skip
SIGNED = {"sentiment_sum"}  # may go below zero; every other counted column may not


def utc_day_bounds(day: date) -> tuple[datetime, datetime]:
    start = datetime.combine(day, time.min, tzinfo=UTC)
    return start, start + timedelta(days=1)


def _counted(model: type[models.Model]) -> tuple[str, ...]:
    return COUNTED.get(model, ("count",))


# --- One mention's contribution -----------------------------------------------------------------
@dataclass(frozen=True)
class Facts:
    """What the rollups need of one mention."""

    brand_id: int
    day: date
    channel_id: int
    platform: str
    author_id: int
    sentiment: str
    analyzer_sentiment: str
    intent: str
    analyzer_intent: str
    status: str
    sentiment_corrected: bool
    intent_corrected: bool
    engagement: int
    source: str
    source_label: str
    words: frozenset[str]
    question: str | None
    term_ids: frozenset[int]
    # None for the brand's own group, the competitor's label otherwise.
    groups: frozenset[str | None]


def engagement_of(metrics: Any) -> int:
    """Likes, shares, replies … summed; metrics is JSON whose keys differ per platform, and a
    value the platform sent as text or a negative number counts for nothing."""
    if not isinstance(metrics, dict):
        return 0
    return sum(v for v in metrics.values() if isinstance(v, int) and not isinstance(v, bool) and v > 0)


def source_label(source: str, platform: str, channel_name: str, titles: Mapping[str, str]) -> str:
    """What a person calls a site, page or video: the title of the item it names when we stored it,
    else the channel's name where the platform gives only an id (a YouTube video, a Facebook page
    id, an Instagram post); "" where the id is already readable (a feed's host name)."""
    if title := titles.get(source):
        return title[:255]
    if platform in (Platform.YOUTUBE, Platform.INSTAGRAM) or (platform == Platform.FACEBOOK and source.isdigit()):
        return channel_name[:255]
    return ""


def contributions(facts: Facts, sign: int = 1) -> dict[type[models.Model], dict[tuple, Counter[str]]]:
    """The rows one mention adds to (``sign`` 1) or takes from (-1), by table and row key."""
    out: dict[type[models.Model], dict[tuple, Counter[str]]] = defaultdict(lambda: defaultdict(Counter))
    b, d, s = facts.brand_id, facts.day, facts.sentiment
    out[ChannelDay][(b, d, facts.channel_id, s)]["count"] += sign
    for term_id in facts.term_ids:
        out[TermDay][(b, d, term_id, s)]["count"] += sign
    for group in facts.groups:
        out[GroupDay][(b, d, group is None, group or "", s)]["count"] += sign
    scored = s != Sentiment.UNSCORED
    author = out[AuthorDay][(b, d, facts.author_id)]
    author["count"] += sign
    author["scored"] += sign * scored
    author["negative"] += sign * (s == Sentiment.NEGATIVE)
    author["engagement"] += sign * facts.engagement
    author["sentiment_sum"] += sign * ((s == Sentiment.POSITIVE) - (s == Sentiment.NEGATIVE))
    out[SourceDay][(b, d, SourceDay.Kind.PLATFORM, facts.platform, s)]["count"] += sign
    if facts.source:
        out[SourceDay][(b, d, SourceDay.Kind.SITE, facts.source[:255], s)]["count"] += sign
    for word in facts.words:
        out[WordDay][(b, d, word, s)]["count"] += sign
        if word.startswith("#"):
            out[SourceDay][(b, d, SourceDay.Kind.HASHTAG, word, s)]["count"] += sign
    if facts.question:
        out[QuestionDay][(b, d, facts.question)]["count"] += sign
    out[IntentDay][(b, d, facts.intent)]["count"] += sign
    handled = facts.status in HANDLED
    reviewed = facts.sentiment_corrected or (handled and facts.analyzer_sentiment != Sentiment.UNSCORED)
    intent_reviewed = facts.intent_corrected or (handled and facts.analyzer_intent != Intent.UNCLASSIFIED)
    quality = out[QualityDay][(b, d)]
    quality["total"] += sign
    quality["reviewed"] += sign * reviewed
    quality["corrected"] += sign * facts.sentiment_corrected
    quality["agreed"] += sign * (reviewed and facts.analyzer_sentiment == s)
    quality["intent_reviewed"] += sign * intent_reviewed
    quality["intent_corrected"] += sign * facts.intent_corrected
    quality["intent_agreed"] += sign * (intent_reviewed and facts.analyzer_intent == facts.intent)
    return out


def facts_of(mentions: Sequence[Mention]) -> list[Facts]:
    """Facts for a batch of stored mentions in three queries (their terms, channels, and the titles
    of the items their sources name), however many mentions."""
    ids = [m.pk for m in mentions]
    terms: dict[int, list[tuple[int, str, str]]] = defaultdict(list)
    rows = Mention.terms.through.objects.filter(mention_id__in=ids).values_list(
        "mention_id", "trackedterm_id", "trackedterm__kind", "trackedterm__group", "trackedterm__text"
    )
    for mention_id, term_id, kind, group, text in rows:
        terms[mention_id].append((term_id, kind, group or text))
    channels = {
        c.pk: c for c in Channel.objects.filter(pk__in={m.channel_id for m in mentions}).only("platform", "name")
    }
    sources = {m.source for m in mentions if m.source}
    titles = _titles({m.brand_id for m in mentions}, sources) if sources else {}
    out = []
    for m in mentions:
        channel = channels[m.channel_id]
        groups: set[str | None] = set()
        for _term, kind, label in terms[m.pk]:
            if kind == TrackedTerm.Kind.BRAND:
                groups.add(None)
            elif kind == TrackedTerm.Kind.COMPETITOR:
                groups.add(label)
        out.append(
            Facts(
                brand_id=m.brand_id,
                day=m.published_at.astimezone(UTC).date(),
                channel_id=m.channel_id,
                platform=channel.platform,
                author_id=m.author_id,
                sentiment=m.sentiment,
                analyzer_sentiment=m.analyzer_sentiment,
                intent=m.intent,
                analyzer_intent=m.analyzer_intent,
                status=m.status,
                sentiment_corrected=m.sentiment_corrected_by_id is not None,
                intent_corrected=m.intent_corrected_by_id is not None,
                engagement=engagement_of(m.metrics),
                source=m.source,
                source_label=source_label(m.source, channel.platform, channel.name, titles) if m.source else "",
                words=frozenset(words_of(m.text, m.language)),
                question=question_of(m.text),
                term_ids=frozenset(t for t, _kind, _label in terms[m.pk]),
                groups=frozenset(groups),
            )
        )
    return out


def _titles(brand_ids: Iterable[int], sources: Iterable[str]) -> dict[str, str]:
    """What each source is called: the title the platform gave it apart from its items (a
    video's), else the title of a stored item whose platform id it is (a post, an article)."""
    channel_ids = list(Channel.objects.filter(brand_id__in=list(brand_ids)).values_list("pk", flat=True))
    sources = list(sources)
    stored = dict(
        Mention.objects.filter(channel_id__in=channel_ids, external_id__in=sources)
        .exclude(title="")
        .values_list("external_id", "title")
    )
    named = dict(
        SourceTitle.objects.filter(channel_id__in=channel_ids, source__in=sources).values_list("source", "title")
    )
    return stored | named


# --- Applying deltas ----------------------------------------------------------------------------
Deltas = dict[type[models.Model], dict[tuple, Counter[str]]]


def _merge(into: Deltas, more: Deltas) -> Deltas:
    for model, rows in more.items():
        target = into.setdefault(model, defaultdict(Counter))
        for key, counts in rows.items():
            target[key].update(counts)
    return into


def rollups_apply(facts: Iterable[Facts], *, sign: int = 1, before: Iterable[Facts] = ()) -> None:
    """Add the contributions of ``facts`` (``sign`` -1: take them away), minus those of ``before``."""
    deltas: Deltas = {}
    labels: dict[tuple, str] = {}
    for f in facts:
        _merge(deltas, contributions(f, sign))
        if f.source_label:
            labels[(f.brand_id, f.day, SourceDay.Kind.SITE, f.source[:255])] = f.source_label
    for f in before:
        _merge(deltas, contributions(f, -sign))
    for model in ROLLUPS:
        if model in deltas:
            _apply(model, deltas[model], labels if model is SourceDay else {})


def _apply(model: type[models.Model], rows: Mapping[tuple, Counter[str]], labels: Mapping[tuple, str]) -> None:
    """Add signed deltas to one table: rows that only grow are upserted in one statement (sorted, so
    two concurrent batches lock rows in the same order); rows that shrink are updated in place,
    never below zero (a row that was never counted is left to the next recount), and dropped at zero."""
    counted = _counted(model)
    keys = ["brand_id", "day", *DIMENSIONS[model]]
    grow, shrink = [], []
    for key in sorted(rows):
        delta = rows[key]
        if not any(delta.get(c) for c in counted):
            continue
        (shrink if any(delta.get(c, 0) < 0 for c in counted if c not in SIGNED) else grow).append(key)
    # Table and column names come from the models; every value is a query parameter.
    q = connection.ops.quote_name
    table = q(model._meta.db_table)
    with connection.cursor() as cursor:
        if grow:
            extra = ["label"] if model is SourceDay else []
            columns = [*keys, *counted, *extra]
            on_conflict = [f"{q(c)} = {table}.{q(c)} + EXCLUDED.{q(c)}" for c in counted]
            if extra:
                on_conflict.append(
                    f"{q('label')} = CASE WHEN EXCLUDED.{q('label')} <> '' THEN EXCLUDED.{q('label')} "
                    f"ELSE {table}.{q('label')} END"
                )
            for start in range(0, len(grow), 500):
                chunk = grow[start : start + 500]
                params: list[Any] = []
                for key in chunk:
                    params += [*key, *(rows[key].get(c, 0) for c in counted)]
                    if extra:
                        params.append(labels.get(key[:4], "") if key[2] == SourceDay.Kind.SITE else "")
                placeholders = ", ".join(["(" + ", ".join(["%s"] * len(columns)) + ")"] * len(chunk))
                insert = f"INSERT INTO {table} ({', '.join(q(c) for c in columns)}) VALUES {placeholders} "  # noqa: S608
                conflict = f"ON CONFLICT ({', '.join(q(c) for c in keys)}) DO UPDATE SET {', '.join(on_conflict)}"
                cursor.execute(insert + conflict, params)
        if shrink:
            greatest = "MAX" if connection.vendor == "sqlite" else "GREATEST"
            sets = ", ".join(
                f"{q(c)} = {q(c)} + %s" if c in SIGNED else f"{q(c)} = {greatest}({q(c)} + %s, 0)" for c in counted
            )
            where = " AND ".join(f"{q(c)} = %s" for c in keys)
            cursor.executemany(
                f"UPDATE {table} SET {sets} WHERE {where}",  # noqa: S608
                [[*(rows[key].get(c, 0) for c in counted), *key] for key in shrink],
            )
            cursor.executemany(f"DELETE FROM {table} WHERE {q(counted[0])} = 0 AND {where}", shrink)  # noqa: S608


# --- The hooks ----------------------------------------------------------------------------------
def rollups_add_mentions(mentions: Sequence[Mention]) -> None:
    """Pipeline step: a batch of newly stored mentions counted into their days' rollups."""
    rollups_apply(facts_of(mentions))


# A mention's fields as the change step receives them, and the Facts field each one sets.
CHANGED_FIELDS: dict[str, Callable[[Any], tuple[str, Any]]] = {
    "status": lambda v: ("status", v),
    "sentiment": lambda v: ("sentiment", v),
    "sentiment_corrected_by_id": lambda v: ("sentiment_corrected", v is not None),
    "intent": lambda v: ("intent", v),
    "intent_corrected_by_id": lambda v: ("intent_corrected", v is not None),
}


def rollups_move_mentions(changes: Sequence[tuple[Mention, Mapping[str, Any]]]) -> None:
    """Change step: relabelled mentions (status, sentiment, intent) leave their old rows for their
    new ones; a batch (a routed page) in the statements of one."""
    moved: list[tuple[Mention, dict[str, Any]]] = []
    for mention, before in changes:
        overrides = dict(CHANGED_FIELDS[name](value) for name, value in before.items() if name in CHANGED_FIELDS)
        status_only = set(overrides) == {"status"}
        if not overrides or (status_only and not {overrides["status"], mention.status} & set(HANDLED)):
            continue  # new → open, open → spam …: no rollup counts statuses other than the handled ones
        moved.append((mention, overrides))
    if not moved:
        return
    now = facts_of([mention for mention, _ in moved])
    old = [dataclasses.replace(facts, **overrides) for facts, (_, overrides) in zip(now, moved, strict=True)]
    changed = [(n, o) for n, o in zip(now, old, strict=True) if n != o]
    if changed:
        rollups_apply([n for n, _ in changed], before=[o for _, o in changed])


def rollups_remove_mention(sender: type, instance: Mention, origin: Any = None, **kwargs: Any) -> None:
    """``pre_delete`` of a mention (its terms are still there to read): its contribution taken away.

    Only for a deletion of mentions themselves; when a brand goes its rollups go with it, and a
    channel's mentions are recounted by the next refresh (their days' totals no longer match)
    rather than one at a time here.
    """
    if isinstance(origin, Mention) or (isinstance(origin, models.QuerySet) and origin.model is Mention):
        rollups_apply(facts_of([instance]), sign=-1)


# --- Recounting ---------------------------------------------------------------------------------
def _recount(brand_id: int, days: Sequence[date]) -> None:
    """Replace every rollup row of one brand on ``days`` with a fresh count, atomically: SQL
    aggregates for what needs no text, one pass over the texts for words, hashtags, questions
    and engagement; written with the statements the deltas use (``_apply``)."""
    wanted = set(days)
    start, end = utc_day_bounds(min(wanted))[0], utc_day_bounds(max(wanted))[1]
    mentions = (
        Mention.objects.filter(brand_id=brand_id, published_at__gte=start, published_at__lt=end)
        .annotate(day=TruncDate("published_at", tzinfo=UTC))
        .filter(day__in=wanted)
    )
    through = (
        Mention.terms.through.objects.filter(
            mention__brand_id=brand_id, mention__published_at__gte=start, mention__published_at__lt=end
        )
        .annotate(day=TruncDate("mention__published_at", tzinfo=UTC))
        .filter(day__in=wanted)
    )
    b = brand_id
    out: Deltas = {model: defaultdict(Counter) for model in ROLLUPS}
    with transaction.atomic():
        for model in ROLLUPS:
            model.objects.filter(brand_id=brand_id, day__in=wanted).delete()
        rows = mentions.values_list("day", "text", "language", "sentiment", "author_id", "metrics")
        for d, text, language, sentiment, author_id, metrics in rows.iterator(chunk_size=5000):
            if engagement := engagement_of(metrics):
                out[AuthorDay][(b, d, author_id)]["engagement"] += engagement
            for word in set(words_of(text, language)):
                out[WordDay][(b, d, word, sentiment)]["count"] += 1
                if word.startswith("#"):
                    out[SourceDay][(b, d, SourceDay.Kind.HASHTAG, word, sentiment)]["count"] += 1
            if question := question_of(text):
                out[QuestionDay][(b, d, question)]["count"] += 1

        for r in mentions.values("day", "channel_id", "sentiment").annotate(n=Count("id")).order_by():
            out[ChannelDay][(b, r["day"], r["channel_id"], r["sentiment"])]["count"] = r["n"]
        for r in through.values("day", "trackedterm_id", "mention__sentiment").annotate(n=Count("id")).order_by():
            out[TermDay][(b, r["day"], r["trackedterm_id"], r["mention__sentiment"])]["count"] = r["n"]
        # Share of voice: distinct mentions per group, so "Acme", "@acme" and "#acme" in one mention count once.
        brand_rows = (
            through.filter(trackedterm__kind=TrackedTerm.Kind.BRAND)
            .values("day", "mention__sentiment")
            .annotate(n=Count("mention_id", distinct=True))
            .order_by()
        )
        for r in brand_rows:
            out[GroupDay][(b, r["day"], True, "", r["mention__sentiment"])]["count"] = r["n"]
        competitor_rows = (
            through.filter(trackedterm__kind=TrackedTerm.Kind.COMPETITOR)
            .annotate(g=Coalesce(NullIf(F("trackedterm__group"), Value("")), F("trackedterm__text")))
            .values("day", "g", "mention__sentiment")
            .annotate(n=Count("mention_id", distinct=True))
            .order_by()
        )
        for r in competitor_rows:
            out[GroupDay][(b, r["day"], False, r["g"], r["mention__sentiment"])]["count"] = r["n"]
        authors = mentions.values("day", "author_id").annotate(
            n=Count("id"),
            pos=Count("id", filter=Q(sentiment=Sentiment.POSITIVE)),
            neg=Count("id", filter=Q(sentiment=Sentiment.NEGATIVE)),
            neu=Count("id", filter=Q(sentiment=Sentiment.NEUTRAL)),
        )
        for r in authors.order_by():
            row = out[AuthorDay][(b, r["day"], r["author_id"])]
            row.update(count=r["n"], scored=r["pos"] + r["neg"] + r["neu"], negative=r["neg"],
                       sentiment_sum=r["pos"] - r["neg"])  # fmt: skip
        for r in mentions.values("day", "channel__platform", "sentiment").annotate(n=Count("id")).order_by():
            out[SourceDay][(b, r["day"], SourceDay.Kind.PLATFORM, r["channel__platform"], r["sentiment"])]["count"] = r[
                "n"
            ]
        sites = list(
            mentions.exclude(source="")
            .values("day", "source", "sentiment", "channel_id")
            .annotate(n=Count("id"))
            .order_by()
        )
        channels = {c.pk: c for c in Channel.objects.filter(brand_id=brand_id).only("platform", "name")}
        titles = _titles([brand_id], {r["source"] for r in sites}) if sites else {}
        labels: dict[tuple, str] = {}
        for r in sites:
            name = r["source"][:255]
            out[SourceDay][(b, r["day"], SourceDay.Kind.SITE, name, r["sentiment"])]["count"] += r["n"]
            channel = channels[r["channel_id"]]
            key = (b, r["day"], SourceDay.Kind.SITE, name)
            labels[key] = labels.get(key) or source_label(r["source"], channel.platform, channel.name, titles)
        quality = mentions.values("day").annotate(
            total=Count("id"),
            reviewed=Count("id", filter=_reviewed()),
            corrected=Count("id", filter=Q(sentiment_corrected_by__isnull=False)),
            agreed=Count("id", filter=_reviewed() & Q(analyzer_sentiment=F("sentiment"))),
            intent_reviewed=Count("id", filter=_intent_reviewed()),
            intent_corrected=Count("id", filter=Q(intent_corrected_by__isnull=False)),
            intent_agreed=Count("id", filter=_intent_reviewed() & Q(analyzer_intent=F("intent"))),
        )
        for r in quality.order_by():
            out[QualityDay][(b, r.pop("day"))].update(r)
        for r in mentions.values("day", "intent").annotate(n=Count("id")).order_by():
            out[IntentDay][(b, r["day"], r["intent"])]["count"] = r["n"]
        for model in ROLLUPS:
            _apply(model, out[model], labels if model is SourceDay else {})


def _reviewed() -> Q:
    """A mention a person looked at and labelled: corrected, or handled and left as scored."""
    return Q(sentiment_corrected_by__isnull=False) | (Q(status__in=HANDLED) & ~Q(analyzer_sentiment=Sentiment.UNSCORED))


def _intent_reviewed() -> Q:
    """A mention whose intent a person looked at: corrected, or handled with the analyzer's kept."""
    return Q(intent_corrected_by__isnull=False) | (Q(status__in=HANDLED) & ~Q(analyzer_intent=Intent.UNCLASSIFIED))


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


def _stored_counts(brand_id: int | None, since: date | None) -> dict[tuple[int, date], int]:
    stored = QualityDay.objects.all()
    if brand_id:
        stored = stored.filter(brand_id=brand_id)
    if since:
        stored = stored.filter(day__gte=since)
    return {(row["brand_id"], row["day"]): row["total"] for row in stored.values("brand_id", "day", "total")}


def dirty_days(*, brand_id: int | None = None, thorough: bool = False) -> set[tuple[int, date]]:
    """The (brand, day) pairs whose rollups are not the count of their mentions.

    Mentions stored, relabelled or deleted through the pipeline and the mention_* services keep
    their days' totals right as they go, so this looks only for what went around them, in two
    steps: each brand's mention count (an index-only scan of mention_inbox_idx, no per-row date
    arithmetic) against its rollups' total, then, for a brand where they differ (or every brand
    when ``thorough``), each day's count against that day's total. ``thorough`` also finds
    changes around the services that cancel out over a brand (one stored, one deleted).
    """
    brands = Mention.objects.all()
    stored_brands = QualityDay.objects.all()
    if brand_id:
        brands, stored_brands = brands.filter(brand_id=brand_id), stored_brands.filter(brand_id=brand_id)
    raw = dict(brands.values("brand_id").annotate(n=Count("id")).order_by().values_list("brand_id", "n"))
    stored = dict(stored_brands.values("brand_id").annotate(n=Sum("total")).order_by().values_list("brand_id", "n"))
    suspects = (
        raw.keys() | stored.keys()
        if thorough
        else {b for b in raw.keys() | stored.keys() if raw.get(b) != stored.get(b)}
    )
    days: set[tuple[int, date]] = set()
    for brand in sorted(suspects):
        raw_days, stored_days = _day_counts(brand, None), _stored_counts(brand, None)
        days |= {key for key in raw_days.keys() | stored_days.keys() if raw_days.get(key, 0) != stored_days.get(key, 0)}
    return days


def rollups_refresh(
    *,
    brand: int | None = None,
    days: Iterable[date] | None = None,
    since: date | None = None,
    thorough: bool = False,
    progress: Callable[[int, int], None] | None = None,
) -> int:
    """Bring rollups up to date; returns how many (brand, day) pairs were recounted.

    Without ``days`` or ``since``, the dirty days (``dirty_days``, ``thorough`` or not). With ``days``, those days, and
    with ``since`` every day from it to today, for ``brand`` or every brand with mentions or
    rollups. ``progress(done, total)`` is told after each chunk of days.
    """
    if days is not None or since is not None:
        brands = (
            {brand}
            if brand
            else set(Mention.objects.values_list("brand_id", flat=True).distinct())
            | set(QualityDay.objects.values_list("brand_id", flat=True).distinct())
        )
        if days is not None:
            wanted = set(days)
        else:
            today = timezone.now().astimezone(UTC).date()
            wanted = {since + timedelta(days=n) for n in range((today - since).days + 1)}
        if since is not None and days is None:
            # Only days with something to count or to clear: a year back is a few hundred days.
            present = _day_counts(brand, since).keys() | _stored_counts(brand, since).keys()
            pairs = {(b, d) for b, d in present if b in brands and d in wanted}
        else:
            pairs = {(b, d) for b in brands for d in wanted}
    else:
        pairs = dirty_days(brand_id=brand, thorough=thorough)
    by_brand: dict[int, list[date]] = defaultdict(list)
    for brand_id, day in sorted(pairs):
        by_brand[brand_id].append(day)
    done = 0
    for brand_id, brand_days in by_brand.items():
        for chunk in _chunks(brand_days):
            _recount(brand_id, chunk)
            done += len(chunk)
            if progress:
                progress(done, len(pairs))
    state, _created = RollupState.objects.get_or_create(key="default")
    RollupState.objects.filter(pk=state.pk).update(refreshed_at=timezone.now())
    return len(pairs)


def _chunks(days: list[date]) -> Iterable[list[date]]:
    """Sorted days cut into runs of at most RECOUNT_CHUNK_DAYS consecutive days."""
    chunk: list[date] = []
    for day in days:
        if chunk and (len(chunk) == RECOUNT_CHUNK_DAYS or day - chunk[-1] > timedelta(days=1)):
            yield chunk
            chunk = []
        chunk.append(day)
    if chunk:
        yield chunk


def last_refreshed_at() -> datetime | None:
    return RollupState.objects.filter(key="default").aggregate(at=Max("refreshed_at"))["at"]
