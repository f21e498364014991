"""REST API v1 for responses: departments, routing rules, tickets and their notes.

Routing rules go through the same validator as the rule builder; ticket status changes go
through ``ticket_transition``, so the API refuses exactly what the UI refuses.
"""

from __future__ import annotations

from typing import Any

from django.contrib.auth import get_user_model
from django.db.models import Max, QuerySet
from django.utils.translation import gettext_lazy as _
from rest_framework import mixins, permissions, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.pagination import CursorPagination
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.routers import BaseRouter

from listening.api import RolePermission, read_write
from listening.models import Brand
from listening.selectors import brands_for_user
from responses import reply_api, routing
from responses.models import Department, RoutingRule, SlaPolicy, Ticket, TicketEvent
from responses.selectors import rules_for_user, tickets_for_user
from responses.tickets import TicketError, ticket_add_note, ticket_assign, ticket_transition


class SlaPolicySerializer(serializers.ModelSerializer):
    class Meta:
        model = SlaPolicy
        fields = ["priority", "acknowledge_minutes", "resolve_minutes"]


class DepartmentSerializer(serializers.ModelSerializer):
    brand = serializers.PrimaryKeyRelatedField(queryset=Brand.objects.none())
    members = serializers.PrimaryKeyRelatedField(many=True, required=False, queryset=get_user_model().objects.all())
    sla_policies = SlaPolicySerializer(many=True, read_only=True)

    class Meta:
        model = Department
        fields = ["id", "brand", "name", "email", "members", "sla_policies", "created_at"]
        read_only_fields = ["id", "created_at"]
        validators: list[Any] = []  # the (brand, name) check below gives a field error instead

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        request = self.context.get("request")
        if request is not None:
            self.fields["brand"].queryset = brands_for_user(request.user)

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        brand = attrs.get("brand") or getattr(self.instance, "brand", None)
        name = attrs.get("name") or getattr(self.instance, "name", "")
        duplicate = Department.objects.filter(brand=brand, name__iexact=name)
        if self.instance is not None:
            duplicate = duplicate.exclude(pk=self.instance.pk)
        if duplicate.exists():
            raise serializers.ValidationError({"name": [_("This brand already has a department with this name.")]})
        outsiders = [
            user.pk for user in attrs.get("members", []) if not user.brand_memberships.filter(brand=brand).exists()
        ]
        if outsiders:
            raise serializers.ValidationError({"members": [_("Only members of the brand can join its departments.")]})
        return attrs


class DepartmentViewSet(
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.CreateModelMixin,
    mixins.UpdateModelMixin,
    viewsets.GenericViewSet,
):
    """The departments of the user's brands, with their members and SLA policies."""

    serializer_class = DepartmentSerializer
    permission_classes = [RolePermission]
    permission_for = read_write("responses.view_department", "responses.change_department", "responses.add_department")
    http_method_names = ["get", "post", "patch", "head", "options"]

    def get_queryset(self) -> QuerySet[Department]:
        return (
            Department.objects.filter(brand__in=brands_for_user(self.request.user))
            .prefetch_related("members", "sla_policies")
            .order_by("brand__name", "name")
        )


class RoutingRuleSerializer(serializers.ModelSerializer):
    class Meta:
        model = RoutingRule
        fields = [
            "id",
            "brand",
            "name",
            "position",
            "is_active",
            "match",
            "conditions",
            "actions",
            "stop_processing",
            "created_at",
            "updated_at",
        ]
        read_only_fields = ["id", "created_at", "updated_at"]

    def get_fields(self) -> dict[str, Any]:
        fields = super().get_fields()
        request = self.context.get("request")
        fields["brand"].queryset = brands_for_user(request.user) if request else fields["brand"].queryset.none()
        if self.instance is not None and not isinstance(self.instance, list | QuerySet):
            fields["brand"].read_only = True  # a rule stays with its brand
        return fields

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        instance = self.instance
        brand = attrs.get("brand") or (instance.brand if instance else None)
        try:
            clean = routing.clean_rule(
                brand_id=brand.pk,
                match=attrs.get("match", instance.match if instance else RoutingRule.Match.ALL),
                conditions=attrs.get("conditions", instance.conditions if instance else []),
                actions=attrs.get("actions", instance.actions if instance else []),
            )
        except routing.RuleInvalid as invalid:
            # One message per faulty field, keyed like "conditions.0.value".
            raise serializers.ValidationError({key: [message] for key, message in invalid.errors.items()}) from None
        attrs["conditions"], attrs["actions"] = clean.conditions, clean.actions
        return attrs


class ConfiguresBrand(permissions.BasePermission):
    def has_permission(self, request: Request, view: Any) -> bool:
        if request.method in permissions.SAFE_METHODS:
            return request.user.has_perm("responses.view_routingrule")
        return request.user.has_perm("listening.configure_brand")


class RoutingRuleViewSet(viewsets.ModelViewSet):
    """A brand's routing rules, in evaluation order."""

    serializer_class = RoutingRuleSerializer
    permission_classes = [permissions.IsAuthenticated, ConfiguresBrand]
    http_method_names = ["get", "post", "patch", "delete", "head", "options"]

    def get_queryset(self) -> QuerySet[RoutingRule]:
        return rules_for_user(self.request.user).order_by("brand_id", "position", "id")

    def perform_create(self, serializer: RoutingRuleSerializer) -> None:
        brand = serializer.validated_data["brand"]
        if "position" not in serializer.validated_data:
            last = RoutingRule.objects.filter(brand=brand).aggregate(m=Max("position"))["m"]
            serializer.validated_data["position"] = 0 if last is None else last + 1
        serializer.save(created_by=self.request.user)


class TicketEventSerializer(serializers.ModelSerializer):
    actor = serializers.SlugRelatedField(slug_field="username", read_only=True)

    class Meta:
        model = TicketEvent
        fields = ["id", "kind", "actor", "from_status", "to_status", "body", "created_at"]


class TicketSerializer(serializers.ModelSerializer):
    department_name = serializers.CharField(source="department.name", read_only=True)
    assignee = serializers.PrimaryKeyRelatedField(
        queryset=get_user_model().objects.all(), allow_null=True, required=False
    )

    class Meta:
        model = Ticket
        fields = [
            "id",
            "brand",
            "department",
            "department_name",
            "mention",
            "rule",
            "subject",
            "priority",
            "status",
            "assignee",
            "resolution",
            "created_at",
            "acknowledged_at",
            "resolved_at",
            "closed_at",
            "acknowledge_due_at",
            "resolve_due_at",
            "acknowledge_breached_at",
            "resolve_breached_at",
            "followed_up_at",
        ]
        read_only_fields = [f for f in fields if f not in ("status", "assignee", "resolution")]


class NoteSerializer(serializers.Serializer):
    body = serializers.CharField(max_length=10000)


class TicketPagination(CursorPagination):
    ordering = ("-created_at", "-id")
    page_size = 50


class TicketViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    """Tickets the user may see (their departments', or their brands' with manage_all_tickets).

    PATCH changes ``status`` (with ``resolution``) through the lifecycle, and ``assignee``.
    """

    serializer_class = TicketSerializer
    pagination_class = TicketPagination

    def get_queryset(self) -> QuerySet[Ticket]:
        qs = tickets_for_user(self.request.user).select_related("department")
        params = self.request.query_params
        if params.get("status") in Ticket.Status.values:
            qs = qs.filter(status=params["status"])
        if (params.get("department") or "").isdigit():
            qs = qs.filter(department_id=int(params["department"]))
        return qs

    def partial_update(self, request: Request, pk: str | None = None) -> Response:
        if not request.user.has_perm("responses.change_ticket"):
            return Response({"detail": "You may not change tickets."}, status=status.HTTP_403_FORBIDDEN)
        ticket = self.get_object()
        serializer = self.get_serializer(ticket, data=request.data, partial=True)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        if "assignee" in data:
            try:
                ticket_assign(ticket=ticket, assignee=data["assignee"], actor=request.user)
            except TicketError as error:
                return Response({"assignee": [str(error)]}, status=status.HTTP_400_BAD_REQUEST)
        try:
            if "status" in data and data["status"] != ticket.status:
                ticket_transition(
                    ticket=ticket, to_status=data["status"], actor=request.user, resolution=data.get("resolution", "")
                )
            elif data.get("resolution"):
                Ticket.objects.filter(pk=ticket.pk).update(resolution=data["resolution"].strip())
        except TicketError as error:
            return Response({"status": [str(error)]}, status=status.HTTP_400_BAD_REQUEST)
        return Response(self.get_serializer(self.get_queryset().get(pk=ticket.pk)).data)

    @action(detail=True, methods=["get", "post"], serializer_class=NoteSerializer)
    def notes(self, request: Request, pk: str | None = None) -> Response:
        """GET the internal notes; POST ``{"body": ...}`` adds one."""
        ticket = self.get_object()
        if request.method == "GET":
            notes = ticket.events.filter(kind=TicketEvent.Kind.NOTE).select_related("actor")
            return Response(TicketEventSerializer(notes, many=True).data)
        if not request.user.has_perm("responses.add_ticketevent"):
            return Response({"detail": "You may not add notes."}, status=status.HTTP_403_FORBIDDEN)
        serializer = NoteSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        try:
            event = ticket_add_note(ticket=ticket, body=serializer.validated_data["body"], actor=request.user)
        except TicketError as error:
            return Response({"body": [str(error)]}, status=status.HTTP_400_BAD_REQUEST)
        return Response(TicketEventSerializer(event).data, status=status.HTTP_201_CREATED)


def register(router: BaseRouter) -> None:
    """Add this app's viewsets to /api/v1/."""
    router.register("departments", DepartmentViewSet, basename="department")
    router.register("routing-rules", RoutingRuleViewSet, basename="routing-rule")
    router.register("tickets", TicketViewSet, basename="ticket")
    reply_api.register(router)
