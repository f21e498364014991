"""What a mention wants, by rule: a complaint, a question, praise, or none of these (``other``).

Customer-care complaints rarely use angry words ("40 minutes in the chat, anyone there?"), so a
sentiment lexicon alone reads most of them as neutral or even positive. These rules look for the
cues people use instead, each a small weighted pattern (``english.py``, ``spanish.py``):

- complaint: waiting ("for two hours", "since Monday", "day 9 of"), repetition ("once again",
  "for the fourth time", "still no"), money gone wrong ("charged twice", "never refunded"),
  things that do not work ("stopped working", "keeps freezing"), unanswered contact ("nobody
  picks up", "zero callbacks"), being let down ("cancelled without telling me"), demands ("fix
  this", "I want my money back"), sarcasm after a complaint ("Fantastic service.");
- question: "?" and "¿", question words opening a sentence, "does anyone know";
- praise: thanks, praise words, a problem solved quickly ("sorted it in ten minutes");
- and the shape of a problem told first-hand: the author, the service, and the marks of
  something gone wrong (a "not", a "but", a sum or a stretch of time, a word for a fault).

The lexicon's compound adds a little weight on either side ("negative words", "positive
words"). A text is a complaint when its complaint cues weigh at least ``DECIDE`` and more than
its praise; otherwise a question when it asks one; otherwise praise; otherwise other. Every cue
that counted is returned with the words that matched, so a person can see why.

In a brand's mentions the intent itself is a learned model's (``listening.learning``): the cues
stay beside it to explain it and to move the score (``listening.sentiment.care_aware``); for
any other text the rules decide.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from functools import cache

from django.utils.translation import gettext_lazy as _

from listening.intent import english, spanish
from listening.intent.screen import Screen
from listening.models import Intent

DECIDE = 1.0  # the weight of cues an intent needs
GLAD = 0.5  # a lexicon compound this high (or low) is clearly glad (or cross)


@dataclass(frozen=True)
class Cue:
    """One piece of evidence: its kind, the words as written, and where they start."""

    kind: str
    text: str
    weight: float
    start: int


@dataclass(frozen=True)
class Classified:
    intent: str
    cues: tuple[Cue, ...]


# Each kind of cue, the intent it speaks for, and how a person reads it.
CUE_INTENT = {
    "waiting": Intent.COMPLAINT,
    "repetition": Intent.COMPLAINT,
    "money": Intent.COMPLAINT,
    "broken": Intent.COMPLAINT,
    "unanswered": Intent.COMPLAINT,
    "let_down": Intent.COMPLAINT,
    "demand": Intent.COMPLAINT,
    "sarcasm": Intent.COMPLAINT,
    "negative_words": Intent.COMPLAINT,
    "told": Intent.COMPLAINT,
    "question": Intent.QUESTION,
    "thanks": Intent.PRAISE,
    "praise": Intent.PRAISE,
    "solved": Intent.PRAISE,
    "positive_words": Intent.PRAISE,
}
CUE_LABELS = {
    "waiting": _("waiting"),
    "repetition": _("again and again"),
    "money": _("money gone wrong"),
    "broken": _("not working"),
    "unanswered": _("no answer"),
    "let_down": _("let down"),
    "demand": _("demand"),
    "sarcasm": _("sarcasm"),
    "negative_words": _("negative words"),
    "told": _("a problem told first-hand"),
    "question": _("question"),
    "thanks": _("thanks"),
    "praise": _("praise"),
    "solved": _("problem solved"),
    "positive_words": _("positive words"),
}

# Accents and typographic quotes folded one character for one character, so a match's offsets
# are the original text's; ñ stays (año and ano differ).
_FOLD = str.maketrans("áéíóúüàèìòùâêîôû\u2019\u2018\u00b4`\u201c\u201d«»", "aeiouuaeiouaeiou''''\"\"\"\"")


def normalize(text: str) -> str:
    """Lowercase and fold, keeping every character's position."""
    low = text.lower()
    # Most texts lowercase one character for one character, and then all at once is the same as
    # one by one: only a capital sigma's lowercase depends on the letters around it (final ς).
    if len(low) != len(text) or "\u03a3" in text:
        low = "".join(one if len(one := ch.lower()) == 1 else ch for ch in text)
    return low.translate(_FOLD)


# Each language's cues (``listening.intent.english``, ``.spanish``).
LANGUAGE_CUES = {"en": english, "es": spanish}

# A problem told first-hand (``STORY`` of each language): most complaints are a short story
# without a stock phrase ("Sparkly Cleaners shrank my wool coat and offered a 10% discount"). What
# they share is a shape: the service, told by the person it happened to, plus the marks of
# something gone wrong. Each mark counts a little, up to three; a report without "I" or "my"
# ("Crossing delayed 3 hours, no announcements") counts a little less.
STORY_MARK = 0.5
STORY_MARKS_COUNTED = 3


# A negator just before a praise cue turns it around: "not helpful", "no gracias".
NEGATED = re.compile(r"\b(?:not|never|no|hardly|isn'?t|wasn'?t|aren'?t|nada|nunca|tampoco)\s+(?:\w+\s+)?$")
# Tokens scanned before a praise cue for a negator.
NEGATION_WINDOW = 16


@cache
def _compiled(language: str) -> tuple[list[tuple[str, float, re.Pattern[str]]], list[re.Pattern[str]]]:
    cues = LANGUAGE_CUES[language]
    rules, sarcasm = cues.COMPLAINT + cues.QUESTION + cues.PRAISE, cues.SARCASM
    ordered = sorted(rules, key=lambda rule: -rule[1])  # a span counts once, for its strongest rule
    return [(kind, weight, re.compile(pattern)) for kind, weight, pattern in ordered], [re.compile(p) for p in sarcasm]


@cache
def _screen(language: str) -> Screen:
    return Screen([pattern for _kind, _weight, pattern in _compiled(language)[0]])


def _sentence(text: str, position: int) -> int:
    """Which sentence of ``text`` a position is in (sentences end at . ! ? or a new line)."""
    return len(re.findall(r"[.!?\n]+", text[:position]))


_EDGES = " \t\n.,;:!¡-"


def _trimmed(text: str, start: int, end: int) -> tuple[int, int]:
    """A match without the punctuation and spaces around it (patterns anchor on a sentence's start)."""
    while start < end and text[start] in _EDGES:
        start += 1
    while end > start and text[end - 1] in _EDGES:
        end -= 1
    return start, end


def _find(text: str, folded: str, rules: list[tuple[str, float, re.Pattern[str]]]) -> list[Cue]:
    """Each rule's first match, unless a stronger rule of the same intent already took those words
    or a negator stands just before praise ("not helpful")."""
    cues: list[Cue] = []
    taken: dict[str, list[tuple[int, int]]] = {}
    for kind, weight, pattern in rules:
        spans = taken.setdefault(CUE_INTENT[kind], [])
        for match in pattern.finditer(folded):
            start, end = _trimmed(folded, *match.span())
            if start == end:
                start, end = match.span()  # a lone "?" is its own evidence
            if start == end or any(start < e and s < end for s, e in spans):
                continue
            if CUE_INTENT[kind] == Intent.PRAISE and NEGATED.search(folded[max(0, start - NEGATION_WINDOW) : start]):
                continue
            spans.append((start, end))
            cues.append(Cue(kind, text[start:end], weight, start))
            break  # a rule counts once, however often its words come back
    return cues


@cache
def _story_patterns(language: str) -> tuple[re.Pattern[str], re.Pattern[str], list[re.Pattern[str]]]:
    story = LANGUAGE_CUES[language].STORY
    return re.compile(story["person"]), re.compile(story["service"]), [re.compile(m) for m in story["marks"]]


def _story(text: str, folded: str, language: str) -> Cue | None:
    """The marks of a problem told first-hand, as one cue, or None (see ``STORY_MARK``)."""
    person, service, marks = _story_patterns(language)
    if not service.search(folded):
        return None
    # Told by the person it happened to, each mark weighs fully; a report without "I" or "my"
    # ("Coastline crossing delayed 3 hours, no announcements") needs more of them.
    mark = STORY_MARK if person.search(folded) else STORY_MARK * 0.8
    # Up to two marks of each kind ("no staff, no info" counts twice).
    found = [m for pattern in marks for m in list(pattern.finditer(folded))[:2]]
    if not found:
        return None
    found.sort(key=lambda m: m.start())
    words = " … ".join(text[m.start() : m.end()].strip() for m in found)
    weight = round(mark * min(len(found), STORY_MARKS_COUNTED), 2)
    return Cue("told", words, weight, found[0].start())


def about_service(text: str, language: str) -> bool:
    """Whether ``text`` names the service (an order, a bill, a driver …): customer care."""
    language = (language or "").split("-")[0].lower()
    return language in LANGUAGE_CUES and _story_patterns(language)[1].search(normalize(text)) is not None


def _sarcasm(
    text: str,
    folded: str,
    cues: list[Cue],
    patterns: list[re.Pattern[str]],
    score: Callable[[str], float] | None,
) -> list[tuple[int, int]]:
    """The spans of praise that is said of a complaint ("Great job, leaving my parcel in the rain").

    It takes a complaint, or a hint of one in the same sentence; and what is left without the
    praise must not be glad on its own ("A fantastic game. Congrats for the 6th time!").
    """
    complaint = sum(c.weight for c in cues if CUE_INTENT[c.kind] == Intent.COMPLAINT)
    if complaint < DECIDE / 2:
        return []
    if complaint < DECIDE and any(c.kind == "solved" for c in cues):
        return []  # thanks for fixing a problem ("Gracias por venir a arreglar la fuga")
    spans = [_trimmed(folded, *m.span()) for p in patterns for m in p.finditer(folded)]
    anchors = spans
    if complaint < DECIDE:
        complaining = {_sentence(folded, c.start) for c in cues if CUE_INTENT[c.kind] == Intent.COMPLAINT}
        anchors = [span for span in spans if _sentence(folded, span[0]) in complaining]
    if not anchors:
        return []
    if score is not None:
        rest = list(text)
        for start, end in spans:
            rest[start:end] = " " * (end - start)
        if score("".join(rest)) >= GLAD:
            return []
    return spans


def classify(
    text: str, language: str, compound: float | None, score: Callable[[str], float] | None = None
) -> Classified:
    """The intent of ``text`` and the cues behind it.

    ``compound`` is the lexicon's score of the text; ``score`` scores another text with the same
    lexicon (to tell sarcasm from praise). Languages without rules are ``unclassified``.
    """
    language = (language or "").split("-")[0].split("_")[0].lower()
    if language not in LANGUAGE_CUES or not (text or "").strip():
        return Classified(Intent.UNCLASSIFIED, ())
    folded = normalize(text)
    rules, sarcasm_patterns = _compiled(language)
    # Only the rules that can match run (``screen``): the same cues, found in a fraction of the time.
    cues = _find(text, folded, [rules[i] for i in _screen(language).keep(folded)])
    if story := _story(text, folded, language):
        cues.append(story)
    sarcastic = _sarcasm(text, folded, cues, sarcasm_patterns, score)
    if sarcastic:
        # The praise inside it was irony: it counts for the complaint instead.
        cues = [
            c
            for c in cues
            if not (
                CUE_INTENT[c.kind] == Intent.PRAISE
                and any(c.start < e and s < c.start + len(c.text) for s, e in sarcastic)
            )
        ]
        start, end = min(sarcastic)
        cues.append(Cue("sarcasm", text[start:end], DECIDE, start))
    elif compound is not None and compound >= GLAD:
        cues.append(Cue("positive_words", "", 1.0 if compound >= 0.7 else 0.5, -1))
        # Glad words and a "but" or a "not" are no story of a problem ("I'm not sure, but I love it").
        cues = [c for c in cues if c.kind != "told"]
    if compound is not None and compound <= -0.25 and not sarcastic:
        cues.append(Cue("negative_words", "", 1.0 if compound <= -GLAD else 0.5, -1))

    weight = dict.fromkeys((Intent.COMPLAINT, Intent.QUESTION, Intent.PRAISE), 0.0)
    for cue in cues:
        weight[CUE_INTENT[cue.kind]] += cue.weight
    # Words that are clearly glad outweigh a lone complaint cue ("Yay, an awesome evening … and
    # yet again the marathon was incomplete"), sarcasm apart.
    glad = compound is not None and compound >= GLAD and not sarcastic
    complaint = weight[Intent.COMPLAINT]
    if complaint >= DECIDE * (1.5 if glad else 1) and complaint > weight[Intent.PRAISE]:
        intent = Intent.COMPLAINT
    elif weight[Intent.QUESTION] >= DECIDE:
        intent = Intent.QUESTION
    elif weight[Intent.PRAISE] >= DECIDE:
        intent = Intent.PRAISE
    else:
        intent = Intent.OTHER
    # Shown in reading order; the lexicon's own cues last.
    ordered = sorted(cues, key=lambda c: (c.start < 0, c.start))
    return Classified(intent.value, tuple(ordered))


@dataclass(frozen=True)
class Explanation:
    """Why a mention got its label and intent, as the mention page shows it."""

    cues: tuple[tuple[str, str], ...]  # (the words, what they are a sign of)
    leaning: tuple[str, ...]  # "negative words" / "positive words": the lexicon's own lean
    lexicon: float | None  # the lexicon's score before the care-aware adjustment
    words: tuple[str, ...]  # the words a learned model weighed most
    analyzer: str  # "rules", "built-in" or "brand"


def explain(analysis: dict) -> Explanation:
    """``Mention.analysis`` (``listening.sentiment.Scored.analysis``) in a person's words."""
    cues = [(str(kind), str(text)) for kind, text in analysis.get("cues", []) if kind in CUE_LABELS]
    return Explanation(
        cues=tuple((text, str(CUE_LABELS[kind])) for kind, text in cues if text),
        leaning=tuple(str(CUE_LABELS[kind]) for kind, text in cues if not text),
        lexicon=analysis.get("lexicon"),
        words=tuple(str(word) for word, _weight in analysis.get("words", [])),
        analyzer=str(analysis.get("analyzer", "")),
    )
