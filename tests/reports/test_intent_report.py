"""The report's intent breakdown, the quality block (agreement before and after, the analyzer in use),
and intent in the CSV exports."""

from __future__ import annotations

import csv
import io

import pytest
import time_machine

from listening.models import AnalyzerModel, Intent, Mention
from reports.models import IntentDay, QualityDay
from reports.rollups import rollups_refresh
from reports.selectors import intents, quality, report
from tests.reports.conftest import NOW, PERIOD, at

pytestmark = pytest.mark.django_db

URL = "/reports/?since=2026-03-01&until=2026-03-07"


@pytest.fixture
def intents_week(team, week):
    """The report tests' week with intents: three complaints, two questions, two praise, one other."""
    by_intent = {
        Intent.COMPLAINT: (3, 4, 9),
        Intent.QUESTION: (5, 6),
        Intent.PRAISE: (1, 2),
        Intent.OTHER: (7,),
    }
    for intent, numbers in by_intent.items():
        Mention.objects.filter(pk__in=[week.mentions[n].pk for n in numbers]).update(
            intent=intent, analyzer_intent=intent
        )
    # 6 was read as a complaint; an agent made it a question. 1 and 3 were handled as read.
    Mention.objects.filter(pk=week.mentions[6].pk).update(analyzer_intent=Intent.COMPLAINT, intent_corrected_by=team.cm)
    Mention.objects.filter(pk=week.mentions[10].pk).update(intent=Intent.COMPLAINT)  # the week before
    with time_machine.travel(NOW, tick=False):
        rollups_refresh(brand=team.brand.pk, days=[*PERIOD.day_list(), at(25).date().replace(month=2)])
    return week


def test_mentions_by_intent_with_the_week_before(team, intents_week) -> None:
    breakdown = intents(team.brand, PERIOD)
    rows = {row["intent"]: (row["count"], row["share"], row["previous"]) for row in breakdown["rows"]}
    assert breakdown["total"] == 9
    assert rows == {
        Intent.COMPLAINT: (3, 33.3, 1),
        Intent.QUESTION: (2, 22.2, 0),
        Intent.PRAISE: (2, 22.2, 0),
        Intent.OTHER: (1, 11.1, 0),
        Intent.UNCLASSIFIED: (1, 11.1, 0),  # 8, from before intent was read
    }
    assert IntentDay.objects.filter(brand=team.brand).count() >= 5


def test_quality_shows_intent_agreement_and_which_analyzer_is_in_use(team, intents_week) -> None:
    q = quality(team.brand, PERIOD)
    # Reviewed for intent: 6 (corrected), 1 and 3 (handled as read); agreed: 1 and 3.
    assert (q["intent_reviewed"], q["intent_corrected"], q["intent_agreed"], q["intent_agreement"]) == (3, 1, 2, 66.7)
    assert q["analyzers"] == []
    AnalyzerModel.objects.create(
        brand=team.brand, language="en", target="intent", examples=412, corrections=260,
        model_accuracy=0.912, builtin_accuracy=0.854, in_use=True, weights=b"",
    )  # fmt: skip
    (row,) = quality(team.brand, PERIOD)["analyzers"]
    assert (row["builtin"], row["model"], row["in_use"], row["corrections"]) == (85.4, 91.2, True, 260)


def test_the_report_page_shows_the_breakdown_and_the_learned_analyzer(client, team, intents_week) -> None:
    AnalyzerModel.objects.create(
        brand=team.brand, language="es", target="sentiment", examples=300, corrections=210,
        model_accuracy=0.70, builtin_accuracy=0.81, in_use=False, weights=b"",
    )  # fmt: skip
    client.force_login(team.manager)
    with time_machine.travel(NOW, tick=False):
        html = client.get(URL).content.decode()
    assert "Mentions by intent" in html and "Complaint" in html
    assert "The analyzer's intent agreed with people on 66.7 % of them." in html
    assert "Learned analyzers" in html
    assert "<td>81.0</td>" in html and "<td>70.0</td>" in html  # before (built-in) and after (learned)
    with time_machine.travel(NOW, tick=False):
        rows = list(csv.reader(io.StringIO(b"".join(
            client.get(f"/reports/export/intents.csv?brand={team.brand.pk}&since=2026-03-01&until=2026-03-07")
            .streaming_content).decode("utf-8-sig"))))  # fmt: skip
    assert rows[0][:2] == ["Intent", "Mentions"] and ["Complaint", "3", "33.3", "1", "200.0"] in rows


def test_the_mentions_csv_carries_the_intent(client, team, intents_week) -> None:
    client.force_login(team.cm)
    response = client.get("/inbox/export.csv?intent=question&since=2026-03-01")
    rows = list(csv.reader(io.StringIO(b"".join(response.streaming_content).decode("utf-8-sig"))))
    header, body = rows[0], rows[1:]
    by_id = {int(r[0]): dict(zip(header, r, strict=True)) for r in body}
    assert set(by_id) == {intents_week.mentions[5].pk, intents_week.mentions[6].pk}
    six = by_id[intents_week.mentions[6].pk]
    assert (six["intent"], six["analyzer_intent"]) == ("question", "complaint")


def test_a_report_is_whole_without_any_intent(team, week) -> None:
    """Rollups counted before intent existed: the sections are empty, not broken."""
    IntentDay.objects.all().delete()
    QualityDay.objects.update(intent_reviewed=0, intent_agreed=0)
    r = report(team.brand, PERIOD)
    assert r.intents["rows"] == [] and r.quality["intent_agreement"] is None
