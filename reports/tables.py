"""The report's tables: one definition serves the page (beside each chart) and the CSV export."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _

from reports.selectors import Report


@dataclass(frozen=True)
class Link:
    text: str
    url: str

    def __str__(self) -> str:
        return self.text


@dataclass(frozen=True)
class Table:
    name: str
    title: str | Promise
    headers: list[str | Promise]
    rows: list[list[object]]


SENTIMENT_HEADERS = [_("Positive"), _("Neutral"), _("Negative"), _("Unscored"), _("Total"), _("Net sentiment")]
SENTIMENT_KEYS = ["positive", "neutral", "negative", "unscored", "total", "net"]


def _sentiment_rows(rows: list[dict], *first: str) -> list[list[object]]:
    return [[r[k] for k in first] + [r[k] for k in SENTIMENT_KEYS] for r in rows]


def _words(rows: list[dict]) -> list[list[object]]:
    return [[r["word"], r["count"]] for r in rows]


def _timing(rows: list[dict]) -> list[list[object]]:
    return [[r["name"], r["replied"], r["median"], r["p90"]] for r in rows]


def _leaders(rows: list[dict]) -> list[list[object]]:
    return [
        [i, r["name"], r["raw_handle"], r["platform"], r["followers"], r["engagement"], r["mentions"], r["sentiment"],
         r["score"]]
        for i, r in enumerate(rows, 1)
    ]  # fmt: skip


# Handles without their "@": a cell starting with "@" is a formula to a spreadsheet, and the
# guard that defuses it would show as a stray apostrophe.
LEADER_HEADERS = [
    _("Rank"),
    _("Author"),
    _("Handle"),
    _("Platform"),
    _("Followers"),
    _("Engagement"),
    _("Mentions"),
    _("Avg. sentiment"),
    _("Influence"),
]
TIMING_HEADERS = [_("Name"), _("Replied mentions"), _("Median (min)"), _("P90 (min)")]
WORD_HEADERS = [_("Term"), _("Mentions")]
SOURCE_HEADERS = [_("Kind"), _("Source"), *SENTIMENT_HEADERS, _("Previous period"), _("Growth")]


def _sources(rows: list[dict]) -> list[list[object]]:
    return [[r["kind"], r["name"]] + [r[k] for k in SENTIMENT_KEYS] + [r["previous"], r["growth"]] for r in rows]


TABLES: dict[str, tuple[str | Promise, list[str | Promise], Callable[[Report], list[list[object]]]]] = {
    "volume": (_("Mentions per day"), [_("Day"), *SENTIMENT_HEADERS], lambda r: _sentiment_rows(r.volume["days"], "day")),
    "platforms": (_("Mentions per platform"), [_("Platform"), *SENTIMENT_HEADERS],
                  lambda r: _sentiment_rows(r.volume["platforms"], "platform")),
    "channels": (_("Mentions per channel"), [_("Channel"), _("Platform"), *SENTIMENT_HEADERS],
                 lambda r: _sentiment_rows(r.volume["channels"], "channel", "platform")),
    "share_of_voice": (_("Share of voice"), [_("Name"), _("Share %"), *SENTIMENT_HEADERS],
                       lambda r: _sentiment_rows(r.share_of_voice["groups"], "label", "share")),
    "negative_terms": (_("Top terms in negative mentions"), WORD_HEADERS, lambda r: _words(r.topics["negative_words"])),
    "positive_terms": (_("Top terms in positive mentions"), WORD_HEADERS, lambda r: _words(r.topics["positive_words"])),
    "negative_hashtags": (_("Top hashtags in negative mentions"), WORD_HEADERS,
                          lambda r: _words(r.topics["negative_hashtags"])),
    "positive_hashtags": (_("Top hashtags in positive mentions"), WORD_HEADERS,
                          lambda r: _words(r.topics["positive_hashtags"])),
    "emerging": (_("Emerging terms"), [_("Term"), _("Mentions"), _("Baseline mentions"), _("Growth (times baseline)")],
                 lambda r: [[e["word"], e["count"], e["baseline"], e["growth"]] for e in r.topics["emerging"]]),
    "sources": (_("Top sources"), SOURCE_HEADERS, lambda r: _sources(r.sources["top"])),
    "growing_sources": (_("Fastest-growing sources"), SOURCE_HEADERS, lambda r: _sources(r.sources["growing"])),
    "questions": (_("Frequent questions"), [_("Question"), _("Mentions")],
                  lambda r: [[Link(q["question"], q["url"]), q["count"]] for q in r.questions]),
    "leaders": (_("External opinion leaders"), LEADER_HEADERS, lambda r: _leaders(r.leaders["external"])),
    "internal_leaders": (_("Internal opinion leaders"), LEADER_HEADERS, lambda r: _leaders(r.leaders["internal"])),
    "response_by_channel": (_("First response by channel"), TIMING_HEADERS, lambda r: _timing(r.team["by_channel"])),
    "response_by_agent": (_("First response by agent"), TIMING_HEADERS, lambda r: _timing(r.team["by_agent"])),
    "departments": (
        _("Tickets per department"),
        [_("Department"), _("Opened"), _("Resolved"), _("Median acknowledge (min)"), _("Median resolve (min)"),
         _("SLA met %"), _("Followed up in public %")],
        lambda r: [[d["name"], d["opened"], d["resolved"], d["median_ack"], d["median_resolve"], d["sla_met"],
                    d["followed_up"]] for d in r.team["departments"]],
    ),
    "repeat_complaints": (_("Repeat complaints"), [_("Author"), _("Handle"), _("Negative mentions")],
                          lambda r: [[a["name"], a["raw_handle"], a["negative"]] for a in r.team["repeat_authors"]]),
    "intents": (_("Mentions by intent"), [_("Intent"), _("Mentions"), _("Share %"), _("Previous period"), _("Change %")],
                lambda r: [[i["label"], i["count"], i["share"], i["previous"], i["change"]] for i in r.intents["rows"]]),
    "analyzers": (
        _("Learned analyzers"),
        [_("Language"), _("Target"), _("Reviewed mentions"), _("Corrections"), _("Built-in agreement %"),
         _("Learned model agreement %"), _("In use")],
        lambda r: [[a["language"], a["target"], a["examples"], a["corrections"], a["builtin"], a["model"],
                    _("yes") if a["in_use"] else _("no")] for a in r.quality["analyzers"]],
    ),
}  # fmt: skip


def table(report: Report, name: str) -> Table:
    title, headers, rows = TABLES[name]
    return Table(name, title, headers, rows(report))


def all_tables(report: Report) -> dict[str, Table]:
    return {name: table(report, name) for name in TABLES}
