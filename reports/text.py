"""Words and questions in a mention's text: what the rollups count and a spike alert names."""

from __future__ import annotations

import re
import unicodedata

STOPWORDS = frozenset(
    """
    the and for are but not you your with this that have has had was were from they them their there what when
    where which who why how all any can our out its it's just about into more some than then too very will would
    should could been being get got also only one two like dont don't i'm im yes http https www com
    que los las del por con una para como pero sus mas más este esta estos estas ese esa eso muy sin sobre
    entre cuando donde quien porque hay fue son está están ser tiene tienen todo todos nos les ella ellos
    desde hasta también tambien solo ya qué cómo cuál cuándo dónde por qué
    """.split()
)
# Words that open a question. Unaccented Spanish forms ("como", "que") are left out: without the
# accent they are ordinary words ("I eat", "that"); a question mark still catches those questions.
QUESTION_STARTS = (
    "how", "what", "why", "when", "where", "who", "which",
    "cómo", "qué", "por qué", "cuándo", "dónde", "quién", "cuál", "cuánto", "cuánta",
)  # fmt: skip
WORD_RE = re.compile(r"#?[^\W\d_][\w'-]{2,63}", re.UNICODE)
HANDLE_OR_URL_RE = re.compile(r"https?://\S+|@\w+")


def words_of(text: str) -> list[str]:
    """Lower-cased words of three letters or more, minus en/es stopwords; hashtags keep their #."""
    text = HANDLE_OR_URL_RE.sub(" ", text.lower())
    return [w for w in WORD_RE.findall(text) if w.lstrip("#") not in STOPWORDS]


def question_of(text: str) -> str | None:
    """The normalized wording of a question, or None: what groups "How do I reset?" with "how do i reset".

    A question ends with "?" (or starts with "¿") or starts with a question word; handles, links,
    accents and punctuation are dropped so that near-identical wordings fall together.
    """
    text = HANDLE_OR_URL_RE.sub(" ", text).strip()
    sentence = re.split(r"(?<=[?.!])\s", text)[0].strip() if text else ""
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
    plain = unicodedata.normalize("NFKD", lowered.lstrip("¿"))
    plain = "".join(c for c in plain if not unicodedata.combining(c))
    plain = re.sub(r"[^\w\s]", " ", plain)
    plain = " ".join(plain.split())[:200]
    return plain or None
