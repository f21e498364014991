"""Facebook Graph API, as facebook-sdk builds it on https://graph.facebook.com/: the Page's feed,
visitor posts and tags, comments, and commenting.

Any access token is accepted. Replies we publish are kept as ``SandboxReply``.
"""

from __future__ import annotations

import json
import secrets
from datetime import UTC, datetime, timedelta
from typing import Any

from django.http import HttpRequest, HttpResponse, JsonResponse
from django.utils import timezone
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_http_methods

from sandbox import competitors, generator
from sandbox.common import decode_token, encode_token, page_size
from sandbox.models import SandboxPost, SandboxReply


def _time(at: datetime) -> str:
    return at.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S+0000")


def _object(post: SandboxPost) -> dict[str, Any]:
    author = post.author
    obj: dict[str, Any] = {
        "id": post.external_id,
        "message": post.text,
        "created_time": _time(post.created_at),
        "from": {"id": str(author.get("id", "")), "name": author.get("name", "")},
        "permalink_url": f"https://www.facebook.com/{post.external_id}",
    }
    if post.kind in ("comment", "reply"):
        obj["like_count"] = int(post.payload.get("likes", 0))
        obj["is_hidden"] = bool(post.payload.get("hidden"))
        if post.kind == "reply":
            obj["parent"] = {"id": post.parent_external_id}
    return obj


def _error(
    message: str, code: int, status: int = 400, kind: str = "OAuthException", subcode: int | None = None
) -> JsonResponse:
    error = {"message": message, "type": kind, "code": code, "fbtrace_id": "SandboxTrace"}
    if subcode is not None:
        error["error_subcode"] = subcode
    return JsonResponse({"error": error}, status=status)


def _gone(method: str, object_id: str) -> JsonResponse:
    return _error(
        f"Unsupported {method.lower()} request. Object with ID '{object_id}' does not exist, cannot be loaded "
        "due to missing permissions, or does not support this operation.",
        100,
        kind="GraphMethodException",
        subcode=33,
    )


def moderate_comment(request: HttpRequest, platform: str, object_id: str, hide_field: str) -> JsonResponse:
    """``POST /{comment-id}`` with ``hide_field`` (Facebook's ``is_hidden``, Instagram's ``hide``)
    flags the comment hidden or not; ``DELETE`` removes it with its replies."""
    comments = SandboxPost.objects.filter(platform=platform, kind__in=["comment", "reply"])
    comment = comments.filter(external_id=object_id).first()
    if comment is None:
        return _gone(request.method, object_id)
    if request.method == "DELETE":
        comments.filter(kind="reply", parent_external_id=object_id).delete()
        comments.filter(kind="reply", thread_external_id=object_id).delete()
        comment.delete()
        return JsonResponse({"success": True})
    hide = request.POST.get(hide_field, "")
    if hide not in ("true", "false"):
        return _error(f"(#100) The parameter {hide_field} is required", 100)
    comment.payload = {**comment.payload, "hidden": hide == "true"}
    comment.save(update_fields=["payload"])
    return JsonResponse({"success": True})


def object_lookup(platform: str) -> Any:
    """``GET /{version}/{id}?fields=id`` on ``platform``'s Graph: the object, or Graph's code 100 when
    it was deleted (``sandbox.deletions``) or never existed. ``POST`` / ``DELETE`` on a Facebook
    comment hide or delete it."""

    @csrf_exempt
    @require_http_methods(["GET", "POST", "DELETE"])
    def lookup(request: HttpRequest, version: str, object_id: str) -> HttpResponse:
        if request.method != "GET":
            return moderate_comment(request, platform, object_id, "is_hidden")
        known = {generator.PAGE_ID, generator.IG_USER_ID, *(media_id for media_id, _, _ in generator.IG_MEDIA)}
        if (
            object_id in known
            or SandboxPost.objects.filter(platform=platform, external_id=object_id).exists()
            or SandboxReply.objects.filter(platform=platform, external_id=object_id).exists()
        ):
            return JsonResponse({"id": object_id})
        return _error(
            f"Unsupported get request. Object with ID '{object_id}' does not exist, cannot be loaded due to "
            "missing permissions, or does not support this operation.",
            100,
            kind="GraphMethodException",
            subcode=33,
        )

    return lookup


@csrf_exempt
@require_http_methods(["GET", "POST"])
def object_edge(request: HttpRequest, version: str, object_id: str, edge: str) -> HttpResponse:
    if request.method == "POST":
        if edge not in ("comments", "feed") or (edge == "feed" and object_id != generator.PAGE_ID):
            return _error(f"Unsupported post request to {edge}", 100)
        message = request.POST.get("message", "")
        if not message:
            return _error("(#100) The parameter message is required", 100)
        if edge == "feed":
            # A post of the Page's own: on its feed, where visitors comment on it.
            now = timezone.now()
            key = generator.snowflake(now, secrets.SystemRandom())
            post = SandboxPost.objects.create(
                platform="facebook", external_id=f"{generator.PAGE_ID}_{key}", kind="page_post", text=message,
                sort_key=key, created_at=now,
                payload={
                    "author": {"id": generator.PAGE_ID, "name": generator.PAGE_NAME},
                    "link": request.POST.get("link", ""),
                    "published_by": "escucha",
                },
            )  # fmt: skip
            return JsonResponse({"id": post.external_id})
        reply_id = f"{object_id.split('_')[-1]}_{secrets.randbelow(10**15)}"
        SandboxReply.objects.create(platform="facebook", external_id=reply_id, in_reply_to=object_id, text=message)
        return JsonResponse({"id": reply_id})

    if edge == "posts" and (competitor := competitors.page(object_id)) is not None:
        return _competitor_posts(request, *competitor)
    if edge == "feed" and object_id == generator.PAGE_ID:
        posts = SandboxPost.objects.filter(platform="facebook", kind__in=("page_post", "visitor_post"))
    elif edge == "visitor_posts" and object_id == generator.PAGE_ID:
        posts = SandboxPost.objects.filter(platform="facebook", kind="visitor_post")
    elif edge == "tagged" and object_id == generator.PAGE_ID:
        posts = SandboxPost.objects.filter(platform="facebook", kind="tagged")
    elif edge == "comments":
        posts = SandboxPost.objects.filter(
            platform="facebook", kind__in=("comment", "reply"), thread_external_id=object_id
        )
    else:
        return _error(f"Unsupported get request. Object with ID '{object_id}' does not exist", 100)
    since = request.GET.get("since", "")
    if since.isdigit():
        posts = posts.filter(created_at__gte=datetime.fromtimestamp(int(since), UTC))
    after = decode_token(request.GET["after"]) if request.GET.get("after") else None
    if after is not None:
        posts = posts.filter(sort_key__lt=after)
    limit = page_size(request, "limit", 25, 100)
    page = list(posts.order_by("-sort_key")[: limit + 1])
    data, more = page[:limit], len(page) > limit
    body: dict[str, Any] = {"data": [_object(p) for p in data]}
    if edge == "comments" and after is None:
        # The Page's own answers are comments too (the lookup of an interrupted reply reads them
        # back): newest first among the visitors' on the first page.
        answers = SandboxReply.objects.filter(platform="facebook", in_reply_to=object_id)
        if since.isdigit():
            answers = answers.filter(created_at__gte=datetime.fromtimestamp(int(since), UTC))
        body["data"] = sorted(
            body["data"]
            + [
                {
                    "id": answer.external_id,
                    "message": answer.text,
                    "created_time": _time(answer.created_at),
                    "from": {"id": generator.PAGE_ID, "name": generator.PAGE_NAME},
                }
                for answer in answers.order_by("-created_at")[:limit]
            ],
            key=lambda row: row["created_time"],
            reverse=True,
        )
    if data:
        paging: dict[str, Any] = {
            "cursors": {"before": encode_token(data[0].sort_key), "after": encode_token(data[-1].sort_key)}
        }
        if more:
            query = request.GET.copy()
            query["after"] = paging["cursors"]["after"]
            paging["next"] = request.build_absolute_uri(f"{request.path}?{query.urlencode()}")
        body["paging"] = paging
    return JsonResponse(
        body, headers={"x-app-usage": json.dumps({"call_count": 1, "total_cputime": 1, "total_time": 1})}
    )


def _competitor_posts(request: HttpRequest, page_id: str, name: str) -> HttpResponse:
    """A competitor's public Page posts from ``since``, with reactions, comments and shares as
    summaries (one page)."""
    now = timezone.now()
    since = request.GET.get("since", "")
    start = datetime.fromtimestamp(int(since), UTC) if since.isdigit() else now - timedelta(days=7)
    made = competitors.posts(page_id, name, start, now, "facebook")[: page_size(request, "limit", 25, 100)]
    return JsonResponse(
        {
            "data": [
                {
                    "id": post.external_id,
                    "created_time": _time(post.created_at),
                    "reactions": {"data": [], "summary": {"total_count": post.likes}},
                    "comments": {"data": [], "summary": {"total_count": post.replies}},
                    "shares": {"count": post.reposts},
                }
                for post in made
            ]
        },
        headers={"x-app-usage": json.dumps({"call_count": 1, "total_cputime": 1, "total_time": 1})},
    )


@require_http_methods(["GET"])
def objects(request: HttpRequest, version: str) -> HttpResponse:
    """``GET /<version>/?ids=a,b&fields=...``: several posts at once, with their reactions,
    comments and shares as summaries (what Escucha reads to see how the Page's posts did)."""
    ids = [value for value in request.GET.get("ids", "").split(",") if value][:50]
    if not ids:
        return _error("(#100) The parameter ids is required", 100)
    posts = {post.external_id: post for post in SandboxPost.objects.filter(platform="facebook", external_id__in=ids)}
    missing = [i for i in ids if i not in posts]
    if missing:
        return _error(f"(#803) Some of the aliases you requested do not exist: {','.join(missing)}", 803, status=404)
    body = {}
    for post_id, post in posts.items():
        comments = SandboxPost.objects.filter(
            platform="facebook", kind__in=("comment", "reply"), thread_external_id=post_id
        )
        body[post_id] = {
            "id": post_id,
            "reactions": {"data": [], "summary": {"total_count": int(post.payload.get("likes", 0))}},
            "comments": {
                "data": [],
                "summary": {"order": "ranked", "total_count": comments.count(), "can_comment": True},
            },
            "shares": {"count": int(post.payload.get("shares", 0))},
        }
    return JsonResponse(body)
