from __future__ import annotations

from django.contrib.auth.decorators import login_not_required
from django.db import connection
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect
from django.views.decorators.cache import never_cache

from config.celery import app as celery_app


def home(request: HttpRequest) -> HttpResponse:
    """Send each person to the screen of their role."""
    user = request.user
    if user.has_perm("listening.work_inbox"):
        return redirect("responses:inbox")
    if user.has_perm("listening.view_reports"):
        return redirect("reports:report")
    return redirect("responses:ticket_list")


def _check_database() -> str | None:
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
            cursor.fetchone()
    except Exception as error:  # noqa: BLE001 - any failure means "unreachable"
        return f"{type(error).__name__}: {error}"
    return None


def _check_broker() -> str | None:
    try:
        with celery_app.connection_for_write() as conn:
            conn.ensure_connection(max_retries=1, timeout=2)
    except Exception as error:  # noqa: BLE001
        return f"{type(error).__name__}: {error}"
    return None


@never_cache
@login_not_required
def healthz(request: HttpRequest) -> JsonResponse:
    checks = {"database": _check_database(), "broker": _check_broker()}
    healthy = all(error is None for error in checks.values())
    body = {
        "status": "ok" if healthy else "unavailable",
        "checks": {name: ("ok" if error is None else error) for name, error in checks.items()},
    }
    return JsonResponse(body, status=200 if healthy else 503)
