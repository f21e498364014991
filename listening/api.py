"""REST API v1 for listening: brands with their tracked terms, and channels. Mentions are served by
``responses.api`` (each carries its ticket)."""

from __future__ import annotations

from typing import Any

from django.db.models import QuerySet
from django.utils.translation import gettext_lazy as _
from rest_framework import mixins, serializers, viewsets
from rest_framework.exceptions import ValidationError
from rest_framework.routers import BaseRouter

from config import params
from config.api import RolePermission, read_write
from listening.connectors import connector_class
from listening.models import Brand, Channel, TrackedTerm
from listening.selectors import (
    brands_for_user,
    channels_for_user,
)
from listening.services import brand_create, brand_update, channel_address_errors, channel_create, channel_update


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
        fields = ["id", "name", "slug", "require_reply_approval", "languages", "terms", "created_at"]
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

    def create(self, validated: dict[str, Any]) -> Brand:
        return brand_create(creator=self.context["request"].user, **validated)

    def update(self, brand: Brand, validated: dict[str, Any]) -> Brand:
        return brand_update(brand=brand, **validated)


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
    "rejected_items",
)


class ChannelSerializer(serializers.ModelSerializer):
    brand = serializers.PrimaryKeyRelatedField(queryset=Brand.objects.none())
    settings = serializers.JSONField(required=False)
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
    lag_seconds = serializers.FloatField(read_only=True)
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
            cleaned, setting_errors = connector.clean_settings(attrs.get("settings", {}), api_base_url=api_base_url)
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
        if brand := self.request.query_params.get("brand", ""):
            try:
                qs = qs.filter(brand_id=params.parse_id(brand))
            except params.BadParam as error:
                raise ValidationError({"brand": [str(error)]}) from None
        return qs


def register(router: BaseRouter) -> None:
    """Add this app's viewsets to /api/v1/."""
    router.register("brands", BrandViewSet, basename="brand")
    router.register("channels", ChannelViewSet, basename="channel")
