"""Benchmark: linking comments on the brand's published posts as they are ingested, and listing
one post's comments the way the inbox does.

Runs on a throwaway test database (SQLite by default, PostgreSQL with DATABASE_URL):

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/escucha .venv/bin/python bench/post_comments.py [items=20000] [posts=5000]

The brand has ``posts`` published posts on X; pages of 100 mentions go through ``ingest_items``,
every third one a reply in the conversation of one of those posts (X's conversation_id). Prints the
time the linking step takes per page (median, p95) next to the whole page's, its statements per
page (the same for every page: set-based), and the time of the inbox's page of one post's comments
(``/inbox/?post=<id>``) once every mention is stored.
"""

from __future__ import annotations

import os
import random
import statistics
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.test_settings")

import django

django.setup()

from django.db import connection  # noqa: E402
from django.test.utils import CaptureQueriesContext, setup_test_environment  # noqa: E402

from bench.common import tasks_queued_in_memory, throwaway_database  # noqa: E402


def main(total: int, posts: int) -> None:
    tasks_queued_in_memory()
    setup_test_environment()
    with throwaway_database():
        run(total, posts)


def run(total: int, posts: int) -> None:
    from django.contrib.auth import get_user_model

    from listening import pipeline
    from listening.connectors import FetchedAuthor, FetchedItem
    from listening.ingest import ingest_items
    from listening.models import Brand, BrandMembership, Channel, Platform
    from listening.selectors import MentionFilters
    from publishing import comments
    from publishing.models import Post, PostComment, PostTarget
    from responses.selectors import inbox_page

    brand = Brand.objects.create(name="Acme", slug="acme")
    channel = Channel.objects.create(brand=brand, platform=Platform.X, name="bench", settings={"user_id": "1"})
    made = Post.objects.bulk_create([Post(brand=brand, text=f"Post {n}") for n in range(posts)])
    PostTarget.objects.bulk_create(
        [
            PostTarget(post=post, channel=channel, text=post.text, status="published", external_id=str(10**12 + n))
            for n, post in enumerate(made)
        ],
        batch_size=1000,
    )
    rng = random.Random(5)
    start = datetime(2026, 1, 1, tzinfo=UTC)

    # The step timed on its own, inside the pipeline as it runs.
    step_times: list[float] = []
    step_statements: list[int] = []
    original = comments.link_post_comments

    def timed(mentions):  # type: ignore[no-untyped-def]
        tick = time.perf_counter()
        with CaptureQueriesContext(connection) as queries:
            original(mentions)
        step_times.append(time.perf_counter() - tick)
        step_statements.append(len(queries.captured_queries))

    pipeline._steps[pipeline._steps.index(original)] = timed

    page_times: list[float] = []
    for first in range(0, total, 100):
        items = [
            FetchedItem(
                external_id=str(i),
                text="@acme what a post" if i % 3 == 0 else "@acme hello",
                author=FetchedAuthor(external_id=str(rng.randint(1, total // 5 + 1)), handle=f"u{i}"),
                published_at=start + timedelta(seconds=i),
                kind="reply" if i % 3 == 0 else "mention",
                parent_external_id=str(10**12 + rng.randrange(posts)) if i % 3 == 0 else "",
                thread_root=str(10**12 + rng.randrange(posts)) if i % 3 == 0 else "",
            )
            for i in range(first, min(first + 100, total))
        ]
        tick = time.perf_counter()
        ingest_items(channel=channel, items=items)
        page_times.append(time.perf_counter() - tick)

    linked = PostComment.objects.count()
    busiest = (
        PostComment.objects.values("target__post").order_by().annotate(n=django.db.models.Count("id")).order_by("-n")
    ).first()
    user = get_user_model().objects.create_user("bench", is_superuser=True)
    BrandMembership.objects.create(brand=brand, user=user)
    inbox = []
    for _ in range(20):
        tick = time.perf_counter()
        inbox_page(user=user, filters=MentionFilters(brand=brand.pk, post=busiest["target__post"]), tab="all")
        inbox.append(time.perf_counter() - tick)

    def ms(values: list[float], q: float) -> str:
        return f"{sorted(values)[max(int(len(values) * q) - 1, 0)] * 1000:.1f} ms"

    print(f"database: {connection.vendor}; {total} mentions in pages of 100, {posts} published posts; {linked} linked")
    print(f"linking step per page: median {ms(step_times, 0.5)}, p95 {ms(step_times, 0.95)}")
    print(f"whole page through ingest_items: median {ms(page_times, 0.5)}, p95 {ms(page_times, 0.95)}")
    print(f"linking step statements per page: {sorted(set(step_statements))}")
    print(
        f"inbox page of one post's {busiest['n']} comments: median {statistics.median(inbox) * 1000:.1f} ms, "
        f"p95 {ms(inbox, 0.95)}"
    )


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 20000, int(sys.argv[2]) if len(sys.argv) > 2 else 5000)
