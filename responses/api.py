"""REST API v1 for responses: mentions (with their ticket), departments with their SLA policies,
routing rules, tickets and their notes; replies are in ``responses.reply_api``.

A mention's changes go through the ``mention_*`` services, routing rules through the same validator
as the rule builder, ticket status changes through ``ticket_transition``: the API refuses exactly
what the UI refuses, and records what it changes the same way.
"""

from __future__ import annotations

import dataclasses
from typing import Any

from django.contrib.auth import get_user_model
from django.core.exceptions import PermissionDenied as Forbidden
from django.core.exceptions import ValidationError as Invalid
from django.db import transaction
from django.db.models import QuerySet
from django.utils.translation import gettext_lazy as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema, extend_schema_view
from rest_framework import mixins, permissions, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import PermissionDenied, ValidationError
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.routers import BaseRouter

from config.api import RolePermission, read_write
from config.rest import KnownFieldsOnly, query_choice, query_id
from listening.api import BRAND_PARAMETER, BrandField, query_brand
from listening.models import Author, Brand, Intent, Mention, Platform, Sentiment, TrackedTerm
from listening.selectors import (
    MentionFilters,
    brand_members,
    brands_for_user,
    mentions_filtered,
    parse_mention_filters,
)
from listening.services import mention_assign, mention_correct_sentiment, mention_set_status, mention_set_tags
from responses import reply_api
from responses.models import Department, Priority, RoutingRule, SlaPolicy, Ticket, TicketEvent
from responses.moderation import ACTIONS as MODERATION_ACTIONS
from responses.moderation import mention_moderate
from responses.rules import RuleInvalid, clean_rule
from responses.selectors import rules_for_user, tickets_for_user
from responses.services import (
    department_sla_policies_set,
    routing_rule_create,
    routing_rule_delete,
    routing_rule_update,
)
from responses.tickets import TicketError, ticket_add_note, ticket_assign, ticket_transition

User = get_user_model()


def _is_one(instance: Any) -> bool:
    """Whether a serializer works on one existing object (an update), not a list or a new one."""
    return instance is not None and not isinstance(instance, list | QuerySet)


# --- Departments -------------------------------------------------------------------------------
class SlaPolicySerializer(KnownFieldsOnly, serializers.ModelSerializer):
    class Meta:
        model = SlaPolicy
        fields = ["priority", "acknowledge_minutes", "resolve_minutes"]
        extra_kwargs = {
            "acknowledge_minutes": {"min_value": 1, "max_value": 2**31 - 1},
            "resolve_minutes": {"min_value": 1, "max_value": 2**31 - 1},
        }
        validators: list[Any] = []  # one policy per priority: checked on the list by the department

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        # The list replaces the policies whole, so each one is complete, also inside a PATCH (which
        # would otherwise make every nested field optional).
        missing = [name for name in self.Meta.fields if name not in attrs]
        if missing:
            raise ValidationError({name: [_("This field is required.")] for name in missing})
        if attrs["resolve_minutes"] < attrs["acknowledge_minutes"]:
            raise ValidationError({"resolve_minutes": [_("Resolving cannot be due before acknowledging.")]})
        return attrs


class DepartmentSerializer(KnownFieldsOnly, serializers.ModelSerializer):
    brand = BrandField(queryset=Brand.objects.none())
    members = serializers.PrimaryKeyRelatedField(many=True, required=False, queryset=User.objects.none())
    sla_policies = SlaPolicySerializer(
        many=True,
        required=False,
        help_text=_(
            "One per priority; the list given replaces the department's policies. New tickets get their "
            "deadlines from them; open tickets keep theirs."
        ),
    )

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
        if _is_one(self.instance):
            self.fields["brand"].read_only = True  # its tickets stay with the brand

    def validate_sla_policies(self, policies: list[dict[str, Any]]) -> list[dict[str, Any]]:
        priorities = [policy["priority"] for policy in policies]
        if len(priorities) != len(set(priorities)):
            raise ValidationError(_("One policy per priority."))
        return policies

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        brand = attrs.get("brand") or getattr(self.instance, "brand", None)
        name = attrs.get("name") or getattr(self.instance, "name", "")
        duplicate = Department.objects.filter(brand=brand, name__iexact=name)
        if self.instance is not None:
            duplicate = duplicate.exclude(pk=self.instance.pk)
        if duplicate.exists():
            raise ValidationError({"name": [_("This brand already has a department with this name.")]})
        outsiders = [
            user.pk for user in attrs.get("members", []) if not user.brand_memberships.filter(brand=brand).exists()
        ]
        if outsiders:
            raise ValidationError({"members": [_("Only members of the brand can join its departments.")]})
        return attrs

    @transaction.atomic
    def create(self, validated: dict[str, Any]) -> Department:
        policies = validated.pop("sla_policies", [])
        department = super().create(validated)
        department_sla_policies_set(department=department, policies=policies)
        return department

    @transaction.atomic
    def update(self, department: Department, validated: dict[str, Any]) -> Department:
        policies = validated.pop("sla_policies", None)
        department = super().update(department, validated)
        if policies is not None:
            department_sla_policies_set(department=department, policies=policies)
        return department


@extend_schema_view(list=extend_schema(parameters=[BRAND_PARAMETER]))
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
        qs = Department.objects.filter(brand__in=brands_for_user(self.request.user)).prefetch_related(
            "members", "sla_policies"
        )
        if self.action == "list" and (brand := query_brand(self.request)):
            qs = qs.filter(brand=brand)
        return qs


# --- Routing rules -----------------------------------------------------------------------------
class RoutingRuleSerializer(KnownFieldsOnly, serializers.ModelSerializer):
    brand = BrandField(queryset=Brand.objects.none())

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
        fields["brand"].queryset = brands_for_user(request.user) if request else Brand.objects.none()
        if _is_one(self.instance):
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
            raise ValidationError({key: [message] for key, message in invalid.errors.items()}) from None
        attrs["conditions"], attrs["actions"] = clean.conditions, clean.actions
        return attrs


class ConfiguresBrand(permissions.BasePermission):
    def has_permission(self, request: Request, view: Any) -> bool:
        if request.method in permissions.SAFE_METHODS:
            return request.user.has_perm("responses.view_routingrule")
        return request.user.has_perm("listening.configure_brand")


@extend_schema_view(list=extend_schema(parameters=[BRAND_PARAMETER]))
class RoutingRuleViewSet(viewsets.ModelViewSet):
    """A brand's routing rules; they run in the order of ``position`` (then id)."""

    serializer_class = RoutingRuleSerializer
    permission_classes = [permissions.IsAuthenticated, ConfiguresBrand]
    http_method_names = ["get", "post", "patch", "delete", "head", "options"]

    def get_queryset(self) -> QuerySet[RoutingRule]:
        qs = rules_for_user(self.request.user)
        if self.action == "list" and (brand := query_brand(self.request)):
            qs = qs.filter(brand=brand)
        return qs

    def perform_create(self, serializer: RoutingRuleSerializer) -> None:
        serializer.instance = routing_rule_create(created_by=self.request.user, **serializer.validated_data)

    def perform_update(self, serializer: RoutingRuleSerializer) -> None:
        serializer.instance = routing_rule_update(rule=serializer.instance, **serializer.validated_data)

    def perform_destroy(self, instance: RoutingRule) -> None:
        routing_rule_delete(rule=instance)


# --- Tickets -----------------------------------------------------------------------------------
class TicketEventSerializer(serializers.ModelSerializer):
    class Meta:
        model = TicketEvent
        fields = ["id", "kind", "actor", "from_status", "to_status", "body", "created_at"]
        read_only_fields = fields


class TicketSerializer(KnownFieldsOnly, serializers.ModelSerializer):
    department_name = serializers.CharField(source="department.name", read_only=True)
    assignee = serializers.PrimaryKeyRelatedField(queryset=User.objects.none(), allow_null=True, required=False)

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


class NoteSerializer(KnownFieldsOnly, serializers.Serializer):
    body = serializers.CharField(max_length=10000)


TICKET_FILTERS = [
    BRAND_PARAMETER,
    OpenApiParameter("department", OpenApiTypes.INT, description="A department's id."),
    OpenApiParameter("status", OpenApiTypes.STR, enum=Ticket.Status.values),
    OpenApiParameter("priority", OpenApiTypes.STR, enum=Priority.values),
]


@extend_schema_view(list=extend_schema(parameters=TICKET_FILTERS))
class TicketViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, mixins.UpdateModelMixin, viewsets.GenericViewSet):
    """Tickets the user may see (their departments', or their brands' with manage_all_tickets).

    PATCH changes ``status`` (with ``resolution``) through the lifecycle, and ``assignee``.
    """

    serializer_class = TicketSerializer
    http_method_names = ["get", "post", "patch", "head", "options"]

    def get_queryset(self) -> QuerySet[Ticket]:
        qs = tickets_for_user(self.request.user).select_related("department")
        if self.action != "list":
            return qs
        if brand := query_brand(self.request):
            qs = qs.filter(brand=brand)
        if (department := query_id(self.request, "department")) is not None:
            qs = qs.filter(department_id=department)
        if ticket_status := query_choice(self.request, "status", Ticket.Status.values):
            qs = qs.filter(status=ticket_status)
        if priority := query_choice(self.request, "priority", Priority.values):
            qs = qs.filter(priority=priority)
        return qs

    def partial_update(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        if not request.user.has_perm("responses.change_ticket"):
            raise PermissionDenied(_("You may not change tickets."))
        ticket = self.get_object()
        serializer = self.get_serializer(ticket, data=request.data, partial=True)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        if "assignee" in data:
            try:
                ticket_assign(ticket=ticket, assignee=data["assignee"], actor=request.user)
            except TicketError as error:
                raise ValidationError({"assignee": [str(error)]}) from None
        try:
            if "status" in data and data["status"] != ticket.status:
                ticket_transition(
                    ticket=ticket, to_status=data["status"], actor=request.user, resolution=data.get("resolution", "")
                )
            elif data.get("resolution"):
                Ticket.objects.filter(pk=ticket.pk).update(resolution=data["resolution"].strip())
        except TicketError as error:
            raise ValidationError({"status": [str(error)]}) from None
        return Response(self.get_serializer(self.get_queryset().get(pk=ticket.pk)).data)

    @extend_schema(methods=["GET"], request=None, responses=TicketEventSerializer(many=True))
    @extend_schema(methods=["POST"], request=NoteSerializer, responses={201: TicketEventSerializer})
    @action(detail=True, methods=["get", "post"], serializer_class=NoteSerializer)
    def notes(self, request: Request, pk: str | None = None, **kwargs: Any) -> Response:
        """GET the internal notes, newest first; POST ``{"body": ...}`` adds one."""
        ticket = self.get_object()
        if request.method == "GET":
            notes = ticket.events.filter(kind=TicketEvent.Kind.NOTE)
            return self.get_paginated_response(TicketEventSerializer(self.paginate_queryset(notes), many=True).data)
        if not request.user.has_perm("responses.add_ticketevent"):
            raise PermissionDenied(_("You may not add notes."))
        serializer = NoteSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        try:
            event = ticket_add_note(ticket=ticket, body=serializer.validated_data["body"], actor=request.user)
        except TicketError as error:
            raise ValidationError({"body": [str(error)]}) from None
        return Response(TicketEventSerializer(event).data, status=status.HTTP_201_CREATED)


# --- Mentions ----------------------------------------------------------------------------------
class MentionSentimentSerializer(KnownFieldsOnly, serializers.Serializer):
    """A mention's sentiment: ``label`` is what the inbox and the reports count (an agent may correct
    it); the analyzer's own label and score stay beside it."""

    label = serializers.ChoiceField(source="sentiment", choices=Sentiment.choices)
    compound = serializers.FloatField(source="sentiment_score", read_only=True, allow_null=True)
    # A plain string in the schema: the same values as label, which names their enum.
    analyzer_label = serializers.CharField(
        source="analyzer_sentiment", read_only=True, help_text=_("The analyzer's label; the same values as label.")
    )
    corrected = serializers.BooleanField(source="sentiment_corrected", read_only=True)


class MentionAuthorSerializer(serializers.ModelSerializer):
    class Meta:
        model = Author
        fields = ["id", "handle", "name", "followers", "verified", "profile_url"]
        read_only_fields = fields


class MentionTermSerializer(serializers.ModelSerializer):
    # A plain string in the schema: the tracked term's own component names the kinds' enum.
    kind = serializers.CharField(read_only=True, help_text=_("The tracked term's kind (brand, competitor …)."))

    class Meta:
        model = TrackedTerm
        fields = ["id", "kind", "text"]
        read_only_fields = fields


class MentionSerializer(KnownFieldsOnly, serializers.ModelSerializer):
    """A mention as the API shows it; ``status``, ``assignee``, ``sentiment.label`` and ``tags`` can
    be changed (PATCH), each change recorded in the mention's history like one made in the inbox."""

    platform = serializers.ChoiceField(source="channel.platform", choices=Platform.choices, read_only=True)
    sentiment = MentionSentimentSerializer(source="*", required=False)
    intent = serializers.SerializerMethodField(
        help_text=_("The intent (complaint, question, praise, other): label, the analyzer's, corrected, and why.")
    )
    author = MentionAuthorSerializer(read_only=True)
    terms = MentionTermSerializer(many=True, read_only=True)
    tags = serializers.ListField(
        child=serializers.CharField(max_length=100),
        max_length=50,
        required=False,
        help_text=_("The list given replaces the mention's tags."),
    )
    assignee = serializers.PrimaryKeyRelatedField(
        queryset=User.objects.none(),
        allow_null=True,
        required=False,
        help_text=_("A user id of the mention's brand (see /brands/{id}/users/), or null."),
    )
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
            "published_at",
            "fetched_at",
            "status",
            "assignee",
            "ticket",
            "moderation",
        ]
        read_only_fields = [f for f in fields if f not in ("sentiment", "tags", "status", "assignee")]
        extra_kwargs = {
            "moderation": {
                "help_text": _("hidden or deleted on its platform by the brand (POST …/moderate/); blank: as it was.")
            },
            "published_at": {"help_text": _("When it was published on the platform.")},
            "fetched_at": {"help_text": _("When Escucha stored it (stored_since / stored_until filter on this).")},
        }

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if _is_one(self.instance):
            # Only the people of the mention's own brand can be given it; anyone else is "not found".
            self.fields["assignee"].queryset = brand_members([self.instance.brand_id])

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

    def get_ticket(self, mention: Mention) -> int | None:
        """The newest ticket's id (in Python: the list's prefetch and a PATCH's answer alike)."""
        newest = max(mention.tickets.all(), key=lambda ticket: (ticket.created_at, ticket.pk), default=None)
        return newest.pk if newest else None

    def update(self, mention: Mention, validated: dict[str, Any]) -> Mention:
        actor = self.context["request"].user
        with transaction.atomic():
            # The row lock: two people changing one mention at once each see the other's change.
            locked = Mention.objects.select_for_update(of=("self",)).select_related("assignee").get(pk=mention.pk)
            if "assignee" in validated:
                mention_assign(mention=locked, assignee=validated["assignee"], actor=actor)
            if "status" in validated:
                mention_set_status(mention=locked, status=validated["status"], actor=actor)
            if "sentiment" in validated:
                mention_correct_sentiment(mention=locked, label=validated["sentiment"], actor=actor)
            if "tags" in validated:
                mention_set_tags(mention=locked, tags=validated["tags"], actor=actor)
        return locked


class ModerationSerializer(KnownFieldsOnly, serializers.Serializer):
    action = serializers.ChoiceField(
        choices=list(MODERATION_ACTIONS),
        help_text=_("hide, unhide (show again) or delete the comment on its platform."),
    )


MENTION_FILTERS = [
    BRAND_PARAMETER,
    OpenApiParameter("channel", OpenApiTypes.INT, description="A channel's id."),
    OpenApiParameter("post", OpenApiTypes.INT, description="A post's id: the comments on it once published."),
    OpenApiParameter("platform", OpenApiTypes.STR, enum=Platform.values),
    OpenApiParameter("sentiment", OpenApiTypes.STR, enum=Sentiment.values),
    OpenApiParameter("intent", OpenApiTypes.STR, enum=Intent.values),
    OpenApiParameter("status", OpenApiTypes.STR, enum=Mention.Status.values),
    OpenApiParameter("language", OpenApiTypes.STR, description="A language code such as en or es."),
    OpenApiParameter("assignee", OpenApiTypes.STR, description="me, none or a user id."),
    OpenApiParameter("term", OpenApiTypes.STR, description="A tracked term's id, or a kind such as competitor."),
    OpenApiParameter("q", OpenApiTypes.STR, description="Words that must all appear in the text."),
    *(
        OpenApiParameter(
            name,
            OpenApiTypes.STR,
            description=f"{what} ({bound}): a date (YYYY-MM-DD) or an ISO date-time.",
        )
        for name, what, bound in (
            ("since", "Published on the platform from", "included"),
            ("until", "Published on the platform before", "a date includes that whole day"),
            ("stored_since", "Stored by Escucha from", "included; for incremental sync"),
            ("stored_until", "Stored by Escucha before", "a date includes that whole day"),
        )
    ),
]


@extend_schema_view(list=extend_schema(parameters=MENTION_FILTERS))
class MentionViewSet(
    mixins.ListModelMixin, mixins.RetrieveModelMixin, mixins.UpdateModelMixin, viewsets.GenericViewSet
):
    """What people said, newest first on the platform's time, in pages that stay fast at any depth."""

    serializer_class = MentionSerializer
    permission_classes = [RolePermission]
    permission_for = read_write("listening.view_mention", "listening.change_mention")
    http_method_names = ["get", "post", "patch", "head", "options"]
    keyset_field = "published_at"

    def get_queryset(self) -> QuerySet[Mention]:
        return (
            mentions_filtered(user=self.request.user, filters=self.filters())
            .select_related("author", "channel")
            .prefetch_related("terms", "tickets")
        )

    @extend_schema(request=ModerationSerializer, responses=MentionSerializer)
    @action(detail=True, methods=["post"], serializer_class=ModerationSerializer)
    def moderate(self, request: Request, pk: str | None = None, **kwargs: Any) -> Response:
        """Hide, show again or delete the comment on its platform (Instagram, Facebook); the change
        is recorded in the mention's history. 400 says why when the platform refused."""
        mention = self.get_object()
        serializer = ModerationSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        try:
            mention_moderate(mention=mention, action=serializer.validated_data["action"], actor=request.user)
        except Forbidden:
            raise PermissionDenied(_("You may not hide or delete comments on their platform.")) from None
        except Invalid as error:
            raise ValidationError({"action": error.messages}) from None
        return Response(MentionSerializer(self.get_queryset().get(pk=mention.pk), context={"request": request}).data)

    def filters(self) -> MentionFilters:
        if self.action != "list":
            return MentionFilters()
        query = self.request.query_params.copy()
        query.pop("brand", None)  # ids or slugs: read by query_brand
        filters, errors = parse_mention_filters(query)
        try:
            brand = query_brand(self.request)
        except ValidationError as error:
            errors.update(error.detail)
        if errors:
            raise ValidationError(errors)
        return dataclasses.replace(filters, brand=brand.pk) if brand else filters


def register(router: BaseRouter) -> None:
    """Add this app's viewsets to /api/v1/."""
    router.register("mentions", MentionViewSet, basename="mention")
    router.register("departments", DepartmentViewSet, basename="department")
    router.register("routing-rules", RoutingRuleViewSet, basename="routing-rule")
    router.register("tickets", TicketViewSet, basename="ticket")
    reply_api.register(router)
