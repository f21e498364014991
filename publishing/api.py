"""REST API v1 for publishing: the brand's posts, each with its version per channel, created,
sent for approval, approved (or sent back, or rejected) and scheduled through the same services as
the pages: the API refuses what the pages refuse and records what it changes the same way."""

from __future__ import annotations

from typing import Any

from django.core.exceptions import ValidationError as DjangoValidationError
from django.db.models import QuerySet
from django.utils.dateparse import parse_datetime
from django.utils.translation import gettext_lazy as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema, extend_schema_view
from rest_framework import mixins, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import ValidationError
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.routers import BaseRouter

from config.api import RolePermission, read_write
from config.rest import KnownFieldsOnly, query_choice
from listening.api import BRAND_PARAMETER, BrandField, query_brand
from listening.models import Brand, Channel, Platform, TrackedTerm
from listening.selectors import brands_for_user
from publishing import services
from publishing.models import Post, PostTarget
from publishing.selectors import post_status, posts_for_user

Status = PostTarget.Status


class PostTargetSerializer(serializers.ModelSerializer):
    platform = serializers.ChoiceField(source="channel.platform", choices=Platform.choices, read_only=True)

    class Meta:
        model = PostTarget
        fields = [
            "id",
            "channel",
            "platform",
            "text",
            "status",
            "external_id",
            "external_url",
            "error",
            "published_at",
            "metrics",
        ]
        read_only_fields = fields


class PostSerializer(serializers.ModelSerializer):
    """A post as the API shows it: ``status`` sums up its targets (failed if any failed, else the
    least advanced); each target is the post on one channel, with the platform's id once out."""

    status = serializers.SerializerMethodField(help_text=_("Where the post stands, from its channels."))
    targets = PostTargetSerializer(many=True, read_only=True)

    class Meta:
        model = Post
        fields = [
            "id",
            "brand",
            "author",
            "text",
            "link",
            "campaign",
            "scheduled_at",
            "approved_by",
            "status",
            "targets",
            "created_at",
        ]
        read_only_fields = fields

    def get_status(self, post: Post) -> str:
        return post_status(post)


class AwareDateTimeField(serializers.DateTimeField):
    """A time with its offset: a bare "09:00" would be read in the server's zone, not the brand's."""

    default_error_messages = {"naive": _("Give the time with its offset, e.g. 2026-12-01T09:00:00-06:00.")}

    def to_internal_value(self, value: Any) -> Any:
        parsed = parse_datetime(value) if isinstance(value, str) else None
        if parsed is not None and parsed.tzinfo is None:
            self.fail("naive")
        return super().to_internal_value(value)


class NewPostSerializer(KnownFieldsOnly, serializers.Serializer):
    brand = BrandField(queryset=Brand.objects.none())
    channels = serializers.PrimaryKeyRelatedField(many=True, queryset=Channel.objects.none())
    text = serializers.CharField(max_length=70000)
    texts = serializers.DictField(
        child=serializers.CharField(max_length=70000),
        required=False,
        help_text=_("A text of its own per channel id, where a platform needs another one."),
    )
    link = serializers.URLField(required=False, allow_blank=True, max_length=2000)
    campaign = serializers.PrimaryKeyRelatedField(queryset=TrackedTerm.objects.none(), required=False, allow_null=True)
    scheduled_at = AwareDateTimeField(
        required=False, allow_null=True, help_text=_("With its offset, e.g. 2026-12-01T09:00:00-06:00.")
    )
    submit = serializers.BooleanField(
        default=False, help_text=_("Send it on at once: to approval, or approved where the brand needs none.")
    )

    def get_fields(self) -> dict[str, Any]:
        fields = super().get_fields()
        request = self.context.get("request")
        brands = brands_for_user(request.user) if request else Brand.objects.none()
        fields["brand"].queryset = brands
        fields["channels"].child_relation.queryset = Channel.objects.filter(brand__in=brands)
        fields["campaign"].queryset = TrackedTerm.objects.filter(brand__in=brands, kind=TrackedTerm.Kind.CAMPAIGN)
        return fields

    def validate_texts(self, value: dict[str, str]) -> dict[int, str]:
        if not all(key.isascii() and key.isdigit() for key in value):
            raise ValidationError(_("Key each text by a channel's id."))
        return {int(key): text for key, text in value.items()}


class CommentSerializer(KnownFieldsOnly, serializers.Serializer):
    comment = serializers.CharField(required=False, allow_blank=True, max_length=4000)


class ScheduleSerializer(KnownFieldsOnly, serializers.Serializer):
    scheduled_at = AwareDateTimeField(help_text=_("With its offset, e.g. 2026-12-01T09:00:00-06:00."))


POST_FILTERS = [BRAND_PARAMETER, OpenApiParameter("status", OpenApiTypes.STR, enum=Status.values)]


@extend_schema_view(list=extend_schema(parameters=POST_FILTERS))
class PostViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    """The posts of the user's brands, newest first. POST writes one (a draft, or sent on with
    ``submit``); the actions send it for approval, approve it, send it back, reject it or schedule it."""

    serializer_class = PostSerializer
    permission_classes = [RolePermission]
    permission_for = read_write("publishing.view_post", "publishing.change_post", "publishing.add_post")
    http_method_names = ["get", "post", "head", "options"]

    def get_queryset(self) -> QuerySet[Post]:
        qs = posts_for_user(self.request.user)
        if self.action != "list":
            return qs
        if brand := query_brand(self.request):
            qs = qs.filter(brand=brand)
        if post_state := query_choice(self.request, "status", Status.values):
            qs = qs.filter(targets__status=post_state).distinct()
        return qs

    def _answer(self, post: Post, code: int = status.HTTP_200_OK) -> Response:
        return Response(PostSerializer(self.get_queryset().get(pk=post.pk)).data, status=code)

    @extend_schema(request=NewPostSerializer, responses={201: PostSerializer})
    def create(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        incoming = NewPostSerializer(data=request.data, context={"request": request})
        incoming.is_valid(raise_exception=True)
        data = incoming.validated_data
        try:
            post = services.post_create(
                brand=data["brand"],
                author=request.user,
                text=data["text"],
                channels=data["channels"],
                texts=data.get("texts") or {},
                link=data.get("link", ""),
                campaign=data.get("campaign"),
                scheduled_at=data.get("scheduled_at"),
            )
            if data["submit"]:
                services.post_submit(post=post, user=request.user)
        except DjangoValidationError as error:
            raise ValidationError({"text": error.messages}) from None
        return self._answer(post, status.HTTP_201_CREATED)

    def _act(self, request: Request, act: Any, post: Post | None = None) -> Response:
        post = post or self.get_object()
        try:
            act(post)
        except DjangoValidationError as error:
            raise ValidationError({"non_field_errors": error.messages}) from None
        return self._answer(post)

    @extend_schema(request=None, responses=PostSerializer)
    @action(detail=True, methods=["post"])
    def submit(self, request: Request, pk: str | None = None, **kwargs: Any) -> Response:
        """Send a draft for approval (or approve it where the brand needs no approval)."""
        return self._act(request, lambda post: services.post_submit(post=post, user=request.user))

    def _comment(self, request: Request) -> str:
        incoming = CommentSerializer(data=request.data)
        incoming.is_valid(raise_exception=True)
        return incoming.validated_data.get("comment", "")

    @extend_schema(request=CommentSerializer, responses=PostSerializer)
    @action(detail=True, methods=["post"])
    def approve(self, request: Request, pk: str | None = None, **kwargs: Any) -> Response:
        """Approve a post waiting for approval; its author cannot."""
        post = self.get_object()  # another brand's post is not found, whatever the body says
        comment = self._comment(request)
        return self._act(
            request, lambda post: services.post_approve(post=post, user=request.user, comment=comment), post
        )

    @extend_schema(request=CommentSerializer, responses=PostSerializer)
    @action(detail=True, methods=["post"], url_path="request-changes")
    def request_changes(self, request: Request, pk: str | None = None, **kwargs: Any) -> Response:
        """Send it back to its author as a draft; ``comment`` says what to change (required)."""
        post = self.get_object()
        comment = self._comment(request)
        return self._act(
            request, lambda post: services.post_request_changes(post=post, user=request.user, comment=comment), post
        )

    @extend_schema(request=CommentSerializer, responses=PostSerializer)
    @action(detail=True, methods=["post"])
    def reject(self, request: Request, pk: str | None = None, **kwargs: Any) -> Response:
        post = self.get_object()
        comment = self._comment(request)
        return self._act(
            request, lambda post: services.post_reject(post=post, user=request.user, comment=comment), post
        )

    @extend_schema(request=ScheduleSerializer, responses=PostSerializer)
    @action(detail=True, methods=["post"])
    def schedule(self, request: Request, pk: str | None = None, **kwargs: Any) -> Response:
        """Set when it goes out; an approved post goes out then, a pending one once approved."""
        post = self.get_object()
        incoming = ScheduleSerializer(data=request.data)
        incoming.is_valid(raise_exception=True)
        at = incoming.validated_data["scheduled_at"]
        return self._act(request, lambda post: services.post_schedule(post=post, user=request.user, at=at), post)


def register(router: BaseRouter) -> None:
    """Add this app's viewsets to /api/v1/."""
    router.register("posts", PostViewSet, basename="post")
