"""LinkedIn's versioned REST API, as linkedin-api-client builds it on https://api.linkedin.com/rest and
https://www.linkedin.com/oauth/v2: the organization's posts, their comments and replies, the posts
that @mention it (organization notifications), commenting as the organization, posting as it, the
counts of its posts (social metadata, share statistics), and renewing a token.

Any access token is accepted; ``LinkedIn-Version`` is required, as on LinkedIn. Comments come newest
first, paged with Rest.li ``start``/``count``. Replies we publish are kept as ``SandboxReply``; posts
we publish as ``SandboxPost`` rows of kind ``page_post``, their text as people read it and their
little-text commentary in the payload.
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
LITTLE_HASHTAG = re.compile(r"\{hashtag\|\\?#\|((?:\\.|[^}\\])*)\}")
LITTLE_ESCAPE = re.compile(r"\\([|{}@\[\]()<>#\\*_~])")
URN_LIST = re.compile(r"List\(([^()]*)\)")
POST_MAX_LENGTH = 3000
TIME_RANGE = re.compile(r"\((?:end:(\d+),start:(\d+)|start:(\d+),end:(\d+))\)")


def _little_text(text: str) -> str:
    """Text as a post's commentary holds it: reserved characters escaped, the organization's name
    after an @ a mention of it (https://learn.microsoft.com/linkedin/marketing/community-management/shares/little-text-format)."""
    escaped = re.sub(r"([|{}@\[\]()<>#\\*_~])", r"\\\1", text)
    return escaped.replace("\\@Acme", f"@[Acme]({generator.LI_ORG_URN})")


def _readable(commentary: str) -> str:
    """A commentary as people read it: hashtags as "#tag", no escapes."""
    return LITTLE_ESCAPE.sub(r"\1", LITTLE_HASHTAG.sub(lambda m: "#" + m.group(1), commentary))


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


def _published() -> list[dict[str, Any]]:
    """The posts Escucha published as the organization, in the posts API's shape."""
    rows = []
    for post in SandboxPost.objects.filter(platform="linkedin", kind="page_post"):
        at = _ms(post.created_at)
        rows.append(
            {
                "id": post.external_id,
                "author": generator.LI_ORG_URN,
                "commentary": str(post.payload.get("commentary") or post.text),
                "visibility": "PUBLIC",
                "lifecycleState": "PUBLISHED",
                "distribution": {"feedDistribution": "MAIN_FEED", "targetEntities": []},
                "createdAt": at,
                "publishedAt": at,
                "lastModifiedAt": at,
            }
        )
    return rows


def _create_post(request: HttpRequest) -> HttpResponse:
    try:
        body = json.loads(request.body)
    except ValueError:
        return _error(400, "Request body is not valid JSON")
    if not isinstance(body, dict):
        return _error(400, "Request body must be an object")
    if body.get("author") != generator.LI_ORG_URN:
        return _error(403, "Not enough permissions to post as this author", "ACCESS_DENIED")
    commentary = body.get("commentary")
    if not isinstance(commentary, str) or not commentary.strip():
        return _error(422, "ERROR :: /commentary :: field is required but not found and has no default value")
    text = _readable(commentary)
    if len(text) > POST_MAX_LENGTH:
        return _error(
            422,
            f"ERROR :: /commentary :: Commentary exceeds the maximum allowed length of {POST_MAX_LENGTH} characters",
        )
    now = timezone.now()
    key = generator.snowflake(now, secrets.SystemRandom())
    urn = f"urn:li:share:{key}"
    SandboxPost.objects.create(
        platform="linkedin", external_id=urn, kind="page_post", text=text, sort_key=key, created_at=now,
        payload={
            "author": {"id": generator.LI_ORG_URN, "name": "Acme"},
            "commentary": commentary,
            "published_by": "escucha",
            "likes": 0,
        },
    )  # fmt: skip
    # LinkedIn answers 201 with no body: the new post's URN is in the header.
    return HttpResponse(status=201, headers={"x-restli-id": urn, "x-linkedin-id": urn})


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


@csrf_exempt
@require_http_methods(["GET", "POST"])
def posts(request: HttpRequest) -> HttpResponse:
    if refused := _unversioned(request):
        return refused
    if request.method == "POST":
        return _create_post(request)
    if request.GET.get("q") != "author" or request.GET.get("author") != generator.LI_ORG_URN:
        return _error(403, "Not enough permissions to access: partnerApiPostsExternal.FINDER-author", "ACCESS_DENIED")
    # Newest first, whether sorted by creation or last change (the sandbox never edits a post).
    rows = sorted([*_published(), *org_posts()], key=lambda row: row["createdAt"], reverse=True)
    page, paging = _window(request, rows)
    # The posts finder gives no total: "next" alone says more follow.
    paging.pop("total")
    return JsonResponse({"paging": paging, "elements": page})


@require_GET
def post(request: HttpRequest, urn: str) -> HttpResponse:
    if refused := _unversioned(request):
        return refused
    for row in [*org_posts(), *_published()]:
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


def _is_post(urn: str) -> bool:
    return (
        any(row["id"] == urn for row in org_posts())
        or SandboxPost.objects.filter(platform="linkedin", kind="page_post", external_id=urn).exists()
    )


def _reactions(urn: str) -> int:
    post = SandboxPost.objects.filter(platform="linkedin", kind="page_post", external_id=urn).first()
    return int(post.payload.get("likes", 0)) if post else 0


def _comment_count(urn: str) -> tuple[int, int]:
    """(comments and replies, comments) on a post; the organization's own answers included."""
    top = SandboxPost.objects.filter(platform="linkedin", kind="comment", thread_external_id=urn)
    replies = SandboxPost.objects.filter(
        platform="linkedin", kind="reply", parent_external_id__in=top.values("external_id")
    )
    ours = SandboxReply.objects.filter(platform="linkedin", in_reply_to=urn).count()
    return top.count() + replies.count() + ours, top.count() + ours


@require_GET
def social_metadata(request: HttpRequest, urn: str) -> HttpResponse:
    """A post's reactions by kind and its comment counts
    (https://learn.microsoft.com/linkedin/marketing/community-management/shares/social-metadata-api)."""
    if refused := _unversioned(request):
        return refused
    if not _is_post(urn):
        return _error(404, f"Entity {urn} does not exist", "NOT_FOUND")
    likes = _reactions(urn)
    count, top = _comment_count(urn)
    summaries = {"LIKE": {"reactionType": "LIKE", "count": likes}} if likes else {}
    return JsonResponse(
        {
            "reactionSummaries": summaries,
            "commentsState": "OPEN",
            "commentSummary": {"count": count, "topLevelCount": top},
            "entity": urn,
        }
    )


@require_GET
def share_statistics(request: HttpRequest) -> HttpResponse:
    """Lifetime statistics of the organization's posts (``q=organizationalEntity`` with ``shares`` /
    ``ugcPosts`` lists): impressions grow with what people did, a reshare for every ten reactions."""
    if refused := _unversioned(request):
        return refused
    if (
        request.GET.get("q") != "organizationalEntity"
        or request.GET.get("organizationalEntity") != generator.LI_ORG_URN
    ):
        return _error(403, "Not enough permissions to access organizationalEntityShareStatistics", "ACCESS_DENIED")
    elements = []
    for key in ("shares", "ugcPosts"):
        listed = URN_LIST.fullmatch(request.GET.get(key, ""))
        for urn in [u for u in (listed.group(1).split(",") if listed else []) if u]:
            if not _is_post(urn):
                continue
            likes = _reactions(urn)
            count, _top = _comment_count(urn)
            elements.append(
                {
                    "organizationalEntity": generator.LI_ORG_URN,
                    "share" if key == "shares" else "ugcPost": urn,
                    "totalShareStatistics": {
                        "impressionCount": 40 + 30 * (likes + count),
                        "uniqueImpressionsCount": 30 + 20 * (likes + count),
                        "shareCount": likes // 10,
                        "likeCount": likes,
                        "commentCount": count,
                        "clickCount": count,
                        "engagement": 0.0,
                    },
                }
            )
    return JsonResponse({"paging": {"start": 0, "count": len(elements), "links": []}, "elements": elements})
