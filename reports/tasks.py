"""Periodic report jobs. Thin: each takes a lock or ids and calls one service.

Each is acknowledged when it starts (acks_late=False): they run longer than the broker's visibility
timeout, and a run lost with its worker is simply the next beat's (see config/settings.py).
"""

from __future__ import annotations

from celery import shared_task
from django.utils import timezone

from config.backoff import backoff_seconds
from config.locks import cache_lock
from reports import alerts, pdfs, rollups, scheduled, selectors

# Longer than any refresh should take; if a worker dies holding it, the next beat after expiry runs.
REFRESH_LOCK = "reports:refresh_rollups:lock"
REFRESH_LOCK_SECONDS = 600


@shared_task(name="reports.refresh_rollups", acks_late=False, soft_time_limit=540, time_limit=600)
def refresh_rollups() -> int | None:
    # One refresh at a time: a second one skips. Once an hour every day's total is compared, not
    # only each brand's (see rollups.dirty_days).
    # Then the report summaries of the usual periods that the changes made stale, so the page
    # finds its ranked blocks ready; old summaries and PDFs go.
    with cache_lock(REFRESH_LOCK, REFRESH_LOCK_SECONDS) as held:
        if not held:
            return None
        recounted = rollups.rollups_refresh(thorough=timezone.now().minute == 0)
        selectors.summaries_refresh()
        pdfs.report_pdfs_forget()
        return recounted


@shared_task(name="reports.detect_spikes", acks_late=False, soft_time_limit=240, time_limit=280)
def detect_spikes() -> int:
    return alerts.spikes_detect()


@shared_task(name="reports.send_scheduled_reports", acks_late=False, soft_time_limit=1200, time_limit=1500)
def send_scheduled_reports() -> int:
    return scheduled.scheduled_reports_send()


# Tries after the first, each after about twice the wait of the one before (up to 30 s, then
# 60 s, jittered so that builds that failed together do not retry together).
PDF_RETRIES = 2
PDF_RETRY_SECONDS = 30


@shared_task(bind=True, name="reports.build_report_pdf", acks_late=False, soft_time_limit=240, time_limit=300)
def build_report_pdf(self, pdf_id: int) -> bool | None:
    """A report's PDF asked for from the page (reports/pdfs.py). A failure is tried again with
    backoff, then shown on the page as failed."""
    try:
        return pdfs.report_pdf_build(pdf_id)
    except Exception as exc:
        if self.request.retries < PDF_RETRIES:
            # Run eagerly (tests, a broker-less setup), a returned Retry makes Celery run it at once.
            wait = backoff_seconds(self.request.retries + 1, base=PDF_RETRY_SECONDS, cap=4 * PDF_RETRY_SECONDS)
            return self.retry(exc=exc, countdown=wait, max_retries=PDF_RETRIES, throw=not self.request.is_eager)
        pdfs.report_pdf_failed(pdf_id, exc)
        raise
