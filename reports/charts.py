"""The report e-mail's charts as PNG images: mail clients run no script, so Chart.js cannot draw them.

Drawn with Pillow's built-in font so that no font file has to be installed. Labels are brand and
competitor names that users typed: they are only ever drawn as text, and cut to fit.
"""

from __future__ import annotations

import io
from collections.abc import Mapping, Sequence
from datetime import date

from PIL import Image, ImageDraw, ImageFont

from listening.models import Sentiment

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
