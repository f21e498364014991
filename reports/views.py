from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, date, timedelta

from django.contrib import messages
from django.contrib.auth.decorators import permission_required
from django.http import Http404, HttpRequest, HttpResponse, StreamingHttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import get_language
from django.utils.translation import gettext_lazy as _
from django.views.decorators.http import require_POST

from config import params
from listening.models import Brand
from listening.selectors import MentionFilters, brand_for, brands_for_user
from reports import charts, exports, pdfs, rollups, selectors, tables
from reports.models import ReportPdf, ReportSubscription
from reports.services import report_subscription_delete, report_subscription_set

MAX_DAYS = 366
# How often the page of a PDF being prepared asks again.
PDF_RELOAD_SECONDS = 3


class BadPeriod(ValueError):
    """A period that cannot be reported; ``field`` names the parameter at fault."""

    def __init__(self, message: str, field: str = "since") -> None:
        super().__init__(message)
        self.field = field


def parse_period(query: Mapping[str, str]) -> selectors.Period:
    """since/until as YYYY-MM-DD, both included; missing means the last 30 days. BadPeriod on nonsense."""
    default = selectors.Period.last_days(30)

    def day(name: str, fallback: date) -> date:
        value = query.get(name, "").strip()
        if not value:
            return fallback
        try:
            return params.parse_day(value)
        except params.BadParam as error:
            raise BadPeriod(str(error), name) from None

    until = day("until", default.until)
    since = day("since", until - timedelta(days=29))
    if since > until:
        raise BadPeriod(_("The start date is after the end date."))
    if (until - since).days >= MAX_DAYS:
        raise BadPeriod(_("A report covers at most a year."), "until")
    return selectors.Period(since, until)


def _report_or_error(request: HttpRequest) -> tuple[Brand, selectors.Period, str]:
    brand = brand_for(request)
    try:
        return brand, parse_period(request.GET), ""
    except BadPeriod as exc:
        return brand, selectors.Period.last_days(30), str(exc)


@permission_required("listening.view_reports", raise_exception=True)
def report(request: HttpRequest) -> HttpResponse:
    brand, period, error = _report_or_error(request)
    data = selectors.report(brand, period, rankings_max_age=selectors.RANKINGS_MAX_AGE)
    context = exports.report_blocks_context(data) | {
        "brands": brands_for_user(request.user).order_by("name"),
        "error": error,
        "charts": charts.chart_specs(data),
        "subscribed": ReportSubscription.objects.filter(user=request.user, brand=brand).first(),
        "refreshed_at": rollups.last_refreshed_at(),
        "query": f"brand={brand.pk}&since={period.since}&until={period.until}",
    }
    return render(request, "reports/report.html", context)


@permission_required("listening.view_reports", raise_exception=True)
def report_pdf(request: HttpRequest) -> HttpResponse:
    """The page as a PDF (reports/pdfs.py): downloaded when one stands; else prepared in the
    background while this page says so and reloads itself (``wait``) until it is ready."""
    brand, period, error = _report_or_error(request)
    if error:
        return HttpResponse(error, status=400, content_type="text/plain; charset=utf-8")
    waiting = request.GET.get("wait") == "1"
    pdf = pdfs.report_pdf_request(brand=brand, period=period, language=get_language(), again=not waiting)
    if pdf.status == ReportPdf.Status.READY:
        response = HttpResponse(bytes(pdf.pdf), content_type="application/pdf")
        response["Content-Disposition"] = (
            f'attachment; filename="{brand.slug}-report-{period.since}-{period.until}.pdf"'
        )
        return response
    query = f"brand={brand.pk}&since={period.since}&until={period.until}"
    context = {"brand": brand, "period": period, "pdf": pdf, "query": query, "reload_seconds": PDF_RELOAD_SECONDS}
    return render(request, "reports/report_pdf_status.html", context, status=202 if pdfs.preparing(pdf) else 200)


@permission_required("listening.view_reports", raise_exception=True)
def export_table(request: HttpRequest, name: str) -> HttpResponse:
    if name not in tables.TABLES:
        raise Http404
    brand, period, error = _report_or_error(request)
    if error:
        return HttpResponse(error, status=400, content_type="text/plain; charset=utf-8")
    table = tables.table(selectors.report(brand, period), name)
    response = StreamingHttpResponse(
        exports.csv_lines([table.headers, *table.rows]), content_type="text/csv; charset=utf-8"
    )
    response["Content-Disposition"] = f'attachment; filename="{brand.slug}-{name}-{period.since}-{period.until}.csv"'
    return response


@permission_required("listening.work_inbox", raise_exception=True)
def export_mentions(request: HttpRequest) -> HttpResponse:
    filters = MentionFilters.from_params(request.GET)
    response = StreamingHttpResponse(
        exports.csv_lines(exports.mention_rows(user=request.user, filters=filters)),
        content_type="text/csv; charset=utf-8",
    )
    stamp = timezone.now().astimezone(UTC).strftime("%Y%m%d-%H%M")
    response["Content-Disposition"] = f'attachment; filename="mentions-{stamp}.csv"'
    return response


@require_POST
@permission_required("listening.view_reports", raise_exception=True)
def subscribe(request: HttpRequest) -> HttpResponse:
    brand = get_object_or_404(brands_for_user(request.user), pk=params.id_or_none(request.POST.get("brand", "")) or 0)
    if request.POST.get("action") == "unsubscribe":
        report_subscription_delete(user=request.user, brand=brand)
        messages.success(request, _("You will no longer receive this report by e-mail."))
    else:
        frequency = request.POST.get("frequency", ReportSubscription.Frequency.WEEKLY)
        report_subscription_set(user=request.user, brand=brand, frequency=frequency)
        messages.success(request, _("You will receive this report by e-mail."))
    return redirect(f"{reverse('reports:report')}?brand={brand.pk}")
