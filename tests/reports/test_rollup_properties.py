"""The report read from rollups kept by deltas equals a recount from the mentions themselves.

Hypothesis generates mentions (stored through the ingestion pipeline, or around it as a bulk
load does), tracked terms they name, tickets, and then corrections, status changes and
deletions through the services; the report's numbers must be what counting the mentions left
says, and a full recount must leave every rollup table exactly as the deltas did.
"""

from __future__ import annotations

import dataclasses
from collections import Counter, defaultdict
from datetime import UTC, datetime, timedelta

import pytest
from django.db import transaction
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from listening import pipeline
from listening.models import Intent, Mention, Platform, Sentiment, TrackedTerm
from listening.services import mention_correct_intent, mention_correct_sentiment, mention_set_status
from reports import selectors
from reports.models import (
    AuthorDay,
    AuthorWeek,
    ChannelDay,
    GroupDay,
    QualityDay,
    QuestionDay,
    SourceDay,
    TermDay,
    WordDay,
)
from reports.rollups import dirty_days, rollups_refresh
from reports.selectors import Period
from reports.text import question_of, term_variants, words_of
from responses.models import Ticket
from tests.factories import AuthorFactory, ChannelFactory

NOW = datetime.now(UTC).replace(hour=12, minute=0, second=0, microsecond=0)
PERIOD = Period((NOW - timedelta(days=6)).date(), NOW.date())
TERMS = [("brand", "Acme", ""), ("brand", "@acme", ""), ("brand", "#acme", ""), ("competitor", "globex", "Globex"),
         ("competitor", "#globex", "Globex"), ("competitor", "initech", ""), ("product", "Acme Pro", "")]  # fmt: skip
WORDS = ["Acme", "@acme", "#acme", "acme", "Pro", "globex", "refund", "refund", "#fail", "battery", "the", "still",
         "que", "muy", "envío", "lento", "great"]  # fmt: skip
SENTIMENTS = list(Sentiment.values)
INTENTS = [Intent.COMPLAINT, Intent.QUESTION, Intent.PRAISE, Intent.OTHER, Intent.UNCLASSIFIED]
STATUSES = list(Mention.Status.values)
SOURCES = ["", "v1d30", "news.example"]

mention_specs = st.fixed_dictionaries(
    {
        "days_ago": st.integers(0, 13),  # this period and the one before
        "channel": st.integers(0, 2),
        "author": st.integers(0, 2),
        "words": st.lists(st.sampled_from(WORDS), min_size=1, max_size=6),
        "question": st.booleans(),
        "language": st.sampled_from(["en", "es", ""]),
        "sentiment": st.sampled_from(SENTIMENTS),
        "analyzer_sentiment": st.sampled_from(SENTIMENTS),
        "intent": st.sampled_from(INTENTS),
        "status": st.sampled_from(STATUSES),
        "terms": st.sets(st.integers(0, len(TERMS) - 1), max_size=4),
        "source": st.booleans(),  # the video id on YouTube, the site on the feed; X has none
        "likes": st.integers(0, 5),
        "piped": st.booleans(),  # through the pipeline, or stored around it (a bulk load)
    }
)
operations = st.lists(
    st.tuples(
        st.sampled_from(["sentiment", "intent", "status", "delete", "delete_queryset"]),
        st.integers(0, 50),
        st.integers(0, 10),
    ),
    max_size=8,
)
ticket_specs = st.lists(st.tuples(st.integers(0, 50), st.booleans(), st.booleans(), st.booleans()), max_size=4)


def _store(team, channels, authors, terms, specs) -> list[Mention]:
    piped, around = [], []
    for n, spec in enumerate(specs):
        text = " ".join(spec["words"]) + (" how do I get a refund?" if spec["question"] else "")
        mention = Mention(
            brand=team.brand, channel=channels[spec["channel"]], author=authors[spec["author"]],
            external_id=f"p-{n}-{spec['days_ago']}", text=text, language=spec["language"],
            published_at=NOW - timedelta(days=spec["days_ago"], hours=n % 10), sentiment=spec["sentiment"],
            analyzer_sentiment=spec["analyzer_sentiment"], intent=spec["intent"], analyzer_intent=spec["intent"],
            status=spec["status"], source=SOURCES[spec["channel"]] if spec["source"] else "", metrics={"likes": spec["likes"], "note": "n/a"},
        )  # fmt: skip
        (piped if spec["piped"] else around).append((mention, spec))
    stored = []
    for group, run_pipeline in ((piped, True), (around, False)):
        mentions = Mention.objects.bulk_create([m for m, _spec in group])
        Mention.terms.through.objects.bulk_create(
            Mention.terms.through(mention_id=m.pk, trackedterm_id=terms[i].pk)
            for m, (_m, spec) in zip(mentions, group, strict=True)
            for i in spec["terms"]
        )
        if run_pipeline:
            pipeline.run(mentions)
        stored += mentions
    return stored


def _operate(team, mentions: list[Mention], ops) -> None:
    alive = list(mentions)
    for kind, index, value in ops:
        if not alive:
            return
        mention = Mention.objects.get(pk=alive[index % len(alive)].pk)
        if kind == "sentiment":
            mention_correct_sentiment(mention=mention, label=SENTIMENTS[value % len(SENTIMENTS)], actor=team.cm)
        elif kind == "intent":
            mention_correct_intent(mention=mention, intent=INTENTS[value % 4], actor=team.cm)
        elif kind == "status":
            mention_set_status(mention=mention, status=STATUSES[value % len(STATUSES)], actor=team.cm)
        else:
            pk = mention.pk
            if kind == "delete":
                mention.delete()
            else:
                Mention.objects.filter(pk=pk).delete()
            alive = [m for m in alive if m.pk != pk]


def _recount(team, period: Period) -> dict:
    """The report's mention numbers counted from the mentions, by their definitions in selectors."""
    mentions = list(
        Mention.objects.filter(brand=team.brand, published_at__gte=period.start, published_at__lt=period.end)
        .select_related("channel", "author")
        .prefetch_related("terms")
    )
    volume = Counter(m.sentiment for m in mentions)
    groups: dict[str, Counter] = defaultdict(Counter)
    for m in mentions:
        names = {team.brand.name if t.kind == "brand" else t.label for t in m.terms.all() if t.kind != "product"}
        for name in names:
            groups[name][m.sentiment] += 1
    excluded = term_variants(TrackedTerm.objects.filter(brand=team.brand).values_list("text", flat=True))
    words: dict[str, Counter] = defaultdict(Counter)
    for m in mentions:
        for word in set(words_of(m.text, m.language)) - excluded:
            words[m.sentiment][word] += 1
    questions = Counter(q for m in mentions if (q := question_of(m.text)))
    authors = Counter(m.author.handle for m in mentions)
    complaints = Counter(m.author.handle for m in mentions if m.sentiment == Sentiment.NEGATIVE)

    def top(counter: Counter, hashtags: bool) -> list[dict]:
        rows = sorted(
            ((w, n) for w, n in counter.items() if w.startswith("#") == hashtags), key=lambda r: (-r[1], r[0])
        )
        return [{"word": w, "count": n} for w, n in rows[: selectors.TOP]]

    tickets = list(Ticket.objects.filter(brand=team.brand, created_at__gte=period.start, created_at__lt=period.end))
    with_sla = [t for t in tickets if t.acknowledge_due_at or t.resolve_due_at]
    met = sum(t.acknowledge_breached_at is None and t.resolve_breached_at is None for t in with_sla)
    return {
        "volume": {s: volume[s] for s in SENTIMENTS} | {"total": len(mentions)},
        "share_of_voice": {name: sum(c.values()) for name, c in groups.items()},
        "negative_words": top(words[Sentiment.NEGATIVE], False),
        "positive_hashtags": top(words[Sentiment.POSITIVE], True),
        "questions": sorted(questions.items(), key=lambda r: (-r[1], r[0]))[: selectors.TOP],
        "authors": dict(authors.most_common(selectors.TOP)),
        "repeat_authors": {handle: n for handle, n in complaints.items() if n >= 2},
        "repeat_authors_alone": {handle: n for handle, n in complaints.items() if n >= 2},
        "intents": dict(Counter(m.intent for m in mentions)),
        "reviewed": sum(
            m.sentiment_corrected_by_id is not None
            or (m.status in ("replied", "routed", "closed") and m.analyzer_sentiment != Sentiment.UNSCORED)
            for m in mentions
        ),
        "sources": dict(Counter(m.channel.get_platform_display() for m in mentions)),
        "sla": (round(met / len(with_sla) * 100, 1) if with_sla else None, len(with_sla)),
    }


def _from_report(team, period: Period) -> dict:
    report = selectors.report(team.brand, period)
    return {
        "volume": {s: report.volume["total"][s] for s in SENTIMENTS} | {"total": report.volume["total"]["total"]},
        "share_of_voice": {g["label"]: g["total"] for g in report.share_of_voice["groups"]},
        "negative_words": report.topics["negative_words"],
        "positive_hashtags": report.topics["positive_hashtags"],
        "questions": [(q["question"], q["count"]) for q in report.questions],
        "authors": {r["raw_handle"]: r["mentions"] for r in report.leaders["external"]},
        "repeat_authors": {r["raw_handle"]: r["negative"] for r in report.team["repeat_authors"]},
        # The team's numbers read alone (the e-mail, the API) count only the complaining rows.
        "repeat_authors_alone": {
            r["raw_handle"]: r["negative"] for r in selectors.team(team.brand, period)["repeat_authors"]
        },
        "intents": {r["intent"]: r["count"] for r in report.intents["rows"] if r["count"]},
        "reviewed": report.quality["reviewed"],
        "sources": {r["name"]: r["total"] for r in report.sources["top"] if r["kind"] == "Platform"},
        "sla": (report.team["sla_met"], report.team["sla_measured"]),
    }


def _tables(brand_id: int) -> dict:
    fields = {
        ChannelDay: ("day", "channel_id", "sentiment", "count"),
        TermDay: ("day", "term_id", "sentiment", "count"),
        GroupDay: ("day", "is_brand", "group", "sentiment", "count"),
        AuthorDay: ("day", "author_id", "count", "scored", "negative", "engagement", "sentiment_sum"),
        AuthorWeek: ("day", "author_id", "count", "scored", "negative", "engagement", "sentiment_sum"),
        SourceDay: ("day", "kind", "name", "label", "sentiment", "count"),
        WordDay: ("day", "word", "sentiment", "count"),
        QuestionDay: ("day", "question", "count"),
        QualityDay: ("day", "total", "reviewed", "corrected", "agreed", "intent_reviewed", "intent_corrected",
                     "intent_agreed"),
    }  # fmt: skip
    return {
        model.__name__: sorted(model.objects.filter(brand_id=brand_id).values_list(*f)) for model, f in fields.items()
    }


@pytest.mark.django_db
@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(specs=st.lists(mention_specs, max_size=25), ops=operations, tickets=ticket_specs)
def test_rollup_report_equals_a_recount_from_the_mentions(team, specs, ops, tickets):
    with transaction.atomic():
        channels = [
            ChannelFactory(brand=team.brand, platform=Platform.X, name="Acme on X"),
            ChannelFactory(brand=team.brand, platform=Platform.YOUTUBE, name="Acme videos"),
            ChannelFactory(brand=team.brand, platform=Platform.FEED, name="News"),
        ]
        authors = [AuthorFactory(handle=f"author{n}") for n in range(3)]
        terms = [
            TrackedTerm.objects.create(brand=team.brand, kind=kind, text=text, group=group)
            for kind, text, group in TERMS
        ]
        mentions = _store(team, channels, authors, terms, specs)
        rollups_refresh()  # counts what went around the pipeline
        assert dirty_days(brand_id=team.brand.pk) == set()
        periods = (PERIOD, PERIOD.previous(), Period(PERIOD.previous().since, PERIOD.until))
        for period in periods:  # each period's summary stored: the operations must make it stale
            selectors.report(team.brand, period)
        _operate(team, mentions, ops)
        ticketed = set()
        for index, acknowledge_sla, breached, resolved in tickets:
            pk = mentions[index % len(mentions)].pk if mentions else None
            if pk in ticketed or not Mention.objects.filter(pk=pk).exists():
                continue  # one open ticket per mention and department
            ticketed.add(pk)
            Ticket.objects.create(
                brand=team.brand, department=team.billing, mention=mentions[index % len(mentions)],
                created_at=NOW - timedelta(days=index % 5), acknowledge_due_at=NOW if acknowledge_sla else None,
                acknowledge_breached_at=NOW if acknowledge_sla and breached else None,
                resolved_at=NOW if resolved else None,
            )  # fmt: skip

        # Relabelled and deleted through the services: the deltas kept every day's totals right.
        assert dirty_days(brand_id=team.brand.pk) == set()
        # Two weeks hold a whole week (Monday to Sunday) whatever day the test runs: the leaders and
        # repeat complaints read its AuthorWeek rows and the days around it from AuthorDay.
        for period in periods:
            assert _from_report(team, period) == _recount(team, period)
            for group in selectors.share_of_voice(team.brand, period)["groups"]:
                assert group["total"] <= selectors.volume(team.brand, period)["total"]["total"]
        kept = _tables(team.brand.pk)
        assert rollups_refresh(since=(NOW - timedelta(days=20)).date()) >= 0
        assert _tables(team.brand.pk) == kept
        transaction.set_rollback(True)


def test_facts_made_at_once_are_the_facts_their_fields_make() -> None:
    from reports.rollups import Facts, _facts

    fields = {field.name: index for index, field in enumerate(dataclasses.fields(Facts))}
    made = _facts(dict(fields))
    assert made == Facts(**fields) and repr(made) == repr(Facts(**fields))
    assert dataclasses.replace(made, status="closed") == Facts(**{**fields, "status": "closed"})
    with pytest.raises(dataclasses.FrozenInstanceError):
        made.status = "closed"  # type: ignore[misc]
    with pytest.raises(TypeError):  # a field missing, as Facts(...) refuses it
        _facts({name: value for name, value in fields.items() if name != "status"})


def author_rows(facts: list, sign: int) -> dict:
    """Each mention's author rows, summed mention by mention as the rule says them."""
    from reports.rollups import monday

    rows: dict = defaultdict(Counter)
    for f in facts:
        s = f.sentiment
        counts = {
            "count": sign,
            "scored": sign * (s != Sentiment.UNSCORED),
            "negative": sign * (s == Sentiment.NEGATIVE),
            "engagement": sign * f.engagement,
            "sentiment_sum": sign * ((s == Sentiment.POSITIVE) - (s == Sentiment.NEGATIVE)),
        }
        rows[(AuthorDay, f.brand_id, f.day, f.author_id)].update(counts)
        rows[(AuthorWeek, f.brand_id, monday(f.day), f.author_id)].update(counts)
    return rows


@given(
    people=st.lists(
        st.tuples(st.integers(1, 3), st.sampled_from(list(Sentiment)), st.integers(0, 3), st.integers(0, 9)),
        min_size=1,
        max_size=12,
    ),
    sign=st.sampled_from([1, -1]),
)
def test_an_authors_rows_sum_what_each_of_their_mentions_counts(people: list[tuple], sign: int) -> None:
    from reports.rollups import Facts, _deltas, contributions

    base = dict.fromkeys(field.name for field in dataclasses.fields(Facts))
    facts = [
        Facts(**{**base, "brand_id": 1, "day": NOW.date() + timedelta(days=day), "author_id": author,
                 "sentiment": sentiment, "engagement": engagement, "term_ids": frozenset(), "groups": frozenset(),
                 "words": frozenset(), "source": "", "platform": "x", "status": "new", "intent": "other",
                 "analyzer_intent": "other", "analyzer_sentiment": sentiment, "sentiment_corrected": False,
                 "intent_corrected": False})
        for author, sentiment, engagement, day in people
    ]  # fmt: skip
    deltas = _deltas()
    for f in facts:
        contributions(f, sign, into=deltas)
    made = {(model, *key): dict(row) for model in (AuthorDay, AuthorWeek) for key, row in deltas[model].items()}
    assert made == {key: dict(row) for key, row in author_rows(facts, sign).items()}
