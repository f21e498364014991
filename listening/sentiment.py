"""The one place a mention's sentiment is computed.

`analyze(text, language)` picks an analyzer by language and never scores text with another
language's lexicon: an English model reads a Spanish complaint as neutral, which hides it from
"negative" filters and routing rules. Languages without an analyzer come back `unscored`, which the
inbox shows as such instead of pretending to know.

English is vaderSentiment. Spanish is a lexicon analyzer in the spirit of VADER (Hutto & Gilbert,
ICWSM 2014): the AFINN-es word list plus a curated overlay (listening/lexicons/README.md), with
VADER's negation, booster, "but", punctuation and capitals rules adapted to Spanish. Its measured
accuracy is printed by `manage.py sentiment_benchmark --language es`.
"""

from __future__ import annotations

import json
import math
import re
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING

from listening.models import Sentiment

if TYPE_CHECKING:
    from vaderSentiment.vaderSentiment import SentimentIntensityAnalyzer

LEXICON_DIR = Path(__file__).resolve().parent / "lexicons"

# VADER's own constants (vaderSentiment.py 3.3.2), so both languages are on one scale.
THRESHOLD = 0.05
ALPHA = 15
B_INCR = 0.293
C_INCR = 0.733
N_SCALAR = -0.74
AFINN_TO_VADER = 4 / 5

NEGATORS = frozenset({"no", "nunca", "jamas", "ni", "tampoco", "sin", "nadie", "nada", "ningun", "ninguna", "ninguno"})
BOOSTERS = {
    **dict.fromkeys(
        (
            "muy",
            "mucho",
            "mucha",
            "muchos",
            "muchas",
            "muchisimo",
            "tan",
            "super",
            "bastante",
            "demasiado",
            "realmente",
            "totalmente",
            "completamente",
            "sumamente",
            "re",
            "requete",
        ),
        B_INCR,
    ),
    **dict.fromkeys(("algo", "ligeramente", "poco"), -B_INCR),
}
# Superlative suffix (lentísimo, carísimo, buenísimo): the stem's valence, boosted once.
SUPERLATIVE = re.compile(r"^(\w{2,}?)(isim[oa]s?)$")
TOKEN = re.compile(r"\w+")
# Accents are optional in what people type; the tilde of ñ is not (año and ano differ).
_FOLD = str.maketrans("áéíóúüàèìòùâêîôû", "aeiouuaeiouaeiou")


@dataclass(frozen=True)
class Scored:
    """A sentiment label and VADER-style compound in [-1, 1]; compound is None when unscored."""

    label: str
    compound: float | None


UNSCORED = Scored(Sentiment.UNSCORED.value, None)


def label_for(compound: float) -> str:
    """VADER's recommended thresholds: ±0.05 on the compound score."""
    if compound >= THRESHOLD:
        return Sentiment.POSITIVE.value
    if compound <= -THRESHOLD:
        return Sentiment.NEGATIVE.value
    return Sentiment.NEUTRAL.value


def normalize(score: float) -> float:
    """VADER's squashing of a sum of valences into [-1, 1]."""
    return score / math.sqrt(score * score + ALPHA)


def fold(word: str) -> str:
    return word.lower().translate(_FOLD)


# --- English -------------------------------------------------------------------------------------


@cache
def vader() -> SentimentIntensityAnalyzer:
    """One analyzer per process, built on first use (loading the lexicon takes ~100 ms)."""
    from vaderSentiment.vaderSentiment import SentimentIntensityAnalyzer

    return SentimentIntensityAnalyzer()


def analyze_english(text: str) -> Scored:
    compound = vader().polarity_scores(text)["compound"]
    return Scored(label_for(compound), compound)


# --- Spanish -------------------------------------------------------------------------------------


@cache
def spanish_lexicon() -> dict[tuple[str, ...], float]:
    """AFINN-es with the overlay on top, keyed by folded token tuples, valences on VADER's scale."""
    afinn = json.loads((LEXICON_DIR / "afinn_es.json").read_text(encoding="utf-8"))
    overlay = json.loads((LEXICON_DIR / "es_overlay.json").read_text(encoding="utf-8"))
    lexicon: dict[tuple[str, ...], float] = {}
    # AFINN-es has case/accent twins ("Perfecto" 3, "perfecto" 2): lowercase spellings win.
    for key, score in sorted(afinn.items(), key=lambda item: item[0] != item[0].lower()):
        tokens = tuple(fold(t) for t in TOKEN.findall(key))
        if tokens:
            lexicon.setdefault(tokens, score * AFINN_TO_VADER)
    for key, score in overlay.items():
        lexicon[tuple(fold(t) for t in TOKEN.findall(key))] = score * AFINN_TO_VADER
    return lexicon


@cache
def _longest_key() -> int:
    return max(len(key) for key in spanish_lexicon())


@cache
def emoji_valence(emoji: str) -> float | None:
    """An emoji's valence: VADER's own emoji description scored by VADER, as a raw sum.

    polarity_scores only exposes the normalized compound; inverting VADER's normalization gives
    back the sum of valences so an emoji weighs like a word.
    """
    description = vader().emojis.get(emoji) or vader().emojis.get(emoji.replace("\ufe0f", ""))
    if not description:
        return None
    compound = max(-0.999, min(0.999, vader().polarity_scores(description)["compound"]))
    return compound * math.sqrt(ALPHA) / math.sqrt(1 - compound * compound)


def _word_valence(word: str) -> tuple[float | None, bool]:
    """Valence of one folded word, and whether it came from a superlative (-ísimo) form.

    Falls back to the masculine singular (contenta → contento, amables → amable), since AFINN-es
    mostly lists one form; plurals in -s and -es (mejores → mejor) too.
    """
    lexicon = spanish_lexicon()
    plurals = (word[:-1], word[:-2]) if word.endswith("es") else (word[:-1],) if word.endswith("s") else ()
    for candidate in (word, *plurals, _masculine(word)):
        if candidate and (candidate,) in lexicon:
            return lexicon[(candidate,)], False
    match = SUPERLATIVE.match(word)
    if match:
        stem = match.group(1)
        # riquísimo → rico, amabilísimo → amable, larguísimo → largo
        stems = [stem + "o", stem + "a", stem + "e", stem]
        if stem.endswith("qu"):
            stems.insert(0, stem[:-2] + "co")
        if stem.endswith("gu"):
            stems.insert(0, stem[:-2] + "go")
        if stem.endswith("bil"):
            stems.insert(0, stem[:-3] + "ble")
        for candidate in stems:
            if (candidate,) in lexicon:
                return lexicon[(candidate,)], True
    return None, False


def _masculine(word: str) -> str | None:
    base = word[:-1] if word.endswith("s") else word
    return base[:-1] + "o" if base.endswith("a") else None


@dataclass
class _Unit:
    start: int  # index of the unit's first token
    tokens: tuple[str, ...]  # folded
    raw: str
    valence: float
    is_word: bool = True


CLAUSE_BREAK = re.compile(r"[,.;:!?¡¿()\n]")


def _split(text: str) -> list[tuple[str, bool, int]]:
    """Tokens in order, each (raw token, is_word, clause number); emoji are tokens of their own.

    The clause number changes at punctuation, so negation and boosters do not reach across a
    comma: in "sin internet, inaceptable" the "sin" does not flip "inaceptable".
    """
    emojis = vader().emojis
    out: list[tuple[str, bool, int]] = []
    position = clause = 0

    def between(chunk: str) -> None:
        nonlocal clause
        for ch in chunk:
            if CLAUSE_BREAK.match(ch):
                clause += 1
            elif ch in emojis:
                out.append((ch, False, clause))

    for match in TOKEN.finditer(text):
        between(text[position : match.start()])
        out.append((match.group(0), True, clause))
        position = match.end()
    between(text[position:])
    return out


def analyze_spanish(text: str) -> Scored:
    lexicon = spanish_lexicon()
    tokens = _split(text)
    words = [fold(raw) if is_word else raw for raw, is_word, _ in tokens]
    clauses = [clause for _, _, clause in tokens]
    raw_words = [raw for raw, is_word, _ in tokens if is_word]
    # VADER only reads capitals as shouting when the text also has lowercase words.
    shouting_matters = any(w.isupper() for w in raw_words) and not all(w.isupper() for w in raw_words)

    units: list[_Unit] = []
    i = 0
    while i < len(tokens):
        raw, is_word, _ = tokens[i]
        if not is_word:
            valence = emoji_valence(raw)
            if valence:
                units.append(_Unit(i, (raw,), raw, valence, is_word=False))
            i += 1
            continue
        # Multi-word keys first ("no funciona", "deja mucho que desear"), longest match wins.
        for size in range(min(_longest_key(), len(tokens) - i), 1, -1):
            key = tuple(words[i : i + size])
            if key in lexicon and all(tokens[j][1] and tokens[j][2] == tokens[i][2] for j in range(i, i + size)):
                units.append(_Unit(i, key, " ".join(t for t, _, _ in tokens[i : i + size]), lexicon[key]))
                i += size
                break
        else:
            word = words[i]
            if word not in BOOSTERS and word not in NEGATORS:
                valence, superlative = _word_valence(word)
                if valence:
                    if superlative:
                        valence += math.copysign(B_INCR, valence)
                    units.append(_Unit(i, (word,), raw, valence))
            i += 1

    sentiments: list[tuple[int, float]] = []
    for unit in units:
        valence = unit.valence
        if unit.is_word:
            if shouting_matters and unit.raw.isupper():
                valence += math.copysign(C_INCR, valence)
            # Boosters in the three preceding words, fading with distance as in VADER.
            for distance, fade in ((1, 1.0), (2, 0.95), (3, 0.9)):
                j = unit.start - distance
                if j < 0 or clauses[j] != clauses[unit.start]:
                    break
                if words[j] in BOOSTERS:
                    valence += math.copysign(BOOSTERS[words[j]], valence) * fade
            # Spanish negation is concordant ("no me gusta nada", "nunca nadie"): several
            # negators in a row still mean one negation, so flip once. A key that starts with a
            # negator ("no funciona") already carries its negation.
            preceding = [
                words[j] for j in range(max(0, unit.start - 3), unit.start) if clauses[j] == clauses[unit.start]
            ]
            if unit.tokens[0] not in NEGATORS and any(w in NEGATORS for w in preceding):
                valence *= N_SCALAR
        sentiments.append((unit.start, valence))

    # "pero" shifts the weight to what follows, as VADER does with "but".
    if "pero" in words:
        pivot = words.index("pero")
        sentiments = [(start, v * (0.5 if start < pivot else 1.5)) for start, v in sentiments]

    total = sum(v for _, v in sentiments)
    if total:
        total += math.copysign(_punctuation_emphasis(text), total)
    compound = round(normalize(total), 4) if total else 0.0
    return Scored(label_for(compound), compound)


def _punctuation_emphasis(text: str) -> float:
    """VADER's amplifier for "!" (up to four) and "?" (two or more)."""
    exclamations = min(text.count("!"), 4) * 0.292
    questions = text.count("?")
    if questions > 3:
        question_boost = 0.96
    elif questions > 1:
        question_boost = questions * 0.18
    else:
        question_boost = 0.0
    return exclamations + question_boost


# --- Dispatch ------------------------------------------------------------------------------------

ANALYZERS = {
    "en": ("vaderSentiment 3.3.2 (VADER lexicon and rules)", analyze_english),
    "es": ("AFINN-es + curated overlay, VADER-style rules (listening/lexicons/)", analyze_spanish),
}


def analyze(text: str, language: str) -> Scored:
    """Sentiment of `text` written in `language` (ISO 639-1, e.g. "es", "en-US" is read as "en").

    Unknown languages and empty text are `unscored`; never scored with another language's model.
    """
    entry = ANALYZERS.get((language or "").split("-")[0].split("_")[0].lower())
    if entry is None or not (text or "").strip():
        return UNSCORED
    return entry[1](text)
