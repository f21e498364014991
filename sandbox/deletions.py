"""Deletions on the sandbox platforms, as the real ones let Escucha learn of them: X's batch
compliance jobs, Facebook's ``remove`` webhook changes and object lookups, YouTube's comments that
no longer come back from ``comments.list``.

A deleted item's row is removed, so every listing leaves it out, as the platforms' do; a lookup,
a compliance job or ``comments.list?id=`` then finds it gone. A Facebook deletion is also announced
to the Escucha channels pointed at the sandbox, by a signed ``remove`` delivery to their webhook.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
import random
import time
from collections.abc import Iterable

import requests
from django.conf import settings
from django.db import transaction
from django.urls import reverse

from sandbox import generator
from sandbox.models import SandboxPost

log = logging.getLogger(__name__)

# What people delete: their own posts and comments, never the brand's page posts (their comments
# would go with them, which the demo does not need to show).
DELETABLE = {
    "x": ("tweet",),
    "facebook": ("visitor_post", "tagged", "comment", "reply"),
    "instagram": ("comment", "reply"),
    "youtube": ("comment", "reply"),
}


def posts_delete(posts: Iterable[SandboxPost]) -> list[SandboxPost]:
    """Delete ``posts`` on their platform (a YouTube comment or Facebook post takes its replies and
    comments with it), and announce the Facebook ones; returns what was deleted."""
    deleted: list[SandboxPost] = []
    with transaction.atomic():
        for post in posts:
            threaded = SandboxPost.objects.filter(platform=post.platform, thread_external_id=post.external_id)
            if post.platform in ("youtube", "facebook"):
                deleted += list(threaded)
                threaded.delete()
            SandboxPost.objects.filter(pk=post.pk).delete()
            deleted.append(post)
    facebook = [post for post in deleted if post.platform == "facebook"]
    if facebook:
        transaction.on_commit(lambda: announce_removals(facebook), robust=True)
    return deleted


def delete_some(count: int = 1, *, rng: random.Random | None = None) -> list[SandboxPost]:
    """Delete ``count`` people's items at random, on any platform that lets Escucha know."""
    rng = rng or random.Random()
    chosen: list[SandboxPost] = []
    for _ in range(count):
        # A platform among those holding a deletable item: one with none would make the draw a no-op.
        candidates = {
            platform: SandboxPost.objects.filter(platform=platform, kind__in=kinds).exclude(
                pk__in=[post.pk for post in chosen]
            )
            for platform, kinds in sorted(DELETABLE.items())
        }
        platforms = [platform for platform, items in candidates.items() if items.exists()]
        if not platforms:
            break
        items = candidates[rng.choice(platforms)]
        chosen.append(items.order_by("pk")[rng.randrange(items.count())])
    return posts_delete(chosen)


def removal_payload(posts: Iterable[SandboxPost]) -> dict:
    """A Page webhook delivery announcing these posts and comments removed (``verb: "remove"``)."""
    changes = []
    for post in posts:
        value: dict = {"verb": "remove", "created_time": int(time.time())}
        if post.kind in ("comment", "reply"):
            value |= {"item": "comment", "comment_id": post.external_id, "post_id": post.thread_external_id}
            value["parent_id"] = post.parent_external_id or post.thread_external_id
        else:
            value |= {"item": "status", "post_id": post.external_id}
        changes.append({"field": "feed", "value": value})
    return {"object": "page", "entry": [{"id": generator.PAGE_ID, "time": int(time.time()), "changes": changes}]}


def announce_removals(posts: list[SandboxPost]) -> None:
    """Deliver the removal of ``posts`` to every Facebook channel pointed at the sandbox, signed
    with its app secret as Facebook signs (``X-Hub-Signature-256``)."""
    from listening.models import Channel, Platform

    body = json.dumps(removal_payload(posts)).encode()
    sandbox = f"{settings.SITE_URL}/sandbox/facebook"
    for channel in Channel.objects.filter(platform=Platform.FACEBOOK, api_base_url=sandbox, is_active=True):
        secret = str((channel.credentials or {}).get("app_secret") or "")
        if not secret:
            continue
        signature = hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()
        url = settings.SITE_URL + reverse("listening:facebook_webhook", args=[channel.pk])
        try:
            requests.post(
                url,
                data=body,
                headers={"Content-Type": "application/json", "X-Hub-Signature-256": f"sha256={signature}"},
                timeout=10,
            )
        except requests.RequestException as exc:  # the next lookup finds them gone all the same
            log.warning("Sandbox could not deliver a removal to channel %s: %s", channel.pk, exc)
