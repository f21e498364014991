"""Measure the sentiment analyzer, and the intent classifier, against labeled text.

Three input formats, detected per file:
- `text<TAB>label` with label positive/neutral/negative (an optional `text<TAB>label` header);
- customer care, `text<TAB>sentiment<TAB>intent` with intent complaint/question/praise/other
  (an optional `text<TAB>sentiment<TAB>intent` header): intent accuracy and per-intent precision
  and recall are printed besides sentiment;
- the VADER paper's ground truth, `id<TAB>mean human rating (-4..+4)<TAB>text`.

For the VADER files the human mean (-4..+4, averaged over ~20 raters) becomes a label with the
same ±0.05 cut VADER's authors recommend for the compound score: >= 0.05 positive, <= -0.05
negative, otherwise neutral. That reads as the sign of the mean; the neutral band holds 1-5% of
each file, so these files are effectively two-class and neutral precision on them is meaningless.
The paper's headline figure is the Pearson correlation between the analyzer's score and the human
mean (tweets r = 0.881), printed here for the VADER files.

``--lexicon-only`` measures the lexicon without the customer-care rules (the analyzer as it was
before intent), for a before-and-after comparison on the same file; ``--errors`` lists the texts
it got wrong, to see what to fix on your own data.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError, CommandParser

from listening.sentiment import ANALYZERS, Scored, analyze, label_for, lexicon_score

LABELS = ("positive", "neutral", "negative")
INTENTS = ("complaint", "question", "praise", "other")


@dataclass(frozen=True)
class Example:
    text: str
    label: str
    human_mean: float | None = None
    intent: str | None = None


def read_examples(path: Path) -> list[Example]:
    """Rows of either supported format; the VADER files are CRLF and may start with a BOM."""
    examples = []
    for number, line in enumerate(path.read_text(encoding="utf-8-sig").splitlines(), start=1):
        if not line.strip():
            continue
        parts = line.split("\t")
        if len(parts) == 3 and parts[1].strip().lower() in (*LABELS, "sentiment"):
            text, label, intent = parts[0], parts[1].strip().lower(), parts[2].strip().lower()
            if number == 1 and label == "sentiment":
                continue
            if intent not in INTENTS:
                raise CommandError(f"{path}:{number}: unknown intent {intent!r}")
            examples.append(Example(text, label, intent=intent))
        elif len(parts) == 3:
            try:
                mean = float(parts[1])
            except ValueError as exc:
                raise CommandError(f"{path}:{number}: second column is not a number") from exc
            examples.append(Example(parts[2], label_for(mean), mean))
        elif len(parts) == 2:
            text, label = parts[0], parts[1].strip().lower()
            if number == 1 and label == "label":
                continue
            if label not in LABELS:
                raise CommandError(f"{path}:{number}: unknown label {label!r}")
            examples.append(Example(text, label))
        else:
            raise CommandError(f"{path}:{number}: expected 2 or 3 tab-separated columns")
    return examples


@dataclass(frozen=True)
class Report:
    total: int
    correct: int
    confusion: dict[tuple[str, str], int]  # (gold, predicted) -> count
    pearson: float | None
    labels: tuple[str, ...] = LABELS
    intent: Report | None = None  # when the file has intents
    errors: list[tuple[Example, Scored]] = field(default_factory=list)

    @property
    def accuracy(self) -> float:
        return self.correct / self.total if self.total else 0.0

    def precision(self, label: str) -> float | None:
        predicted = sum(n for (_, p), n in self.confusion.items() if p == label)
        return self.confusion.get((label, label), 0) / predicted if predicted else None

    def recall(self, label: str) -> float | None:
        gold = sum(n for (g, _), n in self.confusion.items() if g == label)
        return self.confusion.get((label, label), 0) / gold if gold else None

    def f1(self, label: str) -> float | None:
        precision, recall = self.precision(label), self.recall(label)
        if precision is None or recall is None:
            return None
        return 2 * precision * recall / (precision + recall) if precision + recall else 0.0

    @property
    def macro_f1(self) -> float:
        """The 3-class F1: the mean of each class's F1 (a class never predicted counts 0)."""
        scores = [self.f1(label) for label in self.labels]
        return sum(score or 0.0 for score in scores) / len(self.labels)


def evaluate(examples: list[Example], language: str, analyzer: Callable[[str, str], Scored] | None = None) -> Report:
    """Sentiment (and, for examples that carry one, intent) of ``analyzer`` against the labels.

    By default files of customer care (with intents) are read as mentions of a brand, others as
    general text (``listening.sentiment.analyze``, ``care``).
    """
    if analyzer is None:
        care = any(example.intent is not None for example in examples)

        def analyzer(text: str, language: str) -> Scored:
            return analyze(text, language, care=care)

    confusion: Counter[tuple[str, str]] = Counter()
    intents: Counter[tuple[str, str]] = Counter()
    pairs = []
    errors = []
    for example in examples:
        scored = analyzer(example.text, language)
        confusion[(example.label, scored.label)] += 1
        if example.intent is not None:
            intents[(example.intent, scored.intent)] += 1
        if scored.label != example.label or (example.intent is not None and scored.intent != example.intent):
            errors.append((example, scored))
        if example.human_mean is not None and scored.compound is not None:
            pairs.append((scored.compound, example.human_mean))
    correct = sum(n for (g, p), n in confusion.items() if g == p)
    intent = None
    if intents:
        total = sum(intents.values())
        intent = Report(total, sum(n for (g, p), n in intents.items() if g == p), dict(intents), None, INTENTS)
    return Report(
        len(examples), correct, dict(confusion), pearson(pairs) if pairs else None, intent=intent, errors=errors
    )


def pearson(pairs: list[tuple[float, float]]) -> float | None:
    n = len(pairs)
    mean_x = sum(x for x, _ in pairs) / n
    mean_y = sum(y for _, y in pairs) / n
    cov = sum((x - mean_x) * (y - mean_y) for x, y in pairs)
    var_x = sum((x - mean_x) ** 2 for x, _ in pairs)
    var_y = sum((y - mean_y) ** 2 for _, y in pairs)
    return cov / math.sqrt(var_x * var_y) if var_x and var_y else None


def _pct(value: float | None) -> str:
    return "   -  " if value is None else f"{value:6.1%}"


class Command(BaseCommand):
    help = (
        "Accuracy, per-class precision/recall and a confusion matrix of the sentiment analyzer (and of the "
        "intent classifier, for files with intents) on a labeled file."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--language", required=True, choices=sorted(ANALYZERS))
        parser.add_argument("--data", required=True, type=Path, nargs="+", help="TSV file(s)")
        parser.add_argument(
            "--lexicon-only", action="store_true", help="the lexicon without the customer-care rules, as before intent"
        )
        parser.add_argument("--errors", action="store_true", help="list the texts the analyzer got wrong")
        parser.add_argument(
            "--context",
            choices=("auto", "care", "general"),
            default="auto",
            help="read the texts as mentions of a brand (care) or as general text; auto: care for files with intents",
        )

    def handle(
        self, *args: object, language: str, data: list[Path], lexicon_only: bool = False, errors: bool = False,
        context: str = "auto", **options: object,
    ) -> None:  # fmt: skip
        name = ANALYZERS[language][0]
        if lexicon_only:
            name = f"{name.split(' + ')[0]} (lexicon only)"
        self.stdout.write(f"analyzer[{language}]: {name}")
        for path in data:
            if not path.is_file():
                raise CommandError(f"{path}: no such file")
            report = evaluate(read_examples(path), language, self._analyzer(lexicon_only, context))
            self.stdout.write(f"\n{path.name}: {report.total} texts")
            self.stdout.write(f"  accuracy {report.accuracy:.1%} ({report.correct}/{report.total})")
            self.stdout.write(f"  3-class F1 (macro) {report.macro_f1:.3f}")
            if report.pearson is not None:
                self.stdout.write(f"  pearson(compound, human mean) {report.pearson:.4f}")
            self._table(report, "class", "pos neu neg")
            if report.intent is not None and not lexicon_only:
                intent = report.intent
                self.stdout.write(f"  intent accuracy {intent.accuracy:.1%} ({intent.correct}/{intent.total})")
                self._table(intent, "intent", "com que pra oth")
            if errors:
                self.stdout.write("  errors (gold → predicted):")
                for example, scored in report.errors:
                    gold = f"{example.label}/{example.intent}" if example.intent else example.label
                    said = f"{scored.label}/{scored.intent}" if example.intent else scored.label
                    cues = ", ".join(f"{c.kind}:{c.text}" if c.text else c.kind for c in scored.cues)
                    self.stdout.write(f"  {gold} → {said} [{cues}] {example.text}")

    @staticmethod
    def _analyzer(lexicon_only: bool, context: str) -> Callable[[str, str], Scored] | None:
        if lexicon_only:
            return lexicon_score
        if context == "auto":
            return None
        return lambda text, language: analyze(text, language, care=context == "care")

    def _table(self, report: Report, title: str, columns: str) -> None:
        self.stdout.write(f"  {title:<10}  precision  recall      F1   gold  predicted")
        for label in report.labels:
            gold = sum(n for (g, _), n in report.confusion.items() if g == label)
            predicted = sum(n for (_, p), n in report.confusion.items() if p == label)
            self.stdout.write(
                f"  {label:<10}  {_pct(report.precision(label))}    {_pct(report.recall(label))}"
                f"  {_pct(report.f1(label))}  {gold:5d}  {predicted:9d}"
            )
        self.stdout.write(f"  confusion (rows gold, columns predicted: {columns})")
        for gold_label in report.labels:
            row = " ".join(f"{report.confusion.get((gold_label, p), 0):5d}" for p in report.labels)
            self.stdout.write(f"  {gold_label:<10} {row}")
