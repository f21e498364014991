"""A text is lowercased and folded all at once when that keeps every character's position, and
character by character otherwise: the same folded text either way."""

from __future__ import annotations

import pytest

from listening.intent import _FOLD, normalize
from listening.learning import labelled_examples


def one_by_one(text: str) -> str:
    return "".join(low if len(low := ch.lower()) == 1 else ch for ch in text).translate(_FOLD)


class Watched(str):
    """A text that notes whether it was read character by character."""

    iterated = False

    def __iter__(self):
        self.iterated = True
        return super().__iter__()


@pytest.mark.parametrize(
    "text",
    [
        "ΟΔΟΣ ΚΛΕΙΣΤΗ Σ",  # a capital sigma lowercases by the letters around it
        "İstanbul İ",  # İ lowercases to two characters: kept as written
        "STRASSE ß ǅemal Ǆ",
        "Ñandú ÁÉÍÓÚ “quoted” \u2018single\u2019 «angle» \u00b4`",
        "\x00 {}\\ \ud800 🙂 東京",
        "",
    ],
)
def test_folding_is_the_same_as_one_character_at_a_time(text: str) -> None:
    folded = normalize(text)
    assert folded == one_by_one(text)
    assert len(folded) == len(text)


@pytest.mark.parametrize("language", ["en", "es"])
def test_the_labelled_mentions_fold_as_one_character_at_a_time(language: str) -> None:
    texts = [example.text for example in labelled_examples(language)]
    assert [normalize(t.upper()) for t in texts] == [one_by_one(t.upper()) for t in texts]
    assert [normalize(t) for t in texts] == [one_by_one(t) for t in texts]


def test_a_text_that_lowercases_letter_for_letter_is_folded_at_once() -> None:
    plain, sigma = Watched("Charged TWICE, ¿Por QUÉ?"), Watched("ΟΔΟΣ")
    assert normalize(plain) == "charged twice, ¿por que?"
    assert not plain.iterated
    assert normalize(sigma) == "οδοσ"  # each letter on its own, as the offsets need
    assert sigma.iterated
