"""What the sandbox platforms show a person: the posts and replies Escucha published there, as a
visitor of the platform would find them (with the platform's ids, to compare with Escucha's)."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_GET

from sandbox.models import SandboxPost, SandboxReply


@require_GET
def published(request: HttpRequest) -> HttpResponse:
    posts = SandboxPost.objects.filter(payload__published_by="escucha").order_by("-created_at", "-pk")[:200]
    replies = SandboxReply.objects.order_by("-created_at", "-pk")[:200]
    return render(request, "sandbox/published.html", {"posts": posts, "replies": replies})
