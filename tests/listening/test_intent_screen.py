"""The cue patterns that run on a text are only the ones that can match it: the cues found are the
same as when every pattern runs."""

from __future__ import annotations

import re

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from listening.intent import _compiled, _find, _screen, normalize
from listening.intent.screen import Screen, needles
from listening.learning import labelled_examples


def every_rule(text: str, language: str):
    return _find(text, normalize(text), _compiled(language)[0])


def screened(text: str, language: str):
    folded = normalize(text)
    rules = _compiled(language)[0]
    return _find(text, folded, [rules[i] for i in _screen(language).keep(folded)])


@pytest.mark.parametrize("language", ["en", "es"])
def test_the_labelled_mentions_get_the_same_cues(language: str) -> None:
    texts = [example.text for example in labelled_examples(language)]
    texts += [text.upper() for text in texts[:100]] + [f"¿{text}?? not great, no va!" for text in texts[:100]]
    assert [screened(t, language) for t in texts] == [every_rule(t, language) for t in texts]


def words_of(language: str) -> list[str]:
    """The words the patterns look for, and a few they do not."""
    found = {n for _kind, _weight, pattern in _compiled(language)[0] for n in needles(pattern) or ()}
    return [*sorted(found), "acme", "the", "el", "!", "?", "¿", ".", "\n", "2", "hours", "días"]


@settings(max_examples=300, deadline=None)
@given(data=st.data(), language=st.sampled_from(["en", "es"]))
def test_any_mix_of_the_patterns_words_gets_the_same_cues(data: st.DataObject, language: str) -> None:
    words = data.draw(st.lists(st.sampled_from(words_of(language)), max_size=14))
    text = data.draw(st.sampled_from([" ", "", ". "])).join(words)
    assert screened(text, language) == every_rule(text, language)


def test_a_pattern_is_kept_when_its_words_are_there_and_when_it_cannot_be_read() -> None:
    patterns = [re.compile(r"\bcharged (?:twice|double)\b"), re.compile(r"[?¿]"), re.compile(r"(?i)refund")]
    assert needles(patterns[0]) == {"charged "}
    screen = Screen(patterns)
    assert screen.keep("i was charged twice") == [0, 1, 2]
    assert screen.keep("all good here") == [1, 2]  # a class and a case-blind pattern always run
