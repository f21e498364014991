"""REST API v1 for this app: viewsets registered on the project router by ``register``."""

from __future__ import annotations

from typing import Any

from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import permissions, viewsets
from rest_framework.exceptions import NotFound, ValidationError
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.routers import BaseRouter

from listening.selectors import brands_for_user
from reports import selectors
from reports.views import BadPeriod, brand_lookup, parse_period


class CanViewReports(permissions.BasePermission):
    def has_permission(self, request: Request, view: object) -> bool:
        return request.user.has_perm("listening.view_reports")


class ReportSummaryViewSet(viewsets.ViewSet):
    """Headline numbers of a brand's report: mentions by sentiment and platform, share of voice,
    first-response and resolution times. ``since``/``until`` are YYYY-MM-DD, both included."""

    permission_classes = [permissions.IsAuthenticated, CanViewReports]

    @extend_schema(
        parameters=[
            OpenApiParameter("brand", str, required=True, description="Brand id or slug"),
            OpenApiParameter("since", str, description="YYYY-MM-DD (default: 30 days ago)"),
            OpenApiParameter("until", str, description="YYYY-MM-DD (default: today)"),
        ],
        responses={200: dict},
    )
    def list(self, request: Request, **kwargs: Any) -> Response:
        value = request.query_params.get("brand", "").strip()
        if not value:
            raise ValidationError({"brand": "required"})
        brand = brands_for_user(request.user).filter(**brand_lookup(value)).first()
        if brand is None:
            raise NotFound()
        try:
            period = parse_period(request.query_params)
        except BadPeriod as exc:
            raise ValidationError({"dates": str(exc)}) from None
        return Response(selectors.summary(brand, period))


def register(router: BaseRouter) -> None:
    """Add this app's viewsets to /api/v1/."""
    router.register("reports/summary", ReportSummaryViewSet, basename="report-summary")
