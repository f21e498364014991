"""What the report counts and how: share of voice per group, topics without the brand's own
terms or filler, emerging terms with a real baseline, sources by name, and rollups kept by
deltas as mentions are stored, relabelled and deleted (no day's texts read again)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from io import StringIO

import pytest
from django.core.management import call_command
from django.db.models import Sum

from listening.connectors import FetchedAuthor, FetchedItem
from listening.ingest import ingest_items
from listening.models import Mention, Platform, Sentiment, TrackedTerm
from listening.services import mention_correct_sentiment
from reports import selectors
from reports.models import QualityDay, QuestionDay, SourceDay, WordDay
from reports.rollups import rollups_refresh
from reports.selectors import Period
from reports.text import term_variants, words_of
from tests.factories import AuthorFactory, ChannelFactory, MentionFactory

TODAY = datetime.now(UTC).date()
WEEK = Period(TODAY - timedelta(days=6), TODAY)


def noon(days_ago: int) -> datetime:
    return datetime.combine(TODAY - timedelta(days=days_ago), datetime.min.time(), tzinfo=UTC) + timedelta(hours=12)


def mention(channel, text: str, terms=(), days_ago: int = 1, **fields) -> Mention:
    m = MentionFactory(channel=channel, text=text, published_at=noon(days_ago), **fields)
    m.terms.set(terms)
    return m


@pytest.mark.django_db
def test_share_of_voice_counts_each_mention_once_per_group(team):
    channel = ChannelFactory(brand=team.brand)
    acme = [TrackedTerm.objects.create(brand=team.brand, kind="brand", text=t) for t in ("Acme", "@acme", "#acme")]
    globex = [
        TrackedTerm.objects.create(brand=team.brand, kind="competitor", text=t, group="Globex")
        for t in ("globex", "#globex")
    ]
    mention(channel, "Acme @acme #acme vs globex #globex", [*acme, *globex], sentiment=Sentiment.NEGATIVE)
    mention(channel, "@acme thanks", acme[1:2], sentiment=Sentiment.POSITIVE)
    mention(channel, "nothing tracked here")
    rollups_refresh()

    sov = selectors.share_of_voice(team.brand, WEEK)
    groups = {g["label"]: (g["total"], g["share"], g["mention_share"], g["net"]) for g in sov["groups"]}
    # Three mentions: Acme is named by two (the first with three spellings), Globex by one.
    assert sov["mentions"] == 3
    assert groups == {"Acme": (2, 66.7, 66.7, 0.0), "Globex": (1, 33.3, 33.3, -1.0)}
    assert sum(sov["series"]["Acme"]) == 2
    summary = selectors.summary(team.brand, WEEK)
    assert [(g["label"], g["mentions"]) for g in summary["share_of_voice"]] == [("Acme", 2), ("Globex", 1)]
    assert all(g["mentions"] <= summary["mentions"]["total"] for g in summary["share_of_voice"])


@pytest.mark.django_db
def test_topics_leave_out_tracked_terms_in_every_form_and_filler_of_the_mentions_language(team):
    channel = ChannelFactory(brand=team.brand)
    TrackedTerm.objects.create(brand=team.brand, kind="brand", text="@Acme")
    TrackedTerm.objects.create(brand=team.brand, kind="product", text="Acme Pro")
    negative = {"sentiment": Sentiment.NEGATIVE}
    mention(channel, "ACME pro still broken, #acme #fail", language="en", **negative)
    mention(channel, "acme: the battery is still broken", language="en", **negative)
    mention(channel, "El envío de Acme es muy lento, todavía nada", language="es", **negative)
    rollups_refresh()

    topics = selectors.topics(team.brand, WEEK)
    assert topics["negative_words"] == [
        {"word": "broken", "count": 2},
        {"word": "battery", "count": 1},
        {"word": "envío", "count": 1},
        {"word": "lento", "count": 1},
    ]
    assert topics["negative_hashtags"] == [{"word": "#fail", "count": 1}]
    # The language decides the filler: "más" is a Spanish stop word, an English text keeps "sin".
    assert words_of("más batería", "es") == ["batería"]
    assert words_of("sin tax", "en") == ["sin", "tax"]
    assert term_variants(["@Acme", "Acme Pro"]) == {"acme", "#acme", "pro", "#pro"}


@pytest.mark.django_db
def test_a_term_emerges_only_from_a_real_baseline(team):
    channel = ChannelFactory(brand=team.brand)
    # outage: 4 mentions in the 28 days before the week (1 expected in 7 days), 6 this week.
    for days_ago in (10, 15, 20, 25):
        mention(channel, "outage again", days_ago=days_ago)
    for _n in range(6):
        mention(channel, "outage today")
    # keyboard: 12 this week, never before: new, but no rate to have grown from.
    for _n in range(12):
        mention(channel, "keyboard")
    # cable: 4 before, 1 expected, 4 this week but under the minimum count.
    for days_ago in (10, 15, 20, 25):
        mention(channel, "cable", days_ago=days_ago)
    for _n in range(4):
        mention(channel, "cable")
    rollups_refresh()

    assert selectors.emerging_terms(team.brand, WEEK) == [
        {"word": "outage", "count": 6, "baseline": 4, "expected": 1.0, "growth": 6.0},
    ]


@pytest.mark.django_db
def test_sources_are_named_not_ids(team):
    youtube = ChannelFactory(brand=team.brand, platform=Platform.YOUTUBE, name="Acme videos")
    feed = ChannelFactory(brand=team.brand, platform=Platform.FEED, name="News")
    author = AuthorFactory(platform=Platform.YOUTUBE)
    mention(youtube, "nice video", source="dQw4w9WgXcQ", author=author)
    mention(youtube, "great", source="dQw4w9WgXcQ", author=author)
    mention(feed, "an article", source="news.example")
    # A stored post whose id is a source gives it its title.
    mention(feed, "the launch post", source="launch-1", external_id="launch-1", title="Launch day")
    rollups_refresh()

    names = {(s["name"], s["id"], s["total"]) for s in selectors.sources(team.brand, WEEK)["top"]}
    assert ("Acme videos", "dQw4w9WgXcQ", 2) in names
    assert ("news.example", "news.example", 1) in names
    assert ("Launch day", "launch-1", 1) in names


@pytest.mark.django_db
def test_a_video_is_named_by_its_title_from_its_first_polled_comment(team, client):
    youtube = ChannelFactory(brand=team.brand, platform=Platform.YOUTUBE, name="Acme videos")
    comment = FetchedItem(
        external_id="Ugz1",
        text="love the unboxing",
        author=FetchedAuthor(external_id="UC1", name="Ana"),
        published_at=noon(1),
        source="dQacmeRR001",
        source_title="Roadrunner Pro <b>unboxing</b>",
    )
    ingest_items(channel=youtube, items=[comment])
    top = selectors.sources(team.brand, WEEK)["top"]
    video = [(s["name"], s["total"]) for s in top if s["id"] == "dQacmeRR001"]
    assert video == [("Roadrunner Pro <b>unboxing</b>", 1)]

    client.force_login(team.manager)
    page = client.get("/reports/").content.decode()
    assert "Roadrunner Pro &lt;b&gt;unboxing&lt;/b&gt;" in page and "<b>unboxing</b>" not in page


def item(external_id: str, text: str, published_at: datetime) -> FetchedItem:
    return FetchedItem(
        external_id=external_id,
        text=text,
        author=FetchedAuthor(external_id="a1", handle="ana", name="Ana"),
        published_at=published_at,
        raw_language="en",
    )


@pytest.mark.django_db
def test_ingestion_corrections_and_deletions_keep_rollups_without_recounting(team):
    channel = ChannelFactory(brand=team.brand, platform=Platform.X)
    TrackedTerm.objects.create(brand=team.brand, kind="brand", text="acme")
    first = ingest_items(channel=channel, items=[item("1", "acme battery died, how do I get a refund?", noon(3))])
    ingest_items(channel=channel, items=[item("2", "acme battery #fail", noon(3))])
    day = noon(3).date()

    def words() -> dict[tuple[str, str], int]:
        rows = WordDay.objects.filter(brand=team.brand, day=day).values_list("word", "sentiment", "count")
        return {(w, s): n for w, s, n in rows}

    # Counted as stored: words, hashtags, the question, the day's total; nothing left to recount.
    [stored] = first.created
    assert words()[("battery", stored.sentiment)] == 2
    assert QuestionDay.objects.get(brand=team.brand, day=day).count == 1
    assert SourceDay.objects.get(brand=team.brand, kind=SourceDay.Kind.HASHTAG, name="#fail").count == 1
    assert QualityDay.objects.get(brand=team.brand, day=day).total == 2
    assert rollups_refresh() == 0

    label = Sentiment.POSITIVE if stored.sentiment != Sentiment.POSITIVE else Sentiment.NEGATIVE
    mention_correct_sentiment(mention=stored, label=label, actor=team.cm)
    assert words()[("refund", label)] == 1
    assert QualityDay.objects.get(brand=team.brand, day=day).corrected == 1

    Mention.objects.get(pk=stored.pk).delete()
    assert ("refund", label) not in words()
    assert not QuestionDay.objects.filter(brand=team.brand).exists()
    assert QualityDay.objects.get(brand=team.brand, day=day).total == 1
    assert rollups_refresh() == 0
    assert WordDay.objects.filter(brand=team.brand, word="battery").aggregate(n=Sum("count"))["n"] == 1


@pytest.mark.django_db
def test_refresh_command_recounts_from_a_date_with_progress(team):
    channel = ChannelFactory(brand=team.brand)
    mention(channel, "refund please", days_ago=2)
    mention(channel, "refund now", days_ago=1)
    rollups_refresh()
    # Edited in the database, around the services: the totals still match, only a recount from a date sees it.
    Mention.objects.filter(brand=team.brand).update(sentiment=Sentiment.NEGATIVE)
    assert rollups_refresh() == 0

    out = StringIO()
    call_command(
        "refresh_rollups", "--since", str(TODAY - timedelta(days=5)), "--brand", str(team.brand.pk), stdout=out
    )
    assert "2/2 days recounted" in out.getvalue()
    assert WordDay.objects.filter(word="refund", sentiment=Sentiment.NEGATIVE).aggregate(n=Sum("count"))["n"] == 2


@pytest.mark.django_db
def test_the_refresh_finds_what_went_around_the_pipeline(team):
    channel = ChannelFactory(brand=team.brand)
    kept = mention(channel, "refund", days_ago=3)
    mention(channel, "refund", days_ago=2)
    rollups_refresh()
    # Stored around the pipeline (a bulk load): the brand's total no longer matches.
    mention(channel, "late refund", days_ago=5)
    assert rollups_refresh() == 1
    # One stored and one deleted around the services on other days: the brand's total matches
    # again, so only the thorough check (hourly, and the command) compares every day.
    mention(channel, "another", days_ago=4)
    Mention.objects.filter(pk=kept.pk)._raw_delete(Mention.objects.db)
    assert rollups_refresh() == 0
    assert rollups_refresh(thorough=True) == 2
    assert QualityDay.objects.filter(brand=team.brand).aggregate(n=Sum("total"))["n"] == 3
