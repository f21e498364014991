"""The report's ranked blocks (top and emerging terms, sources, questions, opinion leaders, repeat
complaints) are kept per period in a ReportSummary: read again while the rollups have not changed,
computed again as soon as anything they count has."""

from __future__ import annotations

from datetime import timedelta

import pytest
import time_machine
from django.db import connection
from django.test.utils import CaptureQueriesContext

from listening import pipeline
from listening.models import Mention, Sentiment, TrackedTerm
from listening.services import mention_correct_sentiment
from reports import selectors
from reports.models import ReportPdf, ReportSummary
from reports.tasks import refresh_rollups
from tests.factories import AuthorFactory, MentionFactory
from tests.reports.conftest import NOW, PERIOD, at

URL = "/reports/?since=2026-03-01&until=2026-03-07"
RANKED_TABLES = ("reports_wordday", "reports_authorweek", "reports_authorday", "reports_sourceday",
                 "reports_questionday")  # fmt: skip


def _ranked_reads(queries) -> list[str]:
    return [q["sql"] for q in queries if any(table in q["sql"] for table in RANKED_TABLES)]


def _words(report) -> dict[str, int]:
    return {w["word"]: w["count"] for w in report.topics["negative_words"]}


def _leaders(report) -> dict[str, int]:
    return {r["raw_handle"]: r["mentions"] for r in report.leaders["external"]}


@pytest.mark.django_db
def test_a_second_view_reads_the_stored_summary_and_shows_the_same_page(client, team, week):
    client.force_login(team.manager)
    with time_machine.travel(NOW, tick=False):
        first = client.get(f"{URL}&brand={team.brand.pk}")
        with CaptureQueriesContext(connection) as queries:
            second = client.get(f"{URL}&brand={team.brand.pk}")
    assert first.status_code == second.status_code == 200
    assert _ranked_reads(queries.captured_queries) == []
    assert ReportSummary.objects.filter(brand=team.brand, since=PERIOD.since, until=PERIOD.until).count() == 1
    page = second.content.decode()
    assert "bigvoice" in page and "refund" in page and "how do i get a refund" in page
    assert page.replace("csrfmiddlewaretoken", "").count("refund") == first.content.decode().count("refund")


@pytest.mark.django_db
def test_every_change_to_what_it_counts_makes_the_summary_stale(team, week):
    with time_machine.travel(NOW, tick=False):
        before = selectors.report(team.brand, PERIOD)
        assert _words(before)["refund"] == 4 and "missing" in _words(before)
        assert _leaders(before)["angry"] == 4

        # A new mention through the pipeline: a new leader and one more "refund".
        loud = AuthorFactory(handle="loud", followers=10**6)
        channel = week.mentions[1].channel
        new = Mention.objects.create(
            brand=team.brand, channel=channel, author=loud, external_id="late-1", published_at=at(6, 15),
            text="refund refund now", sentiment=Sentiment.NEGATIVE, language="en",
        )  # fmt: skip
        pipeline.run([new])
        after = selectors.report(team.brand, PERIOD)
        assert _words(after)["refund"] == 5 and _leaders(after)["loud"] == 1

        # A correction: the mention leaves the negative words.
        mention_correct_sentiment(mention=new, label=Sentiment.POSITIVE, actor=team.cm)
        assert selectors.report(team.brand, PERIOD).topics["negative_words"] == before.topics["negative_words"]

        # A deletion: the author leaves the leaders.
        Mention.objects.filter(pk=new.pk).delete()
        assert "loud" not in _leaders(selectors.report(team.brand, PERIOD))

        # A new tracked term: the word is the brand's own now and leaves the top terms.
        TrackedTerm.objects.create(brand=team.brand, kind="keyword", text="missing")
        assert "missing" not in _words(selectors.report(team.brand, PERIOD))


@pytest.mark.django_db
def test_the_rollup_job_prepares_the_usual_periods_and_forgets_old_ones(team):
    week_ago = NOW - timedelta(days=8)
    old = ReportSummary.objects.create(
        brand=team.brand, since=week_ago.date(), until=week_ago.date(), version=0, terms="", data={},
        computed_at=week_ago,
    )  # fmt: skip
    pdf = ReportPdf.objects.create(
        brand=team.brand, since=week_ago.date(), until=week_ago.date(), language="en", requested_at=week_ago
    )
    with time_machine.travel(NOW, tick=False):
        MentionFactory(brand=team.brand, published_at=at(7), text="battery battery", sentiment=Sentiment.NEGATIVE)
        refresh_rollups()
        stored = {(s.until - s.since).days + 1 for s in ReportSummary.objects.filter(brand=team.brand)}
        assert stored == set(selectors.SUMMARY_PERIODS)
        assert not ReportSummary.objects.filter(pk=old.pk).exists()
        assert not ReportPdf.objects.filter(pk=pdf.pk).exists()
        with CaptureQueriesContext(connection) as queries:
            selectors.report(team.brand, selectors.Period.last_days(30))
    assert _ranked_reads(queries.captured_queries) == []


@pytest.mark.django_db
def test_the_page_keeps_its_rankings_a_little_behind_new_mentions_but_never_behind_an_edit(client, team, week):
    """On a busy brand every batch of new mentions changes the rollups: the page shows the ranking
    computed up to two minutes before, saying when, rather than computing it for every view; a
    person's correction shows at once, and the headline count is always of now."""
    client.force_login(team.manager)
    url = f"{URL}&brand={team.brand.pk}"

    def new_mention(external_id: str, text: str) -> Mention:
        mention = Mention.objects.create(
            brand=team.brand, channel=week.mentions[1].channel, author=AuthorFactory(handle=external_id),
            external_id=external_id, published_at=at(6, 15), text=text, sentiment=Sentiment.NEGATIVE, language="en",
        )  # fmt: skip
        pipeline.run([mention])
        return mention

    with time_machine.travel(NOW, tick=False):
        client.get(url)
        total = selectors.volume(team.brand, PERIOD)["total"]["total"]
    with time_machine.travel(NOW + timedelta(seconds=30), tick=False):
        new = new_mention("late-1", "zeppelin zeppelin zeppelin")
        with CaptureQueriesContext(connection) as queries:
            page = client.get(url).content.decode()
        assert _ranked_reads(queries.captured_queries) == []  # the ranking of 30 s before
        assert "zeppelin" not in page and "Rankings (terms, sources, questions, people) as of" in page
        assert selectors.volume(team.brand, PERIOD)["total"]["total"] == total + 1
        # the API, the e-mail and the PDF count now
        assert "zeppelin" in _words(selectors.report(team.brand, PERIOD))

        # an edit (a correction, a deletion): the page's next view counts it, whatever the age of
        # its summary
        page = client.get(url).content.decode()  # the summary of now, stored by report() above
        assert "zeppelin" in page and "Rankings (terms" not in page
        mention_correct_sentiment(mention=new, label=Sentiment.POSITIVE, actor=team.cm)
        corrected = selectors.report(team.brand, PERIOD, rankings_max_age=selectors.RANKINGS_MAX_AGE)
        assert "zeppelin" not in _words(corrected) and corrected.rankings_as_of is None
        Mention.objects.filter(pk=new.pk).delete()
        assert "zeppelin" not in client.get(url).content.decode()

    with time_machine.travel(NOW + timedelta(seconds=60), tick=False):
        new_mention("late-2", "dirigible dirigible dirigible")
        assert "dirigible" not in client.get(url).content.decode()
    with time_machine.travel(NOW + timedelta(minutes=5), tick=False):
        assert "dirigible" in client.get(url).content.decode()  # older than two minutes: counted again
