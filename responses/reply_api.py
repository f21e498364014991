"""REST API v1 for replies: queue one on a mention, read its delivery state (added by ``responses.api``)."""

from __future__ import annotations

from typing import Any

from django.core.exceptions import ValidationError as DjangoValidationError
from django.shortcuts import get_object_or_404
from rest_framework import mixins, serializers, status, viewsets
from rest_framework.exceptions import ValidationError
from rest_framework.permissions import BasePermission, IsAuthenticated
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.routers import BaseRouter

from responses.models import Reply
from responses.replies import reply_create
from responses.selectors import mentions_visible_to


class ReplySerializer(serializers.ModelSerializer):
    class Meta:
        model = Reply
        fields = [
            "id",
            "mention",
            "status",
            "attempts",
            "external_id",
            "external_url",
            "error",
            "created_at",
            "sent_at",
        ]
        read_only_fields = fields


class NewReplySerializer(serializers.Serializer):
    text = serializers.CharField(allow_blank=True, trim_whitespace=False)


class CanReply(BasePermission):
    def has_permission(self, request: Request, view: object) -> bool:
        return request.user.has_perm("responses.add_reply")


class MentionReplyViewSet(viewsets.GenericViewSet):
    """``POST /api/v1/mentions/{id}/replies/`` queues a reply; 202 with its id and status."""

    permission_classes = [IsAuthenticated, CanReply]
    serializer_class = NewReplySerializer

    def create(self, request: Request, mention_id: str, **kwargs: Any) -> Response:
        mention = get_object_or_404(mentions_visible_to(request.user).select_related("channel", "brand"), pk=mention_id)
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

    def get_queryset(self):  # type: ignore[override]
        return Reply.objects.filter(mention__in=mentions_visible_to(self.request.user))


def register(router: BaseRouter) -> None:
    """Add the reply endpoints to /api/v1/."""
    # A regex prefix, so this nests under mentions/ without touching the mentions viewset.
    router.register(r"mentions/(?P<mention_id>[0-9]+)/replies", MentionReplyViewSet, basename="mention-replies")
    router.register(r"replies", ReplyViewSet, basename="reply")
