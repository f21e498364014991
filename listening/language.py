"""Which language a mention is written in (lingua), so sentiment reads it with the right lexicon."""

from __future__ import annotations

import os
import re
from collections.abc import Iterable, Sequence
from functools import cache

from lingua import Language, LanguageDetector, LanguageDetectorBuilder

# The languages we tell apart. Fewer candidates make the detector both faster and surer; only
# English and Spanish are scored, the others are detected so they stay unscored instead of being
# read with a lexicon that is not theirs.
DETECTED_LANGUAGES = (
    Language.ENGLISH,
    Language.SPANISH,
    Language.PORTUGUESE,
    Language.FRENCH,
    Language.GERMAN,
    Language.ITALIAN,
    Language.CATALAN,
)
DETECTABLE = frozenset(language.iso_code_639_1.name.lower() for language in DETECTED_LANGUAGES)
DEFAULT_EXPECTED = ("en", "es")
NOISE = re.compile(r"https?://\S+|www\.\S+|[@#][\w.]+|\s+")
# Up to this many words a text is short: a handful of words says little about its language
# ("Me encanta Acme" scores Catalan 0.38, Spanish 0.22), so the brand's expected languages go first.
SHORT_WORDS = 6
# An expected language wins a short text when its confidence is at least this share of the
# leader's: "Obrigado Acme" (Portuguese 0.57, Spanish 0.19) stays Portuguese.
EXPECTED_SHARE = 0.5
# From this many words a text is long: lingua's low accuracy mode (trigrams only) reads it as well
# as its high accuracy mode (one- to five-grams) in a third of the time. On the project's labelled
# texts (bench/language.py), both read 99.88% of those of 20 to 29 words right, at 68 µs a text
# against 199; on shorter ones low accuracy is wrong more often (98.91% against 99.67% from 15 to
# 19 words), so they keep high accuracy.
LONG_WORDS = 20


def _code(language: Language) -> str:
    return language.iso_code_639_1.name.lower()


@cache
def language_detector() -> LanguageDetector:
    return (
        LanguageDetectorBuilder.from_languages(*DETECTED_LANGUAGES)
        .with_minimum_relative_distance(0.05)  # unsure → no language rather than a guess
        .build()
    )


@cache
def long_text_detector() -> LanguageDetector:
    """``language_detector`` in low accuracy mode, for texts of ``LONG_WORDS`` words or more. Its
    trigram models are the ones the high accuracy detector loaded: it takes no memory of its own."""
    return (
        LanguageDetectorBuilder.from_languages(*DETECTED_LANGUAGES)
        .with_minimum_relative_distance(0.05)
        .with_low_accuracy_mode()
        .build()
    )


def _detector_for(words: str) -> LanguageDetector:
    return long_text_detector() if len(words.split()) >= LONG_WORDS else language_detector()


def language_models_preload() -> None:
    """Load now the models a detection reads, rather than on a process's first mentions.

    lingua loads them once per process, one language and n-gram size at a time, as texts ask for
    them; a Celery worker's parent calls this before it forks its pool, so that the pool processes
    share one copy (``listening.tasks``). Loading every model outright would take twice the memory.
    """
    for text in WARM_UP_TEXTS:
        language_detector().compute_language_confidence_values(text)
        language_detector().detect_language_of(text)
    long_text_detector().detect_language_of(WARM_UP_TEXTS[1])


# Short and long texts in every detected language: together they ask for the models detection uses.
WARM_UP_TEXTS = (
    "Thanks, it works again",
    "I was charged twice for the same order and nobody answers my messages",
    "Gracias, ya funciona",
    "Me cobraron dos veces el mismo pedido y nadie contesta mis mensajes",
    "Obrigado, já está a funcionar de novo",
    "Merci, ça marche à nouveau, très bien",
    "Danke, es funktioniert wieder, großartig",
    "Grazie, funziona di nuovo perfettamente",
    "Gràcies, ja torna a funcionar molt bé",
)


def detect_language(text: str, hint: str = "", expected: Iterable[str] = DEFAULT_EXPECTED) -> str:
    """ISO 639-1 code of ``text``, or "" when unsure; the platform's own tag breaks a tie.

    A short text is read among the ``expected`` languages (the brand's) first: one of them wins
    unless another language is clearly ahead. Longer texts are detected among all languages.
    """
    words = NOISE.sub(" ", text).strip()
    hint = (hint or "").split("-")[0].lower()
    expected = [code for code in expected if code in DETECTABLE]
    if len(words) >= 3:
        if expected and len(words.split()) <= SHORT_WORDS:
            ranked = [
                (_code(v.language), v.value) for v in language_detector().compute_language_confidence_values(words)
            ]
            if ranked:
                leader, lead = ranked[0]
                best = next(((code, value) for code, value in ranked if code in expected), None)
                if leader in expected:
                    return leader
                if best is not None and best[1] >= lead * EXPECTED_SHARE:
                    return best[0]
        language = _detector_for(words).detect_language_of(words)
        if language is not None:
            return _code(language)
    return hint if hint in DETECTABLE else ""


# The pid of the process whose lingua thread pool is running. A pool's threads do not survive a
# fork: a forked child (a Celery pool process, a worker killed and restarted) whose parent ran a
# batch would wait for them forever, so it reads its batches one text at a time.
_pool_pid: int | None = None


def _may_run_in_parallel() -> bool:
    global _pool_pid
    if _pool_pid is None:
        _pool_pid = os.getpid()
    return _pool_pid == os.getpid()


def detect_languages(
    texts: Sequence[str], hints: Sequence[str] | None = None, expected: Iterable[str] = DEFAULT_EXPECTED
) -> list[str]:
    """``detect_language`` of many texts at once, with the same answer for each: lingua reads the
    batch in a call per kind of text (short ones among the expected languages, long ones in low
    accuracy mode, the others) instead of one call per text, which a page of mentions otherwise
    spends most of its language detection on. A text the batch holds more than once is read once."""
    hints = [(hint or "").split("-")[0].lower() for hint in (hints or [""] * len(texts))]
    expected = [code for code in expected if code in DETECTABLE]
    cleaned = [NOISE.sub(" ", text).strip() for text in texts]
    words = list(dict.fromkeys(cleaned))
    found: list[str | None] = [None] * len(words)
    short = [i for i, w in enumerate(words) if len(w) >= 3 and expected and len(w.split()) <= SHORT_WORDS]
    if short:
        detector, batch = language_detector(), [words[i] for i in short]
        if _may_run_in_parallel():
            confidences = detector.compute_language_confidence_values_in_parallel(batch)
        else:
            confidences = [detector.compute_language_confidence_values(text) for text in batch]
        for i, values in zip(short, confidences, strict=True):
            ranked = [(_code(v.language), v.value) for v in values]
            if ranked:
                leader, lead = ranked[0]
                best = next(((code, value) for code, value in ranked if code in expected), None)
                if leader in expected:
                    found[i] = leader
                elif best is not None and best[1] >= lead * EXPECTED_SHARE:
                    found[i] = best[0]
    rest = [i for i, w in enumerate(words) if found[i] is None and len(w) >= 3]
    # One batch per detector: the long texts' and the others'.
    batches: dict[int, tuple[LanguageDetector, list[int]]] = {}
    for i in rest:
        detector = _detector_for(words[i])
        batches.setdefault(id(detector), (detector, []))[1].append(i)
    for detector, wanted in batches.values():
        batch = [words[i] for i in wanted]
        if _may_run_in_parallel():
            languages = detector.detect_languages_in_parallel_of(batch)
        else:
            languages = [detector.detect_language_of(text) for text in batch]
        for i, language in zip(wanted, languages, strict=True):
            if language is not None:
                found[i] = _code(language)
    by_words = dict(zip(words, found, strict=True))
    return [
        code if (code := by_words[w]) is not None else (hint if hint in DETECTABLE else "")
        for w, hint in zip(cleaned, hints, strict=True)
    ]
