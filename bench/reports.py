"""Report benchmark: fill PostgreSQL with N mentions, time the rollup refresh and the report page.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/escucha \
        .venv/bin/python bench/reports.py --mentions 10000 1000000 [--keep]

Each size runs in a throwaway database and a process of its own (bench_<name> beside
DATABASE_URL's, never that one), one after the other, and the page times of every size are compared with the first
size's at the end; ``--keep`` leaves the (single size's) database, and ``--reuse`` then times
the page again on the brand it holds.

Mentions are spread over the last --days days on three channels, loaded with COPY in batches
(around the pipeline, as a bulk load is). Prints: load time, a cold refresh (every day counted
from the mentions), a burst of 500 new mentions over 30 days stored through the pipeline's steps
(routing, rollup deltas), a sentiment correction and a deletion through the services, the refresh
after them (it recounts only days whose totals no longer match), and the report's server time
(median, p95) for 30 and 90 days through the test Client as a manager, after a first view that
computes the period's summary of ranked blocks, and for 30 days with 20 new mentions stored through
the pipeline before each view (a busy brand, whose rollups change between any two views).
"""

from __future__ import annotations

import argparse
import io
import json
import os
import random
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
os.environ.setdefault("DEBUG", "false")
os.environ.setdefault("ALLOWED_HOSTS", "testserver,localhost,127.0.0.1")

import django

django.setup()

from django.db import connection  # noqa: E402
from django.test import Client  # noqa: E402

from bench.common import throwaway_database  # noqa: E402

WORDS = (
    "refund app slow great love broken support order delivery price cheaper outage login update battery "
    "screen camera thanks awesome terrible help account password store shipping late new feature"
).split()
SENTIMENTS = ["positive", "neutral", "negative", "unscored"]
INTENTS = ["complaint", "question", "praise", "other", "other"]


def timed(label: str, fn, *args, **kwargs):
    start = time.perf_counter()
    result = fn(*args, **kwargs)
    print(f"{label}: {time.perf_counter() - start:.2f} s ({result})")
    return result


def load(mentions: int, days: int, seed: int = 7) -> tuple[object, object]:
    from config.roles import MANAGER
    from listening.models import Author, Brand, Channel, Mention, Platform, TrackedTerm
    from tests.factories import MembershipFactory, UserFactory

    rng = random.Random(seed)
    Brand.objects.filter(slug="bench").delete()
    brand = Brand.objects.create(name="Bench", slug="bench")
    manager = UserFactory(username=f"bench-manager-{int(time.time())}", roles=[MANAGER])
    MembershipFactory(brand=brand, user=manager)
    channels = [
        Channel.objects.create(brand=brand, platform=p, name=f"bench {p}")
        for p in (Platform.X, Platform.FACEBOOK, Platform.FEED)
    ]
    terms = [
        TrackedTerm.objects.create(brand=brand, kind="brand", text="bench"),
        TrackedTerm.objects.create(brand=brand, kind="competitor", text="rival", group="Rival"),
    ]
    stamp = int(time.time())
    Author.objects.bulk_create(
        Author(
            platform=Platform.X, external_id=f"bench-{stamp}-{n}", handle=f"user{n}", followers=rng.randint(0, 10**6)
        )
        for n in range(min(20_000, max(100, mentions // 20)))
    )
    author_ids = list(Author.objects.filter(external_id__startswith=f"bench-{stamp}-").values_list("id", flat=True))
    now = datetime.now(UTC)
    columns = (
        "brand_id, channel_id, external_id, author_id, text, title, url, language, kind, parent_external_id, "
        "source, analyzer_sentiment, sentiment, tags, metrics, routing_log, published_at, fetched_at, status, "
        "updated_at, analyzer_intent, intent, analysis"
    )
    batch = 100_000
    with connection.cursor() as cursor:
        for start in range(0, mentions, batch):
            buffer = io.StringIO()
            for n in range(start, min(start + batch, mentions)):
                channel = channels[n % 3]
                sentiment = rng.choices(SENTIMENTS, weights=[3, 4, 2, 1])[0]
                intent = INTENTS[n % len(INTENTS)]
                text = " ".join(rng.choices(WORDS, k=8)) + ("?" if n % 17 == 0 else "") + (" #bench" if n % 5 else "")
                # In the order they were published, as a platform's mentions arrive (a few seconds'
                # jitter): where each day's mentions sit in the table is what a recount reads.
                published = now - timedelta(seconds=(mentions - n) * days * 86400 / mentions + rng.randint(0, 5))
                source = f"site{n % 40}.example" if channel.platform == Platform.FEED else ""
                buffer.write(
                    "\t".join(
                        [
                            str(brand.pk),
                            str(channel.pk),
                            f"{stamp}-{n}",
                            str(rng.choice(author_ids)),
                            text,
                            "",
                            f"https://example.com/{n}",
                            "en",
                            "mention",
                            "",
                            source,
                            sentiment,
                            sentiment,
                            "[]",
                            "{}",
                            "[]",
                            published.isoformat(),
                            published.isoformat(),
                            "new",
                            published.isoformat(),
                            intent,
                            intent,
                            "{}",
                        ]
                    )
                    + "\n"
                )
            buffer.seek(0)
            cursor.copy_expert(f"COPY listening_mention ({columns}) FROM STDIN", buffer)
        # Terms: 70 % name the brand, 30 % the rival (some both).
        cursor.execute(
            "INSERT INTO listening_mention_terms (mention_id, trackedterm_id) "
            "SELECT id, %s FROM listening_mention WHERE brand_id = %s AND id %% 10 < 7",
            [terms[0].pk, brand.pk],
        )
        cursor.execute(
            "INSERT INTO listening_mention_terms (mention_id, trackedterm_id) "
            "SELECT id, %s FROM listening_mention WHERE brand_id = %s AND id %% 10 >= 6",
            [terms[1].pk, brand.pk],
        )
        # What autovacuum does after a bulk load: statistics, and the visibility map that lets
        # counts be read from the index alone.
        cursor.execute("VACUUM ANALYZE listening_mention")
        cursor.execute("VACUUM ANALYZE listening_mention_terms")
    assert Mention.objects.filter(brand=brand).count() == mentions
    return brand, manager


def page_times(client: Client, url: str, runs: int, before: Callable[[], object] | None = None) -> tuple[str, float]:
    """The page's server time over ``runs`` requests; ``before`` runs before each, untimed."""
    times = []
    for _ in range(runs):
        if before is not None:
            before()
        start = time.perf_counter()
        response = client.get(url)
        times.append((time.perf_counter() - start) * 1000)
        assert response.status_code == 200, response.status_code
    times.sort()
    p95 = times[min(len(times) - 1, int(0.95 * len(times)))]
    return f"median {statistics.median(times):.0f} ms, p95 {p95:.0f} ms over {runs} requests", p95


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--mentions", type=int, nargs="+", default=[10_000], help="one or more sizes, in turn")
    parser.add_argument("--days", type=int, default=90)
    parser.add_argument("--runs", type=int, default=20)
    parser.add_argument("--reuse", action="store_true", help="time the page on the brand a kept run loaded")
    parser.add_argument("--keep", action="store_true", help="keep the database for a --reuse run")
    parser.add_argument("--p95-out", help=argparse.SUPPRESS)  # where a size run in its own process writes its p95s
    args = parser.parse_args()
    if connection.vendor != "postgresql":
        sys.exit("Set DATABASE_URL to a PostgreSQL database.")
    if (args.keep or args.reuse) and len(args.mentions) > 1:
        sys.exit("--keep and --reuse take one size.")
    p95s: dict[int, dict[str, float]] = {}
    if len(args.mentions) == 1:
        with throwaway_database(keep=args.keep or args.reuse):
            p95s[args.mentions[0]] = measure(args, args.mentions[0])
        if args.p95_out:
            Path(args.p95_out).write_text(json.dumps(p95s[args.mentions[0]]))
        return
    # Each size in a process of its own, as a web worker serves the page: a process that had
    # loaded and served the first size served the next one's pages about twice as slowly, and
    # the sizes must differ by the data alone.
    with tempfile.TemporaryDirectory() as work:
        for size in args.mentions:
            out = Path(work) / f"{size}.json"
            command = [sys.executable, __file__, "--mentions", str(size), "--days", str(args.days)]
            subprocess.run([*command, "--runs", str(args.runs), "--p95-out", str(out)], check=True)
            p95s[size] = json.loads(out.read_text())
    first = args.mentions[0]
    for size in args.mentions[1:]:
        ratios = ", ".join(f"{page} {p95s[size][page] / p95s[first][page]:.1f}x" for page in p95s[size])
        print(f"p95 at {size} mentions against {first}: {ratios}")


def measure(args: argparse.Namespace, mentions: int) -> dict[str, float]:
    from listening import pipeline
    from listening.models import Brand, Mention
    from listening.services import mention_correct_sentiment
    from reports.models import ChannelDay, ReportSummary
    from reports.rollups import rollups_refresh
    from reports.selectors import summaries_refresh

    print(f"mentions={mentions} days={args.days}")
    now = datetime.now(UTC)
    if args.reuse:
        brand = Brand.objects.filter(slug="bench").first()
        if brand is None:
            sys.exit("Nothing to reuse: run once with --keep first.")
        manager = brand.members.filter(username__startswith="bench-manager").first()
        print(f"reusing {Mention.objects.filter(brand=brand).count()} mentions")
    else:
        brand, manager = timed("load (COPY)", load, mentions, args.days)
        timed("rollups refresh, cold (every day; days recounted)", rollups_refresh)
        timed("rollups refresh, nothing changed", rollups_refresh)
        channel = brand.channels.first()
        author = Mention.objects.filter(brand=brand).values_list("author_id", flat=True).first()

        def arrive(count: int) -> int:
            created = Mention.objects.bulk_create(
                Mention(brand=brand, channel=channel, author_id=author, external_id=f"late-{n}-{time.time()}",
                        text="late refund, how do I get it? #bench", published_at=now - timedelta(days=n % 30),
                        sentiment="negative", language="en")
                for n in range(count)
            )  # fmt: skip
            pipeline.run(created)  # what ingestion runs inside its transaction: routing, rollup deltas
            return len(created)

        timed("500 new mentions over 30 days through the pipeline's steps", lambda: arrive(500))
        victim = Mention.objects.filter(brand=brand).order_by("published_at").first()
        relabel = "negative" if victim.sentiment != "negative" else "positive"
        timed("1 sentiment correction", lambda: mention_correct_sentiment(mention=victim, label=relabel, actor=manager))
        timed("1 deletion", lambda: Mention.objects.filter(brand=brand).order_by("-id").first().delete())
        timed("rollups refresh after 500 new (30 days), 1 correction, 1 deletion (days recounted)", rollups_refresh)
        timed("rollups refresh, steady state", rollups_refresh)
    rows = ChannelDay.objects.filter(brand=brand).count()
    print(f"ChannelDay rows for the brand: {rows}")
    with connection.cursor() as cursor:
        # What autovacuum does in production after the first refresh fills the rollups.
        cursor.execute("ANALYZE reports_channelday, reports_termday, reports_groupday, reports_authorday, "
                       "reports_authorweek, reports_sourceday, reports_wordday, reports_questionday, "
                       "reports_qualityday, reports_intentday")  # fmt: skip

    client = Client()
    client.force_login(manager)
    today = now.date()
    p95s = {}
    # The process's first page (templates compiled, catalogues loaded), on a period not timed below.
    client.get(f"/reports/?brand={brand.pk}&since={today - timedelta(days=6)}&until={today}")
    for days in (30, 90):
        url = f"/reports/?brand={brand.pk}&since={today - timedelta(days=days - 1)}&until={today}"
        # The first view after a change computes the period's ranked blocks (what the rollup job
        # does for the usual periods after each refresh); the next ones read them.
        ReportSummary.objects.filter(brand=brand).delete()
        start = time.perf_counter()
        client.get(url)
        print(f"report page, {days} days, first view after a change: {(time.perf_counter() - start) * 1000:.0f} ms")
        line, p95s[f"page {days} days"] = page_times(client, url, args.runs)
        print(f"report page, {days} days: {line}")
    if not args.reuse:
        # A busy brand: new mentions come between any two views, each batch a new rollup version.
        # The page shows the ranked blocks of a summary up to RANKINGS_MAX_AGE old (the rollup job
        # computes them every minute); before, every view computed them again.
        url = f"/reports/?brand={brand.pk}&since={today - timedelta(days=29)}&until={today}"
        client.get(url)
        line, _ = page_times(client, url, args.runs, before=lambda: arrive(20))
        print(f"report page, 30 days, 20 new mentions before each view: {line}")
    ReportSummary.objects.filter(brand=brand).delete()
    timed("report summaries of the last 7, 30 and 90 days, as the rollup job prepares them", summaries_refresh)
    api = f"/api/v1/reports/summary/?brand={brand.pk}"
    line, p95s["summary API"] = page_times(client, api, args.runs)
    print(f"summary API, 30 days: {line}")
    return p95s


if __name__ == "__main__":
    main()
