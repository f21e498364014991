"""Short texts are read among the brand's languages first; other languages stay detectable."""

from __future__ import annotations

import os
import signal
import time
from datetime import UTC, datetime
from pathlib import Path

import pytest
from django.core.exceptions import ValidationError

from listening.connectors import FetchedAuthor, FetchedItem
from listening.ingest import ingest_items
from listening.language import detect_language, detect_languages
from listening.models import Intent, Mention, Platform, Sentiment
from tests.factories import BrandFactory, ChannelFactory


@pytest.mark.parametrize(
    "text, expected",
    [
        ("Me encanta Acme", "es"),  # Catalan leads lingua's scores on three words
        ("No funciona", "es"),  # Spanish, Portuguese and Catalan tie
        ("Thanks Acme", "en"),
    ],
)
def test_short_texts_are_read_among_the_expected_languages_first(text: str, expected: str) -> None:
    assert detect_language(text, expected=["en", "es"]) == expected


@pytest.mark.parametrize(
    "text, language",
    [
        ("Gràcies Acme", "ca"),
        ("Obrigado Acme", "pt"),
        ("Molt bon servei, gràcies", "ca"),
        ("Très bon service, merci beaucoup", "fr"),
        ("Muito obrigado pelo atendimento de ontem", "pt"),
    ],
)
def test_other_languages_stay_detectable(text: str, language: str) -> None:
    assert detect_language(text, expected=["en", "es"]) == language


def test_a_brand_that_expects_other_languages_reads_short_texts_its_way() -> None:
    assert detect_language("Me encanta Acme", expected=["en"]) == "ca"
    assert detect_language("Me encanta Acme", expected=["ca", "es"]) in ("ca", "es")


@pytest.mark.django_db
def test_ingestion_uses_the_brands_languages_and_leaves_others_unscored() -> None:
    brand = BrandFactory()
    assert brand.languages == ["en", "es"]
    channel = ChannelFactory(brand=brand, platform=Platform.X)
    author = FetchedAuthor(external_id="a", handle="h")
    at = datetime(2026, 11, 20, tzinfo=UTC)
    ingest_items(
        channel=channel,
        items=[
            FetchedItem(external_id="1", text="Me encanta Acme", author=author, published_at=at),
            FetchedItem(external_id="2", text="Molt bon servei, gràcies", author=author, published_at=at),
        ],
    )
    spanish, catalan = Mention.objects.filter(channel=channel).order_by("external_id")
    assert (spanish.language, spanish.sentiment) == ("es", Sentiment.POSITIVE)
    assert (catalan.language, catalan.sentiment, catalan.intent) == ("ca", Sentiment.UNSCORED, Intent.UNCLASSIFIED)


@pytest.mark.django_db
def test_a_brand_lists_only_languages_we_detect() -> None:
    brand = BrandFactory()
    brand.languages = ["en", "klingon"]
    with pytest.raises(ValidationError):
        brand.full_clean()
    brand.languages = ["en", "ca"]
    brand.full_clean()


def _labelled_texts() -> list[str]:
    root = Path(__file__).resolve().parents[2]
    files = [root / "listening/lexicons/care_en.tsv", root / "listening/lexicons/care_es.tsv"]
    files += sorted((root / "tests/fixtures/sentiment").glob("*.tsv"))
    return [row.split("\t")[0] for path in files for row in path.read_text(encoding="utf-8").splitlines()[1:] if row]


def test_a_batch_is_read_as_each_text_alone() -> None:
    texts = [*_labelled_texts(), "Me encanta Acme", "No funciona", "Gràcies Acme", "Obrigado Acme", "ok", "", "@acme"]
    hints = ["pt" if i % 5 == 0 else "" for i in range(len(texts))]
    for expected in (["en", "es"], ["en"], []):
        alone = [detect_language(text, hint, expected) for text, hint in zip(texts, hints, strict=True)]
        assert detect_languages(texts, hints, expected) == alone
    assert detect_languages(["ok", "@acme hi"], ["es-MX", "klingon"]) == ["es", ""]  # too short: the hint decides


def test_a_process_forked_after_a_batch_still_detects_batches() -> None:
    """A Celery pool process is forked from a parent that may have read a batch: lingua's thread
    pool does not survive the fork, and waiting for it would hang the child (and its channel)."""
    texts = ["I was charged twice for the same order", "Me cobraron dos veces el mismo pedido"]
    assert detect_languages(texts) == ["en", "es"]  # the parent's thread pool now runs
    read, write = os.pipe()
    pid = os.fork()
    if pid == 0:  # the child
        try:
            os.write(write, ",".join(detect_languages(texts)).encode())
        finally:
            os._exit(0)
    os.close(write)
    deadline = time.monotonic() + 60
    while (done := os.waitpid(pid, os.WNOHANG))[0] == 0 and time.monotonic() < deadline:
        time.sleep(0.1)
    if done[0] == 0:
        os.kill(pid, signal.SIGKILL)
        os.waitpid(pid, 0)
    answer = os.read(read, 100).decode()
    os.close(read)
    assert answer == "en,es", "the forked child never answered"
