"""The sandbox's endpoints, shaped as the real platforms answer, at the paths their clients build.

Any bearer token or key is accepted. Replies we publish are kept as ``SandboxReply``.
"""

from __future__ import annotations

import base64
import hashlib
import json
import re
import secrets
import time
from datetime import UTC, datetime
from email.utils import format_datetime, parsedate_to_datetime
from typing import Any
from xml.sax.saxutils import escape

from django.core.cache import cache
from django.db.models import Q, QuerySet
from django.http import HttpRequest, HttpResponse, HttpResponseNotModified, JsonResponse
from django.utils import timezone
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from sandbox import generator
from sandbox.models import SandboxPost, SandboxReply

X_WINDOW_SECONDS = 15 * 60
X_LIMIT = 450


def _encode_token(value: int) -> str:
    return base64.urlsafe_b64encode(str(value).encode()).decode().rstrip("=")


def _decode_token(token: str) -> int | None:
    try:
        return int(base64.urlsafe_b64decode(token + "=" * (-len(token) % 4)).decode())
    except (ValueError, UnicodeDecodeError):
        return None


def _limit(request: HttpRequest, name: str, default: int, maximum: int) -> int:
    try:
        return max(1, min(int(request.GET.get(name, default)), maximum))
    except ValueError:
        return default


# --- X API v2 --------------------------------------------------------------------------------
def _x_rate(endpoint: str) -> tuple[int, int]:
    """(remaining, reset) for the current 15-minute window of ``endpoint``."""
    now = int(time.time())
    reset = now - now % X_WINDOW_SECONDS + X_WINDOW_SECONDS
    key = f"sandbox:x:{endpoint}:{reset}"
    cache.add(key, 0, X_WINDOW_SECONDS + 60)
    try:
        used = cache.incr(key)
    except ValueError:
        used = 1
    return X_LIMIT - used, reset


def _x_time(at: datetime) -> str:
    return at.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.") + f"{at.microsecond // 1000:03d}Z"


def _x_tweet(post: SandboxPost) -> dict[str, Any]:
    author = post.author
    tweet: dict[str, Any] = {
        "id": post.external_id,
        "text": post.text,
        "author_id": str(author.get("id", "")),
        "created_at": _x_time(post.created_at),
        "lang": post.payload.get("lang", "en"),
        "conversation_id": post.thread_external_id or post.external_id,
        "edit_history_tweet_ids": [post.external_id],
        "public_metrics": {
            "retweet_count": 0,
            "reply_count": 0,
            "like_count": int(post.payload.get("likes", 0)),
            "quote_count": 0,
            "bookmark_count": 0,
            "impression_count": int(post.payload.get("likes", 0)) * 37,
        },
    }
    refs = []
    if post.parent_external_id:
        refs.append({"type": "replied_to", "id": post.parent_external_id})
    if post.payload.get("retweet_of"):
        refs.append({"type": "retweeted", "id": post.payload["retweet_of"]})
    if refs:
        tweet["referenced_tweets"] = refs
    return tweet


def _x_user(author: dict[str, Any]) -> dict[str, Any]:
    return {
        "id": str(author.get("id", "")),
        "name": author.get("name", ""),
        "username": author.get("handle", ""),
        "verified": bool(author.get("verified")),
        "profile_image_url": author.get("avatar", ""),
        "public_metrics": {
            "followers_count": int(author.get("followers", 0)),
            "following_count": 180,
            "tweet_count": 2400,
            "listed_count": 3,
        },
    }


def _x_page(request: HttpRequest, queryset: QuerySet[SandboxPost], endpoint: str, token_param: str) -> HttpResponse:
    remaining, reset = _x_rate(endpoint)
    headers = {
        "x-rate-limit-limit": str(X_LIMIT),
        "x-rate-limit-remaining": str(max(remaining, 0)),
        "x-rate-limit-reset": str(reset),
    }
    if remaining < 0:
        body = {"title": "Too Many Requests", "detail": "Too Many Requests", "type": "about:blank", "status": 429}
        return JsonResponse(body, status=429, headers=headers)
    limit = _limit(request, "max_results", 10, 100)
    if request.GET.get("since_id", "").isdigit():
        queryset = queryset.filter(sort_key__gt=int(request.GET["since_id"]))
    token = request.GET.get(token_param) or request.GET.get("pagination_token") or request.GET.get("next_token")
    if token:
        until = _decode_token(token)
        if until is None:
            return JsonResponse(
                {"errors": [{"message": "invalid pagination token"}], "title": "Invalid Request"}, status=400
            )
        queryset = queryset.filter(sort_key__lt=until)
    posts = list(queryset.order_by("-sort_key")[: limit + 1])
    page, more = posts[:limit], len(posts) > limit
    meta: dict[str, Any] = {"result_count": len(page)}
    if page:
        meta.update(newest_id=page[0].external_id, oldest_id=page[-1].external_id)
    if more:
        meta["next_token"] = _encode_token(page[-1].sort_key)
    body: dict[str, Any] = {"meta": meta}
    if page:
        body["data"] = [_x_tweet(p) for p in page]
        users = {str(p.author.get("id")): _x_user(p.author) for p in page}
        body["includes"] = {"users": list(users.values())}
    return JsonResponse(body, headers=headers)


@require_GET
def x_mentions(request: HttpRequest, user_id: str) -> HttpResponse:
    handle = generator.X_BRAND_HANDLE if user_id == generator.X_BRAND_USER_ID else user_id
    posts = SandboxPost.objects.filter(platform="x", kind="tweet", text__icontains=f"@{handle}")
    return _x_page(request, posts, "mentions", "pagination_token")


def _query_terms(query: str) -> list[str]:
    """Bare words and quoted phrases of a search query; operators, negations and OR are left out."""
    terms = []
    for phrase, word in re.findall(r'"([^"]+)"|(\S+)', query):
        term = phrase or word.strip("()")
        if not term or term.upper() in ("OR", "AND") or (word and (word.startswith("-") or ":" in word)):
            continue
        terms.append(term)
    return terms


@require_GET
def x_search(request: HttpRequest) -> HttpResponse:
    terms = _query_terms(request.GET.get("query", ""))
    if not terms:
        return JsonResponse({"errors": [{"message": "query is required"}], "title": "Invalid Request"}, status=400)
    condition = Q()
    for term in terms:
        condition |= Q(text__icontains=term)
    posts = SandboxPost.objects.filter(condition, platform="x", kind="tweet")
    return _x_page(request, posts, "search", "next_token")


@csrf_exempt
@require_POST
def x_tweets(request: HttpRequest) -> HttpResponse:
    try:
        body = json.loads(request.body)
        text = str(body["text"])
        in_reply_to = str((body.get("reply") or {}).get("in_reply_to_tweet_id") or "")
    except (ValueError, KeyError, TypeError):
        return JsonResponse({"errors": [{"message": "invalid JSON body"}], "title": "Invalid Request"}, status=400)
    tweet_id = str(generator.snowflake(timezone.now(), secrets.SystemRandom()))
    SandboxReply.objects.create(platform="x", external_id=tweet_id, in_reply_to=in_reply_to, text=text)
    return JsonResponse({"data": {"id": tweet_id, "text": text, "edit_history_tweet_ids": [tweet_id]}}, status=201)


# --- Facebook Graph API ---------------------------------------------------------------------
def _graph_time(at: datetime) -> str:
    return at.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S+0000")


def _graph_object(post: SandboxPost) -> dict[str, Any]:
    author = post.author
    obj: dict[str, Any] = {
        "id": post.external_id,
        "message": post.text,
        "created_time": _graph_time(post.created_at),
        "from": {"id": str(author.get("id", "")), "name": author.get("name", "")},
        "permalink_url": f"https://www.facebook.com/{post.external_id}",
    }
    if post.kind in ("comment", "reply"):
        obj["like_count"] = int(post.payload.get("likes", 0))
        if post.kind == "reply":
            obj["parent"] = {"id": post.parent_external_id}
    return obj


def _graph_error(message: str, code: int, status: int = 400, kind: str = "OAuthException") -> JsonResponse:
    return JsonResponse(
        {"error": {"message": message, "type": kind, "code": code, "fbtrace_id": "SandboxTrace"}}, status=status
    )


@csrf_exempt
@require_http_methods(["GET", "POST"])
def graph_edge(request: HttpRequest, version: str, object_id: str, edge: str) -> HttpResponse:
    if request.method == "POST":
        if edge != "comments":
            return _graph_error(f"Unsupported post request to {edge}", 100)
        message = request.POST.get("message", "")
        if not message:
            return _graph_error("(#100) The parameter message is required", 100)
        reply_id = f"{object_id.split('_')[-1]}_{secrets.randbelow(10**15)}"
        SandboxReply.objects.create(platform="facebook", external_id=reply_id, in_reply_to=object_id, text=message)
        return JsonResponse({"id": reply_id})

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
        return _graph_error(f"Unsupported get request. Object with ID '{object_id}' does not exist", 100)
    since = request.GET.get("since", "")
    if since.isdigit():
        posts = posts.filter(created_at__gte=datetime.fromtimestamp(int(since), UTC))
    after = _decode_token(request.GET["after"]) if request.GET.get("after") else None
    if after is not None:
        posts = posts.filter(sort_key__lt=after)
    limit = _limit(request, "limit", 25, 100)
    page = list(posts.order_by("-sort_key")[: limit + 1])
    data, more = page[:limit], len(page) > limit
    body: dict[str, Any] = {"data": [_graph_object(p) for p in data]}
    if data:
        paging: dict[str, Any] = {
            "cursors": {"before": _encode_token(data[0].sort_key), "after": _encode_token(data[-1].sort_key)}
        }
        if more:
            query = request.GET.copy()
            query["after"] = paging["cursors"]["after"]
            paging["next"] = request.build_absolute_uri(f"{request.path}?{query.urlencode()}")
        body["paging"] = paging
    return JsonResponse(
        body, headers={"x-app-usage": json.dumps({"call_count": 1, "total_cputime": 1, "total_time": 1})}
    )


# --- YouTube Data API v3 --------------------------------------------------------------------
def _yt_time(at: datetime) -> str:
    return at.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _etag(*parts: Any) -> str:
    return hashlib.sha1("|".join(map(str, parts)).encode(), usedforsecurity=False).hexdigest()[:27]


def _yt_comment(post: SandboxPost) -> dict[str, Any]:
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
        "publishedAt": _yt_time(post.created_at),
        "updatedAt": _yt_time(post.created_at),
    }
    if post.kind == "reply":
        snippet["parentId"] = post.parent_external_id
    return {"kind": "youtube#comment", "etag": _etag(post.external_id), "id": post.external_id, "snippet": snippet}


def _yt_error(status: int, reason: str, message: str, domain: str = "youtube.commentThread") -> JsonResponse:
    error = {"code": status, "message": message, "errors": [{"message": message, "domain": domain, "reason": reason}]}
    return JsonResponse({"error": error}, status=status)


@require_GET
def youtube_comment_threads(request: HttpRequest) -> HttpResponse:
    if not request.GET.get("key") and not request.headers.get("Authorization"):
        return _yt_error(403, "forbidden", "The request is missing a valid API key.", "global")
    threads = SandboxPost.objects.filter(platform="youtube", kind="comment")
    if request.GET.get("videoId"):
        threads = threads.filter(payload__video_id=request.GET["videoId"])
    elif request.GET.get("allThreadsRelatedToChannelId") not in (None, generator.YOUTUBE_CHANNEL_ID):
        threads = threads.none()
    terms = request.GET.get("searchTerms", "").strip()
    if terms:
        threads = threads.filter(text__icontains=terms)
    offset = _decode_token(request.GET.get("pageToken", "")) or 0
    limit = _limit(request, "maxResults", 20, 100)
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
            "etag": _etag("thread", top.external_id, len(children)),
            "id": top.external_id,
            "snippet": {
                "channelId": generator.YOUTUBE_CHANNEL_ID,
                "videoId": top.payload.get("video_id", ""),
                "topLevelComment": _yt_comment(top),
                "canReply": True,
                "totalReplyCount": len(children),
                "isPublic": True,
            },
        }
        if children:
            thread["replies"] = {"comments": [_yt_comment(c) for c in children[-5:]]}
        items.append(thread)
    body: dict[str, Any] = {
        "kind": "youtube#commentThreadListResponse",
        "etag": _etag("list", offset, len(items)),
        "pageInfo": {"totalResults": len(items), "resultsPerPage": limit},
        "items": items,
    }
    if more:
        body["nextPageToken"] = _encode_token(offset + limit)
    return JsonResponse(body)


@csrf_exempt
@require_POST
def youtube_comments(request: HttpRequest) -> HttpResponse:
    if not request.headers.get("Authorization", "").startswith("Bearer "):
        return _yt_error(401, "authError", "Login Required.", "global")
    try:
        snippet = json.loads(request.body)["snippet"]
        parent_id, text = str(snippet["parentId"]), str(snippet["textOriginal"])
    except (ValueError, KeyError, TypeError):
        return _yt_error(400, "invalidCommentMetadata", "The request metadata is invalid.", "youtube.comment")
    parent = SandboxPost.objects.filter(platform="youtube", external_id=parent_id).first()
    reply_id = f"{parent_id}.{secrets.token_urlsafe(16)}"
    SandboxReply.objects.create(platform="youtube", external_id=reply_id, in_reply_to=parent_id, text=text)
    now = timezone.now()
    comment = {
        "kind": "youtube#comment",
        "etag": _etag(reply_id),
        "id": reply_id,
        "snippet": {
            "videoId": parent.payload.get("video_id", "") if parent else "",
            "textDisplay": text,
            "textOriginal": text,
            "parentId": parent_id,
            "authorDisplayName": "@acme",
            "authorChannelId": {"value": generator.YOUTUBE_CHANNEL_ID},
            "likeCount": 0,
            "publishedAt": _yt_time(now),
            "updatedAt": _yt_time(now),
        },
    }
    return JsonResponse(comment)


@csrf_exempt
@require_POST
def youtube_token(request: HttpRequest) -> HttpResponse:
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


# --- RSS --------------------------------------------------------------------------------------
@require_GET
def feed_rss(request: HttpRequest) -> HttpResponse:
    articles = list(SandboxPost.objects.filter(platform="feed").order_by("-sort_key")[:50])
    etag = '"' + _etag("rss", *(a.external_id for a in articles[:1]), len(articles)) + '"'
    last_modified = articles[0].created_at if articles else datetime(2026, 1, 1, tzinfo=UTC)
    if request.headers.get("If-None-Match") == etag:
        return HttpResponseNotModified(headers={"ETag": etag})
    since = request.headers.get("If-Modified-Since")
    if since and not request.headers.get("If-None-Match"):
        try:
            if last_modified.replace(microsecond=0) <= parsedate_to_datetime(since):
                return HttpResponseNotModified(headers={"ETag": etag})
        except (TypeError, ValueError):
            pass
    entries = []
    for article in articles:
        entries.append(
            "<item>"
            f"<title>{escape(article.payload.get('title', ''))}</title>"
            f"<link>{escape(article.payload.get('link', ''))}</link>"
            f'<guid isPermaLink="false">{escape(article.external_id)}</guid>'
            f"<pubDate>{format_datetime(article.created_at.astimezone(UTC), usegmt=True)}</pubDate>"
            f"<dc:creator>{escape(article.author.get('name', ''))}</dc:creator>"
            f"<description>{escape(article.text)}</description>"
            "</item>"
        )
    xml = (
        '<?xml version="1.0" encoding="UTF-8"?>\n'
        '<rss version="2.0" xmlns:dc="http://purl.org/dc/elements/1.1/"><channel>'
        "<title>Acme in the news and forums</title><link>https://news.techpress.example/</link>"
        "<description>Sandbox alert feed for Acme</description><language>en</language>"
        + "".join(entries)
        + "</channel></rss>"
    )
    headers = {"ETag": etag, "Last-Modified": format_datetime(last_modified.astimezone(UTC), usegmt=True)}
    return HttpResponse(xml, content_type="application/rss+xml; charset=utf-8", headers=headers)
