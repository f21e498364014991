"""YouTube Data API v3, as googleapiclient builds it from its discovery document and api_endpoint:
comment threads, video titles, replying, and the OAuth token refresh.

Any API key or bearer token is accepted. Replies we publish are kept as ``SandboxReply``.
"""

from __future__ import annotations

import json
import secrets
from datetime import UTC, datetime
from typing import Any

from django.http import HttpRequest, HttpResponse, JsonResponse
from django.utils import timezone
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_GET, require_POST

from sandbox import generator
from sandbox.common import decode_token, encode_token, etag_for, page_size
from sandbox.models import SandboxPost, SandboxReply


def _time(at: datetime) -> str:
    return at.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _comment(post: SandboxPost) -> dict[str, Any]:
    author = post.author
    snippet: dict[str, Any] = {
        "channelId": generator.YOUTUBE_CHANNEL_ID,
        "videoId": post.payload.get("video_id", ""),
        "textDisplay": post.text,
        "textOriginal": post.text,
        "authorDisplayName": author.get("name", ""),
        "authorProfileImageUrl": author.get("avatar", ""),
        "authorChannelUrl": f"http://www.youtube.com/channel/{author.get('id', '')}",
        "authorChannelId": {"value": str(author.get("id", ""))},
        "canRate": True,
        "viewerRating": "none",
        "likeCount": int(post.payload.get("likes", 0)),
        "publishedAt": _time(post.created_at),
        "updatedAt": _time(post.created_at),
    }
    if post.kind == "reply":
        snippet["parentId"] = post.parent_external_id
    return {"kind": "youtube#comment", "etag": etag_for(post.external_id), "id": post.external_id, "snippet": snippet}


def _error(status: int, reason: str, message: str, domain: str = "youtube.commentThread") -> JsonResponse:
    error = {"code": status, "message": message, "errors": [{"message": message, "domain": domain, "reason": reason}]}
    return JsonResponse({"error": error}, status=status)


@require_GET
def comment_threads(request: HttpRequest) -> HttpResponse:
    # An API key comes as ?key= or in the X-Goog-Api-Key header (Google's system parameters).
    if not (request.GET.get("key") or request.headers.get("X-Goog-Api-Key") or request.headers.get("Authorization")):
        return _error(403, "forbidden", "The request is missing a valid API key.", "global")
    threads = SandboxPost.objects.filter(platform="youtube", kind="comment")
    if request.GET.get("videoId"):
        threads = threads.filter(payload__video_id=request.GET["videoId"])
    elif request.GET.get("allThreadsRelatedToChannelId") not in (None, generator.YOUTUBE_CHANNEL_ID):
        threads = threads.none()
    terms = request.GET.get("searchTerms", "").strip()
    if terms:
        threads = threads.filter(text__icontains=terms)
    offset = decode_token(request.GET.get("pageToken", "")) or 0
    limit = page_size(request, "maxResults", 20, 100)
    page = list(threads.order_by("-sort_key")[offset : offset + limit + 1])
    data, more = page[:limit], len(page) > limit
    replies: dict[str, list[SandboxPost]] = {}
    for reply in SandboxPost.objects.filter(
        platform="youtube", kind="reply", thread_external_id__in=[t.external_id for t in data]
    ).order_by("sort_key"):
        replies.setdefault(reply.thread_external_id, []).append(reply)
    items = []
    for top in data:
        children = replies.get(top.external_id, [])
        thread: dict[str, Any] = {
            "kind": "youtube#commentThread",
            "etag": etag_for("thread", top.external_id, len(children)),
            "id": top.external_id,
            "snippet": {
                "channelId": generator.YOUTUBE_CHANNEL_ID,
                "videoId": top.payload.get("video_id", ""),
                "topLevelComment": _comment(top),
                "canReply": True,
                "totalReplyCount": len(children),
                "isPublic": True,
            },
        }
        if children:
            thread["replies"] = {"comments": [_comment(c) for c in children[-5:]]}
        items.append(thread)
    body: dict[str, Any] = {
        "kind": "youtube#commentThreadListResponse",
        "etag": etag_for("list", offset, len(items)),
        "pageInfo": {"totalResults": len(items), "resultsPerPage": limit},
        "items": items,
    }
    if more:
        body["nextPageToken"] = encode_token(offset + limit)
    return JsonResponse(body)


@csrf_exempt
def comments(request: HttpRequest) -> HttpResponse:
    if request.method == "GET":
        return _comments_list(request)
    if request.method != "POST":
        return _error(405, "methodNotAllowed", "Method not allowed.", "global")
    return _comments_insert(request)


def _comments_list(request: HttpRequest) -> HttpResponse:
    """comments.list by ``id`` (comma-separated): the comments that still exist, any order; a
    deleted comment (``sandbox.deletions``) is left out, as YouTube leaves it out. By ``parentId``:
    a thread's replies, oldest first (one page)."""
    if not (request.GET.get("key") or request.headers.get("X-Goog-Api-Key") or request.headers.get("Authorization")):
        return _error(403, "forbidden", "The request is missing a valid API key.", "global")
    wanted = [cid for cid in request.GET.get("id", "").split(",") if cid]
    if request.GET.get("parentId") and not wanted:
        replies = SandboxPost.objects.filter(
            platform="youtube", kind="reply", thread_external_id=request.GET["parentId"]
        ).order_by("sort_key")[:100]
        return JsonResponse({"kind": "youtube#commentListResponse", "items": [_comment(r) for r in replies]})
    if not wanted:
        return _error(
            400, "missingRequiredParameter", "No filter selected. Expected one of: id, parentId.", "youtube.parameter"
        )
    if len(wanted) > 50:
        return _error(400, "invalidParameter", "Too many ids: at most 50.", "youtube.parameter")
    found = SandboxPost.objects.filter(platform="youtube", external_id__in=wanted).order_by("sort_key")
    part = request.GET.get("part", "snippet")
    items = [
        _comment(post)
        if "snippet" in part
        else {"kind": "youtube#comment", "etag": etag_for(post.external_id), "id": post.external_id}
        for post in found
    ]
    return JsonResponse({"kind": "youtube#commentListResponse", "etag": etag_for("comments", *wanted), "items": items})


def _comments_insert(request: HttpRequest) -> HttpResponse:
    if not request.headers.get("Authorization", "").startswith("Bearer "):
        return _error(401, "authError", "Login Required.", "global")
    try:
        snippet = json.loads(request.body)["snippet"]
        parent_id, text = str(snippet["parentId"]), str(snippet["textOriginal"])
    except (ValueError, KeyError, TypeError):
        return _error(400, "invalidCommentMetadata", "The request metadata is invalid.", "youtube.comment")
    parent = SandboxPost.objects.filter(platform="youtube", external_id=parent_id).first()
    reply_id = f"{parent_id}.{secrets.token_urlsafe(16)}"
    SandboxReply.objects.create(platform="youtube", external_id=reply_id, in_reply_to=parent_id, text=text)
    now = timezone.now()
    comment = {
        "kind": "youtube#comment",
        "etag": etag_for(reply_id),
        "id": reply_id,
        "snippet": {
            "videoId": parent.payload.get("video_id", "") if parent else "",
            "textDisplay": text,
            "textOriginal": text,
            "parentId": parent_id,
            "authorDisplayName": "@acme",
            "authorChannelId": {"value": generator.YOUTUBE_CHANNEL_ID},
            "likeCount": 0,
            "publishedAt": _time(now),
            "updatedAt": _time(now),
        },
    }
    return JsonResponse(comment)


@require_GET
def videos(request: HttpRequest) -> HttpResponse:
    """videos.list with ``part=snippet``: the titles of the demo's videos (unknown ids are left out)."""
    if not (request.GET.get("key") or request.headers.get("X-Goog-Api-Key") or request.headers.get("Authorization")):
        return _error(403, "forbidden", "The request is missing a valid API key.", "global")
    wanted = [vid for vid in request.GET.get("id", "").split(",") if vid][:50]
    known = dict(generator.VIDEOS)
    items = [
        {
            "kind": "youtube#video",
            "etag": etag_for("video", vid),
            "id": vid,
            "snippet": {"channelId": generator.YOUTUBE_CHANNEL_ID, "title": known[vid], "channelTitle": "Acme"},
        }
        for vid in wanted
        if vid in known
    ]
    body = {
        "kind": "youtube#videoListResponse",
        "etag": etag_for("videos", *wanted),
        "items": items,
        "pageInfo": {"totalResults": len(items), "resultsPerPage": len(items)},
    }
    return JsonResponse(body)


@csrf_exempt
@require_POST
def token(request: HttpRequest) -> HttpResponse:
    if request.POST.get("grant_type") != "refresh_token" or not request.POST.get("refresh_token"):
        return JsonResponse({"error": "invalid_grant", "error_description": "Bad Request"}, status=400)
    scope = "https://www.googleapis.com/auth/youtube.force-ssl"
    return JsonResponse(
        {
            "access_token": "sandbox-" + secrets.token_urlsafe(24),
            "expires_in": 3599,
            "scope": scope,
            "token_type": "Bearer",
        }
    )
