from __future__ import annotations

import logging

from django.contrib.auth.decorators import login_not_required, login_required
from django.core.cache import cache
from django.db import connection
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect
from django.utils.translation import gettext as _
from django.views import defaults, i18n
from django.views.decorators.cache import never_cache
from drf_spectacular.views import SpectacularSwaggerSplitView

from config.celery import app as celery_app
from responses.preferences import user_language_set

logger = logging.getLogger(__name__)


@login_not_required
def set_language(request: HttpRequest) -> HttpResponse:
    """Django's language switch; a signed-in person's choice is also kept on their profile, so their
    notifications and e-mails are written in it and it follows them to another browser."""
    response = i18n.set_language(request)
    if request.method == "POST" and request.user.is_authenticated:
        user_language_set(user=request.user, language=request.POST.get("language", ""), request=request)
    return response


def home(request: HttpRequest) -> HttpResponse:
    """Send each person to the screen of their role."""
    user = request.user
    if user.has_perm("listening.work_inbox"):
        return redirect("responses:inbox")
    if user.has_perm("listening.view_reports"):
        return redirect("reports:report")
    return redirect("responses:ticket_list")


def _check_database() -> None:
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
        cursor.fetchone()


def _check_broker() -> None:
    with celery_app.connection_for_write() as conn:
        conn.ensure_connection(max_retries=1, timeout=2)


def _check_cache() -> None:
    cache.get("healthz")  # pages do without it (presence, API throttling); the operator should know


# Each raises when its component cannot be reached.
HEALTH_CHECKS = {"database": _check_database, "broker": _check_broker, "cache": _check_cache}


@never_cache
@login_not_required
def healthz(request: HttpRequest) -> JsonResponse:
    """``ok``, or the name of each component that is not reachable.

    200 while web can serve its pages: ``degraded`` when only Redis (broker, cache) is down, since
    pages keep working then and the queued work waits in the database for the sweeps; a load
    balancer or compose must not take web out, or restart it, for what a restart cannot fix. 503
    only without the database. Anyone can ask, so the answer names components only: why one
    failed (host names, addresses, driver messages) goes to the log for the operator.
    """
    checks = {}
    for name, check in HEALTH_CHECKS.items():
        try:
            check()
        except Exception:  # any failure means "unreachable"
            logger.exception("health check: the %s is unreachable", name)
            checks[name] = "unreachable"
        else:
            checks[name] = "ok"
    if checks["database"] != "ok":
        return JsonResponse({"status": "unavailable", "checks": checks}, status=503)
    healthy = all(state == "ok" for state in checks.values())
    return JsonResponse({"status": "ok" if healthy else "degraded", "checks": checks})


# The API's documentation pages, for people in a browser: the login page first, like every page
# (DRF views are exempt from the login middleware, their API answers 401/403 on its own). Swagger UI
# loads its start-up script as a second request, so that nothing on the page runs inline.
api_docs = login_required(
    SpectacularSwaggerSplitView.as_view(url_name="api-schema", template_name="api/swagger_ui.html")
)


def not_found(request: HttpRequest, exception: Exception) -> HttpResponse:
    """404 for a URL that matches nothing: under /api/ in the API's error shape (an id with a dot in
    it, a path segment too many), elsewhere the page."""
    if request.path.startswith("/api/"):
        return JsonResponse({"non_field_errors": [_("Not found.")]}, status=404)
    return defaults.page_not_found(request, exception)
