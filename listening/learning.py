"""Learned customer-care models: word and character n-grams plus the lexicon's features, read by a
logistic regression.

Two kinds, one shape (``CareModel``):

- the built-in model of each language, trained here, on first use in a process, from Escucha's own
  labelled customer-care mentions (``listening/lexicons/care_<language>.tsv``). It decides a
  mention's intent: on mentions worded unlike anything the cue rules were written against it finds
  far more complaints (README, "Sentiment and intent");
- a brand's model, trained by the periodic task ``listening.train_analyzers`` on the same examples
  plus the brand's own reviewed mentions, and used only while it beats the built-in analyzer on
  those mentions (``analyzer_models_train``).

Nothing is downloaded. A stored model is numbers and words in a NumPy archive read with
``allow_pickle=False``: loading one never runs code.
"""

from __future__ import annotations

import io
import logging
import math
import os
import re
import threading
from collections import Counter, OrderedDict
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import cache
from itertools import chain, pairwise, repeat
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from listening.configuration import brand_configuration

if TYPE_CHECKING:
    from scipy.sparse import csr_matrix

    from listening.models import AnalyzerModel, Brand
    from listening.sentiment import Models, Scored

log = logging.getLogger(__name__)

LEXICON_DIR = Path(__file__).resolve().parent / "lexicons"
# Bumped whenever the features change: a stored model of another version is not used.
FEATURES_VERSION = 1
TARGETS = ("intent", "sentiment")
# The vectorizers' settings are part of the features: a stored model only keeps their vocabularies.
WORD_PARAMS: dict[str, Any] = {"ngram_range": (1, 2), "sublinear_tf": True, "dtype": np.float32}
CHAR_PARAMS: dict[str, Any] = {"analyzer": "char_wb", "ngram_range": (2, 5), "sublinear_tf": True, "dtype": np.float32}
LEXICON_SCALE = 0.5  # the lexicon's two features against thousands of n-grams
WORD_CACHE = 200_000  # words whose character n-grams a model keeps (a few tens of MB at most)
C = 2.0  # inverse regularization, chosen by comparing held-out rounds of the labelled set
TOKEN = re.compile(r"\w+")
# The word vectorizer's tokens (scikit-learn's default ``token_pattern``): two word characters or more.
WORD_TOKEN = re.compile(r"(?u)\b\w\w+\b")
# Words that carry no meaning of their own are left out of a model's reasons: "been" may weigh,
# but "minutes" and "support" are what a person can check.
FUNCTION_WORDS = frozenset(
    "a an and are as at be been but by for from had has have he her his i in is it its me my of on or our she "
    "so that the their them they this to us was we were with you your "
    "al con de del el en es la las le lo los me mi mis nos para por que se su sus te un una y ya".split()
)


@dataclass(frozen=True)
class Prediction:
    label: str
    confidence: float
    # The words that pushed hardest toward the label, strongest first, with their weight.
    words: tuple[tuple[str, float], ...]
    # Every class with its probability, most likely first.
    ranked: tuple[tuple[str, float], ...] = ()

    def runner_up(self) -> Prediction:
        """The second most likely class, for when the first is ruled out."""
        label, confidence = self.ranked[1]
        return Prediction(label, confidence, (), self.ranked[1:])


def word_grams_of(text: str) -> list[str]:
    """The word vectorizer's n-grams of ``text``: its lowercased tokens, then each pair of them.

    What ``TfidfVectorizer(**WORD_PARAMS).build_analyzer()`` returns, written out so that reading
    a model never imports scikit-learn (a worker's pool processes would each carry its ~90 MiB of
    modules for these few lines); a test holds the two to the same n-grams."""
    tokens = WORD_TOKEN.findall(text.lower())
    return tokens + [" ".join(pair) for pair in pairwise(tokens)]


def char_grams(word: str) -> list[str]:
    """The character vectorizer's n-grams of one word (``char_wb``, CHAR_PARAMS' sizes): the
    lowercased word padded with a space at each end, cut into n-grams of each size; a padded word
    shorter than a size is counted once, whole."""
    padded = f" {word.lower()} "
    low, high = CHAR_PARAMS["ngram_range"]
    grams: list[str] = []
    for n in range(low, high + 1):
        grams += [padded[i : i + n] for i in range(max(len(padded) - n + 1, 1))]
        if len(padded) <= n:
            break
    return grams


def _vectorizers() -> tuple[Any, Any]:
    from sklearn.feature_extraction.text import TfidfVectorizer

    return TfidfVectorizer(**WORD_PARAMS), TfidfVectorizer(**CHAR_PARAMS)


def _lexicon_features(lexicons: Sequence[float | None]) -> csr_matrix:
    from scipy.sparse import csr_matrix

    rows = [[LEXICON_SCALE * max(c or 0.0, 0.0), LEXICON_SCALE * max(-(c or 0.0), 0.0)] for c in lexicons]
    return csr_matrix(np.array(rows, dtype=np.float32).reshape(len(rows), 2))


@dataclass
class CareModel:
    """A fitted model: the vectorizers' vocabularies and weights, and the regression's coefficients."""

    target: str
    language: str
    classes: list[str]
    word_terms: np.ndarray
    word_idf: np.ndarray
    char_terms: np.ndarray
    char_idf: np.ndarray
    coef: np.ndarray  # one row per class, one column per feature
    intercept: np.ndarray

    def __post_init__(self) -> None:
        self._vocabularies = ({t: i for i, t in enumerate(self.word_terms.tolist())},
                              {t: i for i, t in enumerate(self.char_terms.tolist())})  # fmt: skip
        self._word_chars: dict[str, tuple[int, ...]] = {}
        self._tokens: dict[str, tuple[int, tuple[int, ...]]] = {}
        # Each weight against the mean of the classes (``_reasons``), worked out once.
        self._centered = self.coef - self.coef.mean(axis=0)
        # Both vectorizers' weights, one after the other as their columns are.
        self._idf = np.concatenate([self.word_idf, self.char_idf])

    def _char_columns(self, word: str) -> tuple[int, ...]:
        """The vocabulary's character n-grams of one lowercased word, as columns, in order.

        char_wb n-grams never cross a word boundary, so a text's are its words' one after the
        other: each word is cut into n-grams once a process, not once a text (most of the time
        a mention's reading took)."""
        found = self._word_chars.get(word)
        if found is None:
            chars = self._vocabularies[1]
            found = tuple(j for gram in char_grams(word) if (j := chars.get(gram)) is not None)
            if len(self._word_chars) >= WORD_CACHE:
                self._word_chars.clear()
            self._word_chars[word] = found
        return found

    def _token_columns(self, token: str) -> tuple[int, tuple[int, ...]]:
        """A lowercased token's own column (-1 when the vocabulary lacks it) and its distinct
        character n-grams' columns among all features, in the order ``_reasons`` adds them up:
        worked out once a process, like ``_char_columns``, not once a text."""
        found = self._tokens.get(token)
        if found is None:
            n_word = len(self.word_idf)
            found = (self._vocabularies[0].get(token, -1), tuple(n_word + j for j in set(self._char_columns(token))))
            if len(self._tokens) >= WORD_CACHE:
                self._tokens.clear()
            self._tokens[token] = found
        return found

    def _vector(self, text: str, lexicon: float | None, word_grams: list[str]) -> tuple[np.ndarray, np.ndarray]:
        """The text's features as (columns, values): each vectorizer's sublinear tf-idf, L2-normalized
        as the vectorizer does, then the lexicon's two. One text at a time without the vectorizers'
        input checks, which cost a few milliseconds a call."""
        words, _chars = self._vocabularies
        # Counted in C, in the order the columns first appear.
        word_counts = Counter(j for j in map(words.get, word_grams) if j is not None)
        # As the char_wb analyzer splits a text.
        char_counts = Counter(chain.from_iterable(map(self._char_columns, text.lower().split())))
        n_word, size = len(word_counts), len(word_counts) + len(char_counts)
        # Both vectorizers' columns and weights in one array each: a text's reading is a few dozen
        # values, where each NumPy call costs more than the arithmetic it does.
        columns = np.fromiter(chain(word_counts, char_counts, (0, 1)), dtype=np.int64, count=size + 2)
        columns[n_word:size] += len(self.word_idf)
        columns[size:] += len(self._idf)
        values = np.empty(size + 2)
        # Each weight as the vectorizer makes it, (1 + log n) times the idf in float32.
        counts = np.fromiter(chain(word_counts.values(), char_counts.values()), dtype=np.float64, count=size)
        values[:size] = (1 + np.log(counts)).astype(np.float32) * self._idf[columns[:size]]
        for part in (values[:n_word], values[n_word:size]):
            if len(part):
                part /= np.sqrt(part.dot(part))  # np.linalg.norm's own arithmetic
        lexicon = lexicon or 0.0
        values[size:] = (LEXICON_SCALE * max(lexicon, 0.0), LEXICON_SCALE * max(-lexicon, 0.0))
        return columns, values

    def predict(self, text: str, lexicon: float | None) -> Prediction:
        word_grams = word_grams_of(text)
        columns, values = self._vector(text, lexicon, word_grams)
        scores = self.coef[:, columns] @ values + self.intercept
        exp = np.exp(scores - scores.max())
        probabilities = exp / exp.sum()
        best = int(probabilities.argmax())
        ranked = sorted(zip(self.classes, map(float, probabilities), strict=True), key=lambda pair: -pair[1])
        reasons = self._reasons(text, columns, values, best, word_grams)
        return Prediction(self.classes[best], float(probabilities[best]), reasons, tuple(ranked))

    def _reasons(
        self, text: str, columns: np.ndarray, values: np.ndarray, label: int, word_grams: list[str], top: int = 3
    ) -> tuple[tuple[str, float], ...]:
        """The words that pushed hardest toward ``label``: a word's own features plus the character
        n-grams inside it (char_wb n-grams never cross a word boundary)."""
        # Against the mean of the classes, so a word common to every class explains nothing.
        weights = self._centered[label, columns]
        contribution = dict(zip(columns.tolist(), (values * weights).tolist(), strict=True))
        by_word: dict[str, float] = {}
        for token in {t.lower() for t in TOKEN.findall(text) if len(t) > 1} - FUNCTION_WORDS:
            column, chars = self._token_columns(token)
            by_word[token] = contribution.get(column, 0.0) + sum(map(contribution.get, chars, repeat(0.0)))
        words, _chars = self._vocabularies
        for bigram, j in ((g, words[g]) for g in set(word_grams) if " " in g and g in words):
            for token in bigram.split():
                if token in by_word:
                    by_word[token] += contribution.get(j, 0.0)
        ranked = sorted(((w, c) for w, c in by_word.items() if c > 0), key=lambda pair: (-pair[1], pair[0]))
        return tuple((word, round(weight, 3)) for word, weight in ranked[:top])

    # --- Storage: a NumPy archive, no pickle -------------------------------------------------------
    def to_bytes(self) -> bytes:
        buffer = io.BytesIO()
        np.savez_compressed(
            buffer,
            version=np.array([FEATURES_VERSION]),
            meta=np.array([self.target, self.language]),
            classes=np.array(self.classes),
            word_terms=self.word_terms.astype(str),
            word_idf=self.word_idf,
            char_terms=self.char_terms.astype(str),
            char_idf=self.char_idf,
            coef=self.coef,
            intercept=self.intercept,
        )
        return buffer.getvalue()

    @classmethod
    def from_bytes(cls, data: bytes) -> CareModel | None:
        """The stored model, or None when it was stored by other features (a newer or older Escucha)
        or is not a model at all: an archive that would need pickle to load is refused, never run."""
        try:
            return cls._load(data)
        except (ValueError, KeyError, OSError, EOFError) as error:
            log.warning("A stored model could not be read and is ignored: %s", error)
            return None

    @classmethod
    def _load(cls, data: bytes) -> CareModel | None:
        with np.load(io.BytesIO(bytes(data)), allow_pickle=False) as archive:
            if int(archive["version"][0]) != FEATURES_VERSION:
                return None
            target, language = (str(v) for v in archive["meta"])
            return cls(
                target=target,
                language=language,
                classes=[str(c) for c in archive["classes"]],
                word_terms=archive["word_terms"],
                word_idf=archive["word_idf"],
                char_terms=archive["char_terms"],
                char_idf=archive["char_idf"],
                coef=archive["coef"],
                intercept=archive["intercept"],
            )


def fit(
    *,
    target: str,
    language: str,
    texts: Sequence[str],
    lexicons: Sequence[float | None],
    labels: Sequence[str],
    weights: Sequence[float] | None = None,
) -> CareModel:
    """A model of ``target`` (intent or sentiment) fitted on labelled texts."""
    from scipy.sparse import hstack
    from sklearn.linear_model import LogisticRegression

    word, char = _vectorizers()
    x = hstack([word.fit_transform(texts), char.fit_transform(texts), _lexicon_features(lexicons)], format="csr")
    # Balanced classes: a brand with many complaints still learns what praise looks like.
    regression = LogisticRegression(C=C, max_iter=3000, class_weight="balanced")
    regression.fit(x, list(labels), sample_weight=None if weights is None else np.asarray(weights, dtype=float))
    coef = regression.coef_
    intercept = regression.intercept_
    if len(regression.classes_) == 2:  # a binary regression keeps one row: spell out both classes
        coef = np.vstack([-coef[0], coef[0]]) / 2
        intercept = np.array([-intercept[0], intercept[0]]) / 2
    return CareModel(
        target=target,
        language=language,
        classes=[str(c) for c in regression.classes_],
        word_terms=word.get_feature_names_out().astype(str),
        word_idf=word.idf_.astype(np.float32),
        char_terms=char.get_feature_names_out().astype(str),
        char_idf=char.idf_.astype(np.float32),
        coef=coef.astype(np.float32),
        intercept=intercept.astype(np.float32),
    )


@dataclass(frozen=True)
class Example:
    text: str
    sentiment: str
    intent: str


@cache
def labelled_examples(language: str) -> tuple[Example, ...]:
    """Escucha's labelled customer-care mentions in ``language`` (text, sentiment, intent)."""
    path = LEXICON_DIR / f"care_{language}.tsv"
    if not path.is_file():
        return ()
    rows = path.read_text(encoding="utf-8").splitlines()[1:]
    return tuple(Example(*row.split("\t")) for row in rows if row.strip())


# The built-in models this process fitted, or was handed by ``builtin_models_fit_apart``.
_builtins: dict[str, CareModel | None] = {}


def builtin(language: str) -> CareModel | None:
    """The built-in intent model of ``language``, fitted once per process (about a second)."""
    if language not in _builtins:
        _builtins[language] = fit_builtin(language)
    return _builtins[language]


def builtin_models_fit_apart(languages: Sequence[str]) -> None:
    """Fit the built-in models of ``languages`` in a child process, and keep them in this one.

    Fitting imports scikit-learn and SciPy, ~90 MiB of modules that reading a model never uses:
    a Celery worker's parent, whose memory each pool process maps, so holds only the fitted
    numbers, the same ones (a model's archive keeps them exactly). Should the child fail, each
    model is fitted here on first use, as before.
    """
    read, write = os.pipe()
    pid = os.fork()
    if pid == 0:  # the child: fit, write each archive after its length, and leave at once
        status = 1
        try:
            os.close(read)
            with os.fdopen(write, "wb") as out:
                for language in languages:
                    model = fit_builtin(language)
                    data = model.to_bytes() if model is not None else b""
                    out.write(len(data).to_bytes(8, "big") + data)
            status = 0
        finally:
            os._exit(status)
    os.close(write)
    with os.fdopen(read, "rb") as source:
        received = source.read()
    _pid, status = os.waitpid(pid, 0)
    if os.waitstatus_to_exitcode(status) != 0:
        log.warning("The built-in models could not be fitted apart; each is fitted on first use")
        return
    offset = 0
    for language in languages:
        size = int.from_bytes(received[offset : offset + 8], "big")
        data, offset = received[offset + 8 : offset + 8 + size], offset + 8 + size
        model = CareModel.from_bytes(data) if data else None
        if data and model is None:
            return  # unreadable (logged): fitted here on first use
        _builtins[language] = model


def fit_builtin(language: str) -> CareModel | None:
    """The built-in intent model of ``language``, fitted on Escucha's labelled mentions in it."""
    from listening.sentiment import lexicon_score

    examples = labelled_examples(language)
    if not examples:
        return None
    texts = [e.text for e in examples]
    return fit(
        target="intent",
        language=language,
        texts=texts,
        lexicons=[lexicon_score(t, language).compound for t in texts],
        labels=[e.intent for e in examples],
    )


def accuracy(predicted: Sequence[str], gold: Sequence[str]) -> float:
    return sum(p == g for p, g in zip(predicted, gold, strict=True)) / len(gold) if gold else math.nan


# --- A brand's models ----------------------------------------------------------------------------
# Once a brand has this many corrections in a language, a model of its own is trained and compared.
MIN_CORRECTIONS = 200
MAX_EXAMPLES = 5000  # the most recent reviewed mentions a training reads
FOLDS = 5
# A brand's own reviewed mentions weigh more than Escucha's labelled examples they are added to.
BRAND_WEIGHT = 3.0

# Brands whose learned models a worker process keeps loaded, the most recently read: a model is
# about 4 MB in memory (its vocabularies), a brand has one per language and target, and an agency's
# worker reads hundreds of brands. One read again is loaded again (about 12 ms a model).
MODELS_KEPT = 20

_loaded: OrderedDict[int, tuple[tuple[tuple[int, Any], ...], Models]] = OrderedDict()
_loaded_lock = threading.Lock()  # a web process ingests webhooks in several threads


def brand_models(brand_id: int) -> Models | None:
    """The brand's learned models in use, loaded once per process and again after a retraining, or
    after ``MODELS_KEPT`` other brands' were read since. Which models are in use is kept with the
    brand's configuration (``listening.configuration``: a retraining stores its models, which
    changes it), so that within a page they are not even looked for again; the models themselves
    are not, or a worker would keep every brand's it ever read."""
    in_use = brand_configuration(brand_id, "analyzer models", lambda: _models_in_use(brand_id))
    version = tuple((pk, trained_at) for pk, trained_at, _language, _target in in_use)
    with _loaded_lock:
        kept = _loaded.pop(brand_id, None)
        if kept is not None and kept[0] == version:
            _loaded[brand_id] = kept  # the most recently read now
            return kept[1]
    if not in_use:
        return None
    models = _models_read(in_use)
    with _loaded_lock:
        _loaded[brand_id] = (version, models)
        while len(_loaded) > MODELS_KEPT:
            _loaded.popitem(last=False)
    return models


def _models_in_use(brand_id: int) -> tuple[tuple[int, Any, str, str], ...]:
    """The brand's models in use: (id, trained at, language, target) each."""
    from listening.models import AnalyzerModel

    return tuple(
        AnalyzerModel.objects.filter(brand_id=brand_id, in_use=True, features_version=FEATURES_VERSION)
        .order_by("pk")
        .values_list("pk", "trained_at", "language", "target")
    )


def _models_read(in_use: Sequence[tuple[int, Any, str, str]]) -> Models:
    from listening.models import AnalyzerModel
    from listening.sentiment import Models

    weights = dict(AnalyzerModel.objects.filter(pk__in=[row[0] for row in in_use]).values_list("pk", "weights"))
    models = Models(intent={}, sentiment={})
    for pk, _trained_at, language, target in in_use:
        model = CareModel.from_bytes(weights[pk])
        if model is not None:
            (models.intent if target == "intent" else models.sentiment)[language] = model
    return models


def analyzer_for(brand_id: int) -> Callable[[str, str], Scored]:
    """How ingestion reads a brand's mentions: customer care, with the brand's models where in use."""
    from listening.sentiment import analyze

    models = brand_models(brand_id)
    return lambda text, language: analyze(text, language, models, care=True)


@dataclass(frozen=True)
class Reviewed:
    """A mention a person labelled: corrected it, or handled it with the analyzer's label kept."""

    text: str
    label: str
    corrected: bool


def reviewed_mentions(brand: Brand, language: str, target: str) -> list[Reviewed]:
    """The brand's reviewed mentions in ``language``, most recent first, with the label people gave."""
    from django.db.models import Q

    from listening.models import Intent, Mention, Sentiment

    field, unknown = ("intent", Intent.UNCLASSIFIED) if target == "intent" else ("sentiment", Sentiment.UNSCORED)
    corrected = Q(**{f"{field}_corrected_by__isnull": False})
    handled = Q(status__in=[Mention.Status.REPLIED, Mention.Status.ROUTED, Mention.Status.CLOSED])
    rows = (
        Mention.objects.filter(brand=brand, language=language)
        .filter(corrected | handled)
        .exclude(**{field: unknown})
        .order_by("-published_at", "-id")
        .values_list("text", "title", field, f"{field}_corrected_by")[:MAX_EXAMPLES]
    )
    return [Reviewed(text or title, label, by is not None) for text, title, label, by in rows if (text or title)]


def _fit_with(language: str, target: str, reviewed: Sequence[Reviewed]) -> CareModel:
    """A model of Escucha's labelled examples plus a brand's reviewed mentions."""
    from listening.sentiment import lexicon_score

    base = labelled_examples(language)
    texts = [e.text for e in base] + [r.text for r in reviewed]
    labels = [getattr(e, target) for e in base] + [r.label for r in reviewed]
    weights = [1.0] * len(base) + [BRAND_WEIGHT] * len(reviewed)
    lexicons = [lexicon_score(text, language).compound for text in texts]
    return fit(target=target, language=language, texts=texts, lexicons=lexicons, labels=labels, weights=weights)


def _read(model: CareModel | None, target: str, texts: Sequence[str], language: str) -> list[str]:
    """What the analyzer says of ``texts`` with ``model`` in place of the built-in one (None: built-in)."""
    from listening.sentiment import Models, analyze

    models = None
    if model is not None:
        models = Models(intent={language: model} if target == "intent" else {}, sentiment={})
        if target == "sentiment":
            models = Models(intent={}, sentiment={language: model})
    said = [analyze(text, language, models, care=True) for text in texts]
    return [s.intent if target == "intent" else s.label for s in said]


def compare(language: str, target: str, reviewed: Sequence[Reviewed]) -> tuple[float, float]:
    """(built-in, brand model) agreement with the people who reviewed these mentions; the brand
    model's is cross-validated: each fold is read by a model trained without it."""
    from sklearn.model_selection import KFold

    gold = [r.label for r in reviewed]
    builtin_accuracy = accuracy(_read(None, target, [r.text for r in reviewed], language), gold)
    predicted: list[str] = [""] * len(reviewed)
    folds = KFold(n_splits=min(FOLDS, len(reviewed)), shuffle=True, random_state=0)
    for train, held_out in folds.split(reviewed):
        model = _fit_with(language, target, [reviewed[i] for i in train])
        said = _read(model, target, [reviewed[i].text for i in held_out], language)
        for i, label in zip(held_out, said, strict=True):
            predicted[i] = label
    return builtin_accuracy, accuracy(predicted, gold)


def analyzer_models_train(*, brand: Brand) -> list[AnalyzerModel]:
    """Train the brand's models where it has enough corrections, and use each only while it beats
    the built-in analyzer on the brand's own reviewed mentions. Returns the rows written."""
    from django.utils import timezone

    from listening.models import AnalyzerModel
    from listening.sentiment import ANALYZERS

    written = []
    for language in sorted(ANALYZERS):
        for target in TARGETS:
            reviewed = reviewed_mentions(brand, language, target)
            corrections = sum(r.corrected for r in reviewed)
            if corrections < MIN_CORRECTIONS or len({r.label for r in reviewed}) < 2:
                continue
            builtin_accuracy, model_accuracy = compare(language, target, reviewed)
            model = _fit_with(language, target, reviewed)
            row, _created = AnalyzerModel.objects.update_or_create(
                brand=brand,
                language=language,
                target=target,
                defaults={
                    "trained_at": timezone.now(),
                    "examples": len(reviewed),
                    "corrections": corrections,
                    "model_accuracy": round(model_accuracy, 4),
                    "builtin_accuracy": round(builtin_accuracy, 4),
                    "in_use": model_accuracy > builtin_accuracy,
                    "features_version": FEATURES_VERSION,
                    "weights": model.to_bytes(),
                },
            )
            log.info(
                "Brand %s %s %s: model %.3f vs built-in %.3f on %s reviewed mentions, %s",
                brand.pk, language, target, model_accuracy, builtin_accuracy, len(reviewed),
                "in use" if row.in_use else "not used",
            )  # fmt: skip
            written.append(row)
    return written


def analyzer_models_train_all() -> int:
    """Every brand's models (``analyzer_models_train``); returns how many were written."""
    from listening.models import Brand

    return sum(len(analyzer_models_train(brand=brand)) for brand in Brand.objects.order_by("pk"))
