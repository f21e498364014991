"""REST API v1 for this app: viewsets registered on the project router by ``register``."""

from __future__ import annotations

from typing import Any

from django.utils.translation import gettext as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema, extend_schema_serializer
from rest_framework import permissions, serializers, viewsets
from rest_framework.exceptions import ValidationError
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.routers import BaseRouter

from listening.api import query_brand
from reports import selectors
from reports.views import BadPeriod, parse_period


class CanViewReports(permissions.BasePermission):
    def has_permission(self, request: Request, view: object) -> bool:
        return request.user.has_perm("listening.view_reports")


class CountsSerializer(serializers.Serializer):
    positive = serializers.IntegerField()
    neutral = serializers.IntegerField()
    negative = serializers.IntegerField()
    unscored = serializers.IntegerField()
    total = serializers.IntegerField()
    net = serializers.FloatField(allow_null=True, help_text="(positive - negative) / scored; null when none scored.")


class ShareSerializer(serializers.Serializer):
    label = serializers.CharField()
    mentions = serializers.IntegerField()
    share = serializers.FloatField(help_text="Percent of the mentions of the brand and its competitors.")
    mention_share = serializers.FloatField(
        allow_null=True, help_text="Percent of the period's mentions naming the group; null when there were none."
    )
    net = serializers.FloatField(allow_null=True, help_text="(positive - negative) / scored; null when none scored.")


class TimingSerializer(serializers.Serializer):
    median = serializers.FloatField(allow_null=True)
    p90 = serializers.FloatField(allow_null=True)
    replied = serializers.IntegerField(help_text="Mentions with a first reply: what median and p90 rest on.")


class TicketNumbersSerializer(serializers.Serializer):
    opened = serializers.IntegerField()
    resolved = serializers.IntegerField()
    median_resolve_minutes = serializers.FloatField(allow_null=True)
    sla_met_percent = serializers.FloatField(allow_null=True)
    sla_measured = serializers.IntegerField(help_text="Tickets with an SLA: what sla_met_percent rests on.")
    followed_up_percent = serializers.FloatField(allow_null=True)
    followed_up_measured = serializers.IntegerField(help_text="Resolved tickets: what followed_up_percent rests on.")


@extend_schema_serializer(many=False)  # one object, though the route is a viewset's list
class SummarySerializer(serializers.Serializer):
    brand = serializers.IntegerField()
    since = serializers.DateField()
    until = serializers.DateField()
    mentions = CountsSerializer(help_text="The period's mentions by sentiment.")
    previous_mentions = CountsSerializer(help_text="The same for the period as long just before.")
    change_percent = serializers.FloatField(allow_null=True)
    platforms = serializers.DictField(child=serializers.IntegerField(), help_text="Mentions by platform.")
    share_of_voice = ShareSerializer(many=True)
    first_response_minutes = TimingSerializer()
    tickets = TicketNumbersSerializer()


class ReportSummaryViewSet(viewsets.ViewSet):
    """Headline numbers of a brand's report: mentions by sentiment and platform, share of voice,
    first-response and resolution times. ``since``/``until`` are YYYY-MM-DD, both included."""

    permission_classes = [permissions.IsAuthenticated, CanViewReports]

    @extend_schema(
        parameters=[
            OpenApiParameter(
                "brand", OpenApiTypes.STR, required=True, description="One of your brands: its id or slug."
            ),
            OpenApiParameter("since", OpenApiTypes.DATE, description="YYYY-MM-DD (default: 29 days before until)"),
            OpenApiParameter("until", OpenApiTypes.DATE, description="YYYY-MM-DD (default: today)"),
        ],
        responses=SummarySerializer,
    )
    def list(self, request: Request, **kwargs: Any) -> Response:
        brand = query_brand(request)
        if brand is None:
            raise ValidationError({"brand": [_("Name one of your brands by its id or slug.")]})
        try:
            period = parse_period(request.query_params)
        except BadPeriod as exc:
            raise ValidationError({exc.field: [str(exc)]}) from None
        return Response(SummarySerializer({**selectors.summary(brand, period), "brand": brand.pk}).data)


def register(router: BaseRouter) -> None:
    """Add this app's viewsets to /api/v1/."""
    router.register("reports/summary", ReportSummaryViewSet, basename="report-summary")
