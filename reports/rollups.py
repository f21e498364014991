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
import functools
import operator
from collections import Counter, defaultdict
from collections.abc import Callable, Iterable, Mapping, Sequence
from concurrent.futures import Future, ThreadPoolExecutor, wait
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from django.db import connection, models, transaction
from django.db.models import Count, ExpressionWrapper, F, Max, Q, Sum, Value
from django.db.models.expressions import RawSQL
from django.db.models.functions import Coalesce, TruncDate, TruncWeek
from django.utils import timezone

from config.bulk import unbounded_type, unnest_rows
from listening.models import Channel, Intent, Mention, Platform, Sentiment, SourceTitle, TrackedTerm
from listening.privacy import anonymous_author
from reports.models import (
    AuthorDay,
    AuthorWeek,
    ChannelDay,
    GroupDay,
    IntentDay,
    QualityDay,
    QuestionDay,
    RollupState,
    RollupVersion,
    SourceDay,
    TermDay,
    WordDay,
)
from reports.text import question_of, stopwords_for, tokens_of, words_of

HANDLED = (Mention.Status.REPLIED, Mention.Status.ROUTED, Mention.Status.CLOSED)
# Days recounted in one transaction by a full refresh: fewer statements per day, yet a bounded
# transaction (five weeks of a million-mention year are ~100,000 mentions read once).
RECOUNT_CHUNK_DAYS = 35
ROLLUPS = (
    ChannelDay, TermDay, GroupDay, AuthorDay, AuthorWeek, SourceDay, WordDay, QuestionDay, QualityDay, IntentDay,
)  # fmt: skip
# Per table: the columns after (brand, day) that make a row, and the counted columns.
DIMENSIONS: dict[type[models.Model], tuple[str, ...]] = {
    ChannelDay: ("channel_id", "sentiment"),
    TermDay: ("term_id", "sentiment"),
    GroupDay: ("is_brand", "group", "sentiment"),
    AuthorDay: ("author_id",),
    AuthorWeek: ("author_id",),
    SourceDay: ("kind", "name", "sentiment"),
    WordDay: ("word", "sentiment"),
    QuestionDay: ("question",),
    QualityDay: (),
    IntentDay: ("intent",),
}
COUNTED: dict[type[models.Model], tuple[str, ...]] = {
    AuthorDay: ("count", "scored", "negative", "engagement", "sentiment_sum"),
    AuthorWeek: ("count", "scored", "negative", "engagement", "sentiment_sum"),
    QualityDay: (
        "total", "reviewed", "corrected", "agreed", "intent_reviewed", "intent_corrected", "intent_agreed",
    ),
}  # fmt: skip
SIGNED = {"sentiment_sum"}  # may go below zero; every other counted column may not


def utc_day_bounds(day: date) -> tuple[datetime, datetime]:
    start = datetime.combine(day, time.min, tzinfo=UTC)
    return start, start + timedelta(days=1)


def monday(day: date) -> date:
    """The first day of ``day``'s week: what AuthorWeek rows are dated."""
    return day - timedelta(days=day.weekday())


_monday = functools.lru_cache(maxsize=64)(monday)  # a page's mentions fall on a few days


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


FACT_FIELDS = frozenset(field.name for field in dataclasses.fields(Facts))


def _facts(fields: dict[str, Any]) -> Facts:
    """``Facts(**fields)``, without its ``__init__``: a frozen dataclass sets each of its nineteen
    fields through ``object.__setattr__``, a third of the cost of a page's facts. ``fields`` must
    name every field, and nothing else (else ``__init__`` is called, and raises)."""
    if fields.keys() != FACT_FIELDS:
        return Facts(**fields)
    facts = object.__new__(Facts)
    object.__setattr__(facts, "__dict__", fields)
    return facts


# A count no post reaches (the most viewed videos have some 10**10 views): a larger one is not a
# count but a fault of whoever sent it, and would overflow the rollups' sums.
ENGAGEMENT_MAX = 10**12


def engagement_of(metrics: Any) -> int:
    """Likes, shares, replies … summed; metrics is JSON whose keys differ per platform, and a
    value the platform sent as text, a negative number or one past ``ENGAGEMENT_MAX`` counts for
    nothing."""
    if not isinstance(metrics, dict):
        return 0
    return sum(
        v for v in metrics.values() if isinstance(v, int) and not isinstance(v, bool) and 0 < v <= ENGAGEMENT_MAX
    )


def source_label(source: str, platform: str, channel_name: str, titles: Mapping[str, str]) -> str:
    """What a person calls a site, page or video: the title of the item it names when we stored it,
    else the channel's name where the platform gives only an id (a YouTube video, a Facebook page
    id, an Instagram or LinkedIn post); "" where the id is already readable (a feed's host name)."""
    if title := titles.get(source):
        return title[:255]
    if platform in (Platform.YOUTUBE, Platform.INSTAGRAM, Platform.LINKEDIN) or (
        platform == Platform.FACEBOOK and source.isdigit()
    ):
        return channel_name[:255]
    return ""


Deltas = dict[type[models.Model], dict[tuple, Counter[str]]]


def _deltas() -> Deltas:
    return defaultdict(lambda: defaultdict(_new_counter))


# An empty Counter without ``Counter.__init__``, which only updates it from nothing: a batch of
# mentions makes a new row for most of their authors' days and weeks, and that call was most of it.
_new_counter = functools.partial(Counter.__new__, Counter)
# Read once: each is an enum member, looked up on its class at every use.
PLATFORM, SITE, HASHTAG = SourceDay.Kind.PLATFORM, SourceDay.Kind.SITE, SourceDay.Kind.HASHTAG
POSITIVE, NEGATIVE, UNSCORED = Sentiment.POSITIVE, Sentiment.NEGATIVE, Sentiment.UNSCORED


@functools.cache  # a handful of sentiments, two signs
def _author_counts(sentiment: str, sign: int) -> dict[str, int]:
    """What a mention of ``sentiment`` adds (``sign`` 1) to or takes from its author's rows, but for
    its engagement (0 here): the same few for every mention, where building them for each was a
    fifth of counting a page. Shared: never changed."""
    s = sentiment
    return {
        "count": sign,
        "scored": sign * (s != UNSCORED),
        "negative": sign * (s == NEGATIVE),
        "engagement": 0,
        "sentiment_sum": sign * ((s == POSITIVE) - (s == NEGATIVE)),
    }


def _counts(out: Deltas, facts: Facts, sign: int) -> None:
    """The rows of every table but intent and quality that one mention counts in."""
    b, d, s = facts.brand_id, facts.day, facts.sentiment
    out[ChannelDay][(b, d, facts.channel_id, s)]["count"] += sign
    if facts.term_ids:
        rows = out[TermDay]
        for term_id in facts.term_ids:
            rows[(b, d, term_id, s)]["count"] += sign
    if facts.groups:
        rows = out[GroupDay]
        for group in facts.groups:
            rows[(b, d, group is None, group or "", s)]["count"] += sign
    author = _author_counts(s, sign)
    engagement = sign * facts.engagement
    for row in (out[AuthorDay][(b, d, facts.author_id)], out[AuthorWeek][(b, _monday(d), facts.author_id)]):
        if row:
            for column, value in author.items():
                row[column] += value
        else:
            dict.update(row, author)  # what Counter.update does to an empty one
        if engagement:
            row["engagement"] += engagement
    sources = out[SourceDay]
    sources[(b, d, PLATFORM, facts.platform, s)]["count"] += sign
    if facts.source:
        sources[(b, d, SITE, facts.source[:255], s)]["count"] += sign
    if facts.words:
        rows = out[WordDay]
        for word in facts.words:
            rows[(b, d, word, s)]["count"] += sign
            if word[:1] == "#":
                sources[(b, d, HASHTAG, word, s)]["count"] += sign
    if facts.question:
        out[QuestionDay][(b, d, facts.question)]["count"] += sign


def contributions(facts: Facts, sign: int = 1, *, labels_only: bool = False, into: Deltas | None = None) -> Deltas:
    """The rows one mention adds to (``sign`` 1) or takes from (-1), by table and row key.

    ``labels_only``: only the rows its status, intent and reviews count in (intent, quality), the
    ones a relabelling that keeps the sentiment moves. ``into``: added to those deltas (a batch's,
    summed as they come rather than merged mention by mention), which are returned."""
    out = into if into is not None else _deltas()
    b, d, s = facts.brand_id, facts.day, facts.sentiment
    if not labels_only:
        _counts(out, facts, sign)
    out[IntentDay][(b, d, facts.intent)]["count"] += sign
    handled = facts.status in HANDLED
    reviewed = facts.sentiment_corrected or (handled and facts.analyzer_sentiment != UNSCORED)
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


def _row_facts(m: Mention) -> dict[str, Any]:
    """The facts read from the mention's own row (not its channel, terms or text)."""
    return {
        "brand_id": m.brand_id,
        "day": m.published_at.astimezone(UTC).date(),
        "author_id": m.author_id,
        "sentiment": m.sentiment,
        "analyzer_sentiment": m.analyzer_sentiment,
        "intent": m.intent,
        "analyzer_intent": m.analyzer_intent,
        "status": m.status,
        "sentiment_corrected": m.sentiment_corrected_by_id is not None,
        "intent_corrected": m.intent_corrected_by_id is not None,
        "engagement": engagement_of(m.metrics),
    }


def facts_of(mentions: Sequence[Mention], *, matched: bool = False) -> list[Facts]:
    """Facts for a batch of stored mentions in three queries at most (their terms, the channels
    they do not hold already, and the titles of the items their sources name), however many mentions.

    ``matched``: the mentions were just stored by ingestion, which links each to the terms it
    holds in ``tracked_terms`` (``listening.pipeline``): those terms are taken from there, not read
    back. Only the pipeline's own step may say so: anywhere else a mention's links may have
    changed since."""
    terms: dict[int, Sequence[tuple[int, str, str]]] = {}
    unread = []
    # Mentions matched alike hold the same list of terms (``listening.ingest``): read once.
    held: dict[int, tuple[tuple[int, str, str], ...]] = {}
    for m in mentions:
        tracked = m.__dict__.get("tracked_terms") if matched else None
        if tracked is None:
            unread.append(m.pk)
            continue
        if id(tracked) not in held:
            held[id(tracked)] = tuple((term.pk, term.kind, term.group or term.text) for term in tracked)
        terms[m.pk] = held[id(tracked)]
    if unread:
        rows = Mention.terms.through.objects.filter(mention_id__in=unread).values_list(
            "mention_id", "trackedterm_id", "trackedterm__kind", "trackedterm__group", "trackedterm__text"
        )
        linked: dict[int, list[tuple[int, str, str]]] = defaultdict(list)
        for mention_id, term_id, kind, group, text in rows:
            linked[mention_id].append((term_id, kind, group or text))
        terms |= linked
    # A mention the pipeline just stored holds its channel already: only the others' are read (the
    # last mention's of each channel, looked at once per channel).
    channels: dict[int, Channel] = {}
    for m in reversed(mentions):
        if m.channel_id not in channels and Mention.channel.is_cached(m):
            channels[m.channel_id] = m.channel
    unread = {m.channel_id for m in mentions} - channels.keys()
    if unread:
        channels |= {c.pk: c for c in Channel.objects.filter(pk__in=unread).only("platform", "name")}
    sources = {m.source for m in mentions if m.source}
    titles = _titles({m.brand_id for m in mentions}, sources) if sources else {}
    out = []
    # A text the batch holds more than once (a retweet) is split into words once; a set of terms
    # held by many mentions is told apart into ids and groups once.
    read: dict[tuple[str, str], tuple[frozenset[str], str | None]] = {}
    grouped: dict[tuple[tuple[int, str, str], ...], tuple[frozenset[int], frozenset[str | None]]] = {}
    for m in mentions:
        channel = channels[m.channel_id]
        said = read.get((m.text, m.language))
        if said is None:
            said = read[(m.text, m.language)] = (frozenset(words_of(m.text, m.language)), question_of(m.text))
        its_terms = tuple(terms.get(m.pk, ()))
        found = grouped.get(its_terms)
        if found is None:
            groups: set[str | None] = set()
            for _term, kind, label in its_terms:
                if kind == TrackedTerm.Kind.BRAND:
                    groups.add(None)
                elif kind == TrackedTerm.Kind.COMPETITOR:
                    groups.add(label)
            found = grouped[its_terms] = (frozenset(t for t, _kind, _label in its_terms), frozenset(groups))
        fields = _row_facts(m)
        fields.update(
            channel_id=m.channel_id,
            platform=channel.platform,
            source=m.source,
            source_label=source_label(m.source, channel.platform, channel.name, titles) if m.source else "",
            words=said[0],
            question=said[1],
            term_ids=found[0],
            groups=found[1],
        )
        out.append(_facts(fields))
    return out


def _titles(brand_ids: Iterable[int], sources: Iterable[str]) -> dict[str, str]:
    """What each source is called: the title the platform gave it apart from its items (a
    video's), else the title of a stored item whose platform id it is (a post, an article)."""
    # In no order: the channels' own sorts them by their brand's name, joined in for it.
    channel_ids = list(Channel.objects.filter(brand_id__in=list(brand_ids)).order_by().values_list("pk", flat=True))
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


def _merge(into: Deltas, more: Deltas) -> Deltas:
    for model, rows in more.items():
        target = into.setdefault(model, defaultdict(Counter))
        for key, counts in rows.items():
            target[key].update(counts)
    return into


def rollups_apply(
    facts: Iterable[Facts],
    *,
    sign: int = 1,
    before: Iterable[Facts] = (),
    labels_only: bool = False,
    edit: bool = True,
) -> None:
    """Add the contributions of ``facts`` (``sign`` -1: take them away), minus those of ``before``;
    ``labels_only``: of the intent and quality rows alone (``contributions``). ``edit``: a change
    to what was counted (a correction, a deletion, an erasure), not new mentions (``_bump_versions``)."""
    deltas = _deltas()
    labels: dict[tuple, str] = {}
    brands: set[int] = set()
    for f in facts:
        brands.add(f.brand_id)
        contributions(f, sign, labels_only=labels_only, into=deltas)
        if f.source_label:
            labels[(f.brand_id, f.day, SourceDay.Kind.SITE, f.source[:255])] = f.source_label
    for f in before:
        contributions(f, -sign, labels_only=labels_only, into=deltas)
        brands.add(f.brand_id)
    if not deltas:
        return
    with connection.cursor() as cursor:
        together = _Together(cursor)
        for model in ROLLUPS:
            if model in deltas:
                _apply(model, deltas[model], labels if model is SourceDay else {}, together)
        # Intent and quality rows are not among the ranked blocks of a summary.
        _bump_versions(brands, together, edited=edit and not labels_only)
        together.send()


class _Together:
    """Statements sent in one round trip where the database takes several at once (PostgreSQL),
    in the order they were added; elsewhere each as it comes. A page's rollups are a dozen
    upserts, and a round trip each was most of their time."""

    def __init__(self, cursor: Any) -> None:
        self.cursor = cursor
        self.sql: list[str] = []
        self.params: list[Any] = []

    def add(self, sql: str, params: Sequence[Any]) -> None:
        if connection.vendor != "postgresql":
            self.cursor.execute(sql, params)
            return
        self.sql.append(sql)
        self.params += params

    def send(self) -> None:
        if self.sql:
            self.cursor.execute("; ".join(self.sql), self.params)
            self.sql, self.params = [], []


def _bump_versions(brand_ids: Iterable[int], together: _Together | None = None, *, edited: bool = True) -> None:
    """One more RollupVersion for each brand, in the caller's transaction: the report summaries
    computed before this change no longer stand. Taken last, after every rollup row a change
    locks, and in brand order, so two writers never wait on each other in a cycle. Added to
    ``together`` when given, else written at once.

    ``edited``: also one more ``edited``, for a change to what the ranked blocks had counted (a
    correction, a deletion, an erasure, a recount) rather than new mentions: the report page shows
    a summary a little behind new mentions, never behind an edit (selectors.period_summary)."""
    ids = sorted(set(brand_ids))
    if not ids:
        return
    q = connection.ops.quote_name
    table = q(RollupVersion._meta.db_table)
    step = 1 if edited else 0
    values = ", ".join([f"(%s, 1, {step})"] * len(ids))
    if together is None:
        with connection.cursor() as cursor:
            _bump_versions(ids, together := _Together(cursor), edited=edited)
            together.send()
        return
    together.add(
        f"INSERT INTO {table} ({q('brand_id')}, {q('version')}, {q('edited')}) VALUES {values} "  # noqa: S608
        f"ON CONFLICT ({q('brand_id')}) DO UPDATE SET {q('version')} = {table}.{q('version')} + 1, "
        f"{q('edited')} = {table}.{q('edited')} + {step}",
        ids,
    )


def _apply(
    model: type[models.Model], rows: Mapping[tuple, Counter[str]], labels: Mapping[tuple, str], together: _Together
) -> None:
    """Add signed deltas to one table: rows that only grow are upserted in one statement (sorted, so
    two concurrent batches lock rows in the same order), added to ``together``; rows that shrink are
    updated in place, never below zero (a row that was never counted is left to the next recount),
    and dropped at zero, after what ``together`` holds so far."""
    counted = _counted(model)
    keys = ["brand_id", "day", *DIMENSIONS[model]]
    values, unsigned = _getter(counted), _getter([c for c in counted if c not in SIGNED])
    grow, shrink = [], []
    for key in sorted(rows):
        delta = rows[key]
        if not any(values(delta)):
            continue
        (shrink if min(unsigned(delta)) < 0 else grow).append(key)
    # Table and column names come from the models; every value is a query parameter.
    q = connection.ops.quote_name
    table = q(model._meta.db_table)
    if grow:
        extra = ["label"] if model is SourceDay else []
        columns = [*keys, *counted, *extra]
        on_conflict = [f"{q(c)} = {table}.{q(c)} + EXCLUDED.{q(c)}" for c in counted]
        if extra:
            on_conflict.append(
                f"{q('label')} = CASE WHEN EXCLUDED.{q('label')} <> '' THEN EXCLUDED.{q('label')} "
                f"ELSE {table}.{q('label')} END"
            )
            grown = [(*key, *values(rows[key]), labels.get(key[:4], "") if key[2] == SITE else "") for key in grow]
        else:
            grown = [(*key, *values(rows[key])) for key in grow]
        insert = f"INSERT INTO {table} ({', '.join(q(c) for c in columns)}) "
        conflict = f" ON CONFLICT ({', '.join(q(c) for c in keys)}) DO UPDATE SET {', '.join(on_conflict)}"
        # On PostgreSQL one array per column (``unnest_rows``), in key order still; elsewhere, or
        # for values that do not go as arrays, a VALUES list per 500 rows.
        arrays = unnest_rows(model, columns, grown)
        if arrays is not None:
            for rows_sql, params in arrays:
                together.add(insert + "SELECT * FROM " + rows_sql + conflict, params)  # noqa: S608
        else:
            row = "(" + ", ".join(["%s"] * len(columns)) + ")"
            for start in range(0, len(grown), 500):
                chunk = grown[start : start + 500]
                params = [value for grown_row in chunk for value in grown_row]
                together.add(insert + "VALUES " + ", ".join([row] * len(chunk)) + conflict, params)
    if not shrink:
        return
    together.send()
    if connection.vendor == "postgresql":
        _shrink(together.cursor, model, rows, shrink)
        return
    greatest = "MAX" if connection.vendor == "sqlite" else "GREATEST"
    sets = ", ".join(
        f"{q(c)} = {q(c)} + %s" if c in SIGNED else f"{q(c)} = {greatest}({q(c)} + %s, 0)" for c in counted
    )
    where = " AND ".join(f"{q(c)} = %s" for c in keys)
    together.cursor.executemany(
        f"UPDATE {table} SET {sets} WHERE {where}",  # noqa: S608
        [[*(rows[key].get(c, 0) for c in counted), *key] for key in shrink],
    )
    together.cursor.executemany(f"DELETE FROM {table} WHERE {q(counted[0])} = 0 AND {where}", shrink)  # noqa: S608


def _getter(columns: Sequence[str]) -> Callable[[Counter[str]], tuple[int, ...]]:
    """What reads a row's deltas of ``columns``, 0 for each it has none of."""
    if len(columns) == 1:
        return lambda delta, column=columns[0]: (delta[column],)
    return operator.itemgetter(*columns)


def _shrink(cursor: Any, model: type[models.Model], rows: Mapping[tuple, Counter[str]], shrink: list[tuple]) -> None:
    """PostgreSQL: ``_apply``'s shrinking rows in three statements per 500 rows rather than two per
    row (an erased batch of 500 mentions shrinks thousands of word rows). The rows are locked first
    in key order, the order every other writer of the rollups takes them in, so no two deadlock."""
    q = connection.ops.quote_name
    table = q(model._meta.db_table)
    counted = _counted(model)
    keys = ["brand_id", "day", *DIMENSIONS[model]]
    # Each value cast to its column's type (without a length, ``unbounded_type``): a VALUES list
    # has none of its own.
    types = [unbounded_type(model._meta.get_field(k), connection) for k in keys]
    deltas = [f"d_{c}" for c in counted]
    match = " AND ".join(f"{table}.{q(k)} = v.{q(k)}" for k in keys)
    sets = ", ".join(
        f"{q(c)} = {table}.{q(c)} + v.{q(d)}" if c in SIGNED else f"{q(c)} = GREATEST({table}.{q(c)} + v.{q(d)}, 0)"
        for c, d in zip(counted, deltas, strict=True)
    )
    order = ", ".join(f"{table}.{q(k)}" for k in keys)
    for start in range(0, len(shrink), 500):
        chunk = shrink[start : start + 500]
        key_row = "(" + ", ".join(f"%s::{t}" for t in types) + ")"
        key_values = ", ".join([key_row] * len(chunk))
        key_params = [value for key in chunk for value in key]
        named = f"AS v({', '.join(q(k) for k in keys)})"
        cursor.execute(
            f"SELECT 1 FROM {table} JOIN (VALUES {key_values}) {named} ON {match} ORDER BY {order} FOR UPDATE",  # noqa: S608
            key_params,
        )
        row = "(" + ", ".join([*(f"%s::{t}" for t in types), *("%s::bigint" for _ in counted)]) + ")"
        params = [value for key in chunk for value in (*key, *(rows[key].get(c, 0) for c in counted))]
        cursor.execute(
            f"UPDATE {table} SET {sets} FROM (VALUES {', '.join([row] * len(chunk))}) "  # noqa: S608
            f"AS v({', '.join(q(n) for n in [*keys, *deltas])}) WHERE {match}",
            params,
        )
        cursor.execute(
            f"DELETE FROM {table} USING (VALUES {key_values}) {named} WHERE {table}.{q(counted[0])} = 0 AND {match}",  # noqa: S608
            key_params,
        )


# --- The hooks ----------------------------------------------------------------------------------
# The facts of a newly counted mention, kept on it for a change step that may follow in the same
# transaction (a later step relabelling the page; routing runs before the page is stored and
# counted): its terms, channel, words and question are neither read nor worked out again. Kept with what they were worked out from, and used only while that stands.
KEPT_FACTS = "_rollup_facts"


def _kept(mention: Mention) -> tuple[Any, ...]:
    return (mention.pk, mention.text, mention.language, mention.source, mention.channel_id)


def _facts_now(mentions: Sequence[Mention]) -> list[Facts]:
    """``facts_of`` the mentions as they are now, from the facts kept on them where they have them."""
    kept = []
    for m in mentions:
        found = getattr(m, KEPT_FACTS, None)
        kept.append(found[1] if found is not None and found[0] == _kept(m) else None)
    missing = [m for m, facts in zip(mentions, kept, strict=True) if facts is None]
    read = iter(facts_of(missing) if missing else ())
    return [
        next(read) if facts is None else dataclasses.replace(facts, **_row_facts(m))
        for m, facts in zip(mentions, kept, strict=True)
    ]


def rollups_add_mentions(mentions: Sequence[Mention]) -> None:
    """Pipeline step: a batch of newly stored mentions counted into their days' rollups."""
    facts = facts_of(mentions, matched=True)
    for mention, fact in zip(mentions, facts, strict=True):
        setattr(mention, KEPT_FACTS, (_kept(mention), fact))
    rollups_apply(facts, edit=False)


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
    now = _facts_now([mention for mention, _ in moved])
    old = [dataclasses.replace(facts, **overrides) for facts, (_, overrides) in zip(now, moved, strict=True)]
    changed = [(n, o) for n, o in zip(now, old, strict=True) if n != o]
    if changed:
        # A relabelling that keeps every sentiment (routing's: a status, a tag) moves the intent
        # and quality rows only: the others, counted by sentiment, would cancel out.
        same_sentiment = all(n.sentiment == o.sentiment for n, o in changed)
        rollups_apply([n for n, _ in changed], before=[o for _, o in changed], labels_only=same_sentiment)


def rollups_remove_mention(sender: type, instance: Mention, origin: Any = None, **kwargs: Any) -> None:
    """``pre_delete`` of a mention (its terms are still there to read): its contribution taken away.

    Only for a deletion of mentions themselves; when a brand goes its rollups go with it, and a
    channel's mentions are recounted by the next refresh (their days' totals no longer match)
    rather than one at a time here.
    """
    if isinstance(origin, Mention) or (isinstance(origin, models.QuerySet) and origin.model is Mention):
        rollups_apply(facts_of([instance]), sign=-1)


def rollups_forget_mentions(mentions: Sequence[Mention], mode: str, reason: str) -> dict[str, int]:
    """Erase step (``listening.privacy``): mentions about to lose their text and author keep their
    counts, moved to the platform's anonymous author, and lose their words, hashtags and question,
    which were the person's text. What a recount of the day finds afterwards, whatever the mode."""
    before = facts_of(mentions)
    placeholders = {platform: anonymous_author(platform).pk for platform in {f.platform for f in before}}
    after = [
        dataclasses.replace(f, author_id=placeholders[f.platform], words=frozenset(), question=None) for f in before
    ]
    rollups_apply(after, before=before)
    return {}


# --- Recounting ---------------------------------------------------------------------------------
def _recount(brand_id: int, days: Sequence[date]) -> None:
    """Replace every rollup row of one brand on ``days`` with a fresh count, atomically.

    Each table's rows are an aggregate over the mentions that the database inserts itself
    (``_insert_select``): a month's hundreds of thousands of author-days never pass through Python;
    the tables with few rows a day are summed in Python from one small aggregate (``_count_labels``,
    ``_count_terms``). Only words, hashtags and questions are read mention by mention, in one pass
    over the texts (``_count_texts``), with the very functions the deltas use; and engagement on SQLite. On
    PostgreSQL outside a transaction (the periodic task, the command) that pass runs in a thread
    of its own on its own connection while the database counts the rest (``_texts_alongside``):
    the two took as long as each other, one after the other.
    """
    wanted = set(days)
    start, end = utc_day_bounds(min(wanted))[0], utc_day_bounds(max(wanted))[1]
    mentions = Mention.objects.filter(brand_id=brand_id, published_at__gte=start, published_at__lt=end).annotate(
        day=TruncDate("published_at", tzinfo=UTC)
    )
    if len(wanted) != (max(wanted) - min(wanted)).days + 1:
        # Only for days with gaps: on a run of days (a refresh's chunks) the time range says it
        # all, and a filter on the computed day would make the planner expect a few rows of
        # thousands and walk a term's every mention instead.
        mentions = mentions.filter(day__in=wanted)
    postgres = connection.vendor == "postgresql"
    out: Deltas = {model: defaultdict(Counter) for model in ROLLUPS}
    # Inside a transaction (a test's, a caller's) another connection would not see its mentions.
    texts = _texts_alongside(brand_id, mentions) if postgres and not connection.in_atomic_block else None
    try:
        _recount_rows(brand_id, wanted, mentions, out, texts)
    finally:
        if texts is not None:
            wait([texts])  # after a failure here too: never leave it reading on


def _recount_rows(
    brand_id: int, wanted: set[date], mentions: models.QuerySet, out: Deltas, texts: Future[Deltas] | None
) -> None:
    b = brand_id
    postgres = connection.vendor == "postgresql"
    with transaction.atomic():
        if postgres:
            with connection.cursor() as cursor:
                # A recount's aggregates group hundreds of thousands of rows: in memory rather than
                # spilled to disk (4 MB is PostgreSQL's default), and without JIT compilation, which
                # took a second of each big statement and gained nothing on it.
                cursor.execute("SET LOCAL work_mem = '64MB'")
                cursor.execute("SET LOCAL jit = off")
        for model in ROLLUPS:
            if model is not AuthorWeek:  # its rows are whole weeks, summed from AuthorDay at the end
                model.objects.filter(brand_id=brand_id, day__in=wanted).delete()

        def insert(model: type[models.Model], queryset: models.QuerySet, *select: str, **constants: Any) -> None:
            _insert_select(model, brand_id, queryset.order_by(), select, constants)

        _count_labels(out, b, mentions)
        _count_terms(out, b, mentions)
        authors = mentions.values("day", "author_id").annotate(
            n=Count("id"),
            scored=Count("id", filter=~Q(sentiment=Sentiment.UNSCORED)),
            neg=Count("id", filter=Q(sentiment=Sentiment.NEGATIVE)),
            engagement=_engagement_sum() if postgres else Value(0),
            sent=Count("id", filter=Q(sentiment=Sentiment.POSITIVE)) - Count("id", filter=Q(sentiment=Sentiment.NEGATIVE)),
        )  # fmt: skip
        insert(AuthorDay, authors, "day", "author_id", "n", "scored", "neg", "engagement", "sent")

        # Words, hashtags and questions: one pass over the texts in Python, whose regular
        # expressions split text several times faster than PostgreSQL's (bench/reports.py).
        if texts is None:
            _count_texts(out, b, mentions, engagement=not postgres)
        else:
            _merge(out, texts.result())

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
        with connection.cursor() as cursor:
            together = _Together(cursor)
            for model in ROLLUPS:
                _apply(model, out[model], labels if model is SourceDay else {}, together)
            together.send()
        _sum_weeks(brand_id, {monday(d) for d in wanted})
        _bump_versions([brand_id])


def _count_labels(out: Deltas, brand_id: int, mentions: models.QuerySet) -> None:
    """Add the volume by channel, platform and intent of ``mentions`` and their review counts to
    ``out``: one aggregate by day, channel, sentiment, intent and the review facts of each mention
    (a few thousand rows a month, whatever the volume), summed here into each table, where each
    table was a pass over the mentions of its own."""

    def flag(q: Q) -> ExpressionWrapper:
        return ExpressionWrapper(q, output_field=models.BooleanField())

    rows = list(
        mentions.values(
            "day", "channel_id", "sentiment", "intent",
            reviewed=flag(_reviewed()),
            corrected=flag(Q(sentiment_corrected_by__isnull=False)),
            same_sentiment=flag(Q(analyzer_sentiment=F("sentiment"))),
            intent_reviewed=flag(_intent_reviewed()),
            intent_corrected=flag(Q(intent_corrected_by__isnull=False)),
            same_intent=flag(Q(analyzer_intent=F("intent"))),
        )
        .annotate(n=Count("id"))
        .order_by()
    )  # fmt: skip
    platforms = dict(Channel.objects.filter(pk__in={r["channel_id"] for r in rows}).values_list("pk", "platform"))
    b = brand_id
    for r in rows:
        d, s, n = r["day"], r["sentiment"], r["n"]
        out[ChannelDay][(b, d, r["channel_id"], s)]["count"] += n
        out[SourceDay][(b, d, SourceDay.Kind.PLATFORM, platforms[r["channel_id"]], s)]["count"] += n
        out[IntentDay][(b, d, r["intent"])]["count"] += n
        quality = out[QualityDay][(b, d)]
        quality["total"] += n
        quality["reviewed"] += n * r["reviewed"]
        quality["corrected"] += n * r["corrected"]
        quality["agreed"] += n * (r["reviewed"] and r["same_sentiment"])
        quality["intent_reviewed"] += n * r["intent_reviewed"]
        quality["intent_corrected"] += n * r["intent_corrected"]
        quality["intent_agreed"] += n * (r["intent_reviewed"] and r["same_intent"])


class _TermIds(models.Aggregate):
    """A mention's term ids as one text ("3,7"): the set of terms it names, to group mentions by."""

    function = "STRING_AGG"
    template = "%(function)s(CAST(%(expressions)s AS text), ',' ORDER BY %(expressions)s)"
    output_field = models.CharField()

    def as_sqlite(self, compiler: Any, connection: Any, **extra: Any) -> Any:
        return super().as_sql(
            compiler, connection, function="GROUP_CONCAT", template="%(function)s(%(expressions)s, ',')"
        )


def _count_terms(out: Deltas, brand_id: int, mentions: models.QuerySet) -> None:
    """Add the volume by tracked term and share of voice of ``mentions`` to ``out`` from one join of
    the mentions to their terms: mentions counted by day, sentiment and the set of terms they name
    (a few hundred rows a month), each set then counted once for each of its terms (TermDay) and
    once for each group its terms belong to (GroupDay: "Acme", "@acme" and "#acme" in one mention
    are one mention of the brand). Each table was a join of its own over the period's mentions."""
    groups: dict[int, tuple[bool, str]] = {}
    for term_id, kind, group, text in TrackedTerm.objects.filter(
        brand_id=brand_id, kind__in=[TrackedTerm.Kind.BRAND, TrackedTerm.Kind.COMPETITOR]
    ).values_list("pk", "kind", "group", "text"):
        is_brand = kind == TrackedTerm.Kind.BRAND
        groups[term_id] = (is_brand, "" if is_brand else (group or text)[:200])
    # From the period's mentions to their terms (not from a term to all its mentions ever, which a
    # planner picks when a brand tracks one term).
    per_mention = (
        mentions.filter(terms__isnull=False).values("id", "day", "sentiment").annotate(ids=_TermIds("terms__id"))
    )
    sql, params = per_mention.order_by().query.sql_with_params()
    q = connection.ops.quote_name
    columns = ", ".join(f"sub.{q(c)}" for c in ("day", "sentiment", "ids"))
    b = brand_id
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT {columns}, COUNT(*) FROM ({sql}) sub GROUP BY {columns}", params)  # noqa: S608
        for d, sentiment, ids, n in cursor.fetchall():
            d = d if isinstance(d, date) else date.fromisoformat(d)  # SQLite's raw rows hold text
            terms = {int(t) for t in ids.split(",")}
            for term_id in terms:
                out[TermDay][(b, d, term_id, sentiment)]["count"] += n
            for is_brand, label in {groups[t] for t in terms if t in groups}:
                out[GroupDay][(b, d, is_brand, label, sentiment)]["count"] += n


def _sum_weeks(brand_id: int, weeks: set[date]) -> None:
    """AuthorWeek rows of ``weeks`` (their Mondays) summed again from AuthorDay."""
    AuthorWeek.objects.filter(brand_id=brand_id, day__in=weeks).delete()
    days = (
        AuthorDay.objects.filter(brand_id=brand_id, day__gte=min(weeks), day__lt=max(weeks) + timedelta(days=7))
        .annotate(week=TruncWeek("day", output_field=models.DateField()))
        .filter(week__in=weeks)
    )
    counted = _counted(AuthorWeek)
    rows = days.values("week", "author_id").annotate(**{f"{c}_sum": Sum(c) for c in counted})
    _insert_select(AuthorWeek, brand_id, rows.order_by(), ["week", "author_id", *(f"{c}_sum" for c in counted)], {})


def _count_texts(out: Deltas, brand_id: int, mentions: models.QuerySet, *, engagement: bool) -> None:
    """Add the words, hashtags and questions of ``mentions`` (and the engagement of their authors
    when ``engagement``) to ``out``: each text split once (``tokens_of``), each mention counted
    once per word, the stop words of its language taken out once per distinct word and language."""
    b = brand_id
    columns = ["day", "sentiment", "language", "text"] + (["author_id", "metrics"] if engagement else [])
    tokens: dict[tuple[date, str, str], list[str]] = defaultdict(list)
    questions = out[QuestionDay]
    for row in _rows(mentions.values_list(*columns)):
        d, sentiment, language, text = row[:4]
        tokens[(d, sentiment, language)] += set(tokens_of(text))
        if question := question_of(text):
            questions[(b, d, question)]["count"] += 1
        if engagement and (points := engagement_of(row[5])):
            out[AuthorDay][(b, d, row[4])]["engagement"] += points
    for (d, sentiment, language), words in tokens.items():
        stop = stopwords_for(language)
        for word, n in Counter(words).items():
            if word.lstrip("#") in stop:
                continue
            out[WordDay][(b, d, word, sentiment)]["count"] += n
            if word.startswith("#"):
                out[SourceDay][(b, d, SourceDay.Kind.HASHTAG, word, sentiment)]["count"] += n


# One text pass at a time beside the recount that waits for it.
TEXT_PASS = ThreadPoolExecutor(max_workers=1, thread_name_prefix="rollup-texts")


def _texts_alongside(brand_id: int, mentions: models.QuerySet) -> Future[Deltas]:
    """``_count_texts`` of ``mentions`` started in TEXT_PASS's thread, on that thread's own
    connection (closed when done); the result is the rows it counted."""

    def count() -> Deltas:
        out: Deltas = defaultdict(lambda: defaultdict(Counter))
        try:
            with transaction.atomic():  # a server-side cursor lives in a transaction
                _count_texts(out, brand_id, mentions, engagement=False)
        finally:
            connection.close()
        return out

    return TEXT_PASS.submit(count)


def _rows(queryset: models.QuerySet) -> Iterable[tuple]:
    """A values_list's rows, streamed: on PostgreSQL straight from a server-side cursor, without
    the per-value conversions Django's iterator() makes (a month of a million-mention year is
    ~100,000 texts)."""
    if connection.vendor != "postgresql":
        yield from queryset.iterator(chunk_size=5000)
        return
    sql, params = queryset.query.sql_with_params()
    connection.ensure_connection()
    with connection.connection.cursor(name=f"rollup_texts_{id(queryset)}") as cursor:
        cursor.itersize = 10_000
        cursor.execute(sql, params)
        yield from cursor


# ``engagement_of`` in SQL: the positive whole numbers up to ``ENGAGEMENT_MAX`` among the values of
# a JSON object (most mentions carry none: "{}" is skipped without unpacking it).
ENGAGEMENT_SQL = (
    'CASE WHEN "listening_mention"."metrics" = \'{}\'::jsonb'  # noqa: S608  (ENGAGEMENT_MAX, a constant)
    ' OR jsonb_typeof("listening_mention"."metrics") <> \'object\' THEN 0 ELSE ('
    'SELECT COALESCE(SUM(value::text::numeric), 0) FROM jsonb_each("listening_mention"."metrics")'
    " WHERE jsonb_typeof(value) = 'number' AND value::text ~ '^[0-9]+$'"
    f" AND value::text::numeric <= {ENGAGEMENT_MAX:d}) END"
)


def _engagement_sum() -> Coalesce:
    total = Sum(RawSQL(f"({ENGAGEMENT_SQL})", (), output_field=models.BigIntegerField()))  # noqa: S611 (a constant)
    return Coalesce(total, 0, output_field=models.BigIntegerField())


def _insert_select(
    model: type[models.Model],
    brand_id: int,
    queryset: models.QuerySet,
    select: Sequence[str],
    constants: Mapping[str, Any],
) -> None:
    """Insert the rows of an aggregate into ``model``'s table in one statement: ``select`` names,
    in the table's column order after the brand (DIMENSIONS, the counted columns, a SourceDay's
    label), either a column of ``queryset`` (a values() name) or a key of ``constants``."""
    q = connection.ops.quote_name
    columns = ["brand_id", "day", *DIMENSIONS[model], *_counted(model), *(["label"] if model is SourceDay else [])]
    sql, params = queryset.query.sql_with_params()
    items, values = ["%s"], [brand_id]
    for name in select:
        if name in constants:
            items.append("%s")
            values.append(constants[name])
        else:
            items.append(f"sub.{q(name)}")
    assert len(items) == len(columns), (model, select)
    table = q(model._meta.db_table)
    # In the order of the unique key: its index grows at its end instead of at random pages.
    order = ", ".join(str(n) for n in range(2, 3 + len(DIMENSIONS[model])))
    statement = (
        f"INSERT INTO {table} ({', '.join(q(c) for c in columns)}) "  # noqa: S608
        f"SELECT {', '.join(items)} FROM ({sql}) sub ORDER BY {order}"
    )
    with connection.cursor() as cursor:
        cursor.execute(statement, [*values, *params])


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
    """Sorted days cut into runs of at most RECOUNT_CHUNK_DAYS consecutive days, cut before a
    Monday once a run has most of them: each chunk sums the AuthorWeek rows of the weeks it
    touches, and a week split between two chunks was summed twice."""
    chunk: list[date] = []
    for day in days:
        full = len(chunk) == RECOUNT_CHUNK_DAYS or (len(chunk) > RECOUNT_CHUNK_DAYS - 7 and day.weekday() == 0)
        if chunk and (full or day - chunk[-1] > timedelta(days=1)):
            yield chunk
            chunk = []
        chunk.append(day)
    if chunk:
        yield chunk


def last_refreshed_at() -> datetime | None:
    return RollupState.objects.filter(key="default").aggregate(at=Max("refreshed_at"))["at"]
