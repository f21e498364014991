"""The report's tables and headline figures: one definition serves the page (beside each chart),
the PDF, the e-mail and the CSV export."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date

from django.utils.formats import date_format, number_format
from django.utils.functional import Promise
from django.utils.translation import gettext, ngettext
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

    @property
    def quotes_strangers(self) -> bool:
        """Its first column is what people wrote (a word, a hashtag, a question, a source, a
        handle), shown as written in every language: marked ``translate="no"`` on the page."""
        return self.name in STRANGERS_FIRST


STRANGERS_FIRST = frozenset(
    {"negative_terms", "positive_terms", "negative_hashtags", "positive_hashtags", "emerging", "sources",
     "growing_sources", "questions", "leaders", "internal_leaders", "repeat_complaints"}
)  # fmt: skip
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
    """The tables as the page and the PDF show them: runs of empty days folded into one row
    (the CSV keeps every day, for spreadsheets)."""
    out = {name: table(report, name) for name in TABLES}
    volume = out["volume"]
    rows = [row if isinstance(row, Gap) else [_day(row[0], "D j M"), *row[1:]] for row in fold_empty_days(volume.rows)]
    out["volume"] = Table(volume.name, volume.title, volume.headers, rows)
    return out


# A run of at least this many days without a mention shows as one row.
EMPTY_RUN = 3


@dataclass(frozen=True)
class Gap:
    """Consecutive days without mentions, shown as one row of the daily table."""

    gap: str


def fold_empty_days(rows: list[list[object]]) -> list[list[object] | Gap]:
    """Daily rows (day first, total fifth from the end) with each run of EMPTY_RUN or more
    days without mentions replaced by one row that says how many days and which."""
    total = SENTIMENT_KEYS.index("total") + 1
    out: list[list[object] | Gap] = []
    run: list[list[object]] = []

    def flush() -> None:
        if len(run) >= EMPTY_RUN:
            first, last = run[0][0], run[-1][0]
            out.append(Gap(ngettext(
                "%(count)s day without mentions (%(first)s to %(last)s)",
                "%(count)s days without mentions (%(first)s to %(last)s)",
                len(run),
            ) % {"count": len(run), "first": _day(first), "last": _day(last)}))  # fmt: skip
        else:
            out.extend(run)
        run.clear()

    for row in rows:
        if row[total] == 0:
            run.append(row)
        else:
            flush()
            out.append(row)
    flush()
    return out


def _day(value: object, format: str = "j M") -> str:
    """A day as people read it on the page and in the PDF ("Tue 10 Nov"); the CSV keeps ISO dates."""
    return date_format(value, format) if isinstance(value, date) else str(value)


# --- Headline figures: a number, what it counts, and how it moved against the period before ---


@dataclass(frozen=True)
class Change:
    """How a figure moved against the previous period of the same length, in words.

    ``verdict`` is "better", "worse" or "" (for a figure where more is neither, like volume):
    it picks the colour, and is also written out, so it never rests on colour alone.
    """

    text: str
    direction: str  # "up", "down" or "flat"
    verdict: str
    verdict_text: str

    @property
    def arrow(self) -> str:
        return {"up": "▲", "down": "▼"}.get(self.direction, "=")


@dataclass(frozen=True)
class Figure:
    key: str
    label: str
    value: str  # "—" when nothing was measured
    detail: str  # what the number counts, or what it is a rate of
    change: Change | None = None


MINUS = "\u2212"  # a typographic minus: a hyphen before a number reads as a dash


def _num(value: float | int | None, decimals: int | None = None) -> str:
    if value is None:
        return "—"
    if isinstance(value, float) and value.is_integer():
        value = int(value)  # "30 min", not "30.0 min"
    return number_format(value, decimal_pos=decimals, use_l10n=True, force_grouping=True)


def _percent(value: float | None) -> str:
    return "—" if value is None else f"{_num(value)} %"


def _minutes(value: float | None) -> str:
    return "—" if value is None else gettext("%(minutes)s min") % {"minutes": _num(value)}


def change(
    now: float | None,
    before: float | None,
    days: int,
    *,
    up: str = "",
    points: bool = False,
    shown: Callable[[float], str] | None = None,
) -> Change | None:
    """``now`` against ``before`` (the ``days`` days before the period): a percentage, or a
    difference in points for a figure that is itself a ratio. ``up`` is the verdict on a rise:
    "better", "worse" or "" (neither); ``shown`` writes the previous value ("200 min"). None when
    either side was not measured."""
    shown = shown or _num
    if now is None or before is None:
        return None
    since = ngettext("vs the previous %(days)s day", "vs the previous %(days)s days", days) % {"days": days}
    if now == before:
        direction, text = "flat", gettext("no change %(since)s") % {"since": since}
    elif points:
        direction = "up" if now > before else "down"
        difference = round(now - before, 3)
        text = gettext("%(difference)s %(since)s, which had %(before)s") % {
            "difference": ("+" if difference > 0 else MINUS) + _num(abs(difference)), "since": since,
            "before": shown(before)}  # fmt: skip
    elif before == 0:
        direction, text = "up", gettext("up from 0 %(since)s") % {"since": since}
    else:
        percent = round((now - before) / before * 100)
        direction = "up" if now > before else "down"
        text = gettext("%(percent)s %% %(since)s, which had %(before)s") % {
            "percent": ("+" if percent > 0 else MINUS if percent < 0 else "±") + _num(abs(percent)),
            "since": since, "before": shown(before)}  # fmt: skip
    verdict = ""
    if up and direction != "flat":
        verdict = up if direction == "up" else {"better": "worse", "worse": "better"}[up]
    verdict_text = {"better": gettext("better"), "worse": gettext("worse")}.get(verdict, "")
    return Change(text, direction, verdict, verdict_text)


def _rate(value: float | None, measured: int, what: str) -> tuple[str, str]:
    """A percentage and what it is a percentage of (``what``: "3 resolved tickets"); "—" and the
    zero when nothing was measured."""
    if value is None or not measured:
        return "—", f"({what})"
    return _percent(value), gettext("of %(what)s") % {"what": what}


def headline(report: Report) -> list[Figure]:
    """The figures at the top of the page, the PDF and the e-mail."""
    v, days = report.volume, report.period.days
    total, before = v["total"], v["previous"]
    scored = total["total"] - total["unscored"]
    negative_share = round(total["negative"] / total["total"] * 100, 1) if total["total"] else None
    return [
        Figure(
            "mentions", gettext("Mentions"), _num(total["total"]),
            ngettext("in %(days)s day", "in %(days)s days", days) % {"days": days},
            change(total["total"], before["total"], days),
        ),
        Figure(
            "negative", gettext("Negative mentions"), _num(total["negative"]),
            gettext("%(share)s of mentions") % {"share": _percent(negative_share)} if total["total"] else "",
            change(total["negative"], before["negative"], days, up="worse"),
        ),
        Figure(
            "net", gettext("Net sentiment"), _num(total["net"]),
            (gettext("(positive - negative) / %(scored)s") if scored else "(%(scored)s)") % {
                "scored": ngettext("%(count)s scored mention", "%(count)s scored mentions", scored)
                % {"count": _num(scored)}},
            change(total["net"], before["net"], days, up="better", points=True),
        ),
        *team_figures(report)[:2],
    ]  # fmt: skip


def team_figures(report: Report) -> list[Figure]:
    """First response, SLA met, follow-up: each rate with the count it rests on."""
    t, before, days = report.team, report.previous_tickets, report.period.days
    replied = t["response"]["replied"]
    with_sla, resolved = t["sla_measured"], t["resolved"]
    sla_value, sla_detail = _rate(
        t["sla_met"],
        with_sla,
        ngettext("%(count)s ticket with an SLA", "%(count)s tickets with an SLA", with_sla) % {"count": _num(with_sla)},
    )
    followed_value, followed_detail = _rate(
        t["followed_up"],
        resolved,
        ngettext("%(count)s resolved ticket", "%(count)s resolved tickets", resolved) % {"count": _num(resolved)},
    )
    replied_text = ngettext("%(count)s replied mention", "%(count)s replied mentions", replied) % {
        "count": _num(replied)
    }
    return [
        Figure(
            "first_response", gettext("First response, median"), _minutes(t["response"]["median"]),
            gettext("of %(what)s; 90 %% within %(p90)s") % {"what": replied_text, "p90": _minutes(t["response"]["p90"])}
            if replied else f"({replied_text})",
            change(t["response"]["median"], report.previous_response["median"], report.period.days, up="worse",
                   shown=_minutes),
        ),
        Figure("sla_met", gettext("SLA met"), sla_value, sla_detail,
               change(t["sla_met"], before["sla_met"], days, up="better", points=True, shown=_percent)),
        Figure("followed_up", gettext("Resolved tickets followed up in public"), followed_value, followed_detail,
               change(t["followed_up"], before["followed_up"], days, up="better", points=True, shown=_percent)),
    ]  # fmt: skip
