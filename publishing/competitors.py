"""The competitors' own posting, next to the brand's: where the platform lets a public account be
read (an X user's timeline, a public Facebook Page's posts), each competitor account is read on a
schedule with the credentials of one of the brand's channels on that platform, and what it
published is kept per day of the brand's calendar: posts, and interactions as last read.

Each read covers the last ``WINDOW_DAYS`` days, so a post's counts keep growing for a week as our
own posts' do. A failing read backs off like a channel's poll (30 s doubling up to an hour; a day
after an error retrying cannot mend) and is shown with the health of the channel whose credentials
it used, as a poll's error is, without stopping that channel's polls.
"""

from __future__ import annotations

import logging
from collections import defaultdict
from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

from django.db.models import Sum
from django.utils import timezone

from config.backoff import backoff_seconds
from listening.connectors import ConnectorError, RateLimited, get_connector, scrub_error
from listening.connectors.base import storable_text
from listening.models import Brand, Channel, TrackedTerm
from listening.polling import channel_error_record
from publishing.models import CompetitorAccount, CompetitorDay, engagement

log = logging.getLogger(__name__)

WINDOW_DAYS = 7
READ_EVERY = timedelta(hours=6)
BACKOFF_BASE_SECONDS = 30
BACKOFF_CAP_SECONDS = 3600
GIVE_UP_SECONDS = 24 * 3600  # after a permanent error (refused credentials, no such account)
DUE_MAX = 200  # accounts one run reads; the rest wait for the next run (every 15 minutes)


def reading_channel(account: CompetitorAccount) -> Channel | None:
    """The brand's active channel on the account's platform whose credentials read it."""
    return (
        Channel.objects.filter(brand_id=account.brand_id, platform=account.platform, is_active=True)
        .order_by("pk")
        .first()
    )


def competitor_read(*, account: CompetitorAccount, now: datetime | None = None) -> bool:
    """Read one competitor account's last days and store them; False when the read failed (kept on
    the account and shown on the channel, and retried after a backoff)."""
    now = now or timezone.now()
    zone = ZoneInfo(account.brand.time_zone)
    today = timezone.localtime(now, zone).date()
    first = today - timedelta(days=WINDOW_DAYS - 1)
    channel = reading_channel(account)
    if channel is None:
        _failed(account, None, f"No active {account.get_platform_display()} channel of the brand to read it with.", now)
        return False
    try:
        posts = get_connector(channel).account_posts(account.handle, since=datetime.combine(first, time.min, zone))
    except RateLimited as error:
        _failed(account, channel, str(error), now, wait=max(error.retry_after, BACKOFF_BASE_SECONDS))
        return False
    except ConnectorError as error:
        # Refused credentials, an account that does not exist: retrying soon cannot help.
        _failed(account, channel, str(error), now, wait=GIVE_UP_SECONDS if error.permanent else None)
        return False
    days: dict = defaultdict(lambda: [0, 0])
    for post in posts:
        day = timezone.localtime(post.published_at, zone).date()
        if first <= day <= today:
            days[day][0] += 1
            days[day][1] += engagement(post.metrics)
    # Every day of the window, the quiet ones as 0: a day read with no post is not a day unread.
    window = [first + timedelta(days=n) for n in range(WINDOW_DAYS)]
    CompetitorDay.objects.bulk_create(
        [
            CompetitorDay(account=account, day=day, posts=days[day][0], engagement=days[day][1], read_at=now)
            for day in window
        ],
        update_conflicts=True,
        unique_fields=["account", "day"],
        update_fields=["posts", "engagement", "read_at"],
    )
    CompetitorAccount.objects.filter(pk=account.pk).update(
        last_success_at=now, consecutive_failures=0, last_error="", next_read_at=now + READ_EVERY
    )
    return True


def _failed(
    account: CompetitorAccount,
    channel: Channel | None,
    message: str,
    now: datetime,
    *,
    wait: float | None = None,
) -> None:
    failures = account.consecutive_failures + 1
    if channel is not None:
        message = scrub_error(message, channel=channel)
    message = storable_text(f"{account.get_platform_display()} {account.handle}: {message}")[:2000]
    delay = wait if wait is not None else backoff_seconds(failures, base=BACKOFF_BASE_SECONDS, cap=BACKOFF_CAP_SECONDS)
    CompetitorAccount.objects.filter(pk=account.pk).update(
        consecutive_failures=failures,
        last_error=message,
        last_error_at=now,
        next_read_at=now + timedelta(seconds=delay),
    )
    if channel is not None:
        # With the channel's health, where a poll's error shows; never stopping the channel's own
        # polls (an access tier may refuse a timeline and still allow the mentions).
        channel_error_record(channel=channel, message=message, reconnect=False)
    log.info("Competitor account %s not read: %s", account.pk, message)


def competitors_read_due(*, now: datetime | None = None) -> int:
    """Read the competitor accounts whose time has come (the beat's task); how many were read."""
    now = now or timezone.now()
    due = list(
        CompetitorAccount.objects.filter(is_active=True, next_read_at__lte=now)
        .select_related("brand")
        .order_by("next_read_at")[:DUE_MAX]
    )
    return sum(competitor_read(account=account, now=now) for account in due)


def competitors_side_by_side(brand: Brand, start: datetime, end: datetime, own: dict) -> list[dict]:
    """The brand and each competitor with a readable account, over the days of [start, end): posts,
    interactions and interactions per post; each competitor with its accounts and their health."""
    accounts = list(CompetitorAccount.objects.filter(brand=brand, is_active=True).order_by("competitor", "platform"))
    if not accounts:
        return []
    totals = {
        row["account"]: row
        for row in CompetitorDay.objects.filter(account__in=accounts, day__gte=start.date(), day__lt=end.date())
        .values("account")
        .annotate(posts=Sum("posts"), engagement=Sum("engagement"))
    }
    rows: dict[str, dict] = {}
    for account in accounts:
        row = rows.setdefault(
            account.competitor, {"name": account.competitor, "posts": 0, "engagement": 0, "accounts": []}
        )
        counted = totals.get(account.pk, {})
        row["posts"] += counted.get("posts") or 0
        row["engagement"] += counted.get("engagement") or 0
        row["accounts"].append(account)
    competitors = sorted(rows.values(), key=lambda row: (-row["engagement"], row["name"]))
    for row in competitors:
        row["per_post"] = round(row["engagement"] / row["posts"], 1) if row["posts"] else 0
        row["errors"] = [account for account in row["accounts"] if account.consecutive_failures]
        row["read"] = any(account.last_success_at for account in row["accounts"])
    ours = {
        "name": brand.name,
        "posts": own["posts"],
        "engagement": own["engagement"],
        "per_post": own["per_post"],
        "ours": True,
        "read": True,
    }
    return [ours, *competitors]


def competitor_groups(brand: Brand) -> list[str]:
    """The brand's competitors as the share of voice groups them: each competitor term's label."""
    terms = TrackedTerm.objects.filter(brand=brand, kind=TrackedTerm.Kind.COMPETITOR, is_active=True)
    return sorted({term.label for term in terms}, key=str.lower)


def competitor_account_add(*, brand: Brand, competitor: str, platform: str, handle: str) -> CompetitorAccount:
    """Read ``handle`` on ``platform`` as one of ``competitor``'s public accounts, from the next run."""
    handle = handle.strip()
    if platform == CompetitorAccount.Platform.X:
        handle = "@" + handle.lstrip("@")
    account = CompetitorAccount(brand=brand, competitor=competitor, platform=platform, handle=handle[:255])
    account.full_clean()  # one of the brand's competitor groups, a platform that can be read, not twice
    account.save()
    return account
