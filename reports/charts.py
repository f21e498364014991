"""The report's charts: their specs (what Chart.js draws on the page), the same specs as SVG for
the PDF, and the e-mail's charts as PNG images (mail clients run no script and seldom show SVG).

The PNGs are drawn with Pillow's built-in font so that no font file has to be installed. Labels are
brand and competitor names that users typed: they are only ever drawn as text, and cut to fit.
"""

from __future__ import annotations

import io
from collections.abc import Mapping, Sequence
from datetime import date
from typing import Any
from xml.sax.saxutils import escape

from PIL import Image, ImageDraw, ImageFont

from listening.models import Sentiment
from reports import series
from reports.selectors import Report

# The same colours as static/css/escucha.css (--pos, --neu, --neg, --uns), bottom to top of a bar.
COLOURS = {
    Sentiment.POSITIVE: "#1f8a4c",
    Sentiment.NEUTRAL: "#7a8291",
    Sentiment.NEGATIVE: "#c0392b",
    Sentiment.UNSCORED: "#a3a9b5",
}
SHARE_COLOUR = "#2357d9"  # --accent
INK = "#1a202c"
GRID = "#d5d9e0"
BACKGROUND = "white"
FONT_SIZE = 11

# Volume chart: fixed size, so a mail client can lay it out before it loads.
VOLUME_SIZE = (560, 260)
# The plot area (left, top, right, bottom): the legend is above it, the day labels below it.
VOLUME_PLOT = (44, 34, 548, 226)

# Share of voice: one row per name.
SHARE_WIDTH = 560
SHARE_ROW = 24
SHARE_PADDING = 10
SHARE_LABEL_WIDTH = 150
SHARE_VALUE_WIDTH = 56


def _font() -> ImageFont.FreeTypeFont:
    # Pillow's wheels bundle FreeType, and with it load_default() gives a scalable font
    # (the bitmap fallback could neither anchor text nor draw beyond Latin-1).
    font = ImageFont.load_default(size=FONT_SIZE)
    if not isinstance(font, ImageFont.FreeTypeFont):
        raise RuntimeError("Pillow was built without FreeType; the report charts need it.")
    return font


def _fit(text: str, font: ImageFont.FreeTypeFont, width: int) -> str:
    """The text, cut with an ellipsis so that it is at most `width` pixels wide."""
    # Line breaks and tabs in a typed name would otherwise draw as boxes or break the row.
    text = " ".join(text.split())
    if font.getlength(text) <= width:
        return text
    ellipsis = "…"
    while text and font.getlength(text + ellipsis) > width:
        text = text[:-1]
    return text.rstrip() + ellipsis


def _png(image: Image.Image) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, format="PNG", optimize=True)
    return buffer.getvalue()


def volume_chart_png(days: Sequence[date], series: Mapping[str, Sequence[int]]) -> bytes:
    """Mentions per day as bars stacked by sentiment (positive at the bottom), with a legend.

    `series` maps a sentiment value to one count per day; a missing sentiment counts as zero.
    """
    font = _font()
    image = Image.new("RGB", VOLUME_SIZE, BACKGROUND)
    draw = ImageDraw.Draw(image)
    left, top, right, bottom = VOLUME_PLOT

    # Legend, above the plot.
    x = left
    for sentiment, colour in COLOURS.items():
        draw.rectangle((x, 10, x + 10, 20), fill=colour)
        label = str(Sentiment(sentiment).label)
        draw.text((x + 14, 9), label, fill=INK, font=font)
        x += 14 + int(font.getlength(label)) + 16

    totals = [sum(_count(series, s, i) for s in COLOURS) for i in range(len(days))]
    top_value = max(totals, default=0)
    draw.line((left, bottom, right, bottom), fill=INK)
    draw.line((left, top, right, top), fill=GRID)
    draw.text((left - 6, top), str(top_value), fill=INK, font=font, anchor="rm")
    draw.text((left - 6, bottom), "0", fill=INK, font=font, anchor="rm")
    if not top_value:
        return _png(image)  # no mentions: the axes alone

    slot = (right - left) / len(days)
    bar = max(1, int(slot * 0.7))
    # Label every day while they fit, else every n-th one.
    every = max(1, -(-len(days) * 44 // (right - left)))
    height = bottom - top
    for i, day in enumerate(days):
        x0 = int(left + i * slot + (slot - bar) / 2)
        stacked = 0
        for sentiment, colour in COLOURS.items():
            count = _count(series, sentiment, i)
            y_low = bottom - round(stacked / top_value * height)
            stacked += count
            y_high = bottom - round(stacked / top_value * height)
            if y_high < y_low:
                draw.rectangle((x0, y_high, x0 + bar - 1, y_low - 1), fill=colour)
        if i % every == 0:
            draw.text((x0 + bar / 2, bottom + 6), day.strftime("%d %b"), fill=INK, font=font, anchor="mt")
    return _png(image)


def _count(series: Mapping[str, Sequence[int]], sentiment: str, index: int) -> int:
    values = series.get(sentiment)
    return values[index] if values else 0


def share_of_voice_size(rows: int) -> tuple[int, int]:
    return SHARE_WIDTH, SHARE_PADDING * 2 + SHARE_ROW * max(rows, 1)


def share_of_voice_png(rows: Sequence[tuple[str, float]]) -> bytes:
    """One horizontal bar per name, as long as its share (the largest fills the width), labelled."""
    font = _font()
    image = Image.new("RGB", share_of_voice_size(len(rows)), BACKGROUND)
    draw = ImageDraw.Draw(image)
    bar_left = SHARE_PADDING + SHARE_LABEL_WIDTH + 8
    bar_right = SHARE_WIDTH - SHARE_PADDING - SHARE_VALUE_WIDTH
    top_share = max((share for _label, share in rows), default=0) or 1
    for i, (label, share) in enumerate(rows):
        y = SHARE_PADDING + i * SHARE_ROW
        middle = y + SHARE_ROW // 2
        draw.text((SHARE_PADDING, middle), _fit(label, font, SHARE_LABEL_WIDTH), fill=INK, font=font, anchor="lm")
        length = round(share / top_share * (bar_right - bar_left))
        if length:
            draw.rectangle((bar_left, y + 5, bar_left + length - 1, y + SHARE_ROW - 6), fill=SHARE_COLOUR)
        draw.text((bar_left + length + 6, middle), f"{share:g} %", fill=INK, font=font, anchor="lm")
    return _png(image)


# --- The page's charts: one spec per chart, drawn by Chart.js on the page and as SVG in the PDF ---

# Series colours in order; a sentiment breakdown is positive, neutral, negative, unscored.
PALETTE = ["#2f855a", "#718096", "#c53030", "#cbd5e0", "#2b6cb0", "#b7791f", "#6b46c1", "#0f766e"]


def chart_specs(data: Report) -> dict[str, dict]:
    """What reports.js draws on the page and chart_svg() draws in the PDF: the same numbers,
    which are also in the table beside each chart."""
    volume = series.volume(data)
    platforms = series.platforms(data)
    share_of_voice = series.share_of_voice_by_day(data)
    specs = {
        "volume": {"type": "bar", "stacked": True, "labels": _days(volume), "series": _by_sentiment(volume)},
        "platforms": {"type": "bar", "stacked": True, "labels": platforms.labels, "series": _by_sentiment(platforms)},
        "share_of_voice": {"type": "line", "labels": _days(share_of_voice), "series": share_of_voice.values},
        "negative_terms": _bars(series.negative_terms(data)),
        "positive_terms": _bars(series.positive_terms(data)),
        "sources": _bars(series.sources(data)),
        "response_by_channel": _bars(series.response_by_channel(data)),
    }
    for spec in specs.values():
        spec["colors"] = [PALETTE[i % len(PALETTE)] for i in range(len(spec["series"]))]
    return specs


def _days(chart: series.Series) -> list[str]:
    return [day.isoformat() for day in chart.labels]


def _by_sentiment(chart: series.Series) -> dict[str, list]:
    """Series named as the legend shows them: the sentiment's translated name."""
    return {str(Sentiment(s).label): values for s, values in chart.values.items()}


def _bars(chart: series.Series) -> dict:
    return {"type": "bar", "horizontal": True, "labels": [str(label) for label in chart.labels],
            "series": chart.values}  # fmt: skip


SVG_WIDTH = 680
SVG_FONT = 11
SVG_ROW = 20  # a horizontal bar chart's row height


def chart_svg(spec: Mapping[str, Any]) -> str:
    """One chart spec as an SVG document, for the PDF (WeasyPrint draws SVG; no browser needed).

    Labels are what people wrote (terms, source names): they only ever go into escaped text.
    """
    names = list(spec["series"])
    values = [[v or 0 for v in spec["series"][name]] for name in names]
    colours = spec.get("colors") or PALETTE
    legend = len(names) > 1 or (names and names[0] != "")
    if spec.get("horizontal"):
        body, height = _svg_rows(spec["labels"], values, colours, spec["series"][names[0]] if len(names) == 1 else None)
    else:
        body, height = _svg_columns(
            spec["labels"], values, colours, line=spec["type"] == "line", top=24 if legend else 8
        )
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{SVG_WIDTH}" height="{height}" '
        f'viewBox="0 0 {SVG_WIDTH} {height}" font-family="DejaVu Sans, sans-serif" font-size="{SVG_FONT}">',
        f'<rect width="{SVG_WIDTH}" height="{height}" fill="white"/>',
    ]
    if legend:
        x = 44
        for i, name in enumerate(names):
            parts.append(f'<rect x="{x}" y="6" width="10" height="10" fill="{colours[i % len(colours)]}"/>')
            parts.append(f'<text x="{x + 14}" y="15" fill="{INK}">{_xml(_cut(name, 28))}</text>')
            x += 30 + 7 * len(_cut(name, 28))
    parts += body
    parts.append("</svg>")
    return "".join(parts)


def _svg_columns(labels: Sequence[str], values: list[list[float]], colours: Sequence[str], *, line: bool, top: int):
    """Vertical bars stacked per label, or one line per series; labels along the bottom."""
    height = 240
    left, right, bottom = 44, SVG_WIDTH - 12, height - 40
    count = len(labels)
    totals = [max(column) if line else sum(column) for column in zip(*values, strict=True)] if values else []
    peak = max(totals, default=0) or 1
    parts = [
        f'<line x1="{left}" y1="{bottom}" x2="{right}" y2="{bottom}" stroke="{INK}"/>',
        f'<line x1="{left}" y1="{top}" x2="{right}" y2="{top}" stroke="{GRID}"/>',
        f'<text x="{left - 6}" y="{top + 4}" text-anchor="end" fill="{INK}">{_number(peak)}</text>',
        f'<text x="{left - 6}" y="{bottom + 4}" text-anchor="end" fill="{INK}">0</text>',
    ]
    if not count:
        return parts, height
    slot = (right - left) / count

    def y(value: float) -> float:
        return round(bottom - value / peak * (bottom - top), 1)

    if line:
        for i, row in enumerate(values):
            points = " ".join(f"{round(left + (n + 0.5) * slot, 1)},{y(v)}" for n, v in enumerate(row))
            parts.append(
                f'<polyline points="{points}" fill="none" stroke-width="2" stroke="{colours[i % len(colours)]}"/>'
            )
    else:
        bar = max(1.0, slot * 0.7)
        for n in range(count):
            x = round(left + n * slot + (slot - bar) / 2, 1)
            stacked = 0.0
            for i, row in enumerate(values):
                if row[n]:
                    y0, y1 = y(stacked), y(stacked + row[n])
                    parts.append(
                        f'<rect x="{x}" y="{y1}" width="{round(bar, 1)}" height="{round(y0 - y1, 1)}" '
                        f'fill="{colours[i % len(colours)]}"/>'
                    )
                stacked += row[n]
    every = max(1, -(-count * 56 // (right - left)))  # label every n-th column while they fit
    for n, label in enumerate(labels):
        if n % every == 0:
            x = round(left + (n + 0.5) * slot, 1)
            parts.append(
                f'<text x="{x}" y="{bottom + 14}" text-anchor="middle" fill="{INK}">{_xml(_label(label))}</text>'
            )
    return parts, height


def _svg_rows(labels: Sequence[str], values: list[list[float]], colours: Sequence[str], shown: Sequence | None):
    """One horizontal bar per label, the largest the full width, its number at its end."""
    label_width, value_width = 190, 60
    height = 8 + SVG_ROW * max(len(labels), 1)
    left, right = label_width, SVG_WIDTH - value_width
    totals = [sum(column) for column in zip(*values, strict=True)] if values else []
    peak = max(totals, default=0) or 1
    parts = []
    for n, label in enumerate(labels):
        top = 4 + n * SVG_ROW
        parts.append(
            f'<text x="{left - 8}" y="{top + 14}" text-anchor="end" fill="{INK}">{_xml(_cut(str(label), 30))}</text>'
        )
        x = float(left)
        for i, row in enumerate(values):
            width = row[n] / peak * (right - left)
            if width:
                parts.append(f'<rect x="{round(x, 1)}" y="{top + 3}" width="{round(width, 1)}" height="{SVG_ROW - 6}" '
                             f'fill="{colours[i % len(colours)]}"/>')  # fmt: skip
            x += width
        value = shown[n] if shown is not None else totals[n]
        parts.append(
            f'<text x="{round(x + 6, 1)}" y="{top + 14}" fill="{INK}">{"—" if value is None else _number(value)}</text>'
        )
    return parts, height


def _label(label: object) -> str:
    """A column's label: a day as "20 Feb" (the specs carry ISO dates), anything else cut short."""
    try:
        return date.fromisoformat(str(label)).strftime("%d %b")
    except ValueError:
        return _cut(str(label), 12)


def _number(value: float) -> str:
    return f"{value:g}" if isinstance(value, float) else str(value)


def _cut(text: str, length: int) -> str:
    text = " ".join(text.split())
    return text if len(text) <= length else text[: length - 1].rstrip() + "…"


def _xml(text: str) -> str:
    return escape(text, {'"': "&quot;"})
