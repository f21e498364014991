from __future__ import annotations

from io import StringIO
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command

from listening import sentiment
from listening.management.commands.sentiment_benchmark import evaluate, read_examples
from listening.models import Sentiment
from listening.sentiment import ANALYZERS, analyze

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures" / "sentiment"


def es(text: str) -> sentiment.Scored:
    return analyze(text, "es")


def test_a_spanish_complaint_is_negative_and_praise_positive() -> None:
    assert es("Pésimo servicio, llevo tres semanas esperando el reembolso").label == Sentiment.NEGATIVE
    assert es("Me encanta la nueva app, funciona genial").label == Sentiment.POSITIVE
    assert es("¿A qué hora abren los domingos?").label == Sentiment.NEUTRAL


def test_negation_flips_the_word_it_precedes() -> None:
    liked, not_liked = es("el envío fue rápido"), es("el envío no fue rápido")
    assert liked.label == Sentiment.POSITIVE
    assert not_liked.label == Sentiment.NEGATIVE
    assert -liked.compound < not_liked.compound < 0  # VADER's -0.74: a negated word weighs less


def test_concordant_negatives_count_as_one_negation() -> None:
    # Spanish stacks negators ("no ... nada") without cancelling them out.
    assert es("No me gusta nada el nuevo diseño").label == Sentiment.NEGATIVE
    assert es("Nunca nadie me ayuda").label == Sentiment.NEGATIVE


def test_a_negated_phrase_is_not_negated_again() -> None:
    assert es("No sé por qué no funciona").label == Sentiment.NEGATIVE


def test_negation_stops_at_punctuation() -> None:
    assert es("Llevo una semana sin internet, inaceptable").label == Sentiment.NEGATIVE
    assert es("No me gusta nada, qué estafa").label == Sentiment.NEGATIVE


def test_what_follows_pero_weighs_more() -> None:
    assert es("Es caro pero merece la pena").label == Sentiment.POSITIVE
    assert es("Merece la pena pero es caro").label == Sentiment.NEGATIVE
    assert es("La atención fue amable pero no me solucionaron nada").label == Sentiment.NEGATIVE


def test_accents_are_optional() -> None:
    assert es("Pesimo servicio, que verguenza").compound == es("Pésimo servicio, qué vergüenza").compound
    assert es("Pesimo servicio, que verguenza").label == Sentiment.NEGATIVE


def test_machine_translation_false_friends_are_corrected() -> None:
    # AFINN-es scores "caro" +3 (from "dear"); in a mention it means expensive.
    assert es("Qué caro está todo").label == Sentiment.NEGATIVE
    assert es("Es carísimo para lo que ofrece").label == Sentiment.NEGATIVE
    assert es("¿Cuál es el plazo para solicitar un reembolso?").label == Sentiment.NEUTRAL


def test_emoji_count_through_vaders_emoji_lexicon() -> None:
    assert es("Llegó el pedido").label == Sentiment.NEUTRAL
    assert es("Llegó el pedido 😍").label == Sentiment.POSITIVE


def test_boosters_superlatives_exclamations_and_capitals_intensify() -> None:
    assert es("es muy lento").compound < es("es lento").compound < 0
    assert es("es lentísimo").compound < es("es lento").compound
    assert es("Genial!!!").compound > es("Genial").compound > 0
    assert es("Esto es PÉSIMO").compound < es("Esto es pésimo").compound


def test_spanish_text_never_reaches_vader(monkeypatch: pytest.MonkeyPatch) -> None:
    seen: list[str] = []
    real = sentiment.vader().polarity_scores
    monkeypatch.setattr(sentiment.vader(), "polarity_scores", lambda text: seen.append(text) or real(text))
    sentiment.emoji_valence.cache_clear()

    assert es("No me gusta nada, qué estafa 😡").label == Sentiment.NEGATIVE
    # Only the emoji's English description is scored by VADER, never the Spanish words.
    assert seen == ["pouting face"]


def test_english_text_never_reaches_the_spanish_lexicon(monkeypatch: pytest.MonkeyPatch) -> None:
    def boom() -> None:
        raise AssertionError("Spanish lexicon used for English text")

    monkeypatch.setattr(sentiment, "spanish_lexicon", boom)
    assert analyze("I love this, thank you!", "en").label == Sentiment.POSITIVE
    assert analyze("Worst support ever", "en-US").label == Sentiment.NEGATIVE


def test_the_language_decides_the_analyzer() -> None:
    # VADER does not know "estafa"; scoring Spanish with it would hide the complaint.
    assert analyze("Es una estafa", "en").label == Sentiment.NEUTRAL
    assert analyze("Es una estafa", "es").label == Sentiment.NEGATIVE


@pytest.mark.parametrize("language", ["de", "pt", "", "und"])
def test_languages_without_an_analyzer_are_unscored(language: str) -> None:
    scored = analyze("Das ist wirklich schlecht", language)
    assert scored == sentiment.Scored(Sentiment.UNSCORED, None)
    assert set(ANALYZERS) == {"en", "es"}


@pytest.mark.parametrize("text", ["", "   ", "\n"])
def test_empty_text_is_unscored(text: str) -> None:
    assert analyze(text, "es").label == Sentiment.UNSCORED
    assert analyze(text, "en").compound is None


def test_spanish_accuracy_on_the_held_out_set_does_not_regress() -> None:
    """Regression guard, not a quality claim: 57/60 (95.0%) was measured blind on es_heldout.tsv
    when the analyzer was written (58/60 after negation stopped at punctuation); the floor is the
    blind figure minus 5 points, so a lexicon or rule edit that breaks Spanish scoring fails here. The set is small and written by the same person as the overlay,
    so real-world accuracy will be lower; see `manage.py sentiment_benchmark`."""
    report = evaluate(read_examples(FIXTURES / "es_heldout.tsv"), "es")
    assert report.total == 60
    assert report.accuracy >= 0.90


def test_benchmark_reads_both_formats_and_reports_correlation(tmp_path: Path) -> None:
    vader_format = tmp_path / "tiny_GroundTruth.txt"
    vader_format.write_text("1\t2.5\tI love it\r\n2\t-3.1\tThis is awful\r\n3\t0.0\tIt is a box", encoding="utf-8")
    out = StringIO()

    call_command("sentiment_benchmark", "--language", "en", "--data", str(vader_format), stdout=out)

    assert "accuracy 100.0% (3/3)" in out.getvalue()
    assert "3-class F1 (macro) 1.000" in out.getvalue()
    assert "pearson(compound, human mean)" in out.getvalue()
    out = StringIO()
    call_command("sentiment_benchmark", "--language", "es", "--data", str(FIXTURES / "es_heldout.tsv"), stdout=out)
    assert "es_heldout.tsv: 60 texts" in out.getvalue()
    assert "pearson" not in out.getvalue()


def test_macro_f1_counts_a_class_never_predicted_as_zero() -> None:
    from listening.management.commands.sentiment_benchmark import Report

    # Gold: 2 positive, 1 neutral, 1 negative; everything predicted positive.
    report = Report(
        total=4,
        correct=2,
        confusion={("positive", "positive"): 2, ("neutral", "positive"): 1, ("negative", "positive"): 1},
        pearson=None,
    )
    assert report.f1("positive") == pytest.approx(2 * 0.5 * 1.0 / 1.5)
    assert report.f1("neutral") is None
    assert report.macro_f1 == pytest.approx((2 / 3) / 3)


def test_benchmark_reports_intent_accuracy_and_per_intent_precision_and_recall(tmp_path: Path) -> None:
    care = tmp_path / "care.tsv"
    care.write_text(
        "text\tsentiment\tintent\n"
        "Four calls, two promises, zero callbacks.\tnegative\tcomplaint\n"
        "Does the store open on Sundays?\tneutral\tquestion\n"
        "Sorted my refund in five minutes, thank you!\tpositive\tpraise\n",
        encoding="utf-8",
    )
    out = StringIO()
    call_command("sentiment_benchmark", "--language", "en", "--data", str(care), "--errors", stdout=out)
    text = out.getvalue()
    assert "care.tsv: 3 texts" in text
    assert "intent accuracy 100.0% (3/3)" in text
    assert "  complaint   100.0%    100.0%  100.0%      1          1" in text
    assert "confusion (rows gold, columns predicted: com que pra oth)" in text

    out = StringIO()
    call_command("sentiment_benchmark", "--language", "en", "--data", str(care), "--lexicon-only", stdout=out)
    assert "(lexicon only)" in out.getvalue() and "intent accuracy" not in out.getvalue()
    # The lexicon alone reads the complaint as positive: the before of the before-and-after.
    assert "accuracy 66.7% (2/3)" in out.getvalue()


def test_benchmark_refuses_an_unknown_intent(tmp_path: Path) -> None:
    bad = tmp_path / "bad.tsv"
    bad.write_text("a text\tnegative\trant\n", encoding="utf-8")
    with pytest.raises(CommandError, match="unknown intent 'rant'"):
        call_command("sentiment_benchmark", "--language", "en", "--data", str(bad), stdout=StringIO())
