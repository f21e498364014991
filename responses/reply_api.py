"""REST API v1 for replies: queue one on a mention, list a mention's replies, read one's delivery state
(added by ``responses.api``)."""

from __future__ import annotations

from typing import Any

from django.core.exceptions import ValidationError as DjangoValidationError
from django.db.models import QuerySet
from django.shortcuts import get_object_or_404
from django.utils.translation import gettext_lazy as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import mixins, serializers, status, viewsets
from rest_framework.exceptions import ValidationError
from rest_framework.permissions import BasePermission, IsAuthenticated
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.routers import BaseRouter

from config.rest import KnownFieldsOnly, query_choice
from listening.models import Mention
from responses.models import Reply
from responses.replies import reply_create
from responses.selectors import mentions_visible_to


class ReplySerializer(serializers.ModelSerializer):
    class Meta:
        model = Reply
        fields = [
            "id",
            "mention",
            "ticket",
            "author",
            "text",
            "status",
            "attempts",
            "external_id",
            "external_url",
            "error",
            "created_at",
            "sent_at",
        ]
        read_only_fields = fields


class NewReplySerializer(KnownFieldsOnly, serializers.Serializer):
    text = serializers.CharField(allow_blank=True, trim_whitespace=False)


class QueuedReplySerializer(serializers.Serializer):
    id = serializers.IntegerField(help_text=_("GET /api/v1/replies/{id}/ follows its delivery."))
    status = serializers.ChoiceField(
        choices=[(state.value, state.label) for state in (Reply.Status.QUEUED, Reply.Status.PENDING_APPROVAL)],
        help_text=_("pending_approval where the brand has replies approved before they go out."),
    )


class CanReply(BasePermission):
    """Reading a mention's replies needs only to see the mention; writing one needs add_reply."""

    def has_permission(self, request: Request, view: object) -> bool:
        return request.method != "POST" or request.user.has_perm("responses.add_reply")


class MentionReplyViewSet(viewsets.GenericViewSet):
    """``/api/v1/mentions/{id}/replies/``: GET lists the mention's replies, newest first; POST queues one."""

    permission_classes = [IsAuthenticated, CanReply]
    serializer_class = ReplySerializer
    queryset = Reply.objects.none()  # the schema's type; the mention scopes the real reads

    def _mention(self) -> Mention:
        return get_object_or_404(
            mentions_visible_to(self.request.user).select_related("channel", "brand"), pk=self.kwargs["mention_id"]
        )

    @extend_schema(
        parameters=[
            OpenApiParameter("mention_id", OpenApiTypes.INT, OpenApiParameter.PATH),
            OpenApiParameter("status", OpenApiTypes.STR, enum=Reply.Status.values),
        ],
        responses=ReplySerializer(many=True),
    )
    def list(self, request: Request, mention_id: str, **kwargs: Any) -> Response:
        replies = self._mention().replies.all()
        if reply_status := query_choice(request, "status", Reply.Status.values):
            replies = replies.filter(status=reply_status)
        page = self.paginate_queryset(replies)
        return self.get_paginated_response(ReplySerializer(page, many=True).data)

    @extend_schema(
        parameters=[OpenApiParameter("mention_id", OpenApiTypes.INT, OpenApiParameter.PATH)],
        request=NewReplySerializer,
        responses={202: QueuedReplySerializer},
    )
    def create(self, request: Request, mention_id: str, **kwargs: Any) -> Response:
        """Queue a reply; 202 with its id and status (``queued``, or ``pending_approval`` where the brand
        requires approval). Delivery happens in the background."""
        mention = self._mention()
        incoming = NewReplySerializer(data=request.data)
        incoming.is_valid(raise_exception=True)
        try:
            reply = reply_create(mention=mention, author=request.user, text=incoming.validated_data["text"])
        except DjangoValidationError as exc:
            raise ValidationError({"text": exc.messages}) from exc
        return Response({"id": reply.pk, "status": reply.status}, status=status.HTTP_202_ACCEPTED)


class ReplyViewSet(mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    """``GET /api/v1/replies/{id}/``: a reply's delivery state."""

    serializer_class = ReplySerializer
    queryset = Reply.objects.none()  # the schema's type for {id}; get_queryset scopes the real reads

    def get_queryset(self) -> QuerySet[Reply]:  # type: ignore[override]
        return Reply.objects.filter(mention__in=mentions_visible_to(self.request.user))


def register(router: BaseRouter) -> None:
    """Add the reply endpoints to /api/v1/."""
    # A regex prefix, so this nests under mentions/ without touching the mentions viewset.
    router.register(r"mentions/(?P<mention_id>[0-9]+)/replies", MentionReplyViewSet, basename="mention-replies")
    router.register(r"replies", ReplyViewSet, basename="reply")
