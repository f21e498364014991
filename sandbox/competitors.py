"""The demo's competitors on the sandbox platforms: Globex and Initech post a few times a day on
X and on their public Facebook Pages. Their posts are made up on request, the same for the same
account and day (seeded by both), so reading them twice reads the same thing and nothing is stored.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

# handle on X → (user id, name); Page user name → (Page id, name). The Page is found by either.
X_ACCOUNTS = {"globex": ("2500000000000000001", "Globex"), "initech": ("2500000000000000002", "Initech")}
PAGES = {"globexcorp": ("204857600000001", "Globex"), "initech": ("204857600000002", "Initech")}
# How lively each is: posts a day at most, and the interactions a post draws at most.
LIVELINESS = {"Globex": (3, 400), "Initech": (2, 90)}
TEXTS = [
    "New season, new colours. Which one is yours?",
    "Free shipping all weekend 🚚",
    "Behind the scenes at our workshop.",
    "Tell us where you ride this summer ☀️",
    "Our support team is on chat until 22:00.",
]


@dataclass(frozen=True)
class CompetitorPost:
    external_id: str
    text: str
    created_at: datetime
    likes: int
    reposts: int
    replies: int


def x_user(handle: str) -> tuple[str, str] | None:
    return X_ACCOUNTS.get(handle.lower())


def page(object_id: str) -> tuple[str, str] | None:
    """A competitor's Page by its id or its user name."""
    by_id = {page_id: (page_id, name) for page_id, name in PAGES.values()}
    return by_id.get(object_id) or PAGES.get(object_id.lower())


def posts(account_id: str, name: str, since: datetime, now: datetime, platform: str) -> list[CompetitorPost]:
    """The account's posts from ``since`` to ``now``, newest first."""
    most, reach = LIVELINESS.get(name, (2, 100))
    made: list[CompetitorPost] = []
    day = since.astimezone(UTC).date()
    while day <= now.date():
        rng = random.Random(f"{platform}:{account_id}:{day.isoformat()}")
        for n in range(rng.randint(0, most)):
            at = datetime(day.year, day.month, day.day, rng.randint(7, 21), rng.randint(0, 59), tzinfo=UTC)
            likes = rng.randint(0, reach)
            post = CompetitorPost(
                external_id=(
                    str((int(at.timestamp() * 1000) - 1288834974657) << 22 | n)
                    if platform == "x"
                    else f"{account_id}_{int(at.timestamp())}{n}"
                ),
                text=rng.choice(TEXTS),
                created_at=at,
                likes=likes,
                reposts=likes // rng.randint(4, 10),
                replies=likes // rng.randint(5, 20),
            )
            if since <= at <= now:
                made.append(post)
        day += timedelta(days=1)
    return sorted(made, key=lambda post: post.created_at, reverse=True)
