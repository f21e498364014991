"""The report's PDF, built in the background: laying out a report takes seconds (WeasyPrint), too
long for a web request and for the web worker it would hold.

The page asks (``report_pdf_request``): a PDF that still stands is downloaded at once; else one is
prepared by the ``reports.build_report_pdf`` task on the reports queue (``report_pdf_build``) and
the page shows it being prepared until it is ready. A second request while one is being prepared
waits for that one. The scheduled e-mail attaches the same PDF (``report_pdf_bytes``), built once
for every subscriber of the brand who reads the same language.
"""

from __future__ import annotations

from datetime import timedelta

from django.conf import settings
from django.db import transaction
from django.urls import reverse
from django.utils import timezone, translation

from config.celery import queue_after_commit
from listening.models import Brand
from reports import exports, selectors
from reports.models import ReportPdf, RollupVersion

# A ready PDF stands this long, and only while the brand's rollups have not changed (the team's
# numbers, read from tickets and replies, change without them).
PDF_STANDS = timedelta(minutes=10)
# A PDF still being prepared after this long was lost with its worker: asking again starts another.
PREPARING_TIMEOUT = timedelta(minutes=10)


def _version(brand_id: int) -> int:
    return RollupVersion.objects.filter(brand_id=brand_id).values_list("version", flat=True).first() or 0


def page_url(brand_id: int, period: selectors.Period) -> str:
    """The report page the PDF prints, as its last line links to it."""
    return f"{settings.SITE_URL}{reverse('reports:report')}?brand={brand_id}&since={period.since}&until={period.until}"


def stands(pdf: ReportPdf) -> bool:
    """A ready PDF whose numbers are still the report's (PDF_STANDS)."""
    return (
        pdf.status == ReportPdf.Status.READY
        and pdf.built_at is not None
        and pdf.built_at > timezone.now() - PDF_STANDS
        and pdf.version == _version(pdf.brand_id)
    )


def preparing(pdf: ReportPdf) -> bool:
    return pdf.status == ReportPdf.Status.PREPARING and pdf.requested_at > timezone.now() - PREPARING_TIMEOUT


def report_pdf_request(*, brand: Brand, period: selectors.Period, language: str, again: bool = True) -> ReportPdf:
    """The brand's PDF of ``period`` in ``language``: one that stands, one being prepared, or a
    build queued now (after commit) and the row marked preparing. ``again`` False (the page
    waiting for a build): a failed build is shown as failed rather than started once more."""
    now = timezone.now()
    with transaction.atomic():
        # Locked: two requests at once queue one build between them.
        pdf, made = ReportPdf.objects.select_for_update().get_or_create(
            brand=brand, since=period.since, until=period.until, language=language, defaults={"requested_at": now}
        )
        failed = pdf.status == ReportPdf.Status.FAILED
        if not made and (stands(pdf) or preparing(pdf) or (failed and not again)):
            return pdf
        pdf.status, pdf.requested_at, pdf.error = ReportPdf.Status.PREPARING, now, ""
        pdf.save(update_fields=["status", "requested_at", "error"])
        queue_after_commit("reports.build_report_pdf", pdf.pk)
    return pdf


def report_pdf_build(pdf_id: int) -> bool:
    """The task's work: the PDF laid out in its language and stored; False when there was nothing
    to build (built already, or the row is gone)."""
    pdf = ReportPdf.objects.filter(pk=pdf_id, status=ReportPdf.Status.PREPARING).select_related("brand").first()
    if pdf is None:
        return False
    content, version = _render(pdf.brand, selectors.Period(pdf.since, pdf.until), pdf.language)
    ReportPdf.objects.filter(pk=pdf_id).update(
        status=ReportPdf.Status.READY, pdf=content, version=version, built_at=timezone.now(), error=""
    )
    return True


def report_pdf_failed(pdf_id: int, error: BaseException) -> None:
    """The last try failed: the page says so and offers to try again."""
    ReportPdf.objects.filter(pk=pdf_id).update(status=ReportPdf.Status.FAILED, error=str(error)[:500])


def report_pdf_bytes(
    *, brand: Brand, period: selectors.Period, language: str, data: selectors.Report | None = None
) -> bytes:
    """The PDF the e-mail attaches: the stored one while it stands, else built here (from
    ``data`` when the caller has the report) and stored for the next subscriber and the page;
    the e-mail is a background job already."""
    pdf = ReportPdf.objects.filter(brand=brand, since=period.since, until=period.until, language=language).first()
    if pdf is not None and stands(pdf):
        return bytes(pdf.pdf)
    content, version = _render(brand, period, language, data)
    now = timezone.now()
    ReportPdf.objects.update_or_create(
        brand=brand, since=period.since, until=period.until, language=language,
        defaults={"status": ReportPdf.Status.READY, "pdf": content, "version": version, "built_at": now,
                  "requested_at": now, "error": ""},
    )  # fmt: skip
    return content


def _render(
    brand: Brand, period: selectors.Period, language: str, data: selectors.Report | None = None
) -> tuple[bytes, int]:
    """The PDF and the rollup version it was read at (read first: a change while it is laid out
    leaves it stale rather than passing for new; ``data`` read before it may be older still, and
    its PDF lives no longer than PDF_STANDS)."""
    version = _version(brand.pk)
    with translation.override(language):
        report = data if data is not None else selectors.report(brand, period)
        content = exports.report_pdf(report, url=page_url(brand.pk, period))
    return content, version


# A PDF is kept this long after it was asked for (it stands for PDF_STANDS; the rest is its
# download by a page that was left open), then deleted by the rollup job.
PDF_KEPT = timedelta(days=1)


def report_pdfs_forget() -> int:
    """Delete the PDFs asked for more than PDF_KEPT ago; returns how many."""
    deleted, _by_model = ReportPdf.objects.filter(requested_at__lt=timezone.now() - PDF_KEPT).delete()
    return deleted
