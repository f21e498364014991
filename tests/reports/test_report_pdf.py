"""The report as a PDF: rendered on the server from the page's blocks, and attached to the e-mail."""

from __future__ import annotations

import shutil
import subprocess
import xml.etree.ElementTree as ET

import pytest
import time_machine
from django.core import mail

from reports import charts, exports, selectors
from reports.models import ReportSubscription
from reports.scheduled import scheduled_reports_send
from tests.reports.conftest import NOW, PERIOD

DATES = "1 Mar 2026 \u2013 7 Mar 2026"  # the period as the PDF's page header writes it
pytestmark = pytest.mark.skipif(not shutil.which("pdftotext"), reason="pdftotext (poppler-utils) is not installed")


def pdf_text(pdf: bytes, *, layout: bool = False) -> list[str]:
    """The text of each page, as pdftotext reads it."""
    assert pdf.startswith(b"%PDF-")
    out = subprocess.run(
        ["pdftotext", *(["-layout"] if layout else []), "-", "-"], input=pdf, capture_output=True, check=True
    ).stdout.decode()
    return out.split("\f")[:-1]  # pdftotext ends every page with a form feed


def squash(text: str) -> str:
    return " ".join(text.split())


@pytest.fixture
def builds(monkeypatch) -> list[str]:
    """The PDFs laid out, by the language they were laid out in."""
    from django.utils.translation import get_language

    laid_out: list[str] = []
    original = exports.report_pdf

    def spy(*args, **kwargs):
        laid_out.append(get_language())
        return original(*args, **kwargs)

    monkeypatch.setattr(exports, "report_pdf", spy)
    return laid_out


@pytest.mark.django_db
def test_the_pdf_is_prepared_once_in_the_background_then_downloaded(
    client, team, week, builds, django_capture_on_commit_callbacks
):
    client.force_login(team.manager)
    url = f"/reports/pdf/?brand={team.brand.pk}&since=2026-03-01&until=2026-03-07"
    with time_machine.travel(NOW, tick=False):
        page = client.get(f"/reports/?brand={team.brand.pk}&since=2026-03-01&until=2026-03-07").content.decode()
        assert f'href="/reports/pdf/?brand={team.brand.pk}&amp;since=2026-03-01&amp;until=2026-03-07"' in page
        with django_capture_on_commit_callbacks() as queued:
            asked = client.get(url)
            waiting = client.get(f"{url}&wait=1")  # the page reloading itself
            again = client.get(url)  # a second click while it is being prepared
        assert asked.status_code == waiting.status_code == again.status_code == 202
        text = asked.content.decode()
        assert "Preparing the PDF" in text and f'content="3;url=/reports/pdf/?brand={team.brand.pk}' in text
        assert len(queued) == 1 and builds == []  # one build queued, nothing laid out in the requests
        queued[0]()  # the reports worker runs it
        assert builds == ["en"]
        response = client.get(f"{url}&wait=1")
        assert client.get(url).status_code == 200
    assert len(builds) == 1  # downloaded twice, built once
    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf"
    assert response["Content-Disposition"] == 'attachment; filename="acme-report-2026-03-01-2026-03-07.pdf"'
    pages = pdf_text(response.content)
    assert len(pages) >= 8  # the headline, then one page (or more) per block
    for text in pages:  # the margin boxes: brand and period head every page
        assert text.lstrip().startswith("Acme") and DATES in text
    first = squash(pages[0])
    for figure in (
        "Mentions 9 in 7 days",
        "+800 % vs the previous 7 days, which had 1",
        "Negative mentions 4",
        "First response, median 30 min of 3 replied mentions",
        "SLA met 33.3 % of 3 tickets with an SLA",
    ):
        assert figure in first
    whole = squash(" ".join(pages))
    assert "Share of voice" in whole and "how do i get a refund" in whole
    # One block per page: each block's title starts a page of its own.
    starts = [squash(p).removeprefix(f"Acme {DATES} ") for p in pages]
    for title in ("Volume and sentiment", "Share of voice", "Opinion leaders", "Team", "Sentiment quality"):
        assert any(s.startswith(title) for s in starts), title


@pytest.mark.django_db
def test_pdf_charts_are_svg_drawn_from_the_page_chart_data(team, week):
    data = selectors.report(team.brand, PERIOD)
    spec = charts.chart_specs(data)["volume"]
    svg = ET.fromstring(charts.chart_svg(spec))  # noqa: S314 - our own SVG
    bars = [r for r in svg.iter("{http://www.w3.org/2000/svg}rect") if r.get("fill") == spec["colors"][2]]
    # Negatives per day, 1 to 7 March: 0, 1, 2, 0, 0, 1, 0 — one bar on each day that has any.
    heights = sorted(float(r.get("height")) for r in bars if float(r.get("y")) > 20)
    assert len(heights) == 3
    assert heights[2] == pytest.approx(2 * heights[0], rel=0.02) and heights[0] == heights[1]


def test_a_hostile_label_stays_text_in_the_svg():
    spec = {"type": "bar", "horizontal": True, "labels": ['<script>alert(1)</script>"'], "series": {"": [3]}}
    svg = charts.chart_svg(spec)
    root = ET.fromstring(svg)  # noqa: S314 - our own SVG, still well-formed
    assert "<script>" not in svg
    assert any("<script>" in (t.text or "") for t in root.iter("{http://www.w3.org/2000/svg}text"))


@pytest.mark.django_db
def test_the_pdf_fetches_nothing_but_its_own_charts(team, week, monkeypatch):
    fetched: list[str] = []
    from weasyprint import URLFetcher

    original = URLFetcher.fetch

    def spy(self, url, *args, **kwargs):
        fetched.append(url)
        return original(self, url, *args, **kwargs)

    monkeypatch.setattr(URLFetcher, "fetch", spy)
    team.brand.name = 'Acme <img src="http://127.0.0.1:9/x.png">'
    team.brand.save()
    pdf = exports.report_pdf(selectors.report(team.brand, PERIOD))
    assert fetched and all(url.startswith("data:image/svg+xml;base64,") for url in fetched)
    assert '<img src="http://127.0.0.1:9/x.png">' in pdf_text(pdf)[0]  # the name, as text


@pytest.mark.django_db
def test_the_scheduled_email_carries_the_pdf(team, week):
    team.manager.email = "marta@example.com"
    team.manager.save()
    ReportSubscription.objects.create(user=team.manager, brand=team.brand)
    with time_machine.travel(NOW, tick=False):
        assert scheduled_reports_send() == 1
    (attachment,) = [a for a in mail.outbox[0].attachments if not hasattr(a, "get_content_type")]
    name, pdf, mimetype = attachment
    assert (name, mimetype) == ("acme-report-2026-03-01-2026-03-07.pdf", "application/pdf")
    first = squash(pdf_text(pdf)[0])
    assert "Acme" in first and DATES in first and "Mentions 9" in first


@pytest.mark.django_db
def test_subscribers_of_one_language_share_one_pdf_and_the_page_downloads_it(client, team, week, builds):
    for user, address in ((team.manager, "marta@example.com"), (team.cm, "carla@example.com")):
        user.email = address
        user.save()
        ReportSubscription.objects.create(user=user, brand=team.brand)
    with time_machine.travel(NOW, tick=False):
        assert scheduled_reports_send() == 2
        client.force_login(team.manager)
        response = client.get(f"/reports/pdf/?brand={team.brand.pk}&since=2026-03-01&until=2026-03-07")
    assert builds == ["en"]
    assert response.status_code == 200 and "Mentions 9" in squash(pdf_text(response.content)[0])
    attached = [a[1] for m in mail.outbox for a in m.attachments if not hasattr(a, "get_content_type")]
    assert attached == [response.content, response.content]


@pytest.mark.django_db
def test_a_pdf_that_cannot_be_built_is_tried_again_then_shown_as_failed(
    client, team, week, monkeypatch, django_capture_on_commit_callbacks
):
    tries = []

    def broken(*args, **kwargs):
        tries.append(1)
        raise OSError("fonts missing")

    monkeypatch.setattr(exports, "report_pdf", broken)
    client.force_login(team.manager)
    url = f"/reports/pdf/?brand={team.brand.pk}&since=2026-03-01&until=2026-03-07"
    with time_machine.travel(NOW, tick=False):
        with django_capture_on_commit_callbacks() as queued:
            client.get(url)
        with pytest.raises(OSError):
            queued[0]()
        assert len(tries) == 3  # the first try and two more
        failed = client.get(f"{url}&wait=1")
        assert failed.status_code == 200
        text = failed.content.decode()
        assert "The PDF could not be prepared." in text and "fonts missing" in text and "http-equiv" not in text
        with django_capture_on_commit_callbacks() as queued:
            assert client.get(url).status_code == 202  # "Try again"
        assert len(queued) == 1


@pytest.mark.django_db
def test_each_subscriber_gets_the_report_in_their_own_language(team, week, settings):
    from responses.models import Profile

    settings.LANGUAGE_CODE = "en"
    for user, address in ((team.manager, "marta@example.com"), (team.cm, "carla@example.com")):
        user.email = address
        user.save()
        ReportSubscription.objects.create(user=user, brand=team.brand)
    Profile.objects.create(user=team.manager, language="es")  # Carla never chose: the site's English
    with time_machine.travel(NOW, tick=False):
        assert scheduled_reports_send() == 2
    sent = {message.to[0]: message for message in mail.outbox}

    def parts(message) -> tuple[str, str, str, str]:
        (attachment,) = [a for a in message.attachments if not hasattr(a, "get_content_type")]
        return message.subject, message.body, message.alternatives[0][0], squash(" ".join(pdf_text(attachment[1])))

    subject, body, html, pdf = parts(sent["marta@example.com"])
    assert subject == "Acme: informe del 2026-03-01 al 2026-03-07"
    assert "Cuota de voz:" in body and "El informe completo:" in body and "Positivo:" in body
    assert "Cuota de voz" in html and "Share of voice" not in html
    assert "Menciones negativas 4" in pdf and "Cuota de voz" in pdf and "Share of voice" not in pdf

    subject, body, html, pdf = parts(sent["carla@example.com"])
    assert subject == "Acme: report 2026-03-01 to 2026-03-07"
    assert "Share of voice:" in body and "The full report:" in body and "Positive:" in body
    assert "Share of voice" in html and "Cuota de voz" not in html
    assert "Negative mentions 4" in pdf and "Share of voice" in pdf and "Cuota de voz" not in pdf
