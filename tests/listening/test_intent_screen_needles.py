"""A text's screen looks for each pattern's words as plain substrings, and only for the words whose
opening piece the text holds: the patterns it keeps are the ones a search of the words keeps."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from listening.intent import _compiled, _screen, normalize
from listening.intent.screen import Screen, needles

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures" / "sentiment"


class Watched(str):
    """A text that notes every substring looked for in it."""

    looked_for: list[str]

    def __contains__(self, needle: object) -> bool:
        self.looked_for.append(str(needle))
        return super().__contains__(needle)


def watched(text: str) -> Watched:
    text = Watched(text)
    text.looked_for = []
    return text


def test_only_the_needles_whose_opening_piece_is_in_the_text_are_looked_for() -> None:
    patterns = [
        re.compile(r"\bcharged (?:twice|double)\b"),
        re.compile(r"\b(?:refunded|refund)\b"),
        re.compile(r"[?¿]"),
        re.compile(r"(?i)refund"),
    ]
    screen = Screen(patterns)
    text = watched("i was charged twice, no refund")
    assert screen.keep(text) == [0, 1, 2, 3]
    # "refunded" is not looked for once "refund" kept its pattern; the class and the case-blind
    # pattern always run, and nothing is looked for on their behalf.
    assert sorted(text.looked_for) == ["charged ", "refund"]
    text = watched("all good here")
    assert screen.keep(text) == [2, 3]
    assert text.looked_for == []


def searches(patterns: list[re.Pattern[str]]) -> list[re.Pattern[str] | None]:
    """Each pattern's needles as one search of plain words (None: the pattern always runs)."""
    return [
        None if (found := needles(pattern)) is None else re.compile("|".join(re.escape(n) for n in sorted(found)))
        for pattern in patterns
    ]


def searched(searches: list[re.Pattern[str] | None], text: str) -> list[int]:
    """The patterns kept when one of their needles is found by a search, as the screen used to."""
    return [i for i, search in enumerate(searches) if search is None or search.search(text)]


def labelled_texts(language: str) -> list[str]:
    texts = []
    for path in sorted(FIXTURES.glob(f"{language}_*.tsv")):
        texts += [row.split("\t")[0] for row in path.read_text(encoding="utf-8").splitlines()[1:] if row.strip()]
    if language == "en":
        rows = (FIXTURES / "vader" / "tweets_GroundTruth.txt").read_text(encoding="utf-8").splitlines()
        texts += [row.split("\t")[2] for row in rows if row.count("\t") >= 2]
    return [*texts, "", "ab", "a" * 5000, "\x00 {}\\ \ud800", "🙂🙂", "charged charged charged"]


@pytest.mark.parametrize("language", ["en", "es"])
def test_the_labelled_texts_keep_the_patterns_a_search_of_their_words_keeps(language: str) -> None:
    reference = searches([pattern for _kind, _weight, pattern in _compiled(language)[0]])
    screen = _screen(language)
    for text in labelled_texts(language):
        folded = normalize(text)
        assert screen.keep(folded) == searched(reference, folded), text
