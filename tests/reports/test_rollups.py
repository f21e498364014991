from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
import time_machine
from django.db.models import Count, Sum
from hypothesis import given
from hypothesis import strategies as st

from listening.connectors import FetchedAuthor, FetchedItem
from listening.ingest import ingest_items
from listening.models import Mention, Sentiment, TrackedTerm
from listening.services import mention_correct_sentiment
from reports import text as text_module
from reports.models import AuthorDay, ChannelDay, QualityDay, TermDay, WordDay
from reports.rollups import rollups_refresh
from reports.text import question_of, words_of
from responses.models import Ticket
from tests.factories import AuthorFactory, ChannelFactory, MentionFactory, RoutingRuleFactory

NOW = datetime(2026, 3, 10, 12, 0, tzinfo=UTC)


def rollup_counts(brand_id: int) -> dict:
    return {
        (r["day"], r["channel_id"], r["sentiment"]): r["n"]
        for r in ChannelDay.objects.filter(brand_id=brand_id)
        .values("day", "channel_id", "sentiment")
        .annotate(n=Sum("count"))
    }


def _group(brand_id: int) -> dict:
    out: dict = {}
    for m in Mention.objects.filter(brand_id=brand_id).values("published_at", "channel_id", "sentiment"):
        key = (m["published_at"].astimezone(UTC).date(), m["channel_id"], m["sentiment"])
        out[key] = out.get(key, 0) + 1
    return out


@pytest.mark.django_db
def test_rollups_follow_new_mentions_corrections_and_deletions(team):
    channel = ChannelFactory(brand=team.brand)
    term = TrackedTerm.objects.create(brand=team.brand, kind="brand", text="acme")
    with time_machine.travel(NOW, tick=False):
        old = MentionFactory(
            channel=channel,
            published_at=NOW - timedelta(days=10),
            sentiment=Sentiment.NEGATIVE,
            analyzer_sentiment=Sentiment.NEGATIVE,
            text="refund refund please",
        )
        old.terms.add(term)
        MentionFactory(channel=channel, published_at=NOW - timedelta(days=10), sentiment=Sentiment.POSITIVE)
        rollups_refresh()
        assert rollup_counts(team.brand.id) == _group(team.brand.id)
        assert TermDay.objects.get(term=term).count == 1

    # Ingestion days later of a mention published long ago: its old day is recounted.
    with time_machine.travel(NOW + timedelta(days=1), tick=False):
        MentionFactory(channel=channel, published_at=NOW - timedelta(days=10), sentiment=Sentiment.NEUTRAL)
        mention_correct_sentiment(mention=old, label=Sentiment.POSITIVE, actor=team.cm)
        rollups_refresh()
    assert rollup_counts(team.brand.id) == _group(team.brand.id)
    assert QualityDay.objects.get(brand=team.brand).corrected == 1
    assert TermDay.objects.get(term=term).sentiment == Sentiment.POSITIVE

    with time_machine.travel(NOW + timedelta(days=2), tick=False):
        Mention.objects.filter(pk=old.pk).delete()
        rollups_refresh()
    assert rollup_counts(team.brand.id) == _group(team.brand.id)
    assert sum(_group(team.brand.id).values()) == 2
    assert not TermDay.objects.exists()
    assert AuthorDay.objects.aggregate(n=Sum("count"))["n"] == 2
    assert not WordDay.objects.filter(word="refund").exists()


@pytest.mark.django_db
def test_refresh_with_nothing_changed_recounts_only_recent_days(team):
    channel = ChannelFactory(brand=team.brand)
    with time_machine.travel(NOW, tick=False):
        MentionFactory(channel=channel, published_at=NOW - timedelta(days=20))
        assert rollups_refresh() == 1
        assert rollups_refresh() == 0
    assert ChannelDay.objects.aggregate(n=Count("id"))["n"] == 1


def test_words_drop_stopwords_short_words_links_and_handles():
    assert words_of("The @acme app is SLOW, #fail https://x.co/a y la app") == ["app", "slow", "#fail", "app"]


def test_questions_are_grouped_by_wording():
    assert question_of("@acme ¿Cómo cambio mi contraseña?") == "como cambio mi contrasena"
    assert question_of("how do I cancel") == "how do i cancel"
    assert question_of("How do I cancel?!") == "how do i cancel"
    assert question_of("Love it.") is None


@pytest.mark.django_db
def test_the_periodic_refresh_never_overlaps_itself(team):
    from django.core.cache import cache

    from reports.tasks import REFRESH_LOCK, refresh_rollups

    MentionFactory(channel=ChannelFactory(brand=team.brand))
    cache.add(REFRESH_LOCK, "1", 60)  # another worker is refreshing
    try:
        assert refresh_rollups() is None
        assert not ChannelDay.objects.exists()
    finally:
        cache.delete(REFRESH_LOCK)
    assert refresh_rollups() == 1
    assert ChannelDay.objects.exists()


def test_statements_are_not_questions():
    assert question_of("Como siempre, genial") is None
    assert question_of("Do not buy this") is None
    assert question_of("por qué no funciona") == "por que no funciona"


@pytest.mark.django_db
def test_history_imported_without_routing_is_counted_at_once_but_opens_no_ticket(team):
    """``import_mentions --no-route``: old complaints open no ticket and announce nothing, yet the
    report counts them as soon as they are stored, not after the next recount."""
    channel = ChannelFactory(brand=team.brand)
    RoutingRuleFactory(
        brand=team.brand,
        conditions=[{"field": "text", "op": "any", "value": ["refund"]}],
        actions=[{"type": "ticket", "department": team.billing.pk, "priority": "normal"}],
    )
    day = datetime(2026, 1, 5, 10, tzinfo=UTC)
    items = [
        FetchedItem(
            external_id=f"h{n}",
            text="I was charged twice and want a refund",
            author=FetchedAuthor(external_id=f"p{n}", handle=f"person{n}"),
            published_at=day,
        )
        for n in range(4)
    ]
    ingest_items(channel=channel, items=items[:3], route=False)
    assert rollup_counts(team.brand.id) == _group(team.brand.id)
    assert sum(rollup_counts(team.brand.id).values()) == 3
    assert not Ticket.objects.exists()

    ingest_items(channel=channel, items=items[3:])  # the same complaint, live: routed
    assert sum(rollup_counts(team.brand.id).values()) == 4
    assert Ticket.objects.count() == 1


def test_a_recount_sums_engagement_of_whole_positive_numbers_only(team):
    """The recount adds engagement up in the database: only the positive whole numbers of a JSON
    object count, as engagement_of says, whatever else the platform sent."""
    channel = ChannelFactory(brand=team.brand)
    metrics = [
        {"likes": 3, "shares": 2, "note": "7", "ratio": 1.5, "flag": True, "lost": -4},
        {"likes": 10, "views": 10**19},  # past any real count (and a bigint): counts for nothing
        [5, 6],
        "12",
        {},
    ]
    with time_machine.travel(NOW, tick=False):
        mentions = [MentionFactory(channel=channel, published_at=NOW, metrics=m) for m in metrics]
        author_ids = {m.author_id for m in mentions}
        rollups_refresh(since=NOW.date())
    assert AuthorDay.objects.filter(author_id__in=author_ids).aggregate(n=Sum("engagement"))["n"] == 15
    assert AuthorDay.objects.aggregate(n=Sum("count"))["n"] == len(metrics)


@pytest.mark.django_db
def test_a_like_count_past_any_real_one_is_stored_and_counts_for_nothing(team):
    """A platform (or whoever forged its answer) may send a count no post has, past what the
    rollups' sums hold: the mention is stored as sent, and its engagement is what else it had."""
    channel = ChannelFactory(brand=team.brand)
    author = FetchedAuthor(external_id="counted", handle="counted")
    items = [
        FetchedItem(
            external_id="1", text="Acme", author=author, published_at=NOW, metrics={"likes": 10**19, "shares": 2}
        ),
        FetchedItem(external_id="2", text="Acme again", author=author, published_at=NOW, metrics={"likes": 3}),
    ]
    result = ingest_items(channel=channel, items=items, cursor={"since_id": "2"})

    assert len(result.created) == 2 and result.rejected == []
    assert Mention.objects.get(channel=channel, external_id="1").metrics == {"likes": 10**19, "shares": 2}
    assert AuthorDay.objects.get(author__external_id="counted").engagement == 5
    channel.refresh_from_db()
    assert channel.cursor == {"since_id": "2"}
    rollups_refresh(since=NOW.date())  # a recount agrees
    assert AuthorDay.objects.get(author__external_id="counted").engagement == 5


@pytest.mark.django_db
def test_rollups_go_with_what_they_count(team):
    """Rollup rows are not held by database references: deleting a brand, an author, a channel or
    a term through Django still takes their rows away."""
    channel = ChannelFactory(brand=team.brand)
    other = ChannelFactory(brand=team.brand)
    term = TrackedTerm.objects.create(brand=team.brand, kind="brand", text="acme")
    with time_machine.travel(NOW, tick=False):
        gone = MentionFactory(channel=channel, published_at=NOW, text="acme refund")
        gone.terms.add(term)
        kept = MentionFactory(channel=other, published_at=NOW, text="acme battery")
        rollups_refresh(since=NOW.date())
    assert ChannelDay.objects.filter(channel=channel).exists()
    quiet = AuthorFactory()  # an author whose mentions went around the deltas
    AuthorDay.objects.create(brand=team.brand, day=NOW.date(), author=quiet, count=1)
    quiet.delete()
    assert not AuthorDay.objects.filter(author_id=quiet.pk).exists()
    term.delete()
    assert not TermDay.objects.filter(term_id=term.pk).exists()
    channel.delete()
    assert not ChannelDay.objects.filter(channel_id=channel.pk).exists()
    assert ChannelDay.objects.filter(channel=other).exists()
    team.brand.delete()
    assert not ChannelDay.objects.exists() and not WordDay.objects.exists() and not AuthorDay.objects.exists()
    assert kept.pk is not None


QUESTION_PIECES = ["How", "HOW", "what", "Por qué", "CÓMO", "cómo", "Cuánto", "¿", "?", "@acme", "https://x.co/?a",
                   "do", "I", "get", "a", "refund", "envío", "lento", ".", "!", "İ", "which", "Who", "\n", "ﬁx", "\uff37hy",
                   "@Acme", "HTTP://X.CO", "http"]  # fmt: skip


def _question_every_step(text: str) -> str | None:
    """question_of's wording as its definition says it, every step on every text."""
    import re
    import unicodedata

    text = text_module.HANDLE_OR_URL_RE.sub(" ", text).strip()
    sentence = re.split(r"(?<=[?.!])\s", text)[0].strip() if text else ""
    lowered = sentence.lower()
    if not lowered:
        return None
    first = lowered.split()
    starts = text_module.QUESTION_STARTS
    if not (lowered.endswith("?") or lowered.startswith("¿") or first[0] in starts or " ".join(first[:2]) in starts):
        return None
    plain = unicodedata.normalize("NFKD", lowered.lstrip("¿"))
    plain = re.sub(r"[^\w\s]", " ", "".join(c for c in plain if not unicodedata.combining(c)))
    return " ".join(plain.split())[:200] or None


@given(st.lists(st.sampled_from(QUESTION_PIECES) | st.text(max_size=5), max_size=8).map(" ".join))
def test_the_question_hint_and_shortcuts_only_skip_what_changes_nothing(text):
    """question_of gives up early on texts without "?", "¿" or a question word, and skips the
    handle, link and accent passes on texts without any: never changing the wording."""
    assert question_of(text) == text_module._question_of(text) == _question_every_step(text)


TOKEN_PIECES = ["App", "SLOW", "#Fail", "@acme", "@", "http", "HTTPS://x.co/A", "http://", "mail@acme.com",
                "envío", "İstanbul", "don't", "x", "42abc", "\n", "-", "'", "Straße"]  # fmt: skip


@given(st.lists(st.sampled_from(TOKEN_PIECES) | st.text(max_size=6), max_size=8).map(" ".join))
def test_the_tokenizer_skips_the_link_and_handle_pass_only_when_it_changes_nothing(text):
    """tokens_of leaves out the substitution of handles and links on a text with neither: the
    tokens are those of the substitution made on every text."""
    expected = text_module.WORD_RE.findall(text_module.HANDLE_OR_URL_RE.sub(" ", text.lower()))
    assert text_module.tokens_of(text) == expected


@pytest.mark.django_db
def test_a_new_page_is_counted_by_the_terms_it_matched_without_reading_its_term_links_back(team):
    """The pipeline's rollup step takes each new mention's terms from what ingestion matched in it
    (``tracked_terms``): the term and group rows are those a recount finds from the stored links."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from tests.reports.test_rollup_properties import _tables

    TrackedTerm.objects.create(brand=team.brand, kind="brand", text="acme")
    TrackedTerm.objects.create(brand=team.brand, kind="competitor", text="globex", group="Globex Corp")
    TrackedTerm.objects.create(brand=team.brand, kind="competitor", text="initech")
    TrackedTerm.objects.create(brand=team.brand, kind="brand", text="refund", is_active=False)
    channel = ChannelFactory(brand=team.brand)
    texts = ["acme and globex", "initech beats acme", "refund please", "globex refund", "nothing at all"]
    items = [
        FetchedItem(
            external_id=str(n),
            text=text,
            author=FetchedAuthor(external_id=f"p{n % 2}", handle=f"person{n % 2}"),
            published_at=datetime(2026, 1, 5, 10, tzinfo=UTC) + timedelta(days=n % 2),
        )
        for n, text in enumerate(texts)
    ]
    with CaptureQueriesContext(connection) as queries:
        ingest_items(channel=channel, items=items, route=False)
    assert not [q for q in queries if q["sql"].startswith("SELECT") and 'FROM "listening_mention_terms"' in q["sql"]]
    counted = _tables(team.brand.pk)
    assert counted["TermDay"] and counted["GroupDay"]
    rollups_refresh(since=datetime(2026, 1, 1).date())
    assert _tables(team.brand.pk) == counted
