"""Learned analyzers: the built-in model, a brand's model trained on its team's corrections and used
only while it beats the built-in one, and how a model is stored."""

from __future__ import annotations

import gc
import io
from collections import OrderedDict
from datetime import UTC, datetime, timedelta

import numpy as np
import pytest
from django.conf import settings

from listening import learning
from listening.connectors import FetchedAuthor, FetchedItem
from listening.ingest import ingest_items
from listening.learning import CareModel, analyzer_models_train, builtin
from listening.models import AnalyzerModel, Intent, Mention, Platform
from listening.services import mention_correct_intent
from listening.tasks import train_analyzers
from tests.factories import ChannelFactory, MentionFactory

T0 = datetime(2026, 11, 20, 12, 0, tzinfo=UTC)
# A game's community calls a broken item "zorped" and a good one "glorb": words no analyzer knows.
ITEMS = ["helmet", "sword", "shield", "bow", "cloak", "boots", "ring", "axe", "staff", "map", "mount", "pet"]


@pytest.fixture
def few_corrections(monkeypatch: pytest.MonkeyPatch) -> int:
    """Train on a few dozen corrections rather than 200, in three folds: same code, a faster test."""
    monkeypatch.setattr(learning, "MIN_CORRECTIONS", 36)
    monkeypatch.setattr(learning, "FOLDS", 3)
    return 36


def _corrected(team, channel, texts_and_intents: list[tuple[str, str]]) -> None:
    for i, (text, intent) in enumerate(texts_and_intents):
        mention = MentionFactory(
            channel=channel, text=text, language="en", intent=Intent.OTHER, analyzer_intent=Intent.OTHER,
            published_at=T0 - timedelta(minutes=i),
        )  # fmt: skip
        mention_correct_intent(mention=mention, intent=intent, actor=team.cm)


def test_a_stored_model_reads_back_exactly_and_needs_no_pickle() -> None:
    model = builtin("en")
    data = model.to_bytes()
    loaded = CareModel.from_bytes(data)
    text = "Parcel marked delivered, nothing here"
    assert loaded.predict(text, 0.0) == model.predict(text, 0.0)
    with np.load(io.BytesIO(data), allow_pickle=False) as archive:
        assert all(archive[name].dtype != object for name in archive.files)


def test_a_stored_blob_that_would_run_code_is_refused() -> None:
    buffer = io.BytesIO()
    np.savez(buffer, version=np.array([learning.FEATURES_VERSION]), meta=np.array([{"x": 1}], dtype=object))
    assert CareModel.from_bytes(buffer.getvalue()) is None
    assert CareModel.from_bytes(b"not a model at all") is None


@pytest.mark.django_db
def test_a_brand_model_learns_the_teams_words_and_is_used_while_it_beats_the_built_in(team, few_corrections) -> None:
    channel = ChannelFactory(brand=team.brand, platform=Platform.X)
    examples = [(f"my {item} got zorped today", Intent.COMPLAINT) for item in ITEMS]
    examples += [(f"the new {item} is glorb", Intent.PRAISE) for item in ITEMS]
    examples += [(f"is the {item} zorped or glorb?", Intent.QUESTION) for item in ITEMS]
    _corrected(team, channel, examples)
    # Another brand's corrections never train this brand's model.
    _corrected(team, ChannelFactory(brand=team.other_brand), [(f"zorped {i}", Intent.PRAISE) for i in range(40)])

    rows = analyzer_models_train(brand=team.brand)

    assert [(r.language, r.target) for r in rows] == [("en", "intent")]  # too few sentiment corrections
    row = rows[0]
    assert row.corrections == len(examples) and row.in_use
    assert row.model_accuracy > row.builtin_accuracy
    created = ingest_items(
        channel=channel,
        items=[
            FetchedItem(
                external_id="n1",
                text="my pickaxe got zorped again",
                author=FetchedAuthor(external_id="a1", handle="gamer"),
                published_at=T0,
            )
        ],
    ).created
    mention = Mention.objects.get(pk=created[0].pk)
    assert mention.intent == Intent.COMPLAINT
    assert mention.analysis["analyzer"] == "brand"
    assert "zorped" in [word for word, _weight in mention.analysis["words"]]


@pytest.mark.django_db
def test_a_model_that_does_not_beat_the_built_in_is_kept_but_not_used(team, few_corrections) -> None:
    channel = ChannelFactory(brand=team.brand, platform=Platform.X)
    # People agree with the built-in analyzer: plain complaints and questions, labelled as it says.
    texts = [(f"I was charged twice for order {n} and nobody answers", Intent.COMPLAINT) for n in range(20)]
    texts += [(f"What time does the shop on street {n} open on Sundays?", Intent.QUESTION) for n in range(20)]
    _corrected(team, channel, texts)

    row = analyzer_models_train(brand=team.brand)[0]

    assert not row.in_use and row.model_accuracy <= row.builtin_accuracy
    mention = ingest_items(
        channel=channel,
        items=[FetchedItem(external_id="n2", text="Charged twice again", author=FetchedAuthor(external_id="a2"),
                           published_at=T0)],
    ).created[0]  # fmt: skip
    assert Mention.objects.get(pk=mention.pk).analysis["analyzer"] == "built-in"


@pytest.mark.django_db
def test_without_enough_corrections_nothing_is_trained(team) -> None:
    channel = ChannelFactory(brand=team.brand, platform=Platform.X)
    _corrected(team, channel, [(f"my {item} got zorped", Intent.COMPLAINT) for item in ITEMS])
    assert analyzer_models_train(brand=team.brand) == []
    assert not AnalyzerModel.objects.exists()


@pytest.mark.django_db
def test_the_nightly_task_trains_every_brand_once_at_a_time(team, few_corrections) -> None:
    from django.core.cache import cache

    channel = ChannelFactory(brand=team.brand, platform=Platform.X)
    _corrected(team, channel, [(f"my {item} got zorped", Intent.COMPLAINT) for item in ITEMS * 2])
    _corrected(team, channel, [(f"the {item} is glorb", Intent.PRAISE) for item in ITEMS])
    cache.add("listening:train-analyzers", "1")  # another copy is running
    assert train_analyzers() == 0
    cache.delete("listening:train-analyzers")
    assert train_analyzers() == 1
    assert settings.CELERY_BEAT_SCHEDULE["train-analyzers"]["task"] == train_analyzers.name


@pytest.mark.parametrize(
    "text",
    [
        "My BOOTS broke  twice, twice!",
        "Glorb cloak\tand boots\n\nagain",
        "¿Dónde está mi pedido? Ñandú ÇA",
        "a I x 42 ok 🙂 @acme #fail https://acme.example/x?y=1",
        "İstanbul straße ǅemal",
        "   ",
        "",
    ],
)
def test_a_models_n_grams_are_the_vectorizers_own(text: str) -> None:
    """A model reads a text without scikit-learn, cutting it into the very n-grams it was fitted on."""
    word, char = learning._vectorizers()
    assert learning.word_grams_of(text) == word.build_analyzer()(text)
    # Character n-grams never cross a word boundary: a text's are its words' one after the other.
    assert [gram for w in text.lower().split() for gram in learning.char_grams(w)] == char.build_analyzer()(text)


def test_a_texts_features_are_the_vectorizers_own_however_often_its_words_were_seen() -> None:
    texts = ["My BOOTS broke  twice, twice!", "Glorb cloak\tand boots", "¿Dónde está mi pedido?", "map map map"]
    model = learning.fit(
        target="intent", language="en", texts=texts, lexicons=[0.0] * 4, labels=["complaint", "other"] * 2
    )
    word, char = learning._vectorizers()
    expected = np.hstack([word.fit(texts).transform(texts).toarray(), char.fit(texts).transform(texts).toarray()])
    for _round in range(2):  # the second time every word's n-grams come from the model's memory
        for text, row in zip(texts, expected, strict=True):
            columns, values = model._vector(text, 0.0, learning.word_grams_of(text))
            dense = np.zeros(expected.shape[1] + 2)
            dense[columns] = values
            assert np.allclose(dense[:-2], row, atol=1e-6)


def _brand_models_alive() -> int:
    gc.collect()
    builtins = {id(model) for model in _builtins()}
    return sum(1 for o in gc.get_objects() if type(o) is CareModel and id(o) not in builtins)


def _builtins() -> list[CareModel]:
    return [model for model in (builtin(language) for language in ("en", "es")) if model is not None]


@pytest.mark.django_db
def test_a_worker_keeps_the_models_of_the_brands_it_read_last_not_of_every_brand(monkeypatch) -> None:
    """An agency's worker reads hundreds of brands, a model is megabytes: it keeps ``MODELS_KEPT``
    brands' models loaded and loads another's again when that brand's next page comes."""
    monkeypatch.setattr(learning, "MODELS_KEPT", 2)
    monkeypatch.setattr(learning, "_loaded", OrderedDict())  # none of the other tests' brands
    weights = builtin("en").to_bytes()
    channels = []
    for _ in range(4):
        channel = ChannelFactory(platform=Platform.X)
        AnalyzerModel.objects.create(
            brand=channel.brand, language="en", target="intent", model_accuracy=0.9, builtin_accuracy=0.8,
            in_use=True, weights=weights,
        )  # fmt: skip
        channels.append(channel)
    before = _brand_models_alive()

    def read(channel, n: int) -> Mention:
        item = FetchedItem(
            external_id=f"{channel.pk}-{n}",
            text="my order never arrived and nobody answers",
            author=FetchedAuthor(external_id="a1", handle="someone"),
            published_at=T0,
        )
        return Mention.objects.get(pk=ingest_items(channel=channel, items=[item]).created[0].pk)

    for channel in channels:
        assert read(channel, 1).analysis["analyzer"] == "brand"
    assert _brand_models_alive() - before == 2
    # The first brand's models were let go; its next page loads them again.
    assert read(channels[0], 2).analysis["analyzer"] == "brand"
    assert _brand_models_alive() - before == 2
