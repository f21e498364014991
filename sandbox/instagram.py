"""Instagram Graph API, as facebook-sdk builds it on https://graph.facebook.com/: the account's media,
their comments with replies nested, a comment's replies, and replying; the media the account is
tagged in, its ``mentioned_comment`` / ``mentioned_media`` fields, and Meta's side of the
``mentions`` webhook (a signed delivery to each Instagram channel that reads this sandbox).

Hashtags: ``ig_hashtag_search`` gives any word an id of its own (always the same), and
``/{hashtag-id}/recent_media`` lists people's posts carrying it, newest first. The 30-hashtags-a-week
budget is Escucha's to keep; the sandbox does not count.

Any access token is accepted. Replies we publish are kept as ``SandboxReply``.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
import re
import secrets
from datetime import UTC, datetime
from typing import Any

import requests
from django.conf import settings
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_http_methods

from sandbox import generator
from sandbox.common import decode_token, encode_token, page_size
from sandbox.graph import _error, moderate_comment, object_lookup
from sandbox.models import SandboxPost, SandboxReply

log = logging.getLogger(__name__)
USAGE = {"x-app-usage": json.dumps({"call_count": 1, "total_cputime": 1, "total_time": 1})}


def _time(at: datetime) -> str:
    return at.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S+0000")


def _comment(post: SandboxPost) -> dict[str, Any]:
    author = post.author
    username = str(author.get("handle", ""))
    return {
        "id": post.external_id,
        "text": post.text,
        "timestamp": _time(post.created_at),
        "username": username,
        "like_count": int(post.payload.get("likes", 0)),
        "from": {"id": str(author.get("id", "")), "username": username},
        # Graph lists a hidden comment to the account that hid it, flagged.
        "hidden": bool(post.payload.get("hidden")),
    }


def _media(post: SandboxPost) -> dict[str, Any]:
    """Someone else's media (tagging or @mentioning the account): its owner by username only."""
    return {
        "id": post.external_id,
        "caption": post.text,
        "permalink": post.payload.get("permalink", ""),
        "timestamp": _time(post.created_at),
        "username": str(post.author.get("handle", "")),
    }


def hashtag_id(name: str) -> str:
    """The id Graph gives a hashtag: one per name, the same for every account."""
    digest = int(hashlib.sha256(name.lower().encode()).hexdigest(), 16)
    return f"178{digest % 10**14:014d}"


def _hashtag_media(post: SandboxPost) -> dict[str, Any]:
    """A hashtag's media as recent_media gives it: no owner (Graph has no username field there)."""
    return {
        "id": post.external_id,
        "caption": post.text,
        "permalink": post.payload.get("permalink", ""),
        "timestamp": _time(post.created_at),
        "media_type": "IMAGE",
        "comments_count": 0,
        "like_count": int(post.payload.get("likes", 0)),
    }


def _brand_reply(reply: SandboxReply) -> dict[str, Any]:
    return {
        "id": reply.external_id,
        "text": reply.text,
        "timestamp": _time(reply.created_at),
        "username": generator.IG_USERNAME,
        "like_count": 0,
        "from": {"id": generator.IG_USER_ID, "username": generator.IG_USERNAME},
    }


def _page(request: HttpRequest, rows: list[Any], key: Any) -> tuple[list[Any], dict[str, Any]]:
    """One page of ``rows`` (newest first) after the request's ``after`` cursor, and its ``paging``."""
    after = decode_token(request.GET["after"]) if request.GET.get("after") else None
    if after is not None:
        rows = [row for row in rows if key(row) < after]
    limit = page_size(request, "limit", 25, 100)
    data, more = rows[:limit], len(rows) > limit
    if not data:
        return data, {}
    paging: dict[str, Any] = {"cursors": {"before": encode_token(key(data[0])), "after": encode_token(key(data[-1]))}}
    if more:
        query = request.GET.copy()
        query["after"] = paging["cursors"]["after"]
        paging["next"] = request.build_absolute_uri(f"{request.path}?{query.urlencode()}")
    return data, paging


@csrf_exempt
@require_http_methods(["GET", "POST"])
def object_edge(request: HttpRequest, version: str, object_id: str, edge: str) -> HttpResponse:
    if request.method == "POST":
        if edge == "mentions" and object_id == generator.IG_USER_ID:
            return _answer_mention(request)
        if edge != "replies":
            return _error(f"Unsupported post request to {edge}", 100)
        message = request.POST.get("message", "")
        if not message:
            return _error("(#100) The parameter message is required", 100)
        if SandboxPost.objects.filter(platform="instagram", external_id=object_id, payload__has_key="mention").exists():
            # Someone else's media: Graph takes no replies there, only the account's mentions edge.
            return _error("(#10) Application does not have permission for this action", 10, status=403)
        reply_id = f"179{secrets.randbelow(10**14):014d}"
        SandboxReply.objects.create(platform="instagram", external_id=reply_id, in_reply_to=object_id, text=message)
        return JsonResponse({"id": reply_id})

    if edge == "media" and object_id == generator.IG_USER_ID:
        counts: dict[str, int] = {}
        for media_id in SandboxPost.objects.filter(platform="instagram").values_list("payload__media_id", flat=True):
            counts[str(media_id)] = counts.get(str(media_id), 0) + 1
        # The media were all posted before the sandbox's first comment; newest first, keyed by position.
        media = [
            {
                "id": media_id,
                "caption": caption,
                "permalink": f"https://www.instagram.com/p/{shortcode}/",
                "timestamp": "2026-11-01T12:00:00+0000",
                "comments_count": counts.get(media_id, 0),
                "_key": len(generator.IG_MEDIA) - n,
            }
            for n, (media_id, caption, shortcode) in enumerate(generator.IG_MEDIA)
        ]
        data, paging = _page(request, media, lambda m: m["_key"])
        body = {"data": [{k: v for k, v in m.items() if k != "_key"} for m in data]}
        return JsonResponse({**body, **({"paging": paging} if paging else {})}, headers=USAGE)
    if edge == "tags" and object_id == generator.IG_USER_ID:
        # Media tagging the account; a caption @mention is told by webhook only.
        tagged = list(
            SandboxPost.objects.filter(platform="instagram", kind="tagged")
            .exclude(payload__has_key="mention")
            .exclude(payload__has_key="hashtag")
            .order_by("-sort_key")
        )
        data, paging = _page(request, tagged, lambda p: p.sort_key)
        return JsonResponse(
            {"data": [_media(p) for p in data], **({"paging": paging} if paging else {})}, headers=USAGE
        )
    if edge == "recent_media":
        if not request.GET.get("user_id"):
            return _error("(#100) The parameter user_id is required", 100)
        name = next((n for n in [generator.IG_HASHTAG] if hashtag_id(n) == object_id), None)
        rows = list(
            SandboxPost.objects.filter(platform="instagram", kind="tagged", payload__hashtag=name).order_by("-sort_key")
            if name
            else []
        )
        data, paging = _page(request, rows, lambda p: p.sort_key)
        return JsonResponse(
            {"data": [_hashtag_media(p) for p in data], **({"paging": paging} if paging else {})}, headers=USAGE
        )
    if edge == "comments":
        comments = list(
            SandboxPost.objects.filter(platform="instagram", kind="comment", payload__media_id=object_id).order_by(
                "-sort_key"
            )
        )
        data, paging = _page(request, comments, lambda p: p.sort_key)
        ids = [p.external_id for p in data]
        replies: dict[str, list[dict[str, Any]]] = {}
        for reply in SandboxPost.objects.filter(
            platform="instagram", kind="reply", thread_external_id__in=ids
        ).order_by("sort_key"):
            replies.setdefault(reply.thread_external_id, []).append(_comment(reply))
        for answer in SandboxReply.objects.filter(platform="instagram", in_reply_to__in=ids).order_by("created_at"):
            replies.setdefault(answer.in_reply_to, []).append(_brand_reply(answer))
        rows = []
        for post in data:
            row = _comment(post)
            if post.external_id in replies:
                row["replies"] = {"data": replies[post.external_id]}
            rows.append(row)
        return JsonResponse({"data": rows, **({"paging": paging} if paging else {})}, headers=USAGE)
    if edge == "replies":
        own = SandboxReply.objects.filter(platform="instagram", in_reply_to=object_id).order_by("-created_at")
        return JsonResponse({"data": [_brand_reply(answer) for answer in own[:100]]}, headers=USAGE)
    return _error(f"Unsupported get request. Object with ID '{object_id}' does not exist", 100)


# ``mentioned_comment.comment_id(ID){fields}`` / ``mentioned_media.media_id(ID){fields}``
MENTIONED = re.compile(r"mentioned_(comment)\.comment_id\((\w+)\)|mentioned_(media)\.media_id\((\w+)\)")


def _answer_mention(request: HttpRequest) -> JsonResponse:
    """``POST /{ig-user-id}/mentions``: the account's comment on someone else's media that @mentions
    it, as a reply to the mentioning comment (``comment_id``) or on the captioned media."""
    media_id, comment_id = request.POST.get("media_id", ""), request.POST.get("comment_id", "")
    message = request.POST.get("message", "")
    if not media_id or not message:
        return _error("(#100) The parameters media_id and message are required", 100)
    mentioned = SandboxPost.objects.filter(platform="instagram", payload__media_id=media_id)
    if comment_id:
        mentioned = mentioned.filter(external_id=comment_id, payload__mention="comment")
    else:
        mentioned = mentioned.filter(external_id=media_id, payload__mention="caption")
    if not mentioned.exists():
        return _error("(#100) The account is not mentioned there", 100)
    reply_id = f"179{secrets.randbelow(10**14):014d}"
    target = comment_id or media_id
    SandboxReply.objects.create(platform="instagram", external_id=reply_id, in_reply_to=target, text=message)
    return JsonResponse({"id": reply_id})


def _answers(target: str) -> dict[str, Any]:
    """The account's answers to a mention, as the ``replies`` / ``comments`` edge nested in it lists them."""
    own = SandboxReply.objects.filter(platform="instagram", in_reply_to=target).order_by("-created_at")[:100]
    return {"data": [{k: v for k, v in _brand_reply(answer).items() if k != "from"} for answer in own]}


_object_lookup = object_lookup("instagram")


@csrf_exempt
@require_http_methods(["GET", "POST", "DELETE"])
def account_node(request: HttpRequest, version: str, object_id: str) -> HttpResponse:
    """``GET /{version}/{id}``: the account's node, for the fields a ``mentions`` delivery is read
    back with; any other object as Graph looks it up (deleted ones give code 100). ``POST`` and
    ``DELETE`` on a comment hide or delete it."""
    if request.method != "GET":
        return moderate_comment(request, "instagram", object_id, "hide")
    if object_id == "ig_hashtag_search":
        query, user_id = request.GET.get("q", "").strip().lstrip("#"), request.GET.get("user_id", "")
        if not query or not user_id:
            return _error("(#100) The parameters q and user_id are required", 100)
        if not re.fullmatch(r"\w{1,100}", query):
            return JsonResponse({"data": []}, headers=USAGE)
        return JsonResponse({"data": [{"id": hashtag_id(query)}]}, headers=USAGE)
    if object_id != generator.IG_USER_ID:
        return _object_lookup(request, version, object_id)
    fields = request.GET.get("fields", "")
    found = MENTIONED.search(fields)
    if not found:
        return JsonResponse({"id": object_id, "username": generator.IG_USERNAME}, headers=USAGE)
    is_comment = bool(found.group(1))
    wanted = found.group(2) if is_comment else found.group(4)
    post = SandboxPost.objects.filter(
        platform="instagram",
        external_id=wanted,
        kind="comment" if is_comment else "tagged",
        payload__mention="comment" if is_comment else "caption",
    ).first()
    body: dict[str, Any] = {"id": object_id}
    if fields.startswith("username,"):
        body["username"] = generator.IG_USERNAME
    if post is not None and is_comment:
        body["mentioned_comment"] = {
            **{k: v for k, v in _comment(post).items() if k != "from"},
            "media": {"id": post.payload.get("media_id", ""), "permalink": post.payload.get("permalink", "")},
        }
        if "{replies{" in fields:
            body["mentioned_comment"]["replies"] = _answers(post.external_id)
    elif post is not None:
        body["mentioned_media"] = _media(post)
        if "{comments{" in fields:
            body["mentioned_media"]["comments"] = _answers(post.external_id)
    return JsonResponse(body, headers=USAGE)


def deliver_mentions(posts: list[SandboxPost]) -> int:
    """Meta's side of the ``mentions`` subscription: each @mention, signed with the app secret, to
    every active Instagram channel that reads this sandbox. How many deliveries were taken."""
    if not posts:
        return 0
    from listening.models import Channel, Platform  # the sandbox emulates the platforms Escucha reads

    channels = Channel.objects.filter(
        platform=Platform.INSTAGRAM,
        is_active=True,
        settings__ig_user_id=generator.IG_USER_ID,
        api_base_url__startswith=f"{settings.SITE_URL}/sandbox/",
    )
    taken = 0
    for channel in channels:
        secret = str((channel.credentials or {}).get("app_secret") or "")
        if not secret:
            continue  # no webhook set up for it: as on Instagram, the mentions are not told
        for post in posts:
            value = {"media_id": post.payload.get("media_id", post.external_id)}
            if post.payload.get("mention") == "comment":
                value["comment_id"] = post.external_id
            change = {"field": "mentions", "value": value}
            entry = {"id": generator.IG_USER_ID, "time": int(post.created_at.timestamp()), "changes": [change]}
            body = json.dumps({"object": "instagram", "entry": [entry]}).encode()
            signature = "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()
            try:
                response = requests.post(
                    f"{settings.SITE_URL}/hooks/instagram/{channel.pk}/",
                    data=body,
                    headers={"Content-Type": "application/json", "X-Hub-Signature-256": signature},
                    timeout=30,
                )
                taken += response.status_code == 200
            except requests.RequestException as exc:
                log.warning("Sandbox: the mentions delivery to channel %s failed: %s", channel.pk, exc)
    return taken
