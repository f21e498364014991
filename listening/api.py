"""REST API v1 for listening: brands with their tracked terms and people, and channels. Mentions are
served by ``responses.api`` (each carries its ticket).

A brand is named by its id everywhere; where a person types one (the ``brand`` query parameter, a
body's ``brand``) its slug is accepted too.
"""

from __future__ import annotations

import re
from typing import Any

from django.contrib.auth import get_user_model
from django.db.models import Model, QuerySet
from django.utils.translation import gettext_lazy as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema, extend_schema_field, extend_schema_view
from rest_framework import mixins, serializers, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import ValidationError
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.routers import BaseRouter

from config import params
from config.api import RolePermission, read_write
from config.rest import KnownFieldsOnly, query_bool, query_choice, query_text
from listening.connectors import connector_class
from listening.models import ANONYMOUS_EXTERNAL_ID, Author, Brand, Channel, Platform, PrivacyAuditEntry, TrackedTerm
from listening.privacy import authors_matching, person_erase, person_export
from listening.selectors import brand_members, brands_for_user, channels_for_user
from listening.services import (
    brand_create,
    brand_update,
    channel_address_errors,
    channel_create,
    channel_retire,
    channel_update,
)

SLUG = re.compile(r"[-a-zA-Z0-9_]{1,120}")
BRAND_PARAMETER = OpenApiParameter("brand", OpenApiTypes.STR, description="One of your brands: its id or slug.")


def brand_reference(value: object, brands: QuerySet[Brand]) -> Brand | None:
    """The brand among ``brands`` that ``value`` names by id or slug; None when it names none of them.
    Raises BadParam when it is neither an id nor a slug."""
    if isinstance(value, int) or (isinstance(value, str) and value.isascii() and value.isdigit()):
        return brands.filter(pk=params.parse_id(value)).first()
    if isinstance(value, str) and SLUG.fullmatch(value):
        return brands.filter(slug=value).first()
    raise params.BadParam(_("Use a brand's id or slug."))


def query_brand(request: Request) -> Brand | None:
    """``?brand=`` (id or slug) among the user's brands, or None when not given. A brand the user does
    not work on is a 400, like a malformed value: which brands exist elsewhere is nobody's business."""
    value = query_text(request, "brand")
    if not value:
        return None
    try:
        brand = brand_reference(value, brands_for_user(request.user))
    except params.BadParam as error:
        raise ValidationError({"brand": [str(error)]}) from None
    if brand is None:
        raise ValidationError({"brand": [_("None of your brands has this id or slug.")]})
    return brand


@extend_schema_field(
    {
        "oneOf": [{"type": "integer"}, {"type": "string", "pattern": SLUG.pattern}],
        "description": "A brand's id (in answers, always the id); its slug is accepted on input.",
    }
)
class BrandField(serializers.PrimaryKeyRelatedField):
    """A brand by id or slug among the queryset (the user's brands); answered as its id."""

    def to_internal_value(self, data: Any) -> Model:
        try:
            brand = brand_reference(data, self.get_queryset())
        except params.BadParam:
            self.fail("incorrect_type", data_type=type(data).__name__)
        if brand is None:
            self.fail("does_not_exist", pk_value=data)
        return brand


# --- Brands ------------------------------------------------------------------------------------
class TermSerializer(KnownFieldsOnly, serializers.ModelSerializer):
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


class BrandSerializer(KnownFieldsOnly, serializers.ModelSerializer):
    terms = TermSerializer(many=True, required=False)

    class Meta:
        model = Brand
        fields = ["id", "name", "slug", "require_reply_approval", "languages", "terms", "created_at"]
        read_only_fields = ["id", "created_at"]
        extra_kwargs = {"slug": {"required": False, "help_text": _("Made from the name when not given.")}}

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

    def create(self, validated: dict[str, Any]) -> Brand:
        return brand_create(creator=self.context["request"].user, **validated)

    def update(self, brand: Brand, validated: dict[str, Any]) -> Brand:
        return brand_update(brand=brand, **validated)


class BrandUserSerializer(serializers.ModelSerializer):
    name = serializers.SerializerMethodField()
    roles = serializers.SerializerMethodField()

    class Meta:
        model = get_user_model()
        fields = ["id", "username", "name", "roles"]
        read_only_fields = fields

    def get_name(self, user: Any) -> str:
        return user.get_full_name()

    def get_roles(self, user: Any) -> list[str]:
        return sorted(group.name for group in user.groups.all())


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
        return brands_for_user(self.request.user).prefetch_related("terms")

    @extend_schema(responses=BrandUserSerializer(many=True))
    @action(detail=True, methods=["get"], serializer_class=BrandUserSerializer)
    def users(self, request: Request, pk: str | None = None, **kwargs: Any) -> Response:
        """The people who work on the brand, with their roles: whom a mention or a ticket can be given to."""
        brand = self.get_object()
        self.keyset_field = "date_joined"
        people = self.paginate_queryset(brand_members([brand.pk]).prefetch_related("groups"))
        return self.get_paginated_response(BrandUserSerializer(people, many=True).data)


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
    "rejected_items",
    "threads_deferred",
)


class ChannelSerializer(KnownFieldsOnly, serializers.ModelSerializer):
    brand = BrandField(queryset=Brand.objects.none())
    settings = serializers.JSONField(
        required=False,
        help_text=_(
            "The platform's settings. On update, the keys given replace the stored ones and a key set to "
            "null is removed; the keys not given are kept."
        ),
    )
    credentials = serializers.JSONField(
        write_only=True,
        required=False,
        help_text=_(
            "Write-only. On update, the keys given replace the stored ones. A change of api_base_url (or of "
            "a feed's settings.url) must give every stored credential again in the same request, or it is "
            "refused with a 400 on that field: a credential is only ever sent to the address it was entered for."
        ),
    )
    credentials_set = serializers.SerializerMethodField(help_text=_("The names of the credentials stored."))
    lag_seconds = serializers.FloatField(read_only=True, allow_null=True)
    poll_interrupted = serializers.BooleanField(
        read_only=True, help_text=_("A poll stopped before it finished; it is retried within a minute.")
    )

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
            "poll_interrupted",
            "created_at",
        ]
        read_only_fields = ["id", *CHANNEL_HEALTH_FIELDS, "created_at"]
        extra_kwargs = {
            "api_base_url": {
                "help_text": _(
                    "Blank: the platform's official host. Changing it needs every stored credential again in "
                    "the same request (credentials). An address on a private network (loopback, 10.x, "
                    "169.254.x, fc00::/7 …) is refused unless the server's PRIVATE_NETWORK_ALLOWLIST lists it."
                )
            }
        }

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
            given = attrs.get("settings", {})
            if not isinstance(given, dict):
                raise ValidationError({"settings": [_("Must be an object of platform settings.")]})
            if instance is not None:
                # A PATCH merges, like credentials: what is not named is kept; null removes a key.
                given = {**(instance.settings or {}), **given}
            cleaned, setting_errors = connector.clean_settings(given, api_base_url=api_base_url)
            if not setting_errors:
                setting_errors = connector.settings_errors(cleaned, channel=instance)
            if setting_errors:
                errors["settings"] = setting_errors
            attrs["settings"] = cleaned
        if "credentials" in attrs:
            cleaned, credential_errors = connector.clean_credentials(attrs["credentials"])
            if credential_errors:
                errors["credentials"] = credential_errors
            attrs["credentials"] = cleaned
        if not errors:
            address_errors = channel_address_errors(
                platform=platform,
                api_base_url=api_base_url,
                settings=attrs.get("settings", instance.settings if instance else {}),
                credentials=attrs.get("credentials"),
                channel=instance,
            )
            for field, message in address_errors.items():
                if field == "api_base_url":
                    errors[field] = [message]
                else:
                    errors.setdefault("settings", {})[field] = [message]
        if errors:
            raise ValidationError(errors)
        return attrs

    def create(self, validated: dict[str, Any]) -> Channel:
        return channel_create(**validated)

    def update(self, channel: Channel, validated: dict[str, Any]) -> Channel:
        return channel_update(channel=channel, **validated)


CHANNEL_FILTERS = [
    BRAND_PARAMETER,
    OpenApiParameter("platform", OpenApiTypes.STR, enum=Platform.values),
    OpenApiParameter("is_active", OpenApiTypes.BOOL, description="false lists the retired channels."),
]


@extend_schema_view(list=extend_schema(parameters=CHANNEL_FILTERS))
class ChannelViewSet(
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.CreateModelMixin,
    mixins.UpdateModelMixin,
    mixins.DestroyModelMixin,
    viewsets.GenericViewSet,
):
    """Where Escucha listens. Credentials are write-only; health fields are read-only. DELETE retires a
    channel (``is_active`` false): it is no longer polled, and its mentions stay."""

    serializer_class = ChannelSerializer
    permission_classes = [RolePermission]
    permission_for = read_write("listening.view_channel", "listening.configure_brand")
    http_method_names = ["get", "post", "patch", "delete", "head", "options"]

    def get_queryset(self) -> QuerySet[Channel]:
        qs = channels_for_user(self.request.user)
        if self.action != "list":
            return qs
        if brand := query_brand(self.request):
            qs = qs.filter(brand=brand)
        if platform := query_choice(self.request, "platform", Platform.values):
            qs = qs.filter(platform=platform)
        if (active := query_bool(self.request, "is_active")) is not None:
            qs = qs.filter(is_active=active)
        return qs

    def perform_destroy(self, instance: Channel) -> None:
        channel_retire(channel=instance)


# --- A person's data ---------------------------------------------------------------------------
class PersonSerializer(serializers.ModelSerializer):
    platform_id = serializers.CharField(source="external_id", read_only=True)

    class Meta:
        model = Author
        fields = ["id", "platform", "platform_id", "handle", "name", "profile_url"]
        read_only_fields = fields


class PersonEraseSerializer(serializers.Serializer):
    mode = serializers.ChoiceField(
        choices=PrivacyAuditEntry.Mode.choices,
        default=PrivacyAuditEntry.Mode.ANONYMISE,
        help_text=_("anonymise keeps the team's history on the mentions; delete leaves only their counts."),
    )
    suppress = serializers.BooleanField(
        default=False, help_text=_("Drop this person's future mentions when they are fetched.")
    )


@extend_schema_view(
    list=extend_schema(
        parameters=[OpenApiParameter("q", OpenApiTypes.STR, description="A handle, part of a name, or a platform id.")]
    ),
    export=extend_schema(responses=OpenApiTypes.OBJECT),
    erase=extend_schema(request=PersonEraseSerializer, responses=OpenApiTypes.OBJECT),
)
class PersonViewSet(mixins.ListModelMixin, viewsets.GenericViewSet):
    """A person's data, on every platform and brand (GDPR access and erasure requests). Needs the
    permission to handle personal data (the Admin role); every export and erasure is in the audit log.
    The list holds the people whose handle, name or platform id matches ``q``, and is empty without it."""

    serializer_class = PersonSerializer
    permission_classes = [RolePermission]
    permission_for = {"*": "listening.handle_personal_data"}
    http_method_names = ["get", "post", "head", "options"]

    def get_queryset(self) -> QuerySet[Author]:
        if self.action == "list":
            return authors_matching(query_text(self.request, "q"))
        return Author.objects.exclude(external_id=ANONYMOUS_EXTERNAL_ID)

    @action(detail=True, methods=["get"])
    def export(self, request: Request, pk: str) -> Response:
        """Everything held about the person: profile, mentions with their history, tickets, replies."""
        return Response(person_export(author=self.get_object(), actor=request.user))

    @action(detail=True, methods=["post"])
    def erase(self, request: Request, pk: str) -> Response:
        """Erase the person: their mentions' content and identity, their profile; with ``suppress``,
        their future mentions too. Answers the rows changed per table."""
        author = self.get_object()
        options = PersonEraseSerializer(data=request.data)
        options.is_valid(raise_exception=True)
        erasure = person_erase(author=author, actor=request.user, **options.validated_data)
        return Response({"audit_entry": erasure.entry.pk, "rows": erasure.counts})


def register(router: BaseRouter) -> None:
    """Add this app's viewsets to /api/v1/."""
    router.register("brands", BrandViewSet, basename="brand")
    router.register("channels", ChannelViewSet, basename="channel")
    router.register("people", PersonViewSet, basename="person")
