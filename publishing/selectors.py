"""Reads for the publishing app. Every read goes through the brands the person may see."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from django.contrib.auth.models import AbstractBaseUser, AnonymousUser
from django.db.models import Prefetch, QuerySet
from django.utils import timezone

from listening.models import Brand, Mention
from listening.selectors import brands_for_user
from publishing.competitors import competitors_side_by_side
from publishing.models import Post, PostComment, PostEvent, PostTarget, engagement

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


# What the calendar lets people drag to another day: posts that have not gone out yet.
MOVABLE = frozenset({Status.DRAFT, Status.PENDING_APPROVAL, Status.APPROVED, Status.SCHEDULED})
# The hours the week view always shows (in the brand's time); a post outside them widens the range.
WEEK_HOURS = (7, 22)


@dataclass(frozen=True)
class CalendarPost:
    post: Post
    local_time: datetime
    state: str
    state_label: str

    @property
    def movable(self) -> bool:
        return self.state in MOVABLE


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

    @property
    def hours(self) -> list[tuple[int, list[tuple[CalendarDay, list[CalendarPost]]]]]:
        """The week view's rows: each hour of the day with each day's posts of that hour, from
        ``WEEK_HOURS`` or wider where a post is timed earlier or later."""
        used = [entry.local_time.hour for day in self.days for entry in day.posts]
        first, last = min([WEEK_HOURS[0], *used]), max([WEEK_HOURS[1], *used])
        return [
            (hour, [(day, [entry for entry in day.posts if entry.local_time.hour == hour]) for day in self.days])
            for hour in range(first, last + 1)
        ]


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


def posts_performance(brand: Brand, start: datetime, end: datetime) -> dict:
    """The brand's own posts published in [start, end): how many, their engagement (the latest
    counts read), per post, per campaign and per hour of the day in the brand's time zone."""
    zone = ZoneInfo(brand.time_zone)
    targets = list(
        PostTarget.objects.filter(
            post__brand=brand, status=Status.PUBLISHED, published_at__gte=start, published_at__lt=end
        )
        .select_related("post__campaign", "channel")
        .order_by("-published_at", "-pk")
    )
    rows = [
        {
            "text": target.text,
            "channel": target.channel.name,
            "platform": target.channel.get_platform_display(),
            "published_at": target.published_at,
            "engagement": engagement(target.metrics),
            "read": bool(target.metrics),
            "url": target.external_url,
            "post_id": target.post_id,
        }
        for target in targets
    ]
    campaigns: dict[str, dict] = {}
    hours: dict[int, dict] = {}
    for target, row in zip(targets, rows, strict=True):
        name = target.post.campaign.text if target.post.campaign else ""
        entry = campaigns.setdefault(name, {"campaign": name, "posts": 0, "engagement": 0})
        entry["posts"] += 1
        entry["engagement"] += row["engagement"]
        hour = timezone.localtime(target.published_at, zone).hour
        slot = hours.setdefault(hour, {"hour": hour, "posts": 0, "engagement": 0})
        slot["posts"] += 1
        slot["engagement"] += row["engagement"]
    for slot in hours.values():
        slot["average"] = round(slot["engagement"] / slot["posts"], 1)
    total = sum(row["engagement"] for row in rows)
    own = {"posts": len(rows), "engagement": total, "per_post": round(total / len(rows), 1) if rows else 0}
    return {
        **own,
        # The brand next to each competitor whose public accounts are read (``publishing.competitors``).
        "competitors": competitors_side_by_side(brand, start, end, own),
        "rows": sorted(rows, key=lambda row: -row["engagement"])[:20],
        "campaigns": sorted(campaigns.values(), key=lambda entry: -entry["engagement"]),
        "best_hours": sorted(hours.values(), key=lambda slot: (-slot["average"], slot["hour"]))[:5],
        "time_zone": brand.time_zone,
    }


def post_comments(post: Post, *, limit: int = 20) -> tuple[int, list[Mention]]:
    """What people answered to the post, as the inbox holds it: how many, and the latest few. The
    mentions linked to it as they were stored (``publishing.comments``), on any of its channels."""
    comments = Mention.objects.filter(post_comment__target__post=post)
    latest = list(comments.select_related("author", "channel").order_by("-published_at", "-id")[:limit])
    count = len(latest) if len(latest) < limit else comments.count()
    return count, latest


def commented_post(mention: Mention) -> PostTarget | None:
    """The brand's published post ``mention`` answers, on the channel it went out on; None if none."""
    link = PostComment.objects.filter(mention=mention).select_related("target__post", "target__channel").first()
    return link.target if link is not None else None
