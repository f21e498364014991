"""Server time of the mention page, its live poll, and the author page for an author with a long history.

    DATABASE_URL=postgres://… .venv/bin/python bench/mention_page.py [mentions_by_author]

Builds a throwaway test database, fills it, and prints median and p95 in milliseconds.
"""

from __future__ import annotations

import os
import statistics
import sys
import time
from datetime import timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.test_settings")

import django

django.setup()

from django.db import connection  # noqa: E402
from django.test import Client  # noqa: E402
from django.test.utils import setup_test_environment  # noqa: E402
from django.utils import timezone  # noqa: E402

from bench.common import throwaway_database  # noqa: E402

RUNS = 40


def timed(client: Client, url: str, status: int = 200) -> tuple[float, float]:
    samples = []
    for _ in range(RUNS):
        start = time.perf_counter()
        response = client.get(url)
        samples.append((time.perf_counter() - start) * 1000)
        assert response.status_code == status, response.status_code
    samples.sort()
    return statistics.median(samples), samples[int(len(samples) * 0.95) - 1]


def main() -> None:
    count = int(sys.argv[1]) if len(sys.argv) > 1 else 10_000
    setup_test_environment()
    with throwaway_database():
        from config.pagination import encode_cursor
        from config.roles import COMMUNITY_MANAGER
        from listening.models import Author, Brand, BrandMembership, Channel, Mention, MentionEvent
        from responses.models import Department, Reply
        from responses.selectors import mention_live_version
        from responses.tickets import ticket_open
        from tests.factories import UserFactory

        brand = Brand.objects.create(name="Acme", slug="acme")
        channel = Channel.objects.create(brand=brand, platform="x", name="Acme on X")
        cm = UserFactory(username="carla", roles=[COMMUNITY_MANAGER])
        BrandMembership.objects.create(brand=brand, user=cm)
        author = Author.objects.create(platform="x", external_id="a1", handle="loud", name="Loud", followers=50_000)
        now = timezone.now()
        Mention.objects.bulk_create(
            Mention(
                brand=brand,
                channel=channel,
                author=author,
                external_id=f"m{i}",
                text=f"complaint number {i}",
                sentiment="negative" if i % 3 else "neutral",
                published_at=now - timedelta(minutes=i),
            )
            for i in range(count)
        )
        mention = Mention.objects.get(external_id="m0")
        Reply.objects.bulk_create(Reply(mention=mention, author=cm, text=f"r{i}", status="sent") for i in range(20))
        MentionEvent.objects.bulk_create(
            MentionEvent(mention=mention, actor=cm, kind="note", note=f"n{i}") for i in range(20)
        )
        ticket_open(mention=mention, department=Department.objects.create(brand=brand, name="Billing"))
        if connection.vendor == "postgresql":
            with connection.cursor() as cursor:
                cursor.execute("ANALYZE")  # what autovacuum does after a bulk load
        client = Client()
        client.force_login(cm)
        oldest = Mention.objects.order_by("published_at", "id").first()
        deep = encode_cursor(oldest)
        engine = connection.vendor
        for label, url, status in [
            ("mention page", f"/mentions/{mention.pk}/", 200),
            ("live poll, nothing changed", f"/mentions/{mention.pk}/live/?v={mention_live_version(mention)}", 204),
            ("live poll, something changed", f"/mentions/{mention.pk}/live/?v=stale", 200),
            ("author page, first", f"/authors/{author.pk}/", 200),
            ("author page, near the end", f"/authors/{author.pk}/?before={deep}", 200),
        ]:
            median, p95 = timed(client, url, status)
            print(f"{engine} {count} mentions by one author  {label:<28} median {median:6.1f} ms  p95 {p95:6.1f} ms")


if __name__ == "__main__":
    main()
