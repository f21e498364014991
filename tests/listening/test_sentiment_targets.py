"""The targets of the customer-care analyzer, measured on the repository's own labelled sets.

Floors, not the figures themselves (those are in the README, from `manage.py sentiment_benchmark`):
a rule, lexicon or training-data change that breaks them fails here.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from listening.management.commands.sentiment_benchmark import evaluate, read_examples
from listening.models import Intent

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures" / "sentiment"


@pytest.fixture(scope="module", params=["en", "es"])
def blind(request: pytest.FixtureRequest):
    """The blind customer-care set of a language, read as a brand's mentions."""
    language = request.param
    return language, evaluate(read_examples(FIXTURES / f"{language}_care_blind.tsv"), language)


def test_the_blind_sets_are_the_size_the_issue_asks_for() -> None:
    english = read_examples(FIXTURES / "en_care_blind.tsv")
    spanish = read_examples(FIXTURES / "es_care_blind.tsv")
    training = {
        language: (Path(__file__).resolve().parents[2] / "listening" / "lexicons" / f"care_{language}.tsv")
        for language in ("en", "es")
    }
    # Labelled in all: at least 200 English and 100 Spanish, every intent present.
    assert len(english) + len(read_examples(training["en"])) >= 200
    assert len(spanish) + len(read_examples(training["es"])) >= 100
    for examples in (english, spanish):
        assert {e.intent for e in examples} == {"complaint", "question", "praise", "other"}
    # The blind set shares no text with what the model is trained on.
    for language, examples in (("en", english), ("es", spanish)):
        trained = {e.text for e in read_examples(training[language])}
        assert not trained & {e.text for e in examples}


def test_complaints_are_found_on_the_blind_sets(blind) -> None:
    language, report = blind
    assert report.intent.recall(Intent.COMPLAINT) >= 0.85, language
    assert report.intent.precision(Intent.COMPLAINT) >= 0.8, language


def test_three_class_sentiment_on_customer_care_text(blind) -> None:
    language, report = blind
    assert report.accuracy >= 0.8, language


def test_general_text_keeps_vaders_score_on_the_vader_tweets() -> None:
    """No regression where there is no customer care: r >= 0.87 on the paper's 4,200 tweets and
    the same accuracy as VADER alone (92.6 %, less one tweet in a thousand)."""
    examples = read_examples(FIXTURES / "vader" / "tweets_GroundTruth.txt")
    report = evaluate(examples, "en")
    assert len(examples) == 4200
    assert report.pearson >= 0.87
    assert report.accuracy >= 0.925
