"""How fast the inbox answers on a big PostgreSQL database.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/escucha \\
        .venv/bin/python bench/inbox.py --mentions 1000000 [--keep]

Fills a throwaway database (bench_<name> beside DATABASE_URL's, never that one) with N mentions of
one brand through COPY, then times the inbox through Django's test Client as a signed-in
community manager: the server's whole answer (filters, keyset query, prefetch, template),
median and p95 over ``--requests`` requests, and the median CPU time of the server's Python. ``--keep`` keeps the database, and the next run with
the same N reuses its rows; ``--refill`` starts over.
"""

from __future__ import annotations

import argparse
import io
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

from django.conf import settings  # noqa: E402
from django.contrib.auth import get_user_model  # noqa: E402
from django.contrib.auth.models import Group  # noqa: E402
from django.db import connection  # noqa: E402
from django.test import Client  # noqa: E402

from bench.common import throwaway_database  # noqa: E402
from config.roles import COMMUNITY_MANAGER  # noqa: E402
from listening.models import Author, Brand, BrandMembership, Channel, Mention, Platform, TrackedTerm  # noqa: E402

WORDS = (
    "acme roadrunner pro order delivery late great love hate broken support app update price "
    "summer camp gracias pedido roto ayuda precio envío tienda nuevo bueno malo service staff "
    "store phone battery screen shipping package customer quality fast slow team week today"
).split()
SENTIMENTS = ["negative"] * 3 + ["positive"] * 3 + ["neutral"] * 3 + ["unscored"]
STATUSES = ["new"] * 5 + ["open"] * 2 + ["replied", "routed", "closed"]
CHUNK = 50_000
COLUMNS = (
    "brand_id, channel_id, external_id, author_id, text, title, url, language, kind, parent_external_id, source, "
    "analyzer_sentiment, sentiment_score, sentiment, tags, metrics, routing_log, published_at, fetched_at, status, "
    "updated_at, assignee_id, analyzer_intent, intent, analysis"
)
INTENTS = ["complaint"] * 3 + ["question"] * 2 + ["praise"] * 2 + ["other"] * 2 + ["unclassified"]


def fill(n: int, refill: bool) -> tuple[Brand, object]:
    brand, _ = Brand.objects.get_or_create(slug="bench", defaults={"name": "Bench"})
    user, created = get_user_model().objects.get_or_create(username="bench-cm", defaults={"first_name": "Bench"})
    if created:
        user.groups.add(Group.objects.get(name=COMMUNITY_MANAGER))
    BrandMembership.objects.get_or_create(brand=brand, user=user)
    have = Mention.objects.filter(brand=brand).count()
    if have == n and not refill:
        print(f"reusing {have:,} mentions of brand 'bench'")
        return brand, user
    with connection.cursor() as cursor:
        # Another benchmark may have left history, tickets or replies on these mentions.
        for table in (
            "listening_mention_terms",
            "listening_mentionevent",
            "responses_reply",
            "responses_ticketevent",
        ):
            column = (
                "ticket_id IN (SELECT id FROM responses_ticket WHERE brand_id = %s)"
                if table == "responses_ticketevent"
                else "mention_id IN (SELECT id FROM listening_mention WHERE brand_id = %s)"
            )
            cursor.execute(f"DELETE FROM {table} WHERE {column}", [brand.pk])
        cursor.execute("DELETE FROM responses_ticket WHERE brand_id = %s", [brand.pk])
        cursor.execute("DELETE FROM listening_mention WHERE brand_id = %s", [brand.pk])
    channels = [
        Channel.objects.get_or_create(brand=brand, name=f"bench {p}", defaults={"platform": p})[0]
        for p in Platform.values
    ]
    if not Author.objects.filter(external_id__startswith="bench-").exists():
        Author.objects.bulk_create(
            [
                Author(
                    platform=Platform.X,
                    external_id=f"bench-{i}",
                    handle=f"bench{i}",
                    name=f"Bench person {i}",
                    followers=i * 7,
                )
                for i in range(5_000)
            ],
            batch_size=2_000,
        )
    author_ids = list(Author.objects.filter(external_id__startswith="bench-").values_list("id", flat=True))
    competitor, _ = TrackedTerm.objects.get_or_create(brand=brand, kind=TrackedTerm.Kind.COMPETITOR, text="Globex")
    keyword, _ = TrackedTerm.objects.get_or_create(brand=brand, kind=TrackedTerm.Kind.KEYWORD, text="refund")

    rng = random.Random(42)
    start = time.perf_counter()
    now = datetime.now(UTC)
    span = timedelta(days=365).total_seconds()
    raw = connection.connection if connection.connection else (connection.ensure_connection() or connection.connection)
    written = 0
    with raw.cursor() as cursor:
        while written < n:
            rows = io.StringIO()
            for i in range(written, min(n, written + CHUNK)):
                channel = channels[i % len(channels)]
                words = rng.choices(WORDS, k=rng.randint(6, 20))
                if i % 50 == 0:
                    words.append("refund")
                published = now - timedelta(seconds=rng.random() * span)
                # A few identical timestamps on purpose: keyset pagination must order them by id.
                if i % 1000 == 1:
                    published = published.replace(microsecond=0)
                assignee = "\\N" if rng.random() < 0.8 else str(user.pk)
                fields = [
                    brand.pk,
                    channel.pk,
                    f"bench-{i}",
                    rng.choice(author_ids),
                    " ".join(words),
                    "",
                    f"https://example.com/{i}",
                    rng.choice(("en", "es", "en", "pt")),
                    "mention",
                    "",
                    "",
                    "unscored",
                    "\\N",
                    rng.choice(SENTIMENTS),
                    "[]",
                    "{}",
                    "[]",
                    published.isoformat(),
                    now.isoformat(),
                    rng.choice(STATUSES),
                    now.isoformat(),
                    assignee,
                    "unclassified",
                    rng.choice(INTENTS),
                    "{}",
                ]
                rows.write("\t".join(str(f) for f in fields) + "\n")
            rows.seek(0)
            cursor.copy_expert(f"COPY listening_mention ({COLUMNS}) FROM STDIN", rows)
            written = min(n, written + CHUNK)
            print(f"  {written:,} mentions", end="\r", flush=True)
        cursor.execute(
            "INSERT INTO listening_mention_terms (mention_id, trackedterm_id) "
            "SELECT id, %s FROM listening_mention WHERE brand_id = %s AND id %% 7 = 0",
            [competitor.pk, brand.pk],
        )
        cursor.execute(
            "INSERT INTO listening_mention_terms (mention_id, trackedterm_id) "
            "SELECT id, %s FROM listening_mention WHERE brand_id = %s AND text LIKE '%%refund%%'",
            [keyword.pk, brand.pk],
        )
        cursor.execute("ANALYZE")
    raw.commit()
    print(f"filled {n:,} mentions in {time.perf_counter() - start:.1f} s")
    return brand, user


def timed(client: Client, url: str, requests: int) -> tuple[float, float, float, int]:
    """Median and p95 of the wall-clock time, and the median CPU time of this process (the
    server's Python, not PostgreSQL's), which other load on the machine disturbs far less."""
    for _ in range(3):  # warm the caches and the connection
        client.get(url)
    times = []
    cpu = []
    status = 0
    for _ in range(requests):
        start, start_cpu = time.perf_counter(), time.process_time()
        response = client.get(url)
        times.append((time.perf_counter() - start) * 1000)
        cpu.append((time.process_time() - start_cpu) * 1000)
        status = response.status_code
    times.sort()
    p95 = times[min(len(times) - 1, round(0.95 * len(times)) - 1)]
    return statistics.median(times), p95, statistics.median(cpu), status


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--mentions", type=int, default=10_000)
    parser.add_argument("--requests", type=int, default=30)
    parser.add_argument("--refill", action="store_true")
    parser.add_argument("--keep", action="store_true", help="keep the database for the next run")
    args = parser.parse_args()
    if connection.vendor != "postgresql":
        sys.exit("bench/inbox.py measures PostgreSQL: set DATABASE_URL=postgres://…")
    with throwaway_database(keep=args.keep):
        connection.set_autocommit(True)
        measure(args)


def measure(args: argparse.Namespace) -> None:
    brand, user = fill(args.mentions, args.refill)
    # Not setup_test_environment(): its template instrumentation would be timed too.
    settings.ALLOWED_HOSTS = [*settings.ALLOWED_HOSTS, "testserver"]
    client = Client()
    client.force_login(user)

    first = client.get("/inbox/").content.decode()
    html, cursor, page = first, "", 1
    while page < 21 and "after=" in html:  # up to twenty pages down, by the cursors the pages hand out
        cursor = html.split("after=")[1].split('"')[0]
        page += 1
        html = client.get(
            f"/inbox/?after={cursor}", headers={"HX-Request": "true", "HX-Target": "load-more"}
        ).content.decode()
    top = first.split("top=")[1].split('"')[0] if "top=" in first else ""
    mention = first.split('data-open="')[1].split('"')[0] if 'data-open="' in first else "/mentions/0/"
    scenarios = [
        ("first page (Open tab, 4 counts)", "/inbox/"),
        ("Unassigned tab", "/inbox/?tab=unassigned"),
        ("Mine tab", "/inbox/?tab=mine"),
        ("All tab", "/inbox/?tab=all"),
        (f"page {page} (keyset cursor)", f"/inbox/?after={cursor}"),
        ("negative + unassigned", "/inbox/?sentiment=negative&assignee=none"),
        ("complaints + unassigned", "/inbox/?intent=complaint&assignee=none"),
        ("negative + unassigned + new", "/inbox/?sentiment=negative&assignee=none&status=new"),
        ("text search 'refund'", "/inbox/?q=refund"),
        ("competitors", "/inbox/?term=competitor"),
        ("new-mentions poll", f"/inbox/new/?sentiment=negative&top={top}"),
        ("mention page (first row)", mention),
    ]
    total = Mention.objects.filter(brand=brand).count()
    print(f"\ninbox server time, {total:,} mentions, {args.requests} requests each (ms)")
    print(f"{'page':32} {'median':>8} {'p95':>8} {'CPU':>8}")
    for label, url in scenarios:
        median, p95, cpu, status = timed(client, url, args.requests)
        print(f"{label:32} {median:8.1f} {p95:8.1f} {cpu:8.1f}" + ("" if status == 200 else f"  HTTP {status}"))


if __name__ == "__main__":
    main()
