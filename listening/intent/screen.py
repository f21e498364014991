"""Which of a language's cue patterns can match a text, told without running them.

A text is read by about a hundred patterns, and most find nothing: each still scans the whole text,
trying its alternatives at every position (a pattern that opens with ``\\b`` gets none of the
regular expression engine's quick skipping). Yet every pattern holds words that any match must
contain: ``\\bcharged (?:twice|double)\\b`` cannot match a text without "charged ". ``needles``
reads them from the parsed pattern; ``Screen`` keeps the patterns that may match a text, the
ones with one of their needles in it, and only those run. The answer is the same: a pattern
whose needles are all missing could not have matched, and a pattern the reading cannot vouch
for (an unusual construct) always runs.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence

# The parser of the standard library's own engine: what it parses is exactly what the engine runs.
from re import _constants as c  # type: ignore[attr-defined]
from re import _parser  # type: ignore[attr-defined]

Needles = frozenset[str]
GRAM = 3  # a text's first look: the three-character pieces its needles start with


def _best(candidates: list[Needles]) -> Needles | None:
    # The set whose shortest needle is longest tells most; then the one with fewer needles.
    return max(candidates, key=lambda n: (min(map(len, n)), -len(n))) if candidates else None


def _required(parsed: Sequence[tuple[object, object]]) -> Needles | None:
    """A set of strings one of which is in every match of ``parsed``, or None when unknown."""
    candidates: list[Needles] = []
    run = ""  # consecutive literal characters: all of them are in every match, together
    for op, value in parsed:
        if op is c.LITERAL:
            run += chr(value)  # type: ignore[arg-type]
            continue
        if run:
            candidates.append(frozenset([run]))
            run = ""
        found: Needles | None = None
        if op is c.SUBPATTERN:
            _group, add_flags, _del_flags, inner = value  # type: ignore[misc]
            found = None if add_flags & c.SRE_FLAG_IGNORECASE else _required(inner)
        elif op is c.BRANCH:
            branches = [_required(branch) for branch in value[1]]  # type: ignore[index]
            found = None if any(b is None for b in branches) else frozenset().union(*branches)  # type: ignore[arg-type]
        elif op in (c.MAX_REPEAT, c.MIN_REPEAT, c.POSSESSIVE_REPEAT):
            least, _most, inner = value  # type: ignore[misc]
            found = _required(inner) if least >= 1 else None
        elif op is c.ATOMIC_GROUP:
            found = _required(value)  # type: ignore[arg-type]
        # Anything else (a class, a lookaround, a boundary, a back-reference) is no literal: it
        # ends the run of literals and vouches for nothing, which only makes the answer looser.
        if found:
            candidates.append(found)
    if run:
        candidates.append(frozenset([run]))
    return _best(candidates)


def needles(pattern: re.Pattern[str]) -> Needles | None:
    """Strings one of which is in any text ``pattern`` matches; None when it cannot be told."""
    if pattern.flags & re.IGNORECASE:
        return None
    try:
        found = _required(_parser.parse(pattern.pattern, pattern.flags))
    except (re.error, TypeError, ValueError, AttributeError):
        return None
    return found if found and all(found) else None


class Screen:
    """The patterns of a list that may match a text: ``Screen(patterns).keep(text)`` → their indexes."""

    def __init__(self, patterns: Sequence[re.Pattern[str]]) -> None:
        self._needles = [needles(pattern) for pattern in patterns]
        # The patterns whose needles are too short to index (or unknown): each is looked for as one
        # search of plain words, where the engine skips ahead to their first letters.
        self._always: list[tuple[int, Callable[[str], object] | None]] = []
        # Every other pattern's needles by their opening piece: a text's pieces name the few needles
        # worth a substring test, in one dictionary look-up each. A needle is a plain string, so
        # ``in`` tells what a search of it would, without the engine's call and match object.
        self._by_gram: dict[str, list[tuple[str, int]]] = {}
        for i, found in enumerate(self._needles):
            if found is None or min(map(len, found)) < GRAM:
                search = None if found is None else re.compile("|".join(re.escape(n) for n in sorted(found))).search
                self._always.append((i, search))
                continue
            for needle in sorted(found):
                self._by_gram.setdefault(needle[:GRAM], []).append((needle, i))

    def keep(self, text: str) -> list[int]:
        kept = {i for i, look in self._always if look is None or look(text) is not None}
        by_gram = self._by_gram
        for gram in {text[i : i + GRAM] for i in range(len(text) - GRAM + 1)}:
            if (found := by_gram.get(gram)) is not None:
                for needle, i in found:
                    if i not in kept and needle in text:
                        kept.add(i)
        return sorted(kept)
