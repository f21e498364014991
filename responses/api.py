"""REST API v1 for responses: mentions (with their ticket), departments, routing rules, tickets and
their notes; replies are in ``responses.reply_api``.

Routing rules go through the same validator as the rule builder; ticket status changes go
through ``ticket_transition``, so the API refuses exactly what the UI refuses.
"""

from __future__ import annotations

from typing import Any

from django.contrib.auth import get_user_model
from django.db.models import Prefetch, QuerySet
from django.utils.translation import gettext_lazy as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import mixins, permissions, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import ValidationError
from rest_framework.pagination import CursorPagination
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.routers import BaseRouter

from config import params
from config.api import READ, RolePermission, read_write
from config.pagination import BadCursor, keyset_page
from listening.models import Brand, Intent, Mention, Platform, Sentiment
from listening.selectors import (
    MentionFilters,
    brand_members,
    brands_for_user,
    mentions_filtered,
    parse_mention_filters,
)
from responses import reply_api
from responses.models import Department, RoutingRule, SlaPolicy, Ticket, TicketEvent
from responses.rules import RuleInvalid, clean_rule
from responses.selectors import rules_for_user, tickets_for_user
from responses.services import routing_rule_create, routing_rule_delete, routing_rule_update
from responses.tickets import TicketError, ticket_add_note, ticket_assign, ticket_transition


class SlaPolicySerializer(serializers.ModelSerializer):
    class Meta:
        model = SlaPolicy
        fields = ["priority", "acknowledge_minutes", "resolve_minutes"]


class DepartmentSerializer(serializers.ModelSerializer):
    brand = serializers.PrimaryKeyRelatedField(queryset=Brand.objects.none())
    members = serializers.PrimaryKeyRelatedField(many=True, required=False, queryset=get_user_model().objects.none())
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
            brands = brands_for_user(request.user)
            self.fields["brand"].queryset = brands
            # People outside the user's brands are "not found", like ids that are nobody.
            self.fields["members"].child_relation.queryset = brand_members(brands.values_list("pk", flat=True))

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
            clean = clean_rule(
                brand_id=brand.pk,
                match=attrs.get("match", instance.match if instance else RoutingRule.Match.ALL),
                conditions=attrs.get("conditions", instance.conditions if instance else []),
                actions=attrs.get("actions", instance.actions if instance else []),
            )
        except RuleInvalid as invalid:
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
        serializer.instance = routing_rule_create(created_by=self.request.user, **serializer.validated_data)

    def perform_update(self, serializer: RoutingRuleSerializer) -> None:
        serializer.instance = routing_rule_update(rule=serializer.instance, **serializer.validated_data)

    def perform_destroy(self, instance: RoutingRule) -> None:
        routing_rule_delete(rule=instance)


class TicketEventSerializer(serializers.ModelSerializer):
    actor = serializers.SlugRelatedField(slug_field="username", read_only=True)

    class Meta:
        model = TicketEvent
        fields = ["id", "kind", "actor", "from_status", "to_status", "body", "created_at"]


class TicketSerializer(serializers.ModelSerializer):
    department_name = serializers.CharField(source="department.name", read_only=True)
    assignee = serializers.PrimaryKeyRelatedField(
        queryset=get_user_model().objects.none(), allow_null=True, required=False
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

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        request = self.context.get("request")
        if request is not None:
            # Only people of the user's brands can be found; the department check comes after.
            self.fields["assignee"].queryset = brand_members(brands_for_user(request.user).values_list("pk", flat=True))


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
        query = self.request.query_params
        if status_filter := query.get("status", ""):
            if status_filter not in Ticket.Status.values:
                raise ValidationError(
                    {"status": [_("Choose one of: %(choices)s.") % {"choices": ", ".join(Ticket.Status.values)}]}
                )
            qs = qs.filter(status=status_filter)
        if department := query.get("department", ""):
            try:
                qs = qs.filter(department_id=params.parse_id(department))
            except params.BadParam as error:
                raise ValidationError({"department": [str(error)]}) from None
        return qs

    def partial_update(self, request: Request, pk: str | None = None, **kwargs: Any) -> Response:
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
    def notes(self, request: Request, pk: str | None = None, **kwargs: Any) -> Response:
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


# --- Mentions ----------------------------------------------------------------------------------
class MentionSerializer(serializers.ModelSerializer):
    platform = serializers.CharField(source="channel.platform", read_only=True)
    sentiment = serializers.SerializerMethodField()
    intent = serializers.SerializerMethodField()
    author = serializers.SerializerMethodField()
    terms = serializers.SerializerMethodField()
    created_at = serializers.DateTimeField(source="published_at", read_only=True)
    ticket = serializers.SerializerMethodField()

    class Meta:
        model = Mention
        fields = [
            "id",
            "brand",
            "channel",
            "platform",
            "external_id",
            "url",
            "title",
            "text",
            "language",
            "kind",
            "parent",
            "source",
            "sentiment",
            "intent",
            "author",
            "terms",
            "tags",
            "created_at",
            "fetched_at",
            "status",
            "assignee",
            "ticket",
        ]
        read_only_fields = fields

    def get_sentiment(self, mention: Mention) -> dict[str, Any]:
        return {
            "label": mention.sentiment,
            "compound": mention.sentiment_score,
            "analyzer_label": mention.analyzer_sentiment,
            "corrected": mention.sentiment_corrected,
        }

    def get_intent(self, mention: Mention) -> dict[str, Any]:
        analysis = mention.analysis or {}
        return {
            "label": mention.intent,
            "analyzer_label": mention.analyzer_intent,
            "corrected": mention.intent_corrected,
            # Why: the rules' cues ([kind, words]) and the words a learned model weighed most.
            "cues": analysis.get("cues", []),
            "words": [word for word, _weight in analysis.get("words", [])],
            "analyzer": analysis.get("analyzer", ""),
        }

    def get_author(self, mention: Mention) -> dict[str, Any]:
        author = mention.author
        return {
            "id": author.pk,
            "handle": author.handle,
            "name": author.name,
            "followers": author.followers,
            "verified": author.verified,
            "profile_url": author.profile_url,
        }

    def get_terms(self, mention: Mention) -> list[dict[str, Any]]:
        return [{"id": term.pk, "kind": term.kind, "text": term.text} for term in mention.terms.all()]

    def get_ticket(self, mention: Mention) -> int | None:
        tickets = list(mention.tickets.all())  # prefetched newest first
        return tickets[0].pk if tickets else None


MENTION_FILTER_PARAMETERS = [
    OpenApiParameter("brand", OpenApiTypes.INT),
    OpenApiParameter("channel", OpenApiTypes.INT),
    OpenApiParameter("platform", OpenApiTypes.STR, enum=Platform.values),
    OpenApiParameter("sentiment", OpenApiTypes.STR, enum=Sentiment.values),
    OpenApiParameter("intent", OpenApiTypes.STR, enum=Intent.values),
    OpenApiParameter("status", OpenApiTypes.STR, enum=Mention.Status.values),
    OpenApiParameter("language", OpenApiTypes.STR),
    OpenApiParameter("assignee", OpenApiTypes.STR, description="me, none or a user id"),
    OpenApiParameter("term", OpenApiTypes.STR, description="a tracked term id or a kind such as competitor"),
    OpenApiParameter("q", OpenApiTypes.STR, description="full-text search"),
    OpenApiParameter("since", OpenApiTypes.DATETIME),
    OpenApiParameter("until", OpenApiTypes.DATETIME),
    OpenApiParameter("cursor", OpenApiTypes.STR, description="the `next` of the previous page"),
    OpenApiParameter("page_size", OpenApiTypes.INT, description="1 to 500, default 50"),
]

MAX_PAGE_SIZE = 500


class MentionViewSet(viewsets.ReadOnlyModelViewSet):
    """What people said, newest first, in pages that stay fast at any depth (keyset cursor)."""

    serializer_class = MentionSerializer
    permission_classes = [RolePermission]
    permission_for = {method: "listening.view_mention" for method in READ}

    def get_queryset(self) -> QuerySet[Mention]:
        return (
            mentions_filtered(user=self.request.user, filters=self.filters())
            .select_related("author", "channel")
            .prefetch_related("terms", Prefetch("tickets", queryset=Ticket.objects.order_by("-created_at", "-id")))
        )

    def filters(self) -> MentionFilters:
        if self.action != "list":
            return MentionFilters()
        filters, errors = parse_mention_filters(self.request.query_params)
        if errors:
            raise ValidationError(errors)
        return filters

    @extend_schema(parameters=MENTION_FILTER_PARAMETERS)
    def list(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        try:
            size = params.parse_int(request.query_params.get("page_size", "50"), minimum=1, maximum=MAX_PAGE_SIZE)
        except params.BadParam as error:
            raise ValidationError({"page_size": [str(error)]}) from None
        try:
            page = keyset_page(self.get_queryset(), after=request.query_params.get("cursor", ""), size=size)
        except BadCursor as error:
            raise ValidationError({"cursor": [str(error)]}) from error
        rows, next_cursor = page.rows, page.next_cursor
        next_url = None
        if next_cursor:
            query = request.query_params.copy()
            query["cursor"] = next_cursor
            next_url = request.build_absolute_uri(f"{request.path}?{query.urlencode()}")
        return Response({"results": self.get_serializer(rows, many=True).data, "next": next_url, "page_size": size})


def register(router: BaseRouter) -> None:
    """Add this app's viewsets to /api/v1/."""
    router.register("mentions", MentionViewSet, basename="mention")
    router.register("departments", DepartmentViewSet, basename="department")
    router.register("routing-rules", RoutingRuleViewSet, basename="routing-rule")
    router.register("tickets", TicketViewSet, basename="ticket")
    reply_api.register(router)
