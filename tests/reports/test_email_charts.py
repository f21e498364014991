"""The scheduled report e-mail carries its charts as inline PNG images drawn from the report's numbers."""

from __future__ import annotations

import io
from datetime import date, timedelta
from email.mime.image import MIMEImage

import pytest
import time_machine
from django.core import mail
from PIL import Image, ImageColor

from reports import charts
from reports.models import ReportSubscription
from reports.scheduled import scheduled_reports_send
from tests.reports.conftest import NOW

RED = ImageColor.getrgb(charts.COLOURS["negative"])
GREEN = ImageColor.getrgb(charts.COLOURS["positive"])
BLUE = ImageColor.getrgb(charts.SHARE_COLOUR)


def pixels(image: Image.Image, box: tuple[int, int, int, int], colour: tuple[int, int, int]) -> int:
    return sum(1 for p in image.crop(box).convert("RGB").get_flattened_data() if p == colour)


def day_strips(days: int) -> list[tuple[int, int, int, int]]:
    """The plot area cut into one vertical strip per day."""
    left, top, right, bottom = charts.VOLUME_PLOT
    slot = (right - left) / days
    return [(round(left + i * slot), top, round(left + (i + 1) * slot), bottom) for i in range(days)]


def share_rows(rows: int) -> list[tuple[int, int, int, int]]:
    width = charts.SHARE_WIDTH
    return [
        (0, charts.SHARE_PADDING + i * charts.SHARE_ROW, width, charts.SHARE_PADDING + (i + 1) * charts.SHARE_ROW)
        for i in range(rows)
    ]


@pytest.fixture
def sent(team, week):
    team.manager.email = "marta@example.com"
    team.manager.save()
    ReportSubscription.objects.create(user=team.manager, brand=team.brand)
    with time_machine.travel(NOW, tick=False):
        assert scheduled_reports_send() == 1
    return mail.outbox[0]


def images_of(message) -> dict[str, MIMEImage]:
    return {a["Content-ID"]: a for a in message.related_images}


@pytest.mark.django_db
def test_the_report_email_carries_both_charts_inline(sent):
    images = images_of(sent)
    assert set(images) == {"<volume>", "<share-of-voice>"}
    assert all(i.get_content_type() == "image/png" for i in images.values())
    assert all(i["Content-Disposition"].startswith("inline") for i in images.values())
    html = sent.alternatives[0][0]
    assert 'src="cid:volume"' in html and 'src="cid:share-of-voice"' in html
    assert 'alt="Mentions per day, stacked by sentiment' in html
    assert "width:100%" in html  # the tables of numbers stay beside the images
    assert "Mentions: 9 in 7 days" in sent.body  # the plain-text part is kept
    # The images belong to the HTML (multipart/related), which has its text alternative; the PDF
    # is beside them, the one attachment a mail client lists.
    whole = sent.message()
    assert whole.get_content_type() == "multipart/mixed"
    related, pdf = whole.get_payload()
    assert related.get_content_type() == "multipart/related"
    parts = [p.get_content_type() for p in related.walk()]
    assert parts.count("text/plain") == 1 and parts.count("text/html") == 1
    assert parts.count("image/png") == 2
    assert pdf.get_content_type() == "application/pdf"


@pytest.mark.django_db
def test_the_volume_chart_stacks_each_days_sentiment(sent):
    image = Image.open(io.BytesIO(images_of(sent)["<volume>"].get_payload(decode=True)))
    assert image.format == "PNG"
    assert image.size == charts.VOLUME_SIZE
    strips = day_strips(7)  # 1 to 7 March
    red = [pixels(image, box, RED) for box in strips]
    green = [pixels(image, box, GREEN) for box in strips]
    # Negatives: none on the 1st, one on the 2nd, two on the 3rd, one on the 6th, none on the 7th.
    assert red[0] == 0 and red[6] == 0
    assert red[2] > red[1] > 0
    assert red[2] == pytest.approx(2 * red[1], rel=0.05)
    assert red[5] == red[1]
    # Positives: one each on the 1st, 2nd and 5th.
    assert green[0] == green[1] == green[4] > 0
    assert green[2] == 0


@pytest.mark.django_db
def test_the_share_of_voice_chart_has_a_bar_per_name_as_long_as_its_share(sent):
    image = Image.open(io.BytesIO(images_of(sent)["<share-of-voice>"].get_payload(decode=True)))
    assert image.size == charts.share_of_voice_size(2)
    acme, globex = (pixels(image, box, BLUE) for box in share_rows(2))
    # Acme takes part in 7 of the 10 name mentions, Globex in 3.
    assert acme / globex == pytest.approx(7 / 3, rel=0.03)


def test_a_long_or_odd_name_is_cut_and_leaves_the_bar_alone():
    hostile = "<script>alert(1)</script> " * 20 + "\n\t名前 🙂"
    image = Image.open(io.BytesIO(charts.share_of_voice_png([(hostile, 50.0), ("Acme", 50.0)])))
    assert image.size == (charts.SHARE_WIDTH, charts.share_of_voice_size(2)[1])
    first, second = share_rows(2)
    assert pixels(image, first, BLUE) == pixels(image, second, BLUE) > 0
    label_column = (0, first[1], charts.SHARE_PADDING + charts.SHARE_LABEL_WIDTH + 4, first[3])
    assert pixels(image, label_column, BLUE) == 0  # the name did not run into the bar


def test_a_period_without_mentions_draws_empty_axes():
    days = [date(2026, 3, 1) + timedelta(days=n) for n in range(7)]
    image = Image.open(io.BytesIO(charts.volume_chart_png(days, {})))
    assert image.size == charts.VOLUME_SIZE
    assert all(pixels(image, box, RED) == pixels(image, box, GREEN) == 0 for box in day_strips(7))
