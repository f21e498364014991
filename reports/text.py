"""Words and questions in a mention's text: what the rollups count and a spike alert names.

The stop words are kept here rather than taken from a package: the report needs two languages,
a list a person can read in one screen and correct when a filler word shows up in "top terms",
and no download at run time (NLTK's corpora) or unmaintained dependency (stop-words, last
released in 2018). They are the common function words of each language plus the social-media
filler ("still", "lol", "pls") that otherwise tops every brand's list.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable

ENGLISH_STOPWORDS = frozenset(
    """
    the and for are but not you your yours with this that these those have has had having was were from they
    them their theirs there here what when where which who whom whose why how all any both each few more most
    other some such nor only own same than too very can will just should now our ours ourselves out its it's
    itself about into over under again further then once off above below up down through during before after
    until while because been being get gets got getting also one two like dont don't doesn't didn't isn't
    aren't wasn't weren't won't can't cannot couldn't shouldn't wouldn't i'm i've i'll i'd you're you've
    we're we've they're they've he's she's that's there's what's let's him his her hers she himself herself
    would could might must shall may did does doing done yes yeah yep nope okay lol lmao omg pls plz please
    really still even ever much many every anyone anything someone something nothing
    everyone everything make made said say says going gonna wanna want way well back since though although
    http https www com amp via
    """.split()
)
SPANISH_STOPWORDS = frozenset(
    """
    que los las del por con una uno unos unas para como pero sus mas más este esta estos estas ese esa esos
    esas eso esto aquel aquella muy sin sobre entre cuando donde quien quienes porque hay fue fueron son
    está están estan estoy estás estamos ser soy eres somos sido tiene tienen tengo tienes tenemos todo
    toda todos todas nos les ella ellas ellos él mis tus mío mía tuyo nuestro nuestra vuestro desde hasta
    también tambien solo sólo ya qué cómo cuál cuándo dónde quién cuánto algo alguien nada nadie cada otro
    otra otros otras mismo misma tan tanto poco mucho mucha muchos muchas siempre nunca aún aun todavía
    todavia así asi bien aquí aqui allí alli ahora antes después despues luego entonces pues sea hace
    hacer hizo han has había habia hay haber fue era eran sido estaba estaban vez veces jaja jajaja xd
    porfa favor
    http https www com
    """.split()
)
STOPWORDS = ENGLISH_STOPWORDS | SPANISH_STOPWORDS
STOPWORDS_BY_LANGUAGE = {"en": ENGLISH_STOPWORDS, "es": SPANISH_STOPWORDS}
# Words that open a question. Unaccented Spanish forms ("como", "que") are left out: without the
# accent they are ordinary words ("I eat", "that"); a question mark still catches those questions.
QUESTION_STARTS = (
    "how", "what", "why", "when", "where", "who", "which",
    "cómo", "qué", "por qué", "cuándo", "dónde", "quién", "cuál", "cuánto", "cuánta",
)  # fmt: skip
WORD_RE = re.compile(r"#?[^\W\d_][\w'-]{2,63}", re.UNICODE)
HANDLE_OR_URL_RE = re.compile(r"https?://\S+|@\w+")
# What every question holds somewhere besides a "?" or a "¿": a question word in its lower-cased
# text. A text without any is not one. (Searched in the lower-cased text rather than with
# re.IGNORECASE, which tries every word at every position and made this search most of a recount.)
QUESTION_WORD_RE = re.compile("|".join(re.escape(w) for w in QUESTION_STARTS))
SENTENCE_END_RE = re.compile(r"(?<=[?.!])\s")
PUNCTUATION_RE = re.compile(r"[^\w\s]")


def stopwords_for(language: str) -> frozenset[str]:
    """The stop words of a mention's language ("en", "es-ES" …); both lists when it is unknown or
    another language, so that a mislabelled short text still loses its filler."""
    return STOPWORDS_BY_LANGUAGE.get((language or "").split("-")[0].lower(), STOPWORDS)


def words_of(text: str, language: str = "") -> list[str]:
    """Lower-cased words of three letters or more, minus the stop words of the text's language
    (``stopwords_for``); hashtags keep their #, handles and links are dropped."""
    stop = stopwords_for(language)
    return [w for w in tokens_of(text) if w.lstrip("#") not in stop]


def tokens_of(text: str) -> list[str]:
    """``words_of`` before the stop words: what a recount splits once per text and filters once
    per distinct word."""
    lowered = text.lower()
    # Most texts hold no handle or link: the substitution is skipped when it has nothing to find.
    if "@" in lowered or "http" in lowered:
        lowered = HANDLE_OR_URL_RE.sub(" ", lowered)
    return WORD_RE.findall(lowered)


def term_variants(texts: Iterable[str]) -> set[str]:
    """Every word a tracked term can show up as in the word counts, to keep it out of top and
    emerging terms: "@Acme", "#acme" and "Acme" all give "acme" and "#acme"; a phrase ("Acme Pro")
    gives each of its words ("acme", "pro") with and without the #."""
    out: set[str] = set()
    for text in texts:
        for part in re.split(r"[\s,;/]+", text.lower()):
            word = part.strip(".!?:\"'()").lstrip("@#")
            if word:
                out |= {word, f"#{word}"}
    return out


def question_of(text: str) -> str | None:
    """The normalized wording of a question, or None: what groups "How do I reset?" with "how do i reset".

    A question ends with "?" (or starts with "¿") or starts with a question word; handles, links,
    accents and punctuation are dropped so that near-identical wordings fall together.
    """
    # Most texts are not questions: one search tells them apart before any work on the text.
    if "?" not in text and "¿" not in text and not QUESTION_WORD_RE.search(text.lower()):
        return None
    return _question_of(text)


def _question_of(text: str) -> str | None:
    # Each step is skipped on a text it would leave as it is (no handle or link to blank out, no
    # accent to take off an ASCII text): a recount runs this on every question of a year.
    if "@" in text or "http" in text:
        text = HANDLE_OR_URL_RE.sub(" ", text)
    text = text.strip()
    sentence = SENTENCE_END_RE.split(text, maxsplit=1)[0].strip() if text else ""
    lowered = sentence.lower()
    if not lowered:
        return None
    first_words = lowered.split()
    is_question = (
        lowered.endswith("?")
        or lowered.startswith("¿")
        or first_words[0] in QUESTION_STARTS
        or " ".join(first_words[:2]) in QUESTION_STARTS
    )
    if not is_question:
        return None
    plain = lowered.lstrip("¿")
    if not plain.isascii():
        plain = unicodedata.normalize("NFKD", plain)
        plain = "".join(c for c in plain if not unicodedata.combining(c))
    plain = PUNCTUATION_RE.sub(" ", plain)
    plain = " ".join(plain.split())[:200]
    return plain or None
