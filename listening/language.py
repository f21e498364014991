"""Which language a mention is written in (lingua), so sentiment reads it with the right lexicon."""

from __future__ import annotations

import re
from functools import cache

from lingua import Language, LanguageDetector, LanguageDetectorBuilder

# The languages a brand's audience writes in, as far as we detect them. Fewer candidates make the
# detector both faster and surer; Catalan and Galician are left out because short Spanish posts
# ("Me encanta Acme") are read as Catalan, which would leave Spanish complaints unscored.
DETECTED_LANGUAGES = (
    Language.ENGLISH,
    Language.SPANISH,
    Language.PORTUGUESE,
    Language.FRENCH,
    Language.GERMAN,
    Language.ITALIAN,
)
NOISE = re.compile(r"https?://\S+|www\.\S+|[@#][\w.]+|\s+")


@cache
def language_detector() -> LanguageDetector:
    return (
        LanguageDetectorBuilder.from_languages(*DETECTED_LANGUAGES)
        .with_minimum_relative_distance(0.05)  # unsure → no language rather than a guess
        .build()
    )


def detect_language(text: str, hint: str = "") -> str:
    """ISO 639-1 code of ``text``, or "" when unsure; the platform's own tag breaks a tie."""
    words = NOISE.sub(" ", text).strip()
    hint = (hint or "").split("-")[0].lower()
    known = {language.iso_code_639_1.name.lower() for language in DETECTED_LANGUAGES}
    if len(words) >= 3:
        language = language_detector().detect_language_of(words)
        if language is not None:
            return language.iso_code_639_1.name.lower()
    return hint if hint in known else ""
