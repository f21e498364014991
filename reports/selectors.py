"""Reads for the report page, its CSV tables, the e-mail and the API.

Mention numbers come only from the rollups (reports/models.py), so a month of a brand with
millions of mentions costs a few thousand rows; tickets and replies are read directly (they are
a small fraction of mentions and their timestamps are what the team numbers measure).
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import math
import statistics
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from urllib.parse import urlencode

from django.db import connection
from django.db.models import Count, Max, Q, QuerySet, Subquery, Sum
from django.db.models.functions import Coalesce
from django.urls import reverse
from django.utils import timezone

from config.people import person_name
from listening.learning import MIN_CORRECTIONS
from listening.models import (
    ANONYMOUS_EXTERNAL_ID,
    AnalyzerModel,
    Author,
    Brand,
    Channel,
    Intent,
    Platform,
    Sentiment,
    TrackedTerm,
)
from publishing.selectors import posts_performance
from reports.models import (
    AuthorDay,
    AuthorWeek,
    ChannelDay,
    GroupDay,
    IntentDay,
    QualityDay,
    QuestionDay,
    ReportSummary,
    RollupVersion,
    SourceDay,
    WordDay,
)
from reports.text import term_variants
from responses.models import Reply, Ticket

SENTIMENTS = [Sentiment.POSITIVE, Sentiment.NEUTRAL, Sentiment.NEGATIVE, Sentiment.UNSCORED]
TOP = 10
# An emerging term needs this many mentions in the period, this many in the baseline before it,
# and twice its baseline daily rate.
EMERGING_MIN_COUNT = 5
EMERGING_MIN_BASELINE = 3
EMERGING_MIN_GROWTH = 2.0
BASELINE_DAYS = 28
INFLUENCE_FORMULA = "log10(1 + followers) + log10(1 + engagement) + 2 * log10(1 + mentions)"


@dataclass(frozen=True)
class Period:
    """Whole UTC days, ``since`` and ``until`` both included."""

    since: date
    until: date

    @property
    def days(self) -> int:
        return (self.until - self.since).days + 1

    @property
    def start(self) -> datetime:
        return datetime.combine(self.since, time.min, tzinfo=UTC)

    @property
    def end(self) -> datetime:
        return datetime.combine(self.until + timedelta(days=1), time.min, tzinfo=UTC)

    def previous(self) -> Period:
        return Period(self.since - timedelta(days=self.days), self.since - timedelta(days=1))

    def day_list(self) -> list[date]:
        return [self.since + timedelta(days=n) for n in range(self.days)]

    @classmethod
    def last_days(cls, days: int = 30) -> Period:
        today = timezone.now().astimezone(UTC).date()
        return cls(today - timedelta(days=days - 1), today)


def _counts(rows: dict[str, int]) -> dict[str, int | float | None]:
    """A sentiment breakdown with its total and net sentiment ((pos - neg) / scored)."""
    out: dict[str, int | float | None] = {s: rows.get(s, 0) for s in SENTIMENTS}
    total = sum(rows.get(s, 0) for s in SENTIMENTS)
    scored = total - rows.get(Sentiment.UNSCORED, 0)
    out["total"] = total
    out["net"] = (
        round((rows.get(Sentiment.POSITIVE, 0) - rows.get(Sentiment.NEGATIVE, 0)) / scored, 3) if scored else None
    )
    return out


def _change(now: int, before: int) -> float | None:
    return round((now - before) / before * 100, 1) if before else None


def volume(brand: Brand, period: Period) -> dict:
    """Mentions per day (sentiment stacked), per channel and per platform, with the previous period.

    A mention belongs to the UTC day it was published (not fetched). ``total``: the period's
    mentions by sentiment, with ``total`` (all of them) and ``net`` = (positive - negative) /
    scored (mentions with a sentiment; None when none is scored). ``previous``: the same for
    the period of equal length just before; ``change``: percent change of the total against it
    (None when the previous period had none).
    """
    rows = ChannelDay.objects.filter(brand=brand, day__gte=period.since, day__lte=period.until)
    by_day: dict[date, dict[str, int]] = defaultdict(lambda: defaultdict(int))
    by_channel: dict[int, dict[str, int]] = defaultdict(lambda: defaultdict(int))
    total: dict[str, int] = defaultdict(int)
    for row in rows.values("day", "channel_id", "sentiment").annotate(n=Sum("count")):
        by_day[row["day"]][row["sentiment"]] += row["n"]
        by_channel[row["channel_id"]][row["sentiment"]] += row["n"]
        total[row["sentiment"]] += row["n"]
    channels = Channel.objects.in_bulk(list(by_channel))
    by_platform: dict[str, dict[str, int]] = defaultdict(lambda: defaultdict(int))
    for channel_id, counts in by_channel.items():
        for s, n in counts.items():
            by_platform[channels[channel_id].platform][s] += n
    previous = Period.previous(period)
    before = ChannelDay.objects.filter(brand=brand, day__gte=previous.since, day__lte=previous.until)
    before_counts = dict(before.values_list("sentiment").annotate(n=Sum("count")).values_list("sentiment", "n"))
    headline = _counts(total)
    previous_counts = _counts(before_counts)
    return {
        "total": headline,
        "previous": previous_counts,
        "change": _change(headline["total"], previous_counts["total"]),
        "days": [{"day": d, **_counts(by_day.get(d, {}))} for d in period.day_list()],
        "channels": sorted(
            (
                {"channel": channels[cid].name, "platform": channels[cid].get_platform_display(), **_counts(c)}
                for cid, c in by_channel.items()
            ),
            key=lambda r: -r["total"],
        ),
        "platforms": sorted(
            ({"platform": Platform(p).label, "code": p, **_counts(c)} for p, c in by_platform.items()),
            key=lambda r: -r["total"],
        ),
    }


def share_of_voice(brand: Brand, period: Period, *, mentions: int | None = None) -> dict:
    """The brand against each competitor, from GroupDay.

    - a group's ``total``: mentions in the period naming the group, each mention once however
      many of the group's terms it uses ("Acme", "@acme" and "#acme" are one mention of Acme);
      the brand's own terms are one group, each competitor's terms (TrackedTerm.group, or the
      text) one group; a group's total never exceeds the period's mentions;
    - a mention naming the brand and a competitor counts once for each: share of voice is the
      share of the conversation each name takes part in;
    - ``share``: the group's total over the sum of the groups' totals, in percent (the groups'
      shares add up to 100); ``mention_share``: over the period's mentions (``mentions``), in
      percent;
    - sentiment counts and ``net`` as in ``volume``; ``series``: the group's mentions per day.
    """
    rows = GroupDay.objects.filter(brand=brand, day__gte=period.since, day__lte=period.until)
    totals: dict[str, dict[str, int]] = defaultdict(lambda: defaultdict(int))
    by_day: dict[str, dict[date, int]] = defaultdict(lambda: defaultdict(int))
    brand_label = brand.name
    for row in rows.values("is_brand", "group", "day", "sentiment").annotate(n=Sum("count")):
        label = brand_label if row["is_brand"] else row["group"]
        totals[(row["is_brand"], label)][row["sentiment"]] += row["n"]
        by_day[(row["is_brand"], label)][row["day"]] += row["n"]
    if mentions is None:  # the period's mentions, unless the caller read them with the volume
        rows = ChannelDay.objects.filter(brand=brand, day__gte=period.since, day__lte=period.until)
        mentions = rows.aggregate(n=Sum("count"))["n"] or 0
    grand = sum(sum(c.values()) for c in totals.values())
    groups = sorted(
        (
            {
                "label": label,
                "is_brand": is_brand,
                "share": round(sum(c.values()) / grand * 100, 1) if grand else 0.0,
                "mention_share": round(sum(c.values()) / mentions * 100, 1) if mentions else None,
                **_counts(c),
            }
            for (is_brand, label), c in totals.items()
        ),
        key=lambda r: (-r["total"], r["label"]),
    )
    return {
        "groups": groups,
        "mentions": mentions,
        "series": {
            g["label"]: [by_day[(g["is_brand"], g["label"])].get(d, 0) for d in period.day_list()] for g in groups
        },
    }


def tracked_words(brand: Brand) -> set[str]:
    """Words that are the brand's own tracked terms (every kind, active or retired) in any of the
    forms the word counts hold them: kept out of top and emerging terms, which are about what
    else people say."""
    return term_variants(TrackedTerm.objects.filter(brand=brand).values_list("text", flat=True))


def _word_totals(
    brand: Brand, period: Period, sentiments: list[str] | None = None, *, excluded: set[str] | None = None
) -> dict[str, int]:
    rows = WordDay.objects.filter(brand=brand, day__gte=period.since, day__lte=period.until)
    if sentiments:
        rows = rows.filter(sentiment__in=sentiments)
    if excluded:
        rows = rows.exclude(word__in=excluded)
    return dict(rows.values("word").annotate(n=Sum("count")).values_list("word", "n"))


def _top(counts: dict[str, int], n: int = TOP) -> list[dict]:
    return [{"word": w, "count": c} for w, c in sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))[:n]]


def topics(brand: Brand, period: Period, *, excluded: set[str] | None = None) -> dict:
    """Top words and hashtags in negative and in positive mentions, and emerging terms.

    A word's ``count``: the period's mentions of that sentiment using the word (once per mention,
    however often it repeats), from WordDay. Words of three letters or more; the stop words of the
    mention's language (English, Spanish; both lists for another language) are not counted, and
    the brand's tracked terms in every form ("acme", "#acme", "@acme") are left out
    (``tracked_words``). Hashtags are listed apart (``*_hashtags``).
    """
    if excluded is None:
        excluded = tracked_words(brand)
    out: dict = {}
    for sentiment in (Sentiment.NEGATIVE, Sentiment.POSITIVE):
        counts = _word_totals(brand, period, [sentiment], excluded=excluded)
        out[f"{sentiment}_words"] = _top({w: c for w, c in counts.items() if not w.startswith("#")})
        out[f"{sentiment}_hashtags"] = _top({w: c for w, c in counts.items() if w.startswith("#")})
    out["emerging"] = emerging_terms(brand, period, excluded=excluded)
    return out


def emerging_terms(brand: Brand, period: Period, *, excluded: set[str] | None = None) -> list[dict]:
    """Words said more than usual: the period's mentions using the word (``count``) against the
    BASELINE_DAYS before it (``baseline``, mentions; ``expected``, the baseline scaled to the
    period's length), ``growth`` = count / expected.

    A word is emerging when it has at least EMERGING_MIN_COUNT mentions in the period, at least
    EMERGING_MIN_BASELINE in the baseline (so there is a real rate to grow from: a word never
    seen before is not "65 times a baseline of 0") and a growth of at least EMERGING_MIN_GROWTH.
    Stop words and the brand's tracked terms are left out as in ``topics``.
    """
    if excluded is None:
        excluded = tracked_words(brand)
    current = _word_totals(brand, period, excluded=excluded)
    baseline_period = Period(period.since - timedelta(days=BASELINE_DAYS), period.since - timedelta(days=1))
    baseline = _word_totals(brand, baseline_period, excluded=excluded)
    rows = []
    for word, count in current.items():
        before = baseline.get(word, 0)
        if count < EMERGING_MIN_COUNT or before < EMERGING_MIN_BASELINE:
            continue
        expected = before * period.days / BASELINE_DAYS
        growth = count / expected
        if growth >= EMERGING_MIN_GROWTH:
            rows.append(
                {"word": word, "count": count, "baseline": before, "expected": round(expected, 1),
                 "growth": round(growth, 1)}
            )  # fmt: skip
    return sorted(rows, key=lambda r: (-r["growth"], -r["count"], r["word"]))[:TOP]


def sources(brand: Brand, period: Period) -> dict:
    """Top sources by volume with sentiment, and the fastest-growing against the previous period.

    A source is a platform, a site/page/video (Mention.source) or a hashtag; its ``total`` is the
    period's mentions from it, ``previous`` the previous period's, ``growth`` the difference.
    ``name`` is what a person calls it: the stored title of the page or video, or the channel's
    name where the platform gives only an id (``id`` keeps the id); sources shown under one name
    are one row.
    """
    return _sources_named(_source_rows(brand, period))


def _source_rows(brand: Brand, period: Period) -> dict:
    """``sources`` with each row's kind as stored (SourceDay.Kind) and a platform by its code:
    what a ReportSummary keeps, in no reader's language."""

    def totals(p: Period) -> tuple[dict[tuple[str, str], dict[str, int]], dict[tuple[str, str], str]]:
        out: dict[tuple[str, str], dict[str, int]] = defaultdict(lambda: defaultdict(int))
        ids: dict[tuple[str, str], str] = {}
        rows = SourceDay.objects.filter(brand=brand, day__gte=p.since, day__lte=p.until)
        for row in rows.values("kind", "name", "sentiment").annotate(n=Sum("count"), label=Max("label")):
            name = row["name"] if row["kind"] == SourceDay.Kind.PLATFORM else row["label"] or row["name"]
            out[(row["kind"], name)][row["sentiment"]] += row["n"]
            ids.setdefault((row["kind"], name), row["name"])
        return out, ids

    (now, ids), (before, _ids) = totals(period), totals(period.previous())
    rows = [
        {
            "kind": k,
            "name": n,
            "id": ids[(k, n)],
            **_counts(c),
            "previous": sum(before.get((k, n), {}).values()),
        }
        for (k, n), c in now.items()
    ]
    for row in rows:
        row["growth"] = row["total"] - row["previous"]
    top = sorted(rows, key=lambda r: (-r["total"], r["name"]))[:TOP]
    growing = sorted((r for r in rows if r["growth"] > 0), key=lambda r: (-r["growth"], r["name"]))[:TOP]
    return {"top": top, "growing": growing}


def _sources_named(ranked: dict) -> dict:
    """``_source_rows``' rows with their kind as the reader calls it."""
    labels = dict(SourceDay.Kind.choices)

    def named(row: dict) -> dict:
        platform = row["kind"] == SourceDay.Kind.PLATFORM
        return {**row, "kind": labels[row["kind"]], "name": Platform(row["name"]).label if platform else row["name"]}

    return {part: [named(row) for row in rows] for part, rows in ranked.items()}


def frequent_questions(brand: Brand, period: Period) -> list[dict]:
    """The period's most asked questions: mentions whose text opens with a question (ends with
    "?", starts with "¿" or a question word), grouped by their normalized wording (``count``
    mentions each), with a link to them in the inbox."""
    return _questions_linked(brand, _question_rows(brand, period))


def _question_rows(brand: Brand, period: Period) -> list[dict]:
    rows = (
        QuestionDay.objects.filter(brand=brand, day__gte=period.since, day__lte=period.until)
        .values("question")
        .annotate(n=Sum("count"))
        .order_by("-n", "question")[:TOP]
    )
    return [{"question": r["question"], "count": r["n"]} for r in rows]


def _questions_linked(brand: Brand, rows: list[dict]) -> list[dict]:
    inbox = reverse("responses:inbox")
    return [{**r, "url": f"{inbox}?{urlencode({'brand': brand.pk, 'q': r['question']})}"} for r in rows]


def _anonymous_authors() -> QuerySet[Author]:
    """The placeholders erased mentions point to: counted in every total, ranked as nobody."""
    return Author.objects.filter(external_id=ANONYMOUS_EXTERNAL_ID).values("pk")


# Opinion leaders are scored among the period's most frequent authors, this many.
LEADER_CANDIDATES = 500


@dataclass(frozen=True)
class AuthorTotals:
    """The period's authors as the report ranks them, each row an author's sums (``author_id``,
    ``n``, ``scored``, ``neg``, ``engagement``, ``sent``): ``leaders``, the LEADER_CANDIDATES with
    the most mentions (then by id); ``complainers``, the TOP with the most negative mentions among
    those with two or more (then by id); ``complainer_count``, how many have two or more."""

    leaders: list[dict]
    complainers: list[dict]
    complainer_count: int


def author_totals(brand: Brand, period: Period, *, complainers: bool = False) -> AuthorTotals:
    """Each author's mentions of the period summed: the period's whole weeks from AuthorWeek, the
    days around them from AuthorDay, erased mentions' anonymous authors left out. One statement
    sums them and returns only the ranked rows (a busy brand has tens of thousands of authors a
    month; the page shows twenty). ``complainers``: only the rows with a negative mention and no
    leaders (what the team's numbers read without the leaders); the complainers' negative counts
    are then whole, their other sums only those of the days and weeks with a negative mention."""
    first_monday = period.since + timedelta(days=(7 - period.since.weekday()) % 7)
    weeks = max(0, (period.until - first_monday).days + 1) // 7
    after = first_monday + timedelta(days=7 * weeks)
    columns = ("author_id", "count", "scored", "negative", "engagement", "sentiment_sum")
    whole = AuthorWeek.objects.filter(brand=brand, day__gte=first_monday, day__lt=after).values_list(*columns)
    rest = (
        AuthorDay.objects.filter(brand=brand, day__gte=period.since, day__lte=period.until)
        .exclude(day__gte=first_monday, day__lt=after)
        .values_list(*columns)
    )
    anonymous = list(_anonymous_authors().values_list("pk", flat=True))
    whole, rest = whole.exclude(author_id__in=anonymous), rest.exclude(author_id__in=anonymous)
    if complainers:
        whole, rest = whole.filter(negative__gt=0), rest.filter(negative__gt=0)
    (whole_sql, whole_params), (rest_sql, rest_params) = whole.query.sql_with_params(), rest.query.sql_with_params()
    sums = "author_id, n, scored, neg, engagement, sent"
    statement = (
        "WITH totals AS (SELECT author_id, SUM(count) AS n, SUM(scored) AS scored, SUM(negative) AS neg, "  # noqa: S608
        "SUM(engagement) AS engagement, SUM(sentiment_sum) AS sent "
        f"FROM ({whole_sql} UNION ALL {rest_sql}) AS periods GROUP BY author_id) "
        f"SELECT 'leader', {sums} FROM (SELECT {sums} FROM totals ORDER BY n DESC, author_id LIMIT %s) AS leaders "
        f"UNION ALL SELECT 'complainer', {sums} FROM (SELECT {sums} FROM totals WHERE neg >= 2 "
        "ORDER BY neg DESC, author_id LIMIT %s) AS complainers "
        "UNION ALL SELECT 'count', NULL, COUNT(*), 0, 0, 0, 0 FROM totals WHERE neg >= 2"
    )
    out: dict[str, list[dict]] = {"leader": [], "complainer": []}
    count = 0
    with connection.cursor() as cursor:
        cursor.execute(statement, [*whole_params, *rest_params, 0 if complainers else LEADER_CANDIDATES, TOP])
        for kind, a, n, scored, neg, engagement, sent in cursor.fetchall():
            if kind == "count":
                count = int(n)
                continue
            out[kind].append(
                {"author_id": a, "n": int(n), "scored": int(scored), "neg": int(neg), "engagement": int(engagement),
                 "sent": int(sent)}
            )  # fmt: skip
    # UNION ALL keeps no order of its own: each list in its ranking again (a few hundred rows).
    out["leader"].sort(key=lambda r: (-r["n"], r["author_id"]))
    out["complainer"].sort(key=lambda r: (-r["neg"], r["author_id"]))
    return AuthorTotals(out["leader"], out["complainer"], count)


def opinion_leaders(brand: Brand, period: Period, authors: AuthorTotals | None = None) -> dict:
    """Authors ranked by influence = log10(1 + followers) + log10(1 + engagement) + 2 * log10(1 + mentions).

    Reach, the engagement their mentions got, and how often they speak of the brand make the score; the average sentiment ((pos - neg) / scored) is shown
    beside it so advocates and detractors both surface. Internal authors are listed apart.
    """
    rows = (author_totals(brand, period) if authors is None else authors).leaders
    return _leaders_shown(_leader_ranking(rows))


def _leader_ranking(rows: list[dict]) -> list[dict]:
    """The leaders shown among the candidates ``rows`` (AuthorTotals.leaders), ranked, each row
    with its ``score``: the TOP external authors, then the TOP internal ones. What a
    ReportSummary keeps (the candidates' followers are read here, when it is computed)."""
    people = Author.objects.in_bulk([r["author_id"] for r in rows])
    scored = []
    for r in rows:
        a = people[r["author_id"]]
        score = math.log10(1 + a.followers) + math.log10(1 + r["engagement"]) + 2 * math.log10(1 + r["n"])
        scored.append((round(score, 2), str(a), a, r))
    scored.sort(key=lambda x: (-x[0], x[1]))
    shown = [x for x in scored if not x[2].is_internal][:TOP] + [x for x in scored if x[2].is_internal][:TOP]
    return [{**r, "score": score} for score, _handle, _a, r in shown]


def _leaders_shown(ranked: list[dict]) -> dict:
    """``_leader_ranking``'s rows as the page shows them, with each author's names as they are now
    (only the shown authors are read: display names and translations for 500 were most of the time)."""
    people = Author.objects.in_bulk([r["author_id"] for r in ranked])
    leaders = [
        {
            "handle": str(a),  # as shown: @handle, or the name where the platform has no handle
            "name": a.name or a.handle or a.external_id,
            "raw_handle": a.handle,
            "platform": a.get_platform_display(),
            "profile_url": a.profile_url if a.profile_url.startswith(("http://", "https://")) else "",
            "followers": a.followers,
            "mentions": r["n"],
            "engagement": r["engagement"],
            "sentiment": round(r["sent"] / r["scored"], 2) if r["scored"] else None,
            "score": r["score"],
            "is_internal": a.is_internal,
        }
        for r in ranked
        # An author deleted since the summary was computed (no mention pointed to them) is left out.
        if (a := people.get(r["author_id"])) is not None
    ]
    return {
        "formula": INFLUENCE_FORMULA,
        "external": [r for r in leaders if not r["is_internal"]],
        "internal": [r for r in leaders if r["is_internal"]],
    }


def _median(values: list[float]) -> float | None:
    return round(statistics.median(values), 1) if values else None


def _p90(values: list[float]) -> float | None:
    if not values:
        return None
    ordered = sorted(values)
    # Nearest-rank percentile: the value below which 90 % of the times fall.
    return round(ordered[max(0, math.ceil(0.9 * len(ordered)) - 1)], 1)


def _minutes(delta: timedelta) -> float:
    return delta.total_seconds() / 60


def _first_replies(brand: Brand, period: Period) -> dict[int, Reply]:
    """Each mention published in the period that got a reply: its first sent reply."""
    replies = (
        Reply.objects.filter(
            mention__brand=brand,
            mention__published_at__gte=period.start,
            mention__published_at__lt=period.end,
            status=Reply.Status.SENT,
            sent_at__isnull=False,
        )
        .select_related("author", "mention__channel")
        .order_by("mention_id", "sent_at")
    )
    first: dict[int, Reply] = {}
    for reply in replies:
        first.setdefault(reply.mention_id, reply)
    return first


def first_response(brand: Brand, period: Period) -> dict:
    """Minutes from a mention's publication to its first reply, over the period's replied
    mentions: how many, the median and the p90 (what the headline compares with the period before)."""
    times = [_minutes(r.sent_at - r.mention.published_at) for r in _first_replies(brand, period).values()]
    return {"replied": len(times), "median": _median(times), "p90": _p90(times)}


def ticket_rates(brand: Brand, period: Period) -> dict:
    """SLA met and follow-up over the tickets opened in the period, in one query: what ``team``
    reports and what the headline compares with the period before.

    ``sla_met``: percent of the tickets with an SLA (an acknowledge or resolve due time;
    ``sla_measured`` of them) that breached neither (``sla_met_count``); ``followed_up``: percent
    of the resolved ones (``followed_up_measured``) whose resolution was passed on in public
    (``followed_up_count``). A rate is None when nothing was measured.
    """
    with_sla = Q(acknowledge_due_at__isnull=False) | Q(resolve_due_at__isnull=False)
    met = with_sla & Q(acknowledge_breached_at__isnull=True, resolve_breached_at__isnull=True)
    resolved = Q(resolved_at__isnull=False)
    n = Ticket.objects.filter(brand=brand, created_at__gte=period.start, created_at__lt=period.end).aggregate(
        with_sla=Count("pk", filter=with_sla),
        met=Count("pk", filter=met),
        resolved=Count("pk", filter=resolved),
        followed=Count("pk", filter=resolved & Q(followed_up_at__isnull=False)),
    )
    return {
        "sla_met": round(n["met"] / n["with_sla"] * 100, 1) if n["with_sla"] else None,
        "sla_met_count": n["met"],
        "sla_measured": n["with_sla"],
        "followed_up": round(n["followed"] / n["resolved"] * 100, 1) if n["resolved"] else None,
        "followed_up_count": n["followed"],
        "followed_up_measured": n["resolved"],
    }


def team(brand: Brand, period: Period, authors: AuthorTotals | None = None) -> dict:
    """First-response times, tickets per department, SLA, follow-ups and repeat complaints.

    Read from replies and tickets (not rollups). Every rate is None when nothing was measured,
    beside the count it rests on:

    - ``response``: first response = minutes from a mention's publication to the first reply
      sent to it, over the period's mentions that got one (``replied``); ``median`` and ``p90``
      (nearest rank), also ``by_channel`` and ``by_agent``;
    - ``opened``: tickets created in the period; ``resolved``: those of them resolved;
      ``median_resolve``: minutes from creation to resolution over the resolved ones;
    - ``sla_met`` and ``followed_up`` with the counts they rest on, as ``ticket_rates`` defines them;
    - ``departments``: the same per department, with ``acknowledged`` (tickets acknowledged,
      what ``median_ack`` rests on);
    - ``repeat_authors``: authors with two or more negative mentions in the period
      (``repeat_author_count`` in all); ``repeat_tickets``: tickets whose author had another
      ticket resolved in the 30 days before it was opened.
    """
    first = _first_replies(brand, period)
    by_channel: dict[str, list[float]] = defaultdict(list)
    by_agent: dict[str, list[float]] = defaultdict(list)
    for reply in first.values():
        minutes = _minutes(reply.sent_at - reply.mention.published_at)
        by_channel[reply.mention.channel.name].append(minutes)
        by_agent[person_name(reply.author) or "—"].append(minutes)
    all_times = [m for times in by_channel.values() for m in times]

    def timing(name: str, times: list[float]) -> dict:
        return {"name": name, "replied": len(times), "median": _median(times), "p90": _p90(times)}

    tickets = list(
        Ticket.objects.filter(brand=brand, created_at__gte=period.start, created_at__lt=period.end).select_related(
            "department", "mention__author"
        )
    )
    departments: dict[str, dict] = {}
    for t in tickets:
        d = departments.setdefault(
            t.department.name, {"name": t.department.name, "opened": 0, "resolved": 0, "ack": [], "resolve": [],
                                "with_sla": 0, "sla_met": 0, "followed_up": 0}
        )  # fmt: skip
        d["opened"] += 1
        if t.acknowledged_at:
            d["ack"].append(_minutes(t.acknowledged_at - t.created_at))
        if t.resolved_at:
            d["resolved"] += 1
            d["resolve"].append(_minutes(t.resolved_at - t.created_at))
            d["followed_up"] += t.followed_up_at is not None
        if t.acknowledge_due_at or t.resolve_due_at:
            d["with_sla"] += 1
            d["sla_met"] += t.acknowledge_breached_at is None and t.resolve_breached_at is None
    dept_rows = [
        {
            "name": d["name"],
            "opened": d["opened"],
            "resolved": d["resolved"],
            "median_ack": _median(d["ack"]),
            "median_resolve": _median(d["resolve"]),
            "acknowledged": len(d["ack"]),
            "sla_met": round(d["sla_met"] / d["with_sla"] * 100, 1) if d["with_sla"] else None,
            "sla_met_count": d["sla_met"],
            "sla_measured": d["with_sla"],
            "followed_up": round(d["followed_up"] / d["resolved"] * 100, 1) if d["resolved"] else None,
            "followed_up_count": d["followed_up"],
            "followed_up_measured": d["resolved"],
        }
        for d in sorted(departments.values(), key=lambda d: d["name"])
    ]
    resolved = [t for t in tickets if t.resolved_at]
    totals = author_totals(brand, period, complainers=True) if authors is None else authors
    repeat = totals.complainers
    repeat_authors = Author.objects.in_bulk([r["author_id"] for r in repeat])
    # A ticket is a repeat when the same author had another ticket resolved in the 30 days before.
    earlier: dict[int, list[datetime]] = defaultdict(list)
    for author_id, resolved_at in Ticket.objects.filter(
        brand=brand,
        mention__author_id__in={t.mention.author_id for t in tickets},
        resolved_at__gte=period.start - timedelta(days=30),
        resolved_at__lt=period.end,
    ).values_list("mention__author_id", "resolved_at"):
        earlier[author_id].append(resolved_at)
    repeat_tickets = sum(
        any(t.created_at - timedelta(days=30) <= r < t.created_at for r in earlier[t.mention.author_id])
        for t in tickets
    )
    return {
        "response": timing("all", all_times),
        "by_channel": [timing(n, v) for n, v in sorted(by_channel.items())],
        "by_agent": [timing(n, v) for n, v in sorted(by_agent.items())],
        "departments": dept_rows,
        "opened": len(tickets),
        "resolved": len(resolved),
        "median_resolve": _median([_minutes(t.resolved_at - t.created_at) for t in resolved]),
        **ticket_rates(brand, period),
        "repeat_authors": [
            {
                "handle": str(author),
                "name": author.name or author.handle or author.external_id,
                "raw_handle": author.handle,
                "negative": r["neg"],
            }
            for r in repeat
            if (author := repeat_authors.get(r["author_id"])) is not None
        ],
        "repeat_author_count": totals.complainer_count,
        "repeat_tickets": repeat_tickets,
    }  # fmt: skip


INTENTS = [Intent.COMPLAINT, Intent.QUESTION, Intent.PRAISE, Intent.OTHER, Intent.UNCLASSIFIED]


def intents(brand: Brand, period: Period) -> dict:
    """What people wanted: mentions per intent (the agent's correction, else the analyzer's), their
    share of the period's mentions in percent, and the previous period's count with the percent
    change (None when it had none)."""

    previous = period.previous()
    rows = (
        IntentDay.objects.filter(brand=brand, day__gte=previous.since, day__lte=period.until)
        .values("intent")
        .annotate(
            now=Sum("count", filter=Q(day__gte=period.since)), before=Sum("count", filter=Q(day__lt=period.since))
        )
    )
    now = {r["intent"]: r["now"] for r in rows if r["now"]}
    before = {r["intent"]: r["before"] for r in rows if r["before"]}
    total = sum(now.values())
    return {
        "total": total,
        "rows": [
            {
                "intent": intent,
                "label": Intent(intent).label,
                "count": now.get(intent, 0),
                "share": round(now.get(intent, 0) / total * 100, 1) if total else 0.0,
                "previous": before.get(intent, 0),
                "change": _change(now.get(intent, 0), before.get(intent, 0)),
            }
            for intent in INTENTS
            if now.get(intent) or before.get(intent)
        ],
    }


def quality(brand: Brand, period: Period) -> dict:
    """Agent corrections and the analyzers' agreement with the people who reviewed their labels.

    Reviewed = corrected by an agent, or handled (replied, routed, closed) with the analyzer's
    label left in place. Agreement = reviewed mentions whose final label is the analyzer's; for
    sentiment and for intent. ``analyzers``: per language and target, the brand's learned model
    against the built-in analyzer on the brand's own reviewed mentions (cross-validated), and which
    of the two is in use.
    """
    q = QualityDay.objects.filter(brand=brand, day__gte=period.since, day__lte=period.until).aggregate(
        total=Sum("total"),
        reviewed=Sum("reviewed"),
        corrected=Sum("corrected"),
        agreed=Sum("agreed"),
        intent_reviewed=Sum("intent_reviewed"),
        intent_corrected=Sum("intent_corrected"),
        intent_agreed=Sum("intent_agreed"),
    )
    q = {k: v or 0 for k, v in q.items()}
    q["agreement"] = round(q["agreed"] / q["reviewed"] * 100, 1) if q["reviewed"] else None
    q["intent_agreement"] = round(q["intent_agreed"] / q["intent_reviewed"] * 100, 1) if q["intent_reviewed"] else None
    q["min_corrections"] = MIN_CORRECTIONS
    q["analyzers"] = [
        {
            "language": m.language,
            "target": m.get_target_display(),
            "examples": m.examples,
            "corrections": m.corrections,
            "builtin": round(m.builtin_accuracy * 100, 1),
            "model": round(m.model_accuracy * 100, 1),
            "in_use": m.in_use,
            "trained_at": m.trained_at,
        }
        for m in AnalyzerModel.objects.filter(brand=brand).order_by("language", "target")
    ]
    return q


@dataclass
class Report:
    brand: Brand
    period: Period
    sections: dict = field(default_factory=dict)

    def __getattr__(self, name: str):
        try:
            return self.sections[name]
        except KeyError as exc:
            raise AttributeError(name) from exc


# The periods the rollup job keeps a ReportSummary of for every brand, ending today: the page's
# default (30 days), the weekly e-mail's and the longest preset.
SUMMARY_PERIODS = (7, 30, 90)


def _summary_compute(brand: Brand, period: Period, excluded: set[str]) -> dict:
    authors = author_totals(brand, period)
    return {
        "topics": topics(brand, period, excluded=excluded),
        "sources": _source_rows(brand, period),
        "questions": _question_rows(brand, period),
        "leaders": _leader_ranking(authors.leaders),
        # The team's repeat complaints; the leader candidates are ranked above.
        "authors": dataclasses.asdict(dataclasses.replace(authors, leaders=[])),
    }


# What a summary holds, and how: one more when that changes, so that summaries stored by an
# earlier release are computed again rather than read.
SUMMARY_FORMAT = 2


def _terms_digest(excluded: set[str]) -> str:
    """The tracked words left out, and SUMMARY_FORMAT: what a stored summary must share with now."""
    return hashlib.sha256("\n".join([str(SUMMARY_FORMAT), *sorted(excluded)]).encode()).hexdigest()


def period_summary(brand: Brand, period: Period) -> dict:
    """The blocks of ``report`` that rank among many rollup rows (top and emerging terms, sources,
    questions, the authors' ranking): the stored ReportSummary of the period when it was computed
    at the brand's current RollupVersion with the same tracked words, else computed now and
    stored.

    A summary is exactly what computing the blocks now would give: every change to the rollups
    (a new, relabelled, erased or deleted mention, a recount) moves the version in its own
    transaction, and a tracked term's change changes the words left out.
    """
    return _period_summary(brand, period, max_age=None)[0]


# How far behind new mentions the report page's ranked blocks may be: on a busy brand mentions
# arrive every few seconds, each batch a new RollupVersion, and computing the ranking again for
# every view cost the page most of its time at a million mentions (bench/reports.py). The rollup
# job computes the usual periods again every minute, so the page mostly finds one this recent.
RANKINGS_MAX_AGE = timedelta(minutes=2)


def _period_summary(brand: Brand, period: Period, *, max_age: timedelta | None) -> tuple[dict, datetime | None]:
    """``period_summary``, and when ``max_age`` is given, the stored summary also while it is
    younger than that and only new mentions came since (no correction, deletion, erasure or
    recount: the version's ``edited`` count is the same); then with the time it was computed at
    (else None: it is the count of now)."""
    excluded = tracked_words(brand)
    terms = _terms_digest(excluded)
    # The brand's version and the period's summary in one round trip (the summary if it stands).
    versions = RollupVersion.objects.filter(brand=brand)
    stored_summary = ReportSummary.objects.filter(brand=brand, since=period.since, until=period.until, terms=terms)
    found = (
        Brand.objects.filter(pk=brand.pk)
        .annotate(
            now=Coalesce(Subquery(versions.values("version")[:1]), 0),
            edited_now=Coalesce(Subquery(versions.values("edited")[:1]), 0),
            stored=Subquery(stored_summary.values("data")[:1]),
            stored_version=Subquery(stored_summary.values("version")[:1]),
            stored_edited=Subquery(stored_summary.values("edited")[:1]),
            stored_at=Subquery(stored_summary.values("computed_at")[:1]),
        )
        .values_list("now", "edited_now", "stored", "stored_version", "stored_edited", "stored_at")
        .first()
    )
    version, edited, stored, stored_version, stored_edited, stored_at = found or (0, 0, None, None, None, None)
    if stored is not None:
        current = stored_version == version
        recent = max_age is not None and stored_edited == edited and stored_at >= timezone.now() - max_age
        if current or recent:
            data = json.loads(stored) if isinstance(stored, str) else stored
            return data, None if current else stored_at
    data = _summary_compute(brand, period, excluded)
    ReportSummary.objects.bulk_create(
        [ReportSummary(brand=brand, since=period.since, until=period.until, version=version, edited=edited,
                       terms=terms, data=data, computed_at=timezone.now())],
        update_conflicts=True,
        unique_fields=["brand", "since", "until"],
        update_fields=["version", "edited", "terms", "data", "computed_at"],
    )  # fmt: skip
    return data, None


# A summary not computed again for this long is deleted (a period's summary that still stands is
# computed again on its next view): yesterday's "last 30 days" are not today's.
SUMMARY_KEPT = timedelta(days=7)


def summaries_refresh() -> int:
    """The rollup job's part: each brand's SUMMARY_PERIODS ending today computed again where they
    no longer stand, so the page finds them ready, and summaries older than SUMMARY_KEPT deleted.
    Returns how many periods were looked at."""
    ReportSummary.objects.filter(computed_at__lt=timezone.now() - SUMMARY_KEPT).delete()
    done = 0
    for brand in Brand.objects.filter(pk__in=RollupVersion.objects.values("brand_id")):
        for days in SUMMARY_PERIODS:
            period_summary(brand, Period.last_days(days))
            done += 1
    return done


def report(brand: Brand, period: Period, *, rankings_max_age: timedelta | None = None) -> Report:
    """The whole report. ``rankings_max_age`` (the page's RANKINGS_MAX_AGE): its ranked blocks may
    be a summary that recent and behind new mentions only; ``rankings_as_of`` then says when it was
    computed (else None). Every other figure is counted now."""
    summary, as_of = _period_summary(brand, period, max_age=rankings_max_age)
    # The repeat complaints, as the summary ranked them.
    authors = AuthorTotals(**summary["authors"])
    mentions = volume(brand, period)
    return Report(
        brand,
        period,
        {
            "volume": mentions,
            "share_of_voice": share_of_voice(brand, period, mentions=mentions["total"]["total"]),
            "topics": summary["topics"],
            "sources": _sources_named(summary["sources"]),
            "questions": _questions_linked(brand, summary["questions"]),
            "leaders": _leaders_shown(summary["leaders"]),
            "team": team(brand, period, authors),
            "previous_response": first_response(brand, period.previous()),
            "previous_tickets": ticket_rates(brand, period.previous()),
            "intents": intents(brand, period),
            "quality": quality(brand, period),
            "our_posts": posts_performance(brand, period.start, period.end),
            "rankings_as_of": as_of,
        },
    )


def summary(brand: Brand, period: Period) -> dict:
    """The headline numbers: what the API, the e-mail and the page's top row show, as defined in
    ``volume``, ``share_of_voice`` and ``team``."""
    v = volume(brand, period)
    t = team(brand, period, AuthorTotals(**period_summary(brand, period)["authors"]))
    return {
        "brand": brand.slug,
        "since": period.since.isoformat(),
        "until": period.until.isoformat(),
        "mentions": v["total"],
        "previous_mentions": v["previous"],
        "change_percent": v["change"],
        "platforms": {p["code"]: p["total"] for p in v["platforms"]},
        "share_of_voice": [
            {"label": g["label"], "mentions": g["total"], "share": g["share"], "mention_share": g["mention_share"],
             "net": g["net"]}
            for g in share_of_voice(brand, period)["groups"]
        ],
        "first_response_minutes": {"median": t["response"]["median"], "p90": t["response"]["p90"],
                                   "replied": t["response"]["replied"]},
        "tickets": {"opened": t["opened"], "resolved": t["resolved"], "median_resolve_minutes": t["median_resolve"],
                    "sla_met_percent": t["sla_met"], "sla_measured": t["sla_measured"],
                    "followed_up_percent": t["followed_up"], "followed_up_measured": t["followed_up_measured"]},
    }  # fmt: skip
