"""LinkedIn's versioned REST API, as linkedin-api-client builds it on https://api.linkedin.com/rest and
https://www.linkedin.com/oauth/v2: the organization's posts, their comments and replies, the posts
that @mention it (organization notifications), commenting as the organization, and renewing a token.

Any access token is accepted; ``LinkedIn-Version`` is required, as on LinkedIn. Comments come newest
first, paged with Rest.li ``start``/``count``. Replies we publish are kept as ``SandboxReply``.
"""

from __future__ import annotations

import json
import re
import secrets
from datetime import datetime, timedelta
from typing import Any

from django.http import HttpRequest, HttpResponse, JsonResponse
from django.utils import timezone
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from sandbox import generator
from sandbox.models import SandboxPost, SandboxReply

VERSION = re.compile(r"20[0-9]{2}(0[1-9]|1[0-2])(\.[0-9]{2})?")
COMMENT_URN = re.compile(r"urn:li:comment:\((urn:li:[A-Za-z]+:[^,()]+),([^()]+)\)")
TIME_RANGE = re.compile(r"\((?:end:(\d+),start:(\d+)|start:(\d+),end:(\d+))\)")


def _little_text(text: str) -> str:
    """Text as a post's commentary holds it: reserved characters escaped, the organization's name
    after an @ a mention of it (https://learn.microsoft.com/linkedin/marketing/community-management/shares/little-text-format)."""
    escaped = re.sub(r"([|{}@\[\]()<>#\\*_~])", r"\\\1", text)
    return escaped.replace("\\@Acme", f"@[Acme]({generator.LI_ORG_URN})")


def _ms(at: datetime) -> int:
    return int(at.timestamp() * 1000)


def _error(status: int, message: str, code: str = "") -> JsonResponse:
    body = {"status": status, "message": message}
    if code:
        body["code"] = code
    return JsonResponse(body, status=status)


def _unversioned(request: HttpRequest) -> JsonResponse | None:
    if not VERSION.fullmatch(request.headers.get("LinkedIn-Version", "")):
        return _error(426, "A version must be present. Please specify a version by adding the LinkedIn-Version header.")
    return None


def _window(request: HttpRequest, rows: list[Any], default: int = 10) -> tuple[list[Any], dict[str, Any]]:
    """One Rest.li page of ``rows`` and its ``paging``, with the total and a "next" link while more remain."""
    try:
        start = max(int(request.GET.get("start", 0)), 0)
        count = max(1, min(int(request.GET.get("count", default)), 100))
    except ValueError:
        start, count = 0, default
    page = rows[start : start + count]
    links = []
    if start + count < len(rows):
        query = request.GET.copy()
        query["start"] = str(start + count)
        links.append({"type": "application/json", "rel": "next", "href": f"{request.path}?{query.urlencode()}"})
    return page, {"start": start, "count": count, "links": links, "total": len(rows)}


def org_posts(now: datetime | None = None) -> list[dict[str, Any]]:
    """The organization's posts, newest first: published one, two and three days before now."""
    now = now or timezone.now()
    posts = []
    for n, (post_id, text) in enumerate(generator.LI_POSTS):
        at = _ms(now - timedelta(days=n + 1))
        posts.append(
            {
                "id": f"urn:li:share:{post_id}",
                "author": generator.LI_ORG_URN,
                "commentary": text,
                "visibility": "PUBLIC",
                "lifecycleState": "PUBLISHED",
                "distribution": {"feedDistribution": "MAIN_FEED", "targetEntities": []},
                "createdAt": at,
                "publishedAt": at,
                "lastModifiedAt": at,
            }
        )
    return posts


def _answers(target: str) -> int:
    return (
        SandboxPost.objects.filter(platform="linkedin", kind="reply", parent_external_id=target).count()
        + SandboxReply.objects.filter(platform="linkedin", in_reply_to=target).count()
    )


def _comment(post: SandboxPost) -> dict[str, Any]:
    author = post.author
    actor = str(author.get("id", ""))
    at = {"actor": actor, "time": _ms(post.created_at)}
    activity = str(post.payload.get("activity", ""))
    urn = post.external_id
    row: dict[str, Any] = {
        "actor": actor,
        "commentUrn": urn,
        "id": urn.rsplit(",", 1)[-1].rstrip(")"),
        "created": at,
        "lastModified": at,
        "message": {"text": post.text, "attributes": []},
        "object": activity,
        "likesSummary": {"totalLikes": int(post.payload.get("likes", 0)), "likedByCurrentUser": False},
    }
    if post.kind == "reply":
        row["parentComment"] = post.parent_external_id
    else:
        replies = _answers(urn)
        row["commentsSummary"] = {"aggregatedTotalComments": replies, "totalFirstLevelComments": replies}
    return row


def _brand_comment(reply: SandboxReply, activity: str) -> dict[str, Any]:
    at = {"actor": generator.LI_ORG_URN, "time": _ms(reply.created_at)}
    row: dict[str, Any] = {
        "actor": generator.LI_ORG_URN,
        "agent": "urn:li:person:sandboxAdmin",
        "commentUrn": reply.external_id,
        "id": reply.external_id.rsplit(",", 1)[-1].rstrip(")"),
        "created": at,
        "lastModified": at,
        "message": {"text": reply.text, "attributes": []},
        "object": activity,
        "likesSummary": {"totalLikes": 0, "likedByCurrentUser": False},
    }
    if reply.in_reply_to.startswith("urn:li:comment:"):
        row["parentComment"] = reply.in_reply_to
    else:
        row["commentsSummary"] = {"aggregatedTotalComments": 0, "totalFirstLevelComments": 0}
    return row


@require_GET
def posts(request: HttpRequest) -> HttpResponse:
    if refused := _unversioned(request):
        return refused
    if request.GET.get("q") != "author" or request.GET.get("author") != generator.LI_ORG_URN:
        return _error(403, "Not enough permissions to access: partnerApiPostsExternal.FINDER-author", "ACCESS_DENIED")
    page, paging = _window(request, org_posts())
    # The posts finder gives no total: "next" alone says more follow.
    paging.pop("total")
    return JsonResponse({"paging": paging, "elements": page})


@require_GET
def post(request: HttpRequest, urn: str) -> HttpResponse:
    if refused := _unversioned(request):
        return refused
    for row in org_posts():
        if row["id"] == urn:
            return JsonResponse(row)
    mention = SandboxPost.objects.filter(platform="linkedin", kind="tagged", external_id=urn).first()
    if mention is None:
        return _error(404, f"Post {urn} does not exist", "NOT_FOUND")
    at = _ms(mention.created_at)
    return JsonResponse(
        {
            "id": urn,
            "author": str(mention.author.get("id", "")),
            "commentary": _little_text(mention.text),
            "visibility": "PUBLIC",
            "lifecycleState": "PUBLISHED",
            "createdAt": at,
            "publishedAt": at,
            "lastModifiedAt": at,
        }
    )


@csrf_exempt
@require_http_methods(["GET", "POST"])
def comments(request: HttpRequest, urn: str) -> HttpResponse:
    if refused := _unversioned(request):
        return refused
    match = COMMENT_URN.fullmatch(urn)
    activity = match.group(1) if match else urn.replace("urn:li:share:", "urn:li:activity:")
    if request.method == "POST":
        return _create_comment(request, urn, activity)
    if match:  # a comment's replies
        rows = list(SandboxPost.objects.filter(platform="linkedin", kind="reply", parent_external_id=urn))
    else:
        rows = list(SandboxPost.objects.filter(platform="linkedin", kind="comment", thread_external_id=urn))
    ours = list(SandboxReply.objects.filter(platform="linkedin", in_reply_to=urn))
    merged = [(row.created_at, _comment(row)) for row in rows] + [
        (answer.created_at, _brand_comment(answer, activity)) for answer in ours
    ]
    merged.sort(key=lambda pair: pair[0], reverse=True)
    page, paging = _window(request, [row for _, row in merged])
    return JsonResponse({"paging": paging, "elements": page})


def _create_comment(request: HttpRequest, target: str, activity: str) -> HttpResponse:
    try:
        body = json.loads(request.body)
    except ValueError:
        return _error(400, "Request body is not valid JSON")
    text = str(((body or {}).get("message") or {}).get("text") or "")
    if not text:
        return _error(422, "/message/text :: field is required but not found and has no default value")
    if body.get("actor") != generator.LI_ORG_URN:
        return _error(403, "Not enough permissions to comment as this actor", "ACCESS_DENIED")
    if COMMENT_URN.fullmatch(target) and body.get("parentComment") != target:
        return _error(400, "parentComment must be the comment the request is sent to")
    comment_id = f"72{secrets.randbelow(10**17):017d}"
    urn = f"urn:li:comment:({activity},{comment_id})"
    reply = SandboxReply.objects.create(platform="linkedin", external_id=urn, in_reply_to=target, text=text)
    return JsonResponse(_brand_comment(reply, activity), status=201, headers={"x-restli-id": urn})


@require_GET
def notifications(request: HttpRequest) -> HttpResponse:
    if refused := _unversioned(request):
        return refused
    if request.GET.get("q") != "criteria" or request.GET.get("organizationalEntity") != generator.LI_ORG_URN:
        return _error(403, "Not enough permissions to access organizationalEntityNotifications", "ACCESS_DENIED")
    mentions = SandboxPost.objects.filter(platform="linkedin", kind="tagged").order_by("-sort_key")
    window = TIME_RANGE.fullmatch(request.GET.get("timeRange", ""))
    if window:
        end, start = (window.group(1), window.group(2)) if window.group(1) else (window.group(4), window.group(3))
        rows = [m for m in mentions if int(start) <= _ms(m.created_at) <= int(end)]
    else:
        rows = list(mentions)
    elements = [
        {
            "action": "SHARE_MENTION",
            "organizationalEntity": generator.LI_ORG_URN,
            "sourcePost": m.external_id,
            "generatedActivity": m.external_id,
            "lastModifiedAt": _ms(m.created_at),
        }
        for m in rows
    ]
    page, paging = _window(request, elements)
    return JsonResponse({"paging": paging, "elements": page})


@csrf_exempt
@require_POST
def access_token(request: HttpRequest) -> HttpResponse:
    if request.POST.get("grant_type") != "refresh_token" or not request.POST.get("refresh_token"):
        return JsonResponse(
            {
                "error": "invalid_request",
                "error_description": "The provided authorization grant or refresh token is invalid, expired or revoked",
            },
            status=400,
        )
    return JsonResponse(
        {
            "access_token": "sandbox-li-" + secrets.token_urlsafe(24),
            "expires_in": 60 * 24 * 3600,
            "refresh_token": request.POST["refresh_token"],
            "refresh_token_expires_in": 300 * 24 * 3600,
        }
    )
