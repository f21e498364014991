"""Reading a text with a learned model: the same features, reasons and analysis as the plain
computation written out here, worked out with fewer steps per text."""

from __future__ import annotations

import re
from collections import Counter
from functools import cache
from itertools import chain, repeat
from pathlib import Path

import numpy as np
import pytest

from listening import learning
from listening.intent.screen import Screen
from listening.learning import FUNCTION_WORDS, LEXICON_SCALE, TOKEN, CareModel, Reviewed
from listening.sentiment import Models, analyze

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures" / "sentiment"
ODD = [
    "",
    "   ",
    "🙂🙂🙂 😡",
    "a" * 3000,
    "no " * 500 + "?",
    "https://acme.example/x?y=1&z=\"'{}\\ #fail @acme",
    "Ñandú ÇA İstanbul straße ǅemal 東京 المغرب",
    "\x00 nul \x00 \ud800 lone",
    "hola!!!!!! ???? aaaaaaaaaaaaaa",
    "99999999999999999999999 charged twice, charged TWICE",
    "NOT WORKING AGAIN!!! fix it. Fantastic service.",
]


def labelled_texts(language: str) -> list[str]:
    texts = [example.text for example in learning.labelled_examples(language)]
    for path in sorted(FIXTURES.glob(f"{language}_*.tsv")):
        texts += [row.split("\t")[0] for row in path.read_text(encoding="utf-8").splitlines()[1:] if row.strip()]
    if language == "en":
        rows = (FIXTURES / "vader" / "tweets_GroundTruth.txt").read_text(encoding="utf-8").splitlines()
        texts += [row.split("\t")[2] for row in rows if row.count("\t") >= 2]
    return texts + ODD


# --- The plain computation: a text's features and reasons as a model first read them ------------
def plain_vector(model: CareModel, text: str, lexicon: float | None, word_grams: list[str]):
    columns: list[int] = []
    values: list[float] = []
    words = model._vocabularies[0]
    word_counts = Counter(j for j in map(words.get, word_grams) if j is not None)
    char_counts = Counter(chain.from_iterable(map(model._char_columns, text.lower().split())))
    offset = 0
    for counts, idf in ((word_counts, model.word_idf), (char_counts, model.char_idf)):
        if counts:
            tf = 1 + np.log(np.array(list(counts.values()), dtype=np.float64))
            weights = (tf.astype(np.float32) * idf[np.array(list(counts), dtype=np.int64)]).astype(np.float64)
            weights /= np.linalg.norm(weights)
            columns += [offset + j for j in counts]
            values += weights.tolist()
        offset += len(idf)
    lexicon = lexicon or 0.0
    columns += [offset, offset + 1]
    values += [LEXICON_SCALE * max(lexicon, 0.0), LEXICON_SCALE * max(-lexicon, 0.0)]
    return np.array(columns, dtype=np.int64), np.array(values, dtype=np.float64)


def plain_reasons(model: CareModel, text: str, columns, values, label: int, word_grams: list[str], top: int = 3):
    weights = model._centered[label, columns]
    contribution = dict(zip(columns.tolist(), (values * weights).tolist(), strict=True))
    words = model._vocabularies[0]
    by_word: dict[str, float] = {}
    for token in {t.lower() for t in TOKEN.findall(text) if len(t) > 1} - FUNCTION_WORDS:
        total = contribution.get(words.get(token, -1), 0.0)
        total += sum(map(contribution.get, [len(words) + j for j in set(model._char_columns(token))], repeat(0.0)))
        by_word[token] = total
    for bigram, j in ((g, words[g]) for g in set(word_grams) if " " in g and g in words):
        for token in bigram.split():
            if token in by_word:
                by_word[token] += contribution.get(j, 0.0)
    ranked = sorted(((w, c) for w, c in by_word.items() if c > 0), key=lambda pair: (-pair[1], pair[0]))
    return tuple((word, round(weight, 3)) for word, weight in ranked[:top])


@cache
def needle_searches(screen: Screen) -> list[re.Pattern[str] | None]:
    return [None if n is None else re.compile("|".join(map(re.escape, sorted(n)))) for n in screen._needles]


def plain_keep(screen: Screen, text: str) -> list[int]:
    """Every pattern that one of its needles may be in, as a search of its words tells."""
    return [i for i, search in enumerate(needle_searches(screen)) if search is None or search.search(text)]


@pytest.fixture(scope="module")
def brand() -> Models:
    """A brand's intent and sentiment models in both languages, knowing words no built-in one knows."""
    models = Models(intent={}, sentiment={})
    for language in ("en", "es"):
        examples = learning.labelled_examples(language)[:120]
        intents = [Reviewed(f"{e.text} zorped glorb", e.intent, True) for e in examples]
        sentiments = [Reviewed(f"{e.text} flimflam", e.sentiment, True) for e in examples]
        models.intent[language] = learning._fit_with(language, "intent", intents)
        models.sentiment[language] = learning._fit_with(language, "sentiment", sentiments)
    return models


@pytest.mark.parametrize("language", ["en", "es"])
def test_a_texts_features_and_reasons_are_the_plain_computations_to_the_last_bit(language: str, brand) -> None:
    for model in (learning.builtin(language), brand.intent[language], brand.sentiment[language]):
        for i, text in enumerate(labelled_texts(language)):
            grams = learning.word_grams_of(text)
            lexicon = (None, 0.62, -0.3)[i % 3]
            columns, values = model._vector(text, lexicon, grams)
            expected_columns, expected_values = plain_vector(model, text, lexicon, grams)
            assert columns.tolist() == expected_columns.tolist(), text
            assert values.tobytes() == expected_values.tobytes(), text
            for label in range(len(model.classes)):
                assert model._reasons(text, columns, values, label, grams) == plain_reasons(
                    model, text, columns, values, label, grams
                ), text


@pytest.mark.parametrize("language", ["en", "es"])
def test_every_labelled_text_is_analyzed_as_by_the_plain_computation(
    language: str, brand, monkeypatch: pytest.MonkeyPatch
) -> None:
    texts = labelled_texts(language)

    def read() -> list[object]:
        return [
            analyze(text, language, models, care=care)
            for text in texts
            for models, care in ((None, True), (brand, True))
        ]

    fast = read()
    monkeypatch.setattr(CareModel, "_vector", plain_vector)
    monkeypatch.setattr(CareModel, "_reasons", plain_reasons)
    monkeypatch.setattr(Screen, "keep", plain_keep)
    assert read() == fast


def test_both_vectorizers_weights_are_made_in_one_pass(monkeypatch: pytest.MonkeyPatch) -> None:
    model = learning.builtin("en")
    logs: list[int] = []
    log = np.log
    monkeypatch.setattr(np, "log", lambda x: logs.append(len(x)) or log(x))
    columns, _values = model._vector("My boots broke twice", 0.2, learning.word_grams_of("My boots broke twice"))
    assert logs == [len(columns) - 2]  # every word and character n-gram of the text, at once


def test_a_reason_reads_a_tokens_columns_from_memory_once_worked_out(monkeypatch: pytest.MonkeyPatch) -> None:
    model = learning.builtin("en")
    text = "Boots, BROKE again!"
    model.predict(text, -0.4)
    asked: list[str] = []
    char_columns = model._char_columns
    monkeypatch.setattr(model, "_char_columns", lambda word: asked.append(word) or char_columns(word))
    model.predict(text, -0.4)
    # Only the features ask, word by word as the text is split; the reasons' tokens are known.
    assert asked == ["boots,", "broke", "again!"]


def test_a_models_memory_of_tokens_is_bounded(monkeypatch: pytest.MonkeyPatch) -> None:
    model = learning.builtin("es")
    monkeypatch.setattr(learning, "WORD_CACHE", 3)
    model._tokens.clear()
    model.predict("pedido roto otra vez, quiero reembolso", -0.5)
    assert 0 < len(model._tokens) <= 3
