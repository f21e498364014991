"""The one place a mention's sentiment and intent are computed.

`analyze(text, language)` picks an analyzer by language and never scores text with another
language's lexicon: an English model reads a Spanish complaint as neutral, which hides it from
"negative" filters and routing rules. Languages without an analyzer come back `unscored`, which the
inbox shows as such instead of pretending to know.

English is vaderSentiment. Spanish is a lexicon analyzer in the spirit of VADER (Hutto & Gilbert,
ICWSM 2014): the AFINN-es word list plus a curated overlay (listening/lexicons/README.md), with
VADER's negation, booster, "but", punctuation and capitals rules adapted to Spanish. Its measured
accuracy is printed by `manage.py sentiment_benchmark --language es`.

Customer care is read with its intent (``listening.intent``): a complaint is negative even when
it uses no angry word, so its score is moved below the negative threshold (and misplaced
positivity, the sarcasm of "Fantastic service.", is flipped); praise is positive; a question's
courtesy ("please", "thanks") is not sentiment. Text with no care cue keeps the lexicon's score.
"""

from __future__ import annotations

import json
import math
import re
from dataclasses import dataclass, replace
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING

from listening.intent import CUE_INTENT, DECIDE, GLAD, Classified, Cue, classify
from listening.learning import CareModel, Prediction, builtin
from listening.models import Intent, Sentiment

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


# How far below (or above) the threshold a complaint (or praise) the lexicon missed is moved:
# the middle of the band VADER calls moderately negative, so a rule "score below -0.05" and the
# label agree.
CARE_SCORE = 0.3
# A plain question in customer care leans less than this either way: it is neutral ("Will the
# clinic be open on the bank holiday?" leans +0.4 on "holiday").
PLAIN_LEAN = 0.5


@dataclass(frozen=True)
class Scored:
    """A sentiment label and VADER-style compound in [-1, 1] (None when unscored), the intent, the
    rules' cues, the words a learned model weighed most, the lexicon's own compound before the
    care-aware adjustment, and which analyzer decided ("rules", "built-in", "brand")."""

    label: str
    compound: float | None
    intent: str = Intent.UNCLASSIFIED.value
    cues: tuple[Cue, ...] = ()
    lexicon: float | None = None
    words: tuple[tuple[str, float], ...] = ()
    analyzer: str = ""

    def analysis(self) -> dict[str, object]:
        """What a mention keeps of why it got its label and intent (``Mention.analysis``)."""
        if self.compound is None:
            return {}
        return {
            "analyzer": self.analyzer,
            "lexicon": self.lexicon,
            "cues": [[cue.kind, cue.text] for cue in self.cues],
            "words": [[word, weight] for word, weight in self.words],
        }


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
    "en": ("vaderSentiment 3.3.2 (VADER lexicon and rules) + customer-care intent rules", analyze_english),
    "es": ("AFINN-es + curated overlay, VADER-style rules (listening/lexicons/) + customer-care intent rules",
           analyze_spanish),
}  # fmt: skip

# Words of courtesy and of the service asked about, not of sentiment, in a request: "Could you help
# me pay my bill, please? Thanks!" is a neutral question. Only the request's formulas and a thanks
# closing it count, so a "thanks!" said for itself keeps its warmth.
COURTESY = {
    "en": re.compile(
        r"\b(?:please|pls|plz|kindly|(?:thanks|thank you) in advance|in advance|help (?:me|us)|could you help|"
        r"pay|paid|paying|cancel|cancelled|canceled|cancelling|charged?|debt|hardship|complaint|leak|broken|lost|"
        r"damage|damaged|accidental|faulty)\b|"
        r"(?<=\?)\s*(?:many thanks|thanks|thank you|thx|ty|cheers)\b[\w\s!.]*$",
        re.IGNORECASE,
    ),
    "es": re.compile(
        r"\b(?:por favor|porfa|gracias de antemano|de antemano|(?:me|nos) (?:podeis|podéis|pueden|podrian|podrían) "
        r"ayudar|ayudarme|ayudarnos|cobra[rn]?|comisi[oó]n(?:es)?|pagar|pago|cancelar|baja|reclamaci[oó]n|"
        r"aver[ií]as?|da[nñ]os?|siniestro|multa|deuda|funciona)\b|"
        r"(?<=\?)\s*(?:muchas gracias|mil gracias|gracias)\b[\w\s!.]*$",
        re.IGNORECASE,
    ),
}


def _code(language: str) -> str:
    return (language or "").split("-")[0].split("_")[0].lower()


def lexicon_score(text: str, language: str) -> Scored:
    """The lexicon alone, without intent: what the analyzer said before it knew customer care."""
    entry = ANALYZERS.get(_code(language))
    if entry is None or not (text or "").strip():
        return UNSCORED
    return entry[1](text)


def _praised(classified: Classified) -> bool:
    """Praise the rules can point at (not a bare "thanks", which may be curt or ironic), said louder
    than the cross words around it."""
    praise = sum(c.weight for c in classified.cues if c.kind in ("praise", "solved"))
    cross = sum(c.weight for c in classified.cues if c.kind == "negative_words")
    return praise >= 1 + cross


def _plain(text: str, language: str) -> str:
    """A request without its courtesy and its service words (see ``COURTESY``)."""
    courtesy = COURTESY.get(language)
    return courtesy.sub(" ", text) if courtesy else text


def care_aware(text: str, language: str, lexicon: float, classified: Classified, *, care: bool = False) -> Scored:
    """The label and score of a text from its lexicon score and its intent.

    In customer care (``care``: a mention of a brand) the intent decides: a complaint is negative,
    praise positive, a plain question neutral. Elsewhere only the rules' own cues move the score,
    so general text keeps the lexicon's.
    """
    compound = lexicon
    complained = sum(c.weight for c in classified.cues if CUE_INTENT[c.kind] == Intent.COMPLAINT)
    if classified.intent == Intent.COMPLAINT and lexicon > -THRESHOLD and (complained >= DECIDE or care):
        compound = -max(abs(lexicon), CARE_SCORE)
    elif classified.intent == Intent.PRAISE and lexicon < THRESHOLD and (_praised(classified) or care):
        compound = max(abs(lexicon), CARE_SCORE)
    elif classified.intent == Intent.QUESTION:
        plain = _plain(text, language)
        if plain != text:
            compound = ANALYZERS[language][1](plain).compound if plain.strip() else 0.0
        if care and abs(compound) < PLAIN_LEAN:
            compound = 0.0
    compound = round(compound, 4)
    return Scored(label_for(compound), compound, classified.intent, classified.cues, lexicon)


def in_band(compound: float, label: str) -> float:
    """``compound`` moved into ``label``'s band, so a rule on the score agrees with the label."""
    if label == Sentiment.NEGATIVE and compound > -THRESHOLD:
        return -max(abs(compound), CARE_SCORE)
    if label == Sentiment.POSITIVE and compound < THRESHOLD:
        return max(abs(compound), CARE_SCORE)
    if label == Sentiment.NEUTRAL and abs(compound) >= THRESHOLD:
        return 0.0
    return compound


@dataclass(frozen=True)
class Models:
    """The learned models a brand uses instead of the built-in ones, by language."""

    intent: dict[str, CareModel]
    sentiment: dict[str, CareModel]


# The rules overrule a learned model on a complaint they see plainly: sarcasm, or cues of two
# kinds weighing this much ("Four calls, two promises, zero callbacks": again and again, no answer).
DECISIVE = 1.5


def _decisive(rules: Classified) -> bool:
    """Whether the rules' complaint cues are too plain for a model to overrule."""
    if rules.intent != Intent.COMPLAINT:
        return False
    cues = [c for c in rules.cues if CUE_INTENT[c.kind] == Intent.COMPLAINT and c.kind != "negative_words"]
    if any(c.kind == "sarcasm" for c in cues):
        return True
    return len({c.kind for c in cues}) >= 2 and sum(c.weight for c in cues) >= DECISIVE


def _intent(text: str, language: str, lexicon: float, rules: Classified, model: CareModel) -> Prediction:
    """The model's intent, except where the rules see a complaint plainly, or where it calls glad
    words a complaint the rules see no sign of ("Yay, an awesome evening … and yet again the
    marathon was incomplete")."""
    prediction = model.predict(text, lexicon)
    if prediction.label != Intent.COMPLAINT and _decisive(rules):
        return Prediction(Intent.COMPLAINT.value, dict(prediction.ranked).get(Intent.COMPLAINT, 0.0), prediction.words)
    if prediction.label == Intent.COMPLAINT and lexicon >= GLAD and len(prediction.ranked) > 1:
        complained = sum(c.weight for c in rules.cues if CUE_INTENT[c.kind] == Intent.COMPLAINT)
        if complained < 1 and not any(c.kind == "sarcasm" for c in rules.cues):
            return prediction.runner_up()
    return prediction


def analyze(text: str, language: str, models: Models | None = None, *, care: bool = False) -> Scored:
    """Sentiment and intent of `text` written in `language` (ISO 639-1, e.g. "es"; "en-US" is read as "en").

    ``care``: the text is a mention of a brand (ingestion), so customer care. Then the intent is a
    learned model's (the brand's in ``models`` when it has one for the language, otherwise the
    built-in one) and decides the label (``care_aware``). Otherwise the rules decide and only their
    cues move the score, so general text keeps the lexicon's. The rules' cues are kept either way,
    to explain. Unknown languages and empty text are `unscored` and `unclassified`; never scored
    with another language's model.
    """
    language = _code(language)
    lexicon = lexicon_score(text, language)
    if lexicon.compound is None:
        return UNSCORED
    score = ANALYZERS[language][1]
    # What a question is about ("damage", "cancel") is not how its author feels.
    asked = lexicon.compound
    if re.search(r"[?¿]", text) and (plain := _plain(text, language)) != text:
        asked = score(plain).compound if plain.strip() else 0.0
    rules = classify(text, language, asked, lambda other: score(other).compound or 0.0)
    brand_model = models.intent.get(language) if models else None
    model = brand_model or (builtin(language) if care else None)
    if model is None:
        return _with(care_aware(text, language, lexicon.compound, rules), analyzer="rules")
    prediction = _intent(text, language, lexicon.compound, rules, model)
    scored = care_aware(text, language, lexicon.compound, Classified(prediction.label, rules.cues), care=care)
    scored = _with(scored, words=prediction.words, analyzer="brand" if brand_model else "built-in")
    if models and (sentiment_model := models.sentiment.get(language)):
        label = sentiment_model.predict(text, lexicon.compound).label
        # A complaint is negative whoever reads it.
        if scored.intent == Intent.COMPLAINT:
            label = Sentiment.NEGATIVE.value
        compound = round(in_band(scored.compound or 0.0, label), 4)
        scored = _with(scored, label=label_for(compound), compound=compound)
    return scored


def _with(scored: Scored, **changes: object) -> Scored:
    return replace(scored, **changes)
