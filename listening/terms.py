"""Finding a brand's tracked terms in a mention: case- and accent-insensitive, whole words only.

- ``Acme`` matches "acme", "ACME", "Ácme", "#acme" and "@acme", never "acmeshop".
- ``#acme`` matches only the hashtag, ``@acme`` only the handle.
- ``Roadrunner Pro`` matches the words in that order, whatever the spacing.
- An exclusion phrase anywhere in the text cancels that term's match ("acme road runner").
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass

from listening.models import Mention, TrackedTerm


def fold(text: str) -> str:
    """Lower case without accents, the form both sides are compared in ("Camión" → "camion")."""
    decomposed = unicodedata.normalize("NFKD", text.casefold())
    return "".join(char for char in decomposed if not unicodedata.combining(char))


def phrase_pattern(phrase: str) -> re.Pattern[str] | None:
    """A whole-word pattern for ``phrase`` (already folded or not); None for an empty phrase."""
    folded = fold(phrase).strip()
    if not folded:
        return None
    sigil = folded[0] if folded[0] in "#@" else ""
    words = folded[len(sigil) :].split()
    if not words:
        return None
    body = r"\s+".join(re.escape(word) for word in words)
    # A plain word may stand after # or @ (the hashtag or handle of the same name); a sigil term
    # must not be glued to a word before it ("foo#acme" is not the hashtag).
    before = r"(?<![\w#@])" if sigil else r"(?<!\w)"
    return re.compile(f"{before}{re.escape(sigil)}{body}(?!\\w)")


@dataclass(frozen=True)
class CompiledTerm:
    term_id: int
    pattern: re.Pattern[str]
    exclusions: tuple[re.Pattern[str], ...]

    def matches(self, folded_text: str) -> bool:
        if not self.pattern.search(folded_text):
            return False
        return not any(exclusion.search(folded_text) for exclusion in self.exclusions)


def compile_terms(terms: Iterable[TrackedTerm]) -> list[CompiledTerm]:
    compiled = []
    for term in terms:
        pattern = phrase_pattern(term.text)
        if pattern is None:
            continue
        exclusions = tuple(p for p in (phrase_pattern(e) for e in term.exclusions or []) if p is not None)
        compiled.append(CompiledTerm(term.pk, pattern, exclusions))
    return compiled


def matching_term_ids(compiled: list[CompiledTerm], *texts: str) -> list[int]:
    return matching_folded(compiled, fold("\n".join(text for text in texts if text)))


def matching_folded(compiled: list[CompiledTerm], folded: str) -> list[int]:
    """``matching_term_ids`` of a text already folded."""
    return [term.term_id for term in compiled if term.matches(folded)]


# A mention's title and text folded, kept on it: ingestion matches the tracked terms in it and
# routing its rules' phrases, so it is worked out once. (A pattern never starts or ends with a
# space, so the line break between an empty title and the text changes no match.)
FOLDED = "_folded"


def folded_said(title: str, text: str) -> str:
    return fold(f"{title}\n{text}")


def folded_of(mention: Mention) -> str:
    """``folded_said`` of the mention's title and text, kept on it."""
    found = getattr(mention, FOLDED, None)
    if found is None:
        found = folded_said(mention.title, mention.text)
        setattr(mention, FOLDED, found)
    return found
