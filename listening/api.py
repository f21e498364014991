"""REST API v1 for listening: brands with their tracked terms, channels, mentions."""

from __future__ import annotations

from typing import Any

from django.db import transaction
from django.db.models import Prefetch, QuerySet
from django.utils.translation import gettext_lazy as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import mixins, serializers, viewsets
from rest_framework.exceptions import ValidationError
from rest_framework.permissions import BasePermission
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.routers import BaseRouter

from listening.connectors import connector_class
from listening.models import Brand, BrandMembership, Channel, Mention, Platform, Sentiment, TrackedTerm
from listening.selectors import (
    MentionFilters,
    brands_for_user,
    channels_for_user,
    mentions_filtered,
    mentions_keyset_page,
    parse_mention_filters,
)
from listening.services import channel_resume


class RolePermission(BasePermission):
    """The permission a view names for the request's method (``view.permission_for``)."""

    def has_permission(self, request: Request, view: Any) -> bool:
        needed = view.permission_for.get(request.method, view.permission_for.get("*"))
        return bool(request.user and request.user.is_authenticated and needed and request.user.has_perm(needed))


READ = ("GET", "HEAD", "OPTIONS")


def read_write(read: str, write: str, create: str | None = None) -> dict[str, str]:
    perms = {method: read for method in READ} | {"PATCH": write, "PUT": write, "DELETE": write}
    perms["POST"] = create or write
    return perms


# --- Brands ------------------------------------------------------------------------------------
class TermSerializer(serializers.ModelSerializer):
    class Meta:
        model = TrackedTerm
        fields = ["id", "kind", "text", "group", "exclusions", "is_active"]
        read_only_fields = ["id", "is_active"]
        # Uniqueness is checked per brand by the brand serializer; the model's validator needs a brand.
        validators: list[Any] = []

    def validate_text(self, value: str) -> str:
        value = value.strip()
        if not value.lstrip("#@"):
            raise serializers.ValidationError(_("A term needs a word, not only # or @."))
        return value

    def validate_exclusions(self, value: Any) -> list[str]:
        if not isinstance(value, list) or not all(isinstance(item, str) for item in value):
            raise serializers.ValidationError(_("Exclusions are a list of phrases."))
        return [item.strip() for item in value if item.strip()]


class BrandSerializer(serializers.ModelSerializer):
    terms = TermSerializer(many=True, required=False)

    class Meta:
        model = Brand
        fields = ["id", "name", "slug", "require_reply_approval", "terms", "created_at"]
        read_only_fields = ["id", "created_at"]

    def validate_terms(self, terms: list[dict[str, Any]]) -> list[dict[str, Any]]:
        seen: set[tuple[str, str]] = set()
        for term in terms:
            key = (term.get("kind", TrackedTerm.Kind.KEYWORD), term["text"].casefold())
            if key in seen:
                raise serializers.ValidationError(_("The term %(text)s is listed twice.") % {"text": term["text"]})
            seen.add(key)
        return terms

    def to_representation(self, instance: Brand) -> dict[str, Any]:
        data = super().to_representation(instance)
        data["terms"] = [term for term in data["terms"] if term["is_active"]]
        return data

    @transaction.atomic
    def create(self, validated: dict[str, Any]) -> Brand:
        terms = validated.pop("terms", [])
        brand = Brand.objects.create(**validated)
        BrandMembership.objects.get_or_create(brand=brand, user=self.context["request"].user)
        self._save_terms(brand, terms)
        return brand

    @transaction.atomic
    def update(self, brand: Brand, validated: dict[str, Any]) -> Brand:
        terms = validated.pop("terms", None)
        brand = super().update(brand, validated)
        if terms is not None:
            self._save_terms(brand, terms)
        return brand

    def _save_terms(self, brand: Brand, terms: list[dict[str, Any]]) -> None:
        """The list given is the brand's terms from now on; a term left out is deactivated, not
        deleted, so the mentions it matched and the reports keep it."""
        keep = []
        for term in terms:
            obj, _created = TrackedTerm.objects.update_or_create(
                brand=brand,
                kind=term.get("kind", TrackedTerm.Kind.KEYWORD),
                text=term["text"],
                defaults={
                    "group": term.get("group", ""),
                    "exclusions": term.get("exclusions", []),
                    "is_active": True,
                },
            )
            keep.append(obj.pk)
        brand.terms.exclude(pk__in=keep).update(is_active=False)


class BrandViewSet(
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.CreateModelMixin,
    mixins.UpdateModelMixin,
    viewsets.GenericViewSet,
):
    """Brands the user is a member of, with their tracked terms. Creating one needs the Admin role."""

    serializer_class = BrandSerializer
    permission_classes = [RolePermission]
    permission_for = read_write("listening.view_brand", "listening.configure_brand", create="listening.add_brand")
    http_method_names = ["get", "post", "patch", "head", "options"]

    def get_queryset(self) -> QuerySet[Brand]:
        return brands_for_user(self.request.user).prefetch_related("terms").order_by("name")


# --- Channels ----------------------------------------------------------------------------------
# What polling keeps up to date on a channel: shown by the API, never written through it.
CHANNEL_HEALTH_FIELDS = (
    "state",
    "last_polled_at",
    "last_success_at",
    "last_error",
    "last_error_at",
    "consecutive_failures",
    "next_poll_at",
    "rate_limit_remaining",
    "rate_limit_reset_at",
    "newest_item_at",
)


class ChannelSerializer(serializers.ModelSerializer):
    brand = serializers.PrimaryKeyRelatedField(queryset=Brand.objects.none())
    settings = serializers.JSONField(required=False)
    credentials = serializers.JSONField(
        write_only=True, required=False, help_text=_("Write-only. On update, the keys given replace the stored ones.")
    )
    credentials_set = serializers.SerializerMethodField(help_text=_("The names of the credentials stored."))
    lag_seconds = serializers.FloatField(read_only=True)

    class Meta:
        model = Channel
        fields = [
            "id",
            "brand",
            "platform",
            "name",
            "settings",
            "credentials",
            "credentials_set",
            "api_base_url",
            "poll_interval_seconds",
            "is_active",
            *CHANNEL_HEALTH_FIELDS,
            "lag_seconds",
            "created_at",
        ]
        read_only_fields = ["id", *CHANNEL_HEALTH_FIELDS, "created_at"]

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        request = self.context.get("request")
        if request is not None:
            # Another brand's id is refused as if it did not exist.
            self.fields["brand"].queryset = brands_for_user(request.user)

    def get_credentials_set(self, channel: Channel) -> list[str]:
        return sorted(channel.credentials or {})

    def validate_poll_interval_seconds(self, value: int) -> int:
        if value < 10:
            raise serializers.ValidationError(_("Poll at most every 10 seconds."))
        return value

    def validate_api_base_url(self, value: str) -> str:
        if value and not value.lower().startswith(("http://", "https://")):
            raise serializers.ValidationError(_("Use an http:// or https:// address."))
        return value

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        instance: Channel | None = self.instance
        if instance is not None and "platform" in attrs and attrs["platform"] != instance.platform:
            raise ValidationError({"platform": [_("A channel's platform cannot change; add a new channel.")]})
        if instance is not None and "brand" in attrs and attrs["brand"] != instance.brand:
            raise ValidationError({"brand": [_("A channel's brand cannot change.")]})
        platform = attrs.get("platform") or instance.platform
        connector = connector_class(platform)
        api_base_url = attrs.get("api_base_url", instance.api_base_url if instance else "")
        errors: dict[str, Any] = {}
        if "settings" in attrs or instance is None:
            cleaned, setting_errors = connector.clean_settings(attrs.get("settings", {}), api_base_url=api_base_url)
            if setting_errors:
                errors["settings"] = setting_errors
            attrs["settings"] = cleaned
        if "credentials" in attrs:
            cleaned, credential_errors = connector.clean_credentials(attrs["credentials"])
            if credential_errors:
                errors["credentials"] = credential_errors
            attrs["credentials"] = cleaned
        if errors:
            raise ValidationError(errors)
        return attrs

    def update(self, channel: Channel, validated: dict[str, Any]) -> Channel:
        credentials = validated.pop("credentials", None)
        if credentials is not None:
            validated["credentials"] = {**(channel.credentials or {}), **credentials}
        channel = super().update(channel, validated)
        if credentials and channel.state == Channel.State.RECONNECT:
            # New credentials are the fix "reconnect needed" asks for: poll again now.
            channel_resume(channel=channel)
        return channel


class ChannelViewSet(
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.CreateModelMixin,
    mixins.UpdateModelMixin,
    viewsets.GenericViewSet,
):
    """Where Escucha listens. Credentials are write-only; health fields are read-only."""

    serializer_class = ChannelSerializer
    permission_classes = [RolePermission]
    permission_for = read_write("listening.view_channel", "listening.configure_brand")
    http_method_names = ["get", "post", "patch", "head", "options"]

    def get_queryset(self) -> QuerySet[Channel]:
        qs = channels_for_user(self.request.user).order_by("brand__name", "name", "id")
        brand = self.request.query_params.get("brand", "")
        return qs.filter(brand_id=int(brand)) if brand.isdigit() else qs


# --- Mentions ----------------------------------------------------------------------------------
class MentionSerializer(serializers.ModelSerializer):
    platform = serializers.CharField(source="channel.platform", read_only=True)
    sentiment = serializers.SerializerMethodField()
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
        from responses.models import Ticket  # responses builds on listening, not the reverse

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
        size_param = request.query_params.get("page_size", "50")
        if not size_param.isdigit() or not 1 <= int(size_param) <= MAX_PAGE_SIZE:
            raise ValidationError({"page_size": [_("A whole number from 1 to %(max)d.") % {"max": MAX_PAGE_SIZE}]})
        size = int(size_param)
        try:
            rows, next_cursor = mentions_keyset_page(
                self.get_queryset(), after=request.query_params.get("cursor", ""), size=size
            )
        except ValueError as error:
            raise ValidationError({"cursor": [str(error)]}) from error
        next_url = None
        if next_cursor:
            params = request.query_params.copy()
            params["cursor"] = next_cursor
            next_url = request.build_absolute_uri(f"{request.path}?{params.urlencode()}")
        return Response({"results": self.get_serializer(rows, many=True).data, "next": next_url, "page_size": size})


def register(router: BaseRouter) -> None:
    """Add this app's viewsets to /api/v1/."""
    router.register("brands", BrandViewSet, basename="brand")
    router.register("channels", ChannelViewSet, basename="channel")
    router.register("mentions", MentionViewSet, basename="mention")
