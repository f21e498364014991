"""Benchmark: language detection, lingua's high accuracy mode (what ingestion uses) against its low
accuracy mode, by the length of the text, on the project's own texts whose language is known.

    .venv/bin/python bench/language.py [repeats=3]

The texts: the labelled English and Spanish sets of tests/fixtures/sentiment (customer care posts,
the VADER paper's tweets) and the sandbox's customer posts in both languages, their blanks filled
in. Each is read as ingestion reads a text of its length: a short one (up to ``SHORT_WORDS`` words)
among the brand's languages first, which neither mode changes, a longer one among every detected
language. For each band of length, prints how many texts it holds, the share each mode reads as
the language the text is labelled with, and its time per text (the fastest of ``repeats`` passes,
one text at a time as a forked pool process reads them).

Low accuracy mode reads trigrams only, where high accuracy mode reads one- to five-grams: faster on
long texts, and lingua's documentation says it is as good on them. This measures where that holds
on texts like ours.
"""

from __future__ import annotations

import csv
import os
import random
import sys
import time
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.test_settings")

import django  # noqa: E402

django.setup()

from lingua import LanguageDetector  # noqa: E402

from listening.language import (  # noqa: E402
    NOISE,
    SHORT_WORDS,
    WARM_UP_TEXTS,
    _code,
    language_detector,
    long_text_detector,
)
from sandbox.generator import CUSTOMER_TEXTS, fill_blanks  # noqa: E402

FIXTURES = ROOT / "tests" / "fixtures" / "sentiment"
# Bands of length in words (after links, handles and hashtags are taken out), the last open.
BANDS = ((SHORT_WORDS + 1, 14), (15, 19), (20, 29), (30, 10_000))


def labelled() -> list[tuple[str, str]]:
    """(text, language) of every labelled text the project holds."""
    texts: list[tuple[str, str]] = []
    for name in ("en_care_blind", "es_care_blind", "es_heldout", "es_labeled"):
        with (FIXTURES / f"{name}.tsv").open(encoding="utf-8") as rows:
            reader = csv.reader(rows, delimiter="\t")
            next(reader)
            texts += [(row[0], name[:2]) for row in reader if row]
    with (FIXTURES / "vader" / "tweets_GroundTruth.txt").open(encoding="utf-8") as rows:
        texts += [(line.split("\t")[2].strip(), "en") for line in rows if line.count("\t") >= 2]
    rng = random.Random(7)
    for by_language in CUSTOMER_TEXTS.values():
        for language, templates in by_language.items():
            texts += [(fill_blanks(template, rng), language) for template in templates for _ in range(3)]
    return texts


def reader(detector: LanguageDetector) -> Callable[[str], str]:
    def read(words: str) -> str:
        language = detector.detect_language_of(words)
        return _code(language) if language is not None else ""

    return read


def timed(read: Callable[[str], str], texts: list[str], repeats: int) -> tuple[list[str], float]:
    """What ``read`` makes of each text, and its fastest pass's time per text, in µs."""
    best = float("inf")
    for _ in range(repeats):
        began = time.perf_counter()
        found = [read(text) for text in texts]
        best = min(best, time.perf_counter() - began)
    return found, best / len(texts) * 1e6


def main(repeats: int = 3) -> None:
    modes = {"high accuracy": reader(language_detector()), "low accuracy": reader(long_text_detector())}
    for read in modes.values():  # the models loaded before timing, as a worker's parent does
        for text in WARM_UP_TEXTS:
            read(text)
    texts = [(NOISE.sub(" ", text).strip(), language) for text, language in labelled()]
    print(f"labelled texts: {len(texts):,}; up to {SHORT_WORDS} words read among the brand's languages, in both modes")
    for first, last in BANDS:
        band = [(words, language) for words, language in texts if first <= len(words.split()) <= last]
        if not band:
            continue
        words = [text for text, _language in band]
        figures = []
        for mode, read in modes.items():
            found, per_text = timed(read, words, repeats)
            right = sum(got == language for got, (_text, language) in zip(found, band, strict=True))
            figures.append(f"{mode} {right / len(band):.2%} in {per_text:,.0f} µs/text")
        label = f"{first}+ words" if last >= 10_000 else f"{first}-{last} words"
        print(f"{label}: {len(band):,} texts; " + "; ".join(figures))


if __name__ == "__main__":
    main(*(int(argument) for argument in sys.argv[1:]))
