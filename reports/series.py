"""A report's charts as series of numbers: the one shaping behind the page's charts and the e-mail's.

The page hands these to Chart.js (reports/views.py); the e-mail draws them as PNG images and as
rows of CSS bars (reports/scheduled.py). Both read them from here, so a chart shows the same
numbers wherever it is seen.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from reports.selectors import SENTIMENTS, Report


@dataclass(frozen=True)
class Series:
    """Labels (days, platforms, names) and, per named series, one value for each label."""

    labels: list[Any]
    values: dict[str, list[int | float | None]]  # None: no number (a median of no replies)

    def totals(self) -> Series:
        """One series: each label's values added up (the height of a stacked bar)."""
        return Series(self.labels, {"": [sum(column) for column in zip(*self.values.values(), strict=True)]})

    def pairs(self) -> list[tuple[Any, int | float | None]]:
        """(label, value) rows of a single series."""
        (values,) = self.values.values()
        return list(zip(self.labels, values, strict=True))


def _by_sentiment(rows: list[dict], label: str) -> Series:
    return Series([r[label] for r in rows], {s: [r[s] for r in rows] for s in SENTIMENTS})


def _ranking(rows: list[dict], label: str, value: str) -> Series:
    return Series([r[label] for r in rows], {"": [r[value] for r in rows]})


def volume(data: Report) -> Series:
    """Mentions per day (dates), one series per sentiment."""
    return _by_sentiment(data.volume["days"], "day")


def platforms(data: Report) -> Series:
    """Mentions per platform, the busiest first, one series per sentiment."""
    return _by_sentiment(data.volume["platforms"], "platform")


def share_of_voice_by_day(data: Report) -> Series:
    """Mentions naming each brand or competitor, per day (dates): one series per name."""
    return Series(data.period.day_list(), data.share_of_voice["series"])


def share_of_voice(data: Report) -> Series:
    """Each name's share of the period's conversation, in percent."""
    return _ranking(data.share_of_voice["groups"], "label", "share")


def negative_terms(data: Report) -> Series:
    return _ranking(data.topics["negative_words"], "word", "count")


def positive_terms(data: Report) -> Series:
    return _ranking(data.topics["positive_words"], "word", "count")


def sources(data: Report) -> Series:
    return _ranking(data.sources["top"], "name", "total")


def response_by_channel(data: Report) -> Series:
    """Median minutes to a first response, per channel."""
    return _ranking(data.team["by_channel"], "name", "median")
