"""Reads for the publishing app. Every read goes through the brands the person may see."""

from __future__ import annotations

from datetime import datetime

from django.contrib.auth.models import AbstractBaseUser, AnonymousUser
from django.db.models import Prefetch, QuerySet

from listening.selectors import brands_for_user
from publishing.models import Post, PostEvent, PostTarget

Status = PostTarget.Status
# The order a post's targets are summed up in: the least advanced one says where the post stands.
PROGRESS = [
    Status.REJECTED,
    Status.DRAFT,
    Status.PENDING_APPROVAL,
    Status.APPROVED,
    Status.SCHEDULED,
    Status.PUBLISHING,
    Status.FAILED,
    Status.PUBLISHED,
]


def posts_for_user(user: AbstractBaseUser | AnonymousUser) -> QuerySet[Post]:
    return (
        Post.objects.filter(brand__in=brands_for_user(user))
        .select_related("brand", "author", "campaign", "approved_by")
        .prefetch_related(Prefetch("targets", queryset=PostTarget.objects.select_related("channel")))
    )


def post_status(post: Post) -> str:
    """Where a post stands, from its targets: failed if any failed, else the least advanced."""
    statuses = {target.status for target in post.targets.all()}
    if Status.FAILED in statuses:
        return Status.FAILED
    return next((status for status in PROGRESS if status in statuses), Status.DRAFT)


def posts_waiting_for(user: AbstractBaseUser, brand_id: int) -> QuerySet[Post]:
    """Posts of the brand waiting for approval that ``user`` may approve (not their own)."""
    if not user.has_perm("publishing.approve_post"):
        return Post.objects.none()
    return (
        posts_for_user(user)
        .filter(brand_id=brand_id, targets__status=Status.PENDING_APPROVAL)
        .exclude(author=user)
        .distinct()
    )


def posts_between(user: AbstractBaseUser, brand_id: int, since: datetime, until: datetime) -> QuerySet[Post]:
    """The brand's posts timed in [since, until): scheduled for then, or published then."""
    return (
        posts_for_user(user)
        .filter(brand_id=brand_id, scheduled_at__gte=since, scheduled_at__lt=until)
        .order_by("scheduled_at", "pk")
    )


def post_history(post: Post) -> QuerySet[PostEvent]:
    return post.events.select_related("actor", "target__channel")
