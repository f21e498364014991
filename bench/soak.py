"""Soak: the whole of Escucha under load while things break, then what was lost, doubled or slow.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/escucha \\
        .venv/bin/python bench/soak.py [--minutes 10] [--users 8] [--max-requests 100000]

Starts, on loopback only: its own redis-server on a free port, gunicorn (web, DEBUG off as in
production), two Celery workers and beat, against a throwaway database (bench_<name> beside
DATABASE_URL's, never that one; the Redis that REDIS_URL names is never touched). Then, for ``--minutes``:

- the sandbox platforms post one item every ``--post-every`` seconds, across X, Facebook,
  YouTube and feeds, and answer ``--fault-rate`` of the API calls with the platform's rate
  limit or server error (``SANDBOX_FAULT_RATE``);
- a webhook sender posts a Facebook comment every ``--webhook-every`` seconds and delivers it,
  signed, to the channel's webhook, then times how long until the inbox's query returns it;
- ``--users`` signed-in community managers work the inbox with Locust (headless, as a library,
  in a process of its own): list, filter, search, the "N new" counter, open, assign, reply;
- a third of the way in, one worker (the polling one) is killed with SIGKILL, its pool with it,
  and started again; two thirds in, Redis is stopped and started again.

Then the load stops, polls are called for at once, and it waits (up to ``--drain`` seconds) for
the last items and replies before it prints: requests served, errors (5xx and timeouts), p50/p95
per page, items posted vs mentions stored, duplicates, replies requested vs posted, the peak
memory of each process, and the webhook → inbox latency. It stops by itself, leaves nothing
running and drops its database. Exit status 1 when a mention or a reply was stored twice.
"""

from __future__ import annotations

import argparse
import hashlib
import hmac
import json
import os
import random
import re
import signal
import subprocess
import sys
import tempfile
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.processes import Process, database_url, django_with_production_settings, redis_server, wait_for_http  # noqa: E402

PASSWORD = "soak-" + "x" * 16
STARTUP_SECONDS = 90
BEGAN = time.monotonic()


# --- The load: Locust, in a process of its own (gevent patches everything it imports) ----------
def run_load(plan_path: str, out_path: str) -> None:
    """Locust as a library, headless: ``plan['users']`` people on the inbox until the time or the
    request bound, whichever comes first. Writes the figures and the replies it asked for."""
    import gevent
    from locust import HttpUser, between, task
    from locust.env import Environment

    plan = json.loads(Path(plan_path).read_text())
    people = iter(plan["people"])
    replies: list[dict] = []
    errors = {"5xx": 0, "timeouts": 0, "other": 0}
    mention_link = re.compile(r'href="/mentions/(\d+)/"')
    top_link = re.compile(r"top=([A-Za-z0-9_\-]+)")

    class InboxUser(HttpUser):
        host = plan["url"]
        wait_time = between(1, 3)

        def on_start(self) -> None:
            self.person = next(people)
            self.seen: list[int] = []
            self.top = ""
            self.client.get("/accounts/login/", name="login")
            self.client.post(
                "/accounts/login/",
                {"username": self.person["username"], "password": PASSWORD},
                headers=self._csrf(),
                name="login",
                allow_redirects=False,
            )

        def _csrf(self) -> dict[str, str]:
            return {"X-CSRFToken": self.client.cookies.get("csrftoken", ""), "Referer": plan["url"] + "/"}

        def _get(self, url: str, name: str) -> str:
            with self.client.get(url, name=name, timeout=plan["timeout"], catch_response=True) as response:
                judge(response)
                return response.text if response.status_code == 200 else ""

        def _post(self, url: str, data: dict, name: str) -> bool:
            with self.client.post(
                url, data, headers=self._csrf(), name=name, timeout=plan["timeout"], allow_redirects=False,
                catch_response=True,
            ) as response:  # fmt: skip
                judge(response, ok=(302,))
                return response.status_code == 302

        def _remember(self, html: str) -> None:
            ids = [int(i) for i in mention_link.findall(html)]
            if ids:
                self.seen = ids[:50]
            if found := top_link.search(html):
                self.top = found.group(1)

        @task(4)
        def inbox(self) -> None:
            self._remember(self._get("/inbox/", "inbox"))

        @task(2)
        def filtered(self) -> None:
            query = random.choice(["sentiment=negative&assignee=none", "intent=complaint", "status=new"])
            self._remember(self._get(f"/inbox/?{query}", "inbox, filtered"))

        @task(2)
        def search(self) -> None:
            self._get(f"/inbox/?q={random.choice(['refund', 'Roadrunner', 'envío', 'app'])}", "inbox, search")

        @task(3)
        def new_count(self) -> None:
            self._get(f"/inbox/new/?top={self.top}", "inbox, N new")

        @task(3)
        def open_mention(self) -> None:
            if self.seen:
                self._get(f"/mentions/{random.choice(self.seen)}/", "mention")

        @task(1)
        def assign(self) -> None:
            if self.seen:
                url = f"/mentions/{random.choice(self.seen)}/update/"
                self._post(url, {"field": "assignee", "value": self.person["id"]}, "mention, assign")

        @task(1)
        def reply(self) -> None:
            platform = random.choice(["x", "facebook", "youtube"])
            ids = [int(i) for i in mention_link.findall(self._get(f"/inbox/?platform={platform}", "inbox, filtered"))]
            if not ids:
                return
            mention = random.choice(ids[:20])
            text = f"Thanks for writing to us, we are on it (ref {uuid.uuid4().hex[:12]})"
            url = f"/mentions/{mention}/replies/send/"
            if self._post(url, {"text": text, "confirm": "1"}, "mention, reply"):
                replies.append({"mention": mention, "text": text})

    def judge(response, ok: tuple[int, ...] = (200,)) -> None:
        if response.status_code in ok:
            response.success()
            return
        if response.status_code == 0:
            errors["timeouts"] += 1
        elif response.status_code >= 500:
            errors["5xx"] += 1
        else:
            errors["other"] += 1
        response.failure(f"HTTP {response.status_code}")

    env = Environment(user_classes=[InboxUser])
    runner = env.create_local_runner()
    runner.start(plan["users"], spawn_rate=plan["users"])
    deadline = time.monotonic() + plan["seconds"]

    def stop_when_done() -> None:
        while time.monotonic() < deadline and env.stats.total.num_requests < plan["max_requests"]:
            gevent.sleep(0.5)
        runner.quit()

    gevent.spawn(stop_when_done)
    runner.greenlet.join()
    pages = {
        name: {
            "requests": entry.num_requests,
            "p50": entry.get_response_time_percentile(0.5),
            "p95": entry.get_response_time_percentile(0.95),
        }
        for (name, _method), entry in sorted(env.stats.entries.items())
    }
    total = env.stats.total
    # A task that raised is a defect of the load, not of Escucha: shown apart, with its traceback.
    crashes = [
        {"count": e["count"], "error": e["msg"], "at": e["traceback"][-800:]} for e in runner.exceptions.values()
    ]
    result = {"requests": total.num_requests, "failures": total.num_failures, "errors": errors, "crashes": crashes}
    Path(out_path).write_text(json.dumps({**result, "pages": pages, "replies": replies}))


# --- Memory -------------------------------------------------------------------------------------
@dataclass
class Memory:
    """Peak memory of every process each started process leads: resident (the kernel's VmHWM) and
    proportional (PSS, sampled each second: pages shared by a worker's pool counted once), and
    when each was seen. A child that ended while its parent went on is not one of a pool's
    processes (they live as long as their worker): a worker's parent fits the intent models in a
    child that exits once it has handed them over (``listening.learning.builtin_models_fit_apart``),
    and the report says so rather than show it as a pool process."""

    # pid → [label, peak RSS KiB, peak PSS KiB, first seen, last seen (monotonic seconds), parent pid]
    peaks: dict[int, list] = field(default_factory=dict)

    @staticmethod
    def _fields(path: str) -> dict[str, str]:
        try:
            lines = Path(path).read_text().splitlines()
        except OSError:
            return {}
        return dict(line.split(":", 1) for line in lines if ":" in line)

    @staticmethod
    def _kib(fields: dict[str, str], name: str) -> int:
        return int((fields.get(name) or "0 kB").split()[0])

    def sample(self, processes: list[Process]) -> None:
        now = time.monotonic()
        parents: dict[int, int] = {}
        for entry in os.scandir("/proc"):
            if entry.name.isdigit():
                status = self._fields(f"/proc/{entry.name}/status")
                if "PPid" in status:
                    parents[int(entry.name)] = int(status["PPid"])
        for process in processes:
            if not process.popen or process.popen.poll() is not None:
                continue
            root = process.popen.pid
            for pid in [root] + [pid for pid, parent in parents.items() if parent == root]:
                if pid not in self.peaks:
                    prefix = f"{process.name} #{process.starts} child"
                    children = sum(1 for peak in self.peaks.values() if peak[0].startswith(prefix))
                    label = f"{process.name} #{process.starts} " + ("main" if pid == root else f"child {children + 1}")
                    self.peaks[pid] = [label, 0, 0, now, now, root]
                peak = self.peaks[pid]
                peak[4] = now
                peak[1] = max(peak[1], self._kib(self._fields(f"/proc/{pid}/status"), "VmHWM"))
                peak[2] = max(peak[2], self._kib(self._fields(f"/proc/{pid}/smaps_rollup"), "Pss"))


# --- The run ----------------------------------------------------------------------------------
def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--minutes", type=float, default=10)
    parser.add_argument("--users", type=int, default=8)
    parser.add_argument("--max-requests", type=int, default=100_000)
    parser.add_argument("--post-every", type=float, default=2.0, help="seconds between sandbox items")
    parser.add_argument("--webhook-every", type=float, default=3.0, help="seconds between webhook deliveries")
    parser.add_argument("--fault-rate", type=float, default=0.05, help="share of sandbox API calls that fail")
    parser.add_argument("--drain", type=float, default=150, help="seconds to wait for the last items at the end")
    parser.add_argument("--timeout", type=float, default=10, help="an inbox request slower than this is an error")
    parser.add_argument("--load", nargs=2, metavar=("PLAN", "OUT"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.load:
        run_load(*args.load)
        return
    if not os.environ.get("DATABASE_URL", "").startswith("postgres"):
        sys.exit("bench/soak.py runs Escucha on PostgreSQL: set DATABASE_URL=postgres://…")

    work = Path(tempfile.mkdtemp(prefix="escucha-soak-"))
    redis, redis_url = redis_server(work)
    site = django_with_production_settings(redis_url)
    from bench.common import throwaway_database

    try:
        with throwaway_database() as name:
            soak(args, work, name, site, redis)
    finally:
        redis.stop()
    if FAILED:
        sys.exit(1)


FAILED: list[str] = []


def soak(args: argparse.Namespace, work: Path, db_name: str, site: str, redis: Process) -> None:
    from django.core.management import call_command

    from listening.models import Channel, Platform

    print(f"database ready in {time.monotonic() - BEGAN:.0f} s", flush=True)
    env = {
        **os.environ,
        "DATABASE_URL": database_url(db_name),
        "ALLOWED_HOSTS": "127.0.0.1,localhost",
        "DEBUG": "false",  # as production serves it (ESCUCHA_PROFILE=production turns DEBUG off)
        "SANDBOX_ENABLED": "true",
        "SANDBOX_FAULT_RATE": str(args.fault_rate),
        "SANDBOX_DELETE_SHARE": "0",  # every item posted is counted as one that must be stored
        "DEMO_GENERATOR_INTERVAL": "3600",  # the soak posts the sandbox's items itself, at its own pace
        "ESCUCHA_VAR_DIR": str(work / "var"),
        "PYTHONUNBUFFERED": "1",
    }
    port = urlsplit(site).port
    celery = [sys.executable, "-m", "celery", "-A", "config"]
    processes = [
        # As the Dockerfile runs it.
        Process("web", [sys.executable, "-m", "gunicorn", "config.wsgi:application", "--bind", f"127.0.0.1:{port}",
                        "--workers", "3", "--timeout", "60"], env, work / "web.log"),
        # A small install's two workers: the quick queues, webhook deliveries first, and the polls
        # (the one that is killed). No poll ever stands in front of a delivery, as in docker-compose.yml.
        Process("worker-quick", [*celery, "worker", "-Q", "webhooks,outbound,default,notifications,integrations",
                                 "--concurrency", "2", "-n", "quick@soak", "-l", "info"], env, work / "quick.log"),
        Process("worker-polling", [*celery, "worker", "-Q", "polling,reports", "--concurrency", "2",
                                   "-n", "polling@soak", "-l", "info"], env, work / "polling.log"),
        Process("beat", [*celery, "beat", "-l", "info", "--pidfile="], env, work / "beat.log"),
    ]  # fmt: skip
    memory = Memory()
    load: subprocess.Popen | None = None
    try:
        for process in processes:
            process.start()
        # The demo brand, its channels and the people, while the processes boot.
        call_command("demo_setup", verbosity=0, stdout=open(os.devnull, "w"))
        people = make_people(args.users)
        facebook = Channel.objects.get(brand__slug="acme", platform=Platform.FACEBOOK)
        wait_for_http(f"{site}/healthz", STARTUP_SECONDS)
        print(f"soak: {args.minutes:g} min, {args.users} users, web {site}, logs in {work}", flush=True)
        print(f"set up and started in {time.monotonic() - BEGAN:.0f} s", flush=True)
        load = start_load(args, work, site, people)
        timeline = run(args, processes, redis, memory, facebook)
        load.wait(60)  # Locust stops at the same deadline
        drained = drain(args, processes, redis, memory, timeline)
        report(args, work, timeline, memory, drained)
    finally:
        print(f"stopping; {time.monotonic() - BEGAN:.0f} s since the start", flush=True)
        if load is not None and load.poll() is None:
            os.killpg(load.pid, signal.SIGKILL)
        for process in processes:
            process.signal_group(signal.SIGTERM)
        for process in processes:
            process.stop()
        from django.db import connections

        connections.close_all()


def make_people(count: int) -> list[dict]:
    from django.contrib.auth import get_user_model
    from django.contrib.auth.models import Group

    from config.roles import COMMUNITY_MANAGER
    from listening.models import Brand, BrandMembership

    brand = Brand.objects.get(slug="acme")
    cm = Group.objects.get(name=COMMUNITY_MANAGER)
    people = []
    for i in range(count):
        user = get_user_model().objects.create_user(f"soak{i}", password=PASSWORD, first_name=f"Soak {i}")
        user.groups.add(cm)
        BrandMembership.objects.create(brand=brand, user=user)
        people.append({"username": user.username, "id": user.pk})
    return people


def start_load(args: argparse.Namespace, work: Path, site: str, people: list[dict]) -> subprocess.Popen:
    plan = {
        "url": site,
        "people": people,
        "users": len(people),
        "seconds": args.minutes * 60,
        "max_requests": args.max_requests,
        "timeout": args.timeout,
    }
    (work / "plan.json").write_text(json.dumps(plan))
    with (work / "load.log").open("a") as log:
        return subprocess.Popen(
            [sys.executable, __file__, "--load", str(work / "plan.json"), str(work / "load.json")],
            cwd=ROOT, stdout=log, stderr=subprocess.STDOUT, start_new_session=True,
        )  # fmt: skip


@dataclass
class Timeline:
    posted_by_soak: int = 0
    deliveries: int = 0
    refused_deliveries: int = 0
    latencies: list[tuple[float, float]] = field(default_factory=list)  # (sent at, seconds to the inbox)
    unseen: int = 0  # deliveries the inbox had not shown when the run ended
    exits: int = 0  # processes that exited by themselves and were started again
    started: float = field(default_factory=time.monotonic)
    events: list[str] = field(default_factory=list)


def run(args, processes, redis, memory, facebook) -> Timeline:
    """The timed part: posting, webhooks and their latency, the kill and the Redis restart."""
    import requests

    from sandbox.generator import Generator

    timeline = Timeline()
    generator = Generator(random.Random(17))
    session = requests.Session()
    secret = facebook.credentials["app_secret"]
    started = timeline.started = time.monotonic()
    seconds = args.minutes * 60
    kill_at, redis_at = seconds / 3, seconds * 2 / 3
    killed = restarted_redis = False
    next_post = next_webhook = next_sample = 0.0
    pending: dict[str, float] = {}  # external id → when its delivery was sent
    polling = next(p for p in processes if p.name == "worker-polling")
    while (now := time.monotonic() - started) < seconds:
        if now >= next_sample:
            memory.sample([*processes, redis])
            supervise(processes, timeline)
            next_sample = now + 1
        if now >= next_post:
            post_sandbox_item(generator)
            timeline.posted_by_soak += 1
            next_post = now + args.post_every
        if now >= next_webhook:
            deliver(generator, session, facebook, secret, pending, timeline)
            next_webhook = now + args.webhook_every
        if pending:
            see_in_inbox(pending, timeline)
        if not killed and now >= kill_at:
            killed = True
            polling.signal_group(signal.SIGKILL)
            polling.popen.wait(10)
            timeline.events.append(f"{now:6.1f} s  SIGKILL to worker-polling and its pool")
            time.sleep(3)
            polling.start()
            timeline.events.append(f"{time.monotonic() - started:6.1f} s  worker-polling started again")
        if not restarted_redis and now >= redis_at:
            restarted_redis = True
            memory.sample([*processes, redis])
            redis.stop()
            timeline.events.append(f"{now:6.1f} s  Redis stopped")
            time.sleep(1)
            redis.start()
            timeline.events.append(f"{time.monotonic() - started:6.1f} s  Redis started again")
        time.sleep(0.1)  # the inbox query ten times a second while deliveries wait
    # Deliveries still waiting get a last few seconds to show, then count as unseen.
    deadline = time.monotonic() + min(10, args.drain)
    while pending and time.monotonic() < deadline:
        see_in_inbox(pending, timeline)
        time.sleep(0.1)
    timeline.unseen = len(pending)
    return timeline


def supervise(processes: list[Process], timeline: Timeline) -> None:
    """Start again a process that exited by itself, as docker compose's restart policy does."""
    for process in processes:
        if process.popen and process.popen.poll() is not None:
            code = process.popen.returncode
            timeline.events.append(
                f"{time.monotonic() - timeline.started:6.1f} s  {process.name} exited by itself (status {code}): "
                f"started again (see {process.log.name})"
            )
            timeline.exits += 1
            process.start()


def post_sandbox_item(generator) -> None:
    from django.db import transaction
    from django.utils import timezone

    from sandbox.instagram import deliver_mentions

    with transaction.atomic():
        post = generator.make(timezone.now())
        if post.pk is None:
            post.save()
    if post.platform == "instagram" and post.payload.get("mention"):
        deliver_mentions([post])  # Instagram tells an @mention by webhook only, as the sandbox does


def deliver(generator, session, facebook, secret: str, pending: dict[str, float], timeline: Timeline) -> None:
    """A visitor comments on the Page; Facebook tells the webhook, signed, as its docs show:
    https://developers.facebook.com/docs/graph-api/webhooks/reference/page/#feed"""
    import requests
    from django.utils import timezone

    from sandbox.generator import PAGE_ID, PERSONAS

    while True:  # a comment or a reply, the deliveries a Page gets most
        post = generator._facebook(generator.rng.choice(PERSONAS), timezone.now())
        if post.kind in ("comment", "reply"):
            break
    post.save()
    value = {
        "from": {"id": post.author["id"], "name": post.author["name"]},
        "item": "comment",
        "verb": "add",
        "post_id": post.thread_external_id,
        "comment_id": post.external_id,
        "parent_id": post.parent_external_id,
        "message": post.text,
        "created_time": int(post.created_at.timestamp()),
    }
    body = json.dumps(
        {
            "object": "page",
            "entry": [{"id": PAGE_ID, "time": int(time.time()), "changes": [{"field": "feed", "value": value}]}],
        }
    ).encode()
    signature = "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()
    sent = time.monotonic()
    timeline.deliveries += 1
    try:
        response = session.post(
            f"{os.environ['SITE_URL']}/hooks/facebook/{facebook.pk}/",
            data=body,
            headers={"Content-Type": "application/json", "X-Hub-Signature-256": signature},
            timeout=10,
        )
        ok = response.status_code == 200
    except requests.RequestException:
        ok = False
    if not ok:
        # Facebook would deliver it again; the polls are still there to find it.
        timeline.refused_deliveries += 1
    pending[post.external_id] = sent


def see_in_inbox(pending: dict[str, float], timeline: Timeline) -> None:
    """Which pending deliveries the inbox's own query (a community manager's) returns now."""
    from django.contrib.auth import get_user_model

    from listening.selectors import MentionFilters, mentions_filtered

    cm = get_user_model().objects.get(username="cm")
    shown = mentions_filtered(user=cm, filters=MentionFilters()).filter(external_id__in=list(pending))
    now = time.monotonic()
    for external_id in shown.values_list("external_id", flat=True):
        sent = pending.pop(external_id)
        timeline.latencies.append((sent - timeline.started, now - sent))


def expected_items():
    """The sandbox items that are mentions: everything but the brand's own posts and retweets."""
    from django.db.models import Q

    from sandbox.generator import X_BRAND_USER_ID
    from sandbox.models import SandboxPost

    return SandboxPost.objects.exclude(kind="page_post").exclude(
        Q(platform="x") & (Q(payload__author__id=X_BRAND_USER_ID) | Q(payload__has_key="retweet_of"))
    )


def missing_by_platform() -> dict[str, int]:
    from listening.models import Mention

    stored = set(Mention.objects.values_list("channel__platform", "external_id"))
    missing: dict[str, int] = {}
    for platform, external_id in expected_items().values_list("platform", "external_id"):
        if (platform, external_id) not in stored:
            missing[platform] = missing.get(platform, 0) + 1
    return missing


def replies_in_flight() -> int:
    from responses.models import Reply

    return Reply.objects.filter(status__in=[Reply.Status.QUEUED, Reply.Status.SENDING]).count()


def drain(args, processes, redis, memory, timeline: Timeline) -> float:
    """Every channel polled at once, then wait for the last items and replies (or ``--drain``)."""
    from django.db import transaction
    from django.utils import timezone

    from listening.models import Channel

    started = time.monotonic()
    # A channel a poll holds (its row locked while a page is stored) is left to that poll.
    with transaction.atomic():
        free = (
            Channel.objects.select_for_update(skip_locked=True)
            .filter(is_active=True, next_poll_at__gt=timezone.now())
            .exclude(state=Channel.State.RATE_LIMITED)
        )
        Channel.objects.filter(pk__in=list(free.values_list("pk", flat=True))).update(next_poll_at=timezone.now())
    while time.monotonic() - started < args.drain:
        memory.sample([*processes, redis])
        supervise(processes, timeline)
        if not missing_by_platform() and not replies_in_flight():
            break
        time.sleep(2)
    return time.monotonic() - started


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(share * len(ordered)) - 1))] if ordered else float("nan")


def report(args, work: Path, timeline: Timeline, memory: Memory, drained: float) -> None:
    from django.db.models import Count

    from listening.models import Mention
    from responses.models import Reply
    from sandbox.management.commands.demo_setup import SEED_ITEMS
    from sandbox.models import SandboxReply

    load = json.loads((work / "load.json").read_text()) if (work / "load.json").exists() else {}
    print(
        f"\n== soak: {args.minutes:g} min, {args.users} users, fault rate {args.fault_rate:g}; drained in {drained:.0f} s"
    )
    for event in timeline.events:
        print(f"   {event}")
    errors = load.get("errors", {})
    print(
        f"requests served: {load.get('requests', 0)}; errors: {errors.get('5xx', 0)} 5xx, "
        f"{errors.get('timeouts', 0)} timeouts (over {args.timeout:g} s), {errors.get('other', 0)} other"
    )
    for crash in load.get("crashes", []):
        print(f"load task crashed {crash['count']} times: {crash['error']}\n{crash['at']}")
    print(f"{'page':24} {'requests':>9} {'p50 ms':>8} {'p95 ms':>8}")
    for name, page in load.get("pages", {}).items():
        print(f"{name:24} {page['requests']:9} {page['p50']:8.0f} {page['p95']:8.0f}")

    posted = expected_items().count()
    missing = missing_by_platform()
    print(
        f"items posted by the sandbox: {posted} (the {SEED_ITEMS} of the demo's first week included); "
        f"mentions stored: {Mention.objects.count()}; posted but not stored: {sum(missing.values())}"
        + (f" {missing}" if missing else "")
    )
    doubled = Mention.objects.values("channel", "external_id").annotate(n=Count("id")).filter(n__gt=1).count()
    print(f"duplicates: {doubled}")

    asked = load.get("replies", [])
    texts = [r["text"] for r in asked]
    sent = SandboxReply.objects.filter(text__in=texts)
    twice = sent.values("text").annotate(n=Count("id")).filter(n__gt=1).count()
    states = dict(
        Reply.objects.filter(text__in=texts).values_list("status").annotate(n=Count("id")).values_list("status", "n")
    )
    print(
        f"replies requested: {len(asked)}; posted: {sent.values('text').distinct().count()}; "
        f"posted twice: {twice}; by state: {states}"
    )

    print(f"peak memory per process   {'RSS MiB':>8} {'PSS MiB':>8}")
    for pid, (label, rss, pss, first, last, root) in sorted(memory.peaks.items(), key=lambda kv: kv[1][0]):
        # Seen last more than a couple of samples before its parent: it ended on its own.
        ended_early = pid != root and memory.peaks[root][4] - last > 2.5
        note = f"  (not a pool process: ended after {last - first:.0f} s)" if ended_early else ""
        print(f"   {label:30} {rss / 1024:8.0f} {pss / 1024:8.0f}{note}")
    print(f"processes that exited by themselves (started again): {timeline.exits}")

    lat = [seconds for _sent, seconds in timeline.latencies]
    warm = [seconds for sent, seconds in timeline.latencies if sent >= 60]
    print(
        f"webhook → inbox: {timeline.deliveries} deliveries ({timeline.refused_deliveries} refused), "
        f"{len(lat)} seen, {timeline.unseen} not seen; "
        f"p50 {percentile(lat, 0.5) * 1000:.0f} ms, p95 {percentile(lat, 0.95) * 1000:.0f} ms"
        + (f", max {max(lat) * 1000:.0f} ms" if lat else "")
        + (
            f"; after the first minute p50 {percentile(warm, 0.5) * 1000:.0f} ms, p95 {percentile(warm, 0.95) * 1000:.0f} ms"
            if warm
            else ""
        )
    )
    if doubled or twice:
        FAILED.append("stored twice")


if __name__ == "__main__":
    main()
