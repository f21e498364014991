"""X API v2, as tweepy builds it on https://api.twitter.com: mentions, recent search, posting a reply.

Any bearer token is accepted. Replies we publish are kept as ``SandboxReply``.
"""

from __future__ import annotations

import json
import re
import secrets
import time
from datetime import UTC, datetime, timedelta
from typing import Any

from django.core.cache import cache
from django.db.models import Q, QuerySet
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.utils import timezone
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from sandbox import competitors, generator
from sandbox.common import decode_token, encode_token, page_size
from sandbox.models import SandboxPost, SandboxReply

X_WINDOW_SECONDS = 15 * 60
X_LIMIT = 450


def _rate(endpoint: str) -> tuple[int, int]:
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


def _time(at: datetime) -> str:
    return at.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.") + f"{at.microsecond // 1000:03d}Z"


def _tweet(post: SandboxPost) -> dict[str, Any]:
    author = post.author
    tweet: dict[str, Any] = {
        "id": post.external_id,
        "text": post.text,
        "author_id": str(author.get("id", "")),
        "created_at": _time(post.created_at),
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


def _user(author: dict[str, Any]) -> dict[str, Any]:
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


def _page(request: HttpRequest, queryset: QuerySet[SandboxPost], endpoint: str, token_param: str) -> HttpResponse:
    remaining, reset = _rate(endpoint)
    headers = {
        "x-rate-limit-limit": str(X_LIMIT),
        "x-rate-limit-remaining": str(max(remaining, 0)),
        "x-rate-limit-reset": str(reset),
    }
    if remaining < 0:
        body = {"title": "Too Many Requests", "detail": "Too Many Requests", "type": "about:blank", "status": 429}
        return JsonResponse(body, status=429, headers=headers)
    limit = page_size(request, "max_results", 10, 100)
    if request.GET.get("since_id", "").isdigit():
        queryset = queryset.filter(sort_key__gt=int(request.GET["since_id"]))
    token = request.GET.get(token_param) or request.GET.get("pagination_token") or request.GET.get("next_token")
    if token:
        until = decode_token(token)
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
        meta["next_token"] = encode_token(page[-1].sort_key)
    body: dict[str, Any] = {"meta": meta}
    if page:
        body["data"] = [_tweet(p) for p in page]
        users = {str(p.author.get("id")): _user(p.author) for p in page}
        body["includes"] = {"users": list(users.values())}
    return JsonResponse(body, headers=headers)


@require_GET
def mentions(request: HttpRequest, user_id: str) -> HttpResponse:
    handle = generator.X_BRAND_HANDLE if user_id == generator.X_BRAND_USER_ID else user_id
    posts = SandboxPost.objects.filter(platform="x", kind="tweet", text__icontains=f"@{handle}")
    return _page(request, posts, "mentions", "pagination_token")


def _brand_posts(user_id: str) -> QuerySet[SandboxPost]:
    """The account's own top-level posts (the ones Escucha published, and the demo's)."""
    return SandboxPost.objects.filter(platform="x", kind="tweet", parent_external_id="", payload__author__id=user_id)


@require_GET
def user_by_username(request: HttpRequest, username: str) -> HttpResponse:
    """A competitor of the demo by handle (https://docs.x.com/x-api/users/user-lookup-by-username);
    X answers an unknown one with 200 and an error."""
    found = competitors.x_user(username)
    if found is None:
        detail = f"Could not find user with username: [{username}]."
        return JsonResponse(
            {"errors": [{"value": username, "detail": detail, "title": "Not Found Error", "parameter": "username"}]}
        )
    user_id, name = found
    return JsonResponse({"data": {"id": user_id, "name": name, "username": username.lower()}})


def _competitor_tweets(request: HttpRequest, user_id: str, name: str) -> HttpResponse:
    """A competitor's timeline from ``start_time``, with public metrics (one page of 100)."""
    now = timezone.now()
    try:
        since = datetime.fromisoformat(request.GET.get("start_time", "").replace("Z", "+00:00"))
    except ValueError:
        since = now - timedelta(days=7)
    made = competitors.posts(user_id, name, since, now, "x")[: page_size(request, "max_results", 10, 100)]
    body: dict[str, Any] = {"meta": {"result_count": len(made)}}
    if made:
        body["meta"] |= {"newest_id": made[0].external_id, "oldest_id": made[-1].external_id}
        body["data"] = [
            {
                "id": post.external_id,
                "text": post.text,
                "author_id": user_id,
                "created_at": _time(post.created_at),
                "edit_history_tweet_ids": [post.external_id],
                "public_metrics": {
                    "retweet_count": post.reposts,
                    "reply_count": post.replies,
                    "like_count": post.likes,
                    "quote_count": 0,
                    "bookmark_count": 0,
                    "impression_count": post.likes * 41,
                },
            }
            for post in made
        ]
    return JsonResponse(body)


@require_GET
def user_tweets(request: HttpRequest, user_id: str) -> HttpResponse:
    """The brand account's own posts, newest first, from ``start_time``: the replies Escucha
    published and its posts (one page; what a lookup of an interrupted reply or post reads). A
    competitor's: its made-up timeline."""
    for competitor_id, name in competitors.X_ACCOUNTS.values():
        if user_id == competitor_id:
            return _competitor_tweets(request, user_id, name)
    replies = SandboxReply.objects.filter(platform="x").order_by("-created_at", "-pk")
    posts = _brand_posts(user_id).order_by("-created_at", "-pk")
    start = request.GET.get("start_time", "")
    if start:
        try:
            since = datetime.fromisoformat(start.replace("Z", "+00:00"))
        except ValueError:
            return JsonResponse({"errors": [{"message": "invalid start_time"}], "title": "Invalid Request"}, status=400)
        replies, posts = replies.filter(created_at__gte=since), posts.filter(created_at__gte=since)
    limit = page_size(request, "max_results", 10, 100)
    rows: list[dict[str, Any]] = [
        {
            "id": reply.external_id,
            "text": reply.text,
            "author_id": user_id,
            "created_at": reply.created_at,
            "edit_history_tweet_ids": [reply.external_id],
            "referenced_tweets": [{"type": "replied_to", "id": reply.in_reply_to}],
        }
        for reply in replies[: limit + 1]
    ] + [
        {
            "id": post.external_id,
            "text": post.text,
            "author_id": user_id,
            "created_at": post.created_at,
            "edit_history_tweet_ids": [post.external_id],
        }
        for post in posts[: limit + 1]
    ]
    rows.sort(key=lambda row: row["created_at"], reverse=True)
    page = rows[:limit]
    meta: dict[str, Any] = {"result_count": len(page)}
    if len(rows) > limit:
        meta["next_token"] = encode_token(int(page[-1]["created_at"].timestamp() * 1000))
    body: dict[str, Any] = {"meta": meta}
    if page:
        body["data"] = [{**row, "created_at": _time(row["created_at"])} for row in page]
    return JsonResponse(body)


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
def search(request: HttpRequest) -> HttpResponse:
    terms = _query_terms(request.GET.get("query", ""))
    if not terms:
        return JsonResponse({"errors": [{"message": "query is required"}], "title": "Invalid Request"}, status=400)
    condition = Q()
    for term in terms:
        condition |= Q(text__icontains=term)
    posts = SandboxPost.objects.filter(condition, platform="x", kind="tweet")
    return _page(request, posts, "search", "next_token")


@csrf_exempt
@require_http_methods(["GET", "POST"])
def tweets(request: HttpRequest) -> HttpResponse:
    """POST: a post of the brand's account, or its reply to a post. GET: posts by id, with their
    public metrics (what Escucha reads to see how its posts did)."""
    if request.method == "GET":
        ids = [value for value in request.GET.get("ids", "").split(",") if value.isdigit()][:100]
        if not ids:
            return JsonResponse({"errors": [{"message": "ids is required"}], "title": "Invalid Request"}, status=400)
        found = {post.external_id: post for post in SandboxPost.objects.filter(platform="x", external_id__in=ids)}
        body: dict[str, Any] = {"data": [_tweet(found[i]) for i in ids if i in found]}
        missing = [i for i in ids if i not in found]
        if missing:
            body["errors"] = [
                {"value": i, "detail": f"Could not find tweet with ids: [{i}].", "title": "Not Found Error"}
                for i in missing
            ]
        return JsonResponse(body)
    try:
        body = json.loads(request.body)
        text = str(body["text"])
        in_reply_to = str((body.get("reply") or {}).get("in_reply_to_tweet_id") or "")
    except (ValueError, KeyError, TypeError):
        return JsonResponse({"errors": [{"message": "invalid JSON body"}], "title": "Invalid Request"}, status=400)
    now = timezone.now()
    tweet_id = str(generator.snowflake(now, secrets.SystemRandom()))
    if in_reply_to:
        SandboxReply.objects.create(platform="x", external_id=tweet_id, in_reply_to=in_reply_to, text=text)
    else:
        # A post of the brand's own: on the timeline, where people can answer it.
        SandboxPost.objects.create(
            platform="x", external_id=tweet_id, kind="tweet", text=text, sort_key=int(tweet_id), created_at=now,
            payload={"author": generator.x_brand_author(), "lang": "", "likes": 0, "published_by": "escucha"},
        )  # fmt: skip
    return JsonResponse({"data": {"id": tweet_id, "text": text, "edit_history_tweet_ids": [tweet_id]}}, status=201)


# --- Batch compliance: https://docs.x.com/x-api/compliance/batch-compliance/introduction ----------
# The job's files live on Google Cloud Storage behind signed URLs; here under this app's storage
# path, which a channel pointed at the sandbox reaches as it would storage.googleapis.com.
STORAGE = "https://storage.googleapis.com/twttr-tweet-compliance"
JOB_SECONDS = 24 * 3600


def _job_key(job_id: str) -> str:
    return f"sandbox:x:compliance:{job_id}"


def _job_body(job_id: str, job: dict[str, Any]) -> dict[str, Any]:
    expires = _time(datetime.fromtimestamp(job["created"] + 900, UTC))
    return {
        "type": job["type"],
        "id": job_id,
        "name": job.get("name", ""),
        "created_at": _time(datetime.fromtimestamp(job["created"], UTC)),
        "upload_url": f"{STORAGE}/{job_id}/submission?X-Goog-Signature=sandbox",
        "upload_expires_at": expires,
        "download_url": f"{STORAGE}/{job_id}/results?X-Goog-Signature=sandbox",
        "download_expires_at": _time(datetime.fromtimestamp(job["created"] + 7 * 86400, UTC)),
        "status": job["status"],
        "resumable": False,
    }


@csrf_exempt
@require_POST
def compliance_jobs(request: HttpRequest) -> HttpResponse:
    """Create a job: ``{"type": "tweets" | "users", "name": …}``."""
    try:
        body = json.loads(request.body)
        kind, name = str(body["type"]), str(body.get("name") or "")
    except (ValueError, KeyError, TypeError):
        return JsonResponse({"errors": [{"message": "invalid JSON body"}], "title": "Invalid Request"}, status=400)
    if kind not in ("tweets", "users"):
        return JsonResponse(
            {"errors": [{"message": "type must be tweets or users"}], "title": "Invalid Request"}, status=400
        )
    job_id = str(generator.snowflake(timezone.now(), secrets.SystemRandom()))
    job = {"type": kind, "name": name, "status": "created", "created": int(time.time()), "ids": []}
    cache.set(_job_key(job_id), job, JOB_SECONDS)
    return JsonResponse({"data": _job_body(job_id, job)})


@require_GET
def compliance_job(request: HttpRequest, job_id: str) -> HttpResponse:
    """A job's status: ``complete`` once its ids were uploaded (X takes minutes; the sandbox none)."""
    job = cache.get(_job_key(job_id))
    if job is None:
        return JsonResponse({"errors": [{"message": f"Could not find job {job_id}"}], "title": "Not Found"}, status=404)
    return JsonResponse({"data": _job_body(job_id, job)})


@csrf_exempt
def compliance_upload(request: HttpRequest, job_id: str) -> HttpResponse:
    """``PUT`` of the job's ids, one per line, to its signed ``upload_url``."""
    job = cache.get(_job_key(job_id))
    if request.method != "PUT" or job is None or job["status"] != "created":
        return HttpResponse("<Error><Code>AccessDenied</Code></Error>", status=403, content_type="application/xml")
    job["ids"] = [line.strip() for line in request.body.decode("utf-8", "replace").splitlines() if line.strip()]
    job["status"] = "complete"
    cache.set(_job_key(job_id), job, JOB_SECONDS)
    return HttpResponse("")


@require_GET
def compliance_results(request: HttpRequest, job_id: str) -> HttpResponse:
    """The job's results, JSON lines: an uploaded post that the sandbox no longer holds was deleted."""
    job = cache.get(_job_key(job_id))
    if job is None or job["status"] != "complete":
        return HttpResponse("<Error><Code>NoSuchKey</Code></Error>", status=404, content_type="application/xml")
    held = set(
        SandboxPost.objects.filter(platform="x", external_id__in=job["ids"]).values_list("external_id", flat=True)
    )
    held |= set(
        SandboxReply.objects.filter(platform="x", external_id__in=job["ids"]).values_list("external_id", flat=True)
    )
    now = _time(timezone.now())
    lines = [
        json.dumps({"id": tweet_id, "action": "delete", "created_at": now, "redacted_at": now, "reason": "deleted"})
        for tweet_id in job["ids"]
        if tweet_id not in held
    ]
    return HttpResponse("\n".join(lines), content_type="application/json")
