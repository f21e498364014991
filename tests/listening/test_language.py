"""Short texts are read among the brand's languages first; other languages stay detectable."""

from __future__ import annotations

import os
import signal
import time
from datetime import UTC, datetime
from pathlib import Path

import pytest
from django.core.exceptions import ValidationError

from listening import language
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


LONG_TEXTS = {
    "en": "I ordered the blender three weeks ago and it still has not arrived, the tracking page has said "
    "the same thing since Monday and nobody answers my emails",
    "es": "Pedí la batidora hace tres semanas y todavía no ha llegado, la página de seguimiento dice lo mismo "
    "desde el lunes y nadie contesta mis correos",
    "pt": "Encomendei a liquidificadora há três semanas e ainda não chegou, a página de seguimento diz a mesma "
    "coisa desde segunda-feira e ninguém responde aos meus emails",
    "fr": "J'ai commandé le mixeur il y a trois semaines et il n'est toujours pas arrivé, la page de suivi dit "
    "la même chose depuis lundi et personne ne répond à mes messages",
    "de": "Ich habe den Mixer vor drei Wochen bestellt und er ist immer noch nicht angekommen, die "
    "Sendungsverfolgung zeigt seit Montag dasselbe an und niemand beantwortet meine Nachrichten",
    "it": "Ho ordinato il frullatore tre settimane fa e non è ancora arrivato, la pagina di tracciamento dice "
    "la stessa cosa da lunedì e nessuno risponde alle mie email",
    "ca": "Vaig demanar la batedora fa tres setmanes i encara no ha arribat, la pàgina de seguiment diu el "
    "mateix des de dilluns i ningú no contesta els meus correus",
}


def test_long_texts_are_read_in_low_accuracy_mode_in_every_language(monkeypatch) -> None:
    """From ``LONG_WORDS`` words on, a text costs a third: lingua's trigrams alone read it as well
    (bench/language.py), and the high accuracy detector is not asked."""

    class Refuses:
        def __getattr__(self, name: str) -> object:
            raise AssertionError(f"a long text was read in high accuracy mode ({name})")

    texts = list(LONG_TEXTS.values())
    assert all(len(text.split()) >= language.LONG_WORDS for text in texts)
    monkeypatch.setattr(language, "language_detector", Refuses)

    assert [detect_language(text) for text in texts] == list(LONG_TEXTS)
    assert detect_languages(texts) == list(LONG_TEXTS)
