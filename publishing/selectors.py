"""Reads for the publishing app. Every read goes through the brands the person may see."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from django.contrib.auth.models import AbstractBaseUser, AnonymousUser
from django.db.models import Prefetch, QuerySet
from django.utils import timezone

from listening.models import Brand
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


@dataclass(frozen=True)
class CalendarPost:
    post: Post
    local_time: datetime
    state: str
    state_label: str


@dataclass(frozen=True)
class CalendarDay:
    day: date
    in_period: bool
    posts: list[CalendarPost]


@dataclass(frozen=True)
class Calendar:
    view: str  # "month" or "week"
    start: date
    end: date  # exclusive
    days: list[CalendarDay]
    previous: date
    next: date

    @property
    def weeks(self) -> list[list[CalendarDay]]:
        return [self.days[i : i + 7] for i in range(0, len(self.days), 7)]


def post_calendar(*, user: AbstractBaseUser, brand: Brand, view: str, around: date) -> Calendar:
    """A month (whole weeks, Monday first) or a week of the brand's timed posts, in the brand's time."""
    zone = ZoneInfo(brand.time_zone)
    if view == "week":
        start = around - timedelta(days=around.weekday())
        end = start + timedelta(days=7)
        first, last = start, end
        previous, following = start - timedelta(days=7), end
    else:
        first = around.replace(day=1)
        last = (first + timedelta(days=32)).replace(day=1)
        start = first - timedelta(days=first.weekday())
        end = last + timedelta(days=(7 - last.weekday()) % 7)
        previous, following = (first - timedelta(days=1)).replace(day=1), last
    since = datetime.combine(start, time.min, zone)
    until = datetime.combine(end, time.min, zone)
    by_day: dict[date, list[CalendarPost]] = {}
    for post in posts_between(user, brand.pk, since, until):
        local = timezone.localtime(post.scheduled_at, zone)
        state = post_status(post)
        by_day.setdefault(local.date(), []).append(CalendarPost(post, local, state, Status(state).label))
    days = [
        CalendarDay(day, first <= day < last, by_day.get(day, []))
        for day in (start + timedelta(days=n) for n in range((end - start).days))
    ]
    return Calendar(view, start, end, days, previous, following)
