from __future__ import annotations

from django.contrib.auth.decorators import permission_required
from django.db.models import Count
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from listening.selectors import mentions_for_user


@permission_required("listening.view_reports", raise_exception=True)
def report(request: HttpRequest) -> HttpResponse:
    by_sentiment = mentions_for_user(request.user).values("sentiment").annotate(count=Count("id")).order_by("sentiment")
    return render(request, "reports/report.html", {"by_sentiment": by_sentiment})
