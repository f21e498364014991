"""Erasing a person leaves the report's numbers as they were: their counts stay, as nobody's."""

from __future__ import annotations

from datetime import date

import pytest

from listening.models import Author
from listening.privacy import person_erase
from reports import selectors
from reports.rollups import ROLLUPS, rollups_refresh
from reports.text import question_of
from tests.reports.conftest import PERIOD


def rollup_rows() -> dict[str, set[tuple]]:
    return {
        model.__name__: {tuple(v for k, v in row.items() if k != "id") for row in model.objects.values()}
        for model in ROLLUPS
    }


def team_numbers(section: dict) -> dict:
    """The team report without its list of repeat complainers, which names people."""
    return {k: v for k, v in section.items() if not k.startswith("repeat_author")}


@pytest.mark.parametrize("mode", ["anonymise", "delete"])
def test_report_totals_are_the_same_after_a_person_is_erased(week, team, mode):
    brand = team.brand
    before = selectors.report(brand, PERIOD)
    summary = selectors.summary(brand, PERIOD)
    previous = selectors.summary(brand, PERIOD.previous())
    assert "angry" in [r["raw_handle"] for r in before.team["repeat_authors"]]

    person_erase(author=Author.objects.get(handle="angry"), actor=team.manager, mode=mode)

    after = selectors.report(brand, PERIOD)
    assert selectors.summary(brand, PERIOD) == summary
    assert selectors.summary(brand, PERIOD.previous()) == previous
    for section in ("volume", "share_of_voice", "sources", "intents", "quality", "previous_response"):
        assert after.sections[section] == before.sections[section], section
    assert team_numbers(after.team) == team_numbers(before.team)
    # Nobody is ranked in their place: the erased are counted, never listed.
    assert "angry" not in [r["raw_handle"] for r in after.team["repeat_authors"]]
    listed = [r["handle"] for r in after.leaders["external"] + after.leaders["internal"]]
    assert listed == [
        h for h in (r["handle"] for r in before.leaders["external"] + before.leaders["internal"]) if h != "@angry"
    ]
    # Their words and their verbatim question left with their text: "how do I get a refund" was
    # asked by them and by bigvoice, and is now counted once.
    expected = {q["question"]: q["count"] for q in before.questions}
    expected[question_of("How do I get a refund?")] -= 1
    assert {q["question"]: q["count"] for q in after.questions} == {q: n for q, n in expected.items() if n}
    assert after.topics != before.topics  # "refund" was among their words


@pytest.mark.parametrize("mode", ["anonymise", "delete"])
def test_the_rollups_after_an_erasure_are_what_a_recount_finds(week, team, mode):
    person_erase(author=Author.objects.get(handle="angry"), actor=team.manager, mode=mode)
    kept = rollup_rows()

    assert rollups_refresh(since=date(2026, 2, 1), brand=team.brand.pk) == 7  # the days with mentions

    assert rollup_rows() == kept
