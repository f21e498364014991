"""Every number the report shows, against the known week in conftest.py."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from django.utils import translation

from reports import selectors, tables
from responses.models import Ticket
from tests.factories import MentionFactory
from tests.reports.conftest import PERIOD


@pytest.fixture
def report(week, team) -> selectors.Report:
    # The team table names people as every page does: full name, else username.
    team.cm.first_name, team.cm.last_name = "Carla", "Ruiz"
    team.cm.save()
    team.manager.first_name = ""
    team.manager.save()
    return selectors.report(team.brand, PERIOD)


def test_volume_by_sentiment_platform_and_previous_period(report):
    v = report.volume
    assert v["total"] == {"positive": 3, "neutral": 1, "negative": 4, "unscored": 1, "total": 9, "net": -0.125}
    assert v["previous"]["total"] == 1
    assert v["change"] == 800.0
    assert [(p["platform"], p["total"], p["negative"]) for p in v["platforms"]] == [
        ("X (Twitter)", 6, 3),
        ("Facebook Page", 3, 1),
    ]
    assert len(v["days"]) == 7
    assert [d["total"] for d in v["days"]] == [1, 2, 2, 1, 2, 1, 0]
    assert v["days"][1]["net"] == 0.0  # 2 March: one positive, one negative


def test_share_of_voice_with_sentiment(report):
    groups = {g["label"]: g for g in report.share_of_voice["groups"]}
    assert list(groups) == ["Acme", "Globex"]
    assert (groups["Acme"]["total"], groups["Acme"]["share"], groups["Acme"]["net"]) == (7, 70.0, -0.143)
    assert (groups["Globex"]["total"], groups["Globex"]["share"], groups["Globex"]["net"]) == (3, 30.0, -0.5)
    assert report.share_of_voice["series"]["Globex"] == [0, 0, 1, 1, 1, 0, 0]


def test_top_and_emerging_terms(report):
    t = report.topics
    # "acme" is the brand's tracked term, "still" and "again" filler: neither is a topic.
    assert t["negative_words"][:3] == [
        {"word": "refund", "count": 4},
        {"word": "missing", "count": 1},
        {"word": "refused", "count": 1},
    ]
    assert t["positive_hashtags"] == [{"word": "#acmelove", "count": 2}]
    assert t["negative_hashtags"] == []
    # refund: 5 this week against 1 in the 28 days before: one mention is no baseline to grow from,
    # and acme (never before) is the brand's own name.
    assert t["emerging"] == []


def test_sources_and_fastest_growing(report):
    top = [(s["name"], s["total"], s["previous"]) for s in report.sources["top"]]
    assert top == [("X (Twitter)", 6, 1), ("Facebook Page", 3, 0), ("#acmelove", 2, 0)]
    assert [(s["name"], s["growth"]) for s in report.sources["growing"]] == [
        ("X (Twitter)", 5),
        ("Facebook Page", 3),
        ("#acmelove", 2),
    ]


def test_frequent_questions_link_to_the_inbox(report, team):
    assert report.questions == [
        {
            "question": "how do i get a refund",
            "count": 2,
            "url": f"/inbox/?brand={team.brand.pk}&q=how+do+i+get+a+refund",
        }
    ]


def test_opinion_leaders_ranked_by_the_shown_formula_internal_apart(report):
    external = report.leaders["external"]
    assert [(r["handle"], r["mentions"], r["engagement"], r["score"], r["sentiment"]) for r in external] == [
        ("@bigvoice", 3, 0, 6.2, 0.67),  # log10(100000) + 0 + 2 log10(4) = 5 + 1.204
        ("@quiet", 1, 99, 4.31, -1.0),  # log10(51) + log10(100) + 2 log10(2) = 1.708 + 2 + 0.602
        ("@angry", 4, 0, 2.4, -1.0),  # log10(10) + 0 + 2 log10(5) = 1 + 1.398; three negative, one unscored
    ]
    assert [(r["handle"], r["score"]) for r in report.leaders["internal"]] == [("@staffer", 3.6)]


def test_team_response_tickets_sla_followup_and_repeats(report):
    t = report.team
    assert t["response"] == {"name": "all", "replied": 3, "median": 30.0, "p90": 120.0}
    assert t["by_channel"] == [
        {"name": "Acme Page", "replied": 1, "median": 120.0, "p90": 120.0},
        {"name": "Acme on X", "replied": 2, "median": 20.0, "p90": 30.0},
    ]
    assert t["by_agent"] == [
        {"name": "Carla Ruiz", "replied": 2, "median": 75.0, "p90": 120.0},
        {"name": "marta", "replied": 1, "median": 10.0, "p90": 10.0},
    ]
    assert t["departments"] == [
        {"name": "Billing", "opened": 2, "resolved": 2, "acknowledged": 2, "median_ack": 75.0,
         "median_resolve": 1440.0, "sla_met": 50.0, "sla_met_count": 1, "sla_measured": 2,
         "followed_up": 50.0, "followed_up_count": 1, "followed_up_measured": 2},
        {"name": "Support", "opened": 1, "resolved": 0, "acknowledged": 0, "median_ack": None, "median_resolve": None,
         "sla_met": 0.0, "sla_met_count": 0, "sla_measured": 1,
         "followed_up": None, "followed_up_count": 0, "followed_up_measured": 0},
    ]  # fmt: skip
    assert (t["opened"], t["resolved"], t["sla_met"], t["followed_up"]) == (3, 2, 33.3, 50.0)
    # Every rate beside the count it rests on: 1 of 3 tickets with an SLA met it; 1 of 2 resolved followed up.
    assert (t["sla_met_count"], t["sla_measured"], t["followed_up_count"], t["followed_up_measured"]) == (1, 3, 1, 2)
    assert [(a["handle"], a["raw_handle"], a["negative"]) for a in t["repeat_authors"]] == [("@angry", "angry", 3)]
    # billing2 (03-03 12:00) comes from @angry one hour after billing1 was resolved; support (10:30) before it.
    assert t["repeat_tickets"] == 1


def test_sentiment_quality(report):
    sentiment = {k: report.quality[k] for k in ("total", "reviewed", "corrected", "agreed", "agreement")}
    assert sentiment == {"total": 9, "reviewed": 3, "corrected": 1, "agreed": 2, "agreement": 66.7}


def test_sla_met_and_follow_up_say_how_they_moved_against_the_previous_period(week, team):
    """The week has 1 of 3 tickets within SLA (33.3 %) and 1 of 2 resolved followed up (50 %); the
    week before, 2 of 2 met their SLA and 1 of 2 was followed up."""
    for n, followed in ((1, True), (2, False)):
        mention = MentionFactory(channel=week.mentions[1].channel, published_at=datetime(2026, 2, 24, tzinfo=UTC))
        Ticket.objects.create(
            brand=team.brand, department=team.billing, mention=mention, created_at=datetime(2026, 2, 24, n, tzinfo=UTC),
            resolved_at=datetime(2026, 2, 25, tzinfo=UTC), acknowledge_due_at=datetime(2026, 2, 26, tzinfo=UTC),
            followed_up_at=datetime(2026, 2, 25, 1, tzinfo=UTC) if followed else None, status="resolved",
        )  # fmt: skip
    with translation.override("en"):
        figures = {f.key: f for f in tables.team_figures(selectors.report(team.brand, PERIOD))}
    sla, followed = figures["sla_met"].change, figures["followed_up"].change
    assert (sla.direction, sla.verdict) == ("down", "worse")
    assert sla.text == "\u221266.7 vs the previous 7 days, which had 100 %"
    assert (followed.direction, followed.text) == ("flat", "no change vs the previous 7 days")
