"""Intent and care-aware sentiment: what a customer-care mention wants, and the label that follows."""

from __future__ import annotations

import pytest

from listening.intent import classify, explain
from listening.models import Intent, Sentiment
from listening.sentiment import THRESHOLD, analyze, lexicon_score


def care(text: str, language: str = "en"):
    """A brand's mention, as ingestion reads it."""
    return analyze(text, language, care=True)


@pytest.mark.parametrize(
    "text, language, intent",
    [
        # The examples: today's analyzer reads the first six as neutral or positive.
        ("support chat has been 'connecting' for 40 minutes. Anyone there?", "en", Intent.COMPLAINT),
        ("why is there a second charge on my card? Order #48213. Please fix this.", "en", Intent.COMPLAINT),
        ("Been waiting since Monday for the courier. Fantastic service.", "en", Intent.COMPLAINT),
        ("Cheers for cancelling my booking without telling me, really appreciate it", "en", Intent.COMPLAINT),
        ("Four calls, two promises, zero callbacks.", "en", Intent.COMPLAINT),
        ("Nos habéis cobrado la luz dos veces y nadie coge el teléfono", "es", Intent.COMPLAINT),
        ("Support sorted my broken screen in ten minutes, no fuss", "en", Intent.PRAISE),
    ],
)
def test_complaints_without_angry_words_are_complaints_and_negative(text: str, language: str, intent: str) -> None:
    scored = care(text, language)
    assert scored.intent == intent
    expected = Sentiment.NEGATIVE if intent == Intent.COMPLAINT else Sentiment.POSITIVE
    assert scored.label == expected
    # The score agrees with the label, so a rule "score below -0.05" routes what the label says.
    assert (scored.compound <= -THRESHOLD) if expected == Sentiment.NEGATIVE else (scored.compound >= THRESHOLD)


def test_the_cues_say_why() -> None:
    scored = care("support chat has been 'connecting' for 40 minutes. Anyone there?")
    cues = {(cue.kind, cue.text) for cue in scored.cues}
    assert any(kind == "waiting" and "40 minutes" in text for kind, text in cues)
    assert ("question", "?") in cues
    shown = explain(scored.analysis())
    assert ("?", "question") in shown.cues
    assert any("40 minutes" in words and sign == "waiting" for words, sign in shown.cues)
    assert shown.analyzer == "built-in" and shown.words  # the model's own reasons are kept too


def test_sarcasm_flips_misplaced_positivity_only_after_a_complaint() -> None:
    praise = care("Fantastic service from the Leeds branch today.")
    assert praise.label == Sentiment.POSITIVE and praise.intent != Intent.COMPLAINT
    sarcastic = care("Parcel left in the rain again. Fantastic service.")
    assert sarcastic.label == Sentiment.NEGATIVE and sarcastic.intent == Intent.COMPLAINT
    assert any(cue.kind == "sarcasm" for cue in sarcastic.cues)
    assert lexicon_score("Parcel left in the rain again. Fantastic service.", "en").label == Sentiment.POSITIVE


def test_plain_questions_stay_neutral() -> None:
    for text, language in [
        ("Can I pay my electricity bill with a credit card please? Thanks!", "en"),
        ("Do you deliver to the business park on Saturdays?", "en"),
        ("¿Se puede cancelar el pedido antes del envío? Gracias", "es"),
    ]:
        scored = care(text, language)
        assert (scored.intent, scored.label) == (Intent.QUESTION, Sentiment.NEUTRAL), text


def test_text_with_no_care_cue_keeps_the_lexicons_score() -> None:
    for text in [
        "What a beautiful morning, coffee and a good book",
        "I still love this song after all these years",
        "The match was a disaster, we lost again",
    ]:
        assert analyze(text, "en").compound == lexicon_score(text, "en").compound, text


def test_a_returning_customer_is_not_a_complaint() -> None:
    rules = classify("Third order this year and it's always perfect, will order again", "en", 0.6)
    assert rules.intent != Intent.COMPLAINT


@pytest.mark.parametrize("language", ["pt", "fr", "ca", ""])
def test_languages_without_rules_are_unclassified(language: str) -> None:
    scored = analyze("Estou esperando há duas semanas", language, care=True)
    assert (scored.label, scored.intent) == (Sentiment.UNSCORED, Intent.UNCLASSIFIED)
    assert scored.analysis() == {}


def test_empty_text_is_unscored_and_unclassified() -> None:
    assert care("   ").intent == Intent.UNCLASSIFIED
