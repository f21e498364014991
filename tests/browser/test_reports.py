"""A manager opens the report in real Chromium: the charts are drawn, and the headline numbers
are what a recount of the mentions, replies and tickets gives."""

from __future__ import annotations

import random
import statistics
from datetime import UTC, datetime, time, timedelta

import pytest
from django.utils import timezone

from listening.models import Mention, Platform, Sentiment, TrackedTerm
from reports.rollups import rollups_refresh
from responses.models import Reply, Ticket
from tests.factories import AuthorFactory, ChannelFactory, MentionFactory
from tests.reports.conftest import at, week  # noqa: F401 (the known week, a fixture)

pytestmark = pytest.mark.django_db(transaction=True)


def test_manager_reads_the_report_with_every_chart_drawn_beside_its_table(team, week, login, walk) -> None:  # noqa: F811
    """The manager's day: she opens the report, picks the week, and reads it — every chart drawn,
    the tables beside them, on a laptop and on a phone, in English and in Spanish."""
    hostile = AuthorFactory(handle='<img src=x onerror="alert(1)">', followers=10**9)
    MentionFactory(
        channel=week.mentions[1].channel, author=hostile, published_at=at(6), text="<script>alert(2)</script>"
    )
    rollups_refresh(days=[at(6).date()])
    page = walk.sign_in(login, team.manager)
    page.wait_for_url("**/reports/")
    page.get_by_label(walk.t("From"), exact=True).fill("2026-03-01")
    page.get_by_label(walk.t("To"), exact=True).fill("2026-03-07")
    page.get_by_role("button", name=walk.t("Show")).click()
    page.wait_for_url(f"**/reports/?brand={team.brand.pk}&since=2026-03-01&until=2026-03-07")
    canvases = page.locator("canvas[data-chart]")
    assert canvases.count() == 7
    page.wait_for_function("() => [...document.querySelectorAll('canvas[data-chart]')].every(c => c.chart)")
    # Drawn, not blank: the volume chart has bars with pixels on them.
    painted = page.evaluate(
        """() => {
        const c = document.querySelector('canvas[data-chart=volume]');
        const px = c.getContext('2d').getImageData(0, 0, c.width, c.height).data;
        let n = 0; for (let i = 3; i < px.length; i += 4) if (px[i]) n++;
        return {n, total: c.chart.data.datasets.reduce((s, d) => s + d.data.reduce((a, b) => a + b, 0), 0)};
        }"""
    )
    assert painted["total"] == 10
    assert painted["n"] > 1000
    share = page.get_by_role("table").filter(has=page.locator("caption", has_text=walk.t("Share of voice")))
    assert share.get_by_text(walk.number(70.0), exact=True).is_visible()
    assert page.get_by_text('<img src=x onerror="alert(1)">').first.is_visible()  # shown as text
    if walk.phone:  # the charts one under the other, each as wide as the screen allows
        boxes = [canvases.nth(i).bounding_box() for i in range(2)]
        assert boxes[1]["y"] >= boxes[0]["y"] + boxes[0]["height"] - 1, boxes
    walk.fits()
    assert page.dialogs == []
    assert page.console_errors == []


# --- A demo-like month: the demo's terms, three platforms, a quiet stretch, tickets and replies ---

WORDS = {
    Sentiment.POSITIVE: ["love the new Acme app", "@acme support was great", "#acme Roadrunner Pro rocks"],
    Sentiment.NEGATIVE: ["Acme refund still missing", "@acme my order is late #acme", "worse than Globex"],
    Sentiment.NEUTRAL: ["is Acme open on Sunday?", "Initech or Acme?", "#acme summer sale"],
    Sentiment.UNSCORED: ["👍", "ok", "Acme"],
}


def demo_month(team, today):
    """Thirty days ending today, nothing on the first ten (a run the daily table folds), and the
    thirty days before with fewer mentions; returns the period's first and last day."""
    since, until = today - timedelta(days=29), today
    rng = random.Random(15)
    channels = [
        ChannelFactory(brand=team.brand, platform=Platform.X, name="Acme on X"),
        ChannelFactory(brand=team.brand, platform=Platform.FACEBOOK, name="Acme Page"),
        ChannelFactory(brand=team.brand, platform=Platform.YOUTUBE, name="Acme videos"),
    ]
    kinds = TrackedTerm.Kind
    terms = [
        TrackedTerm.objects.create(brand=team.brand, kind=kinds.BRAND, text="Acme"),
        TrackedTerm.objects.create(brand=team.brand, kind=kinds.BRAND, text="@acme", group="Acme"),
        TrackedTerm.objects.create(brand=team.brand, kind=kinds.BRAND, text="#acme", group="Acme"),
        TrackedTerm.objects.create(brand=team.brand, kind=kinds.COMPETITOR, text="Globex"),
        TrackedTerm.objects.create(brand=team.brand, kind=kinds.COMPETITOR, text="Initech"),
    ]
    people = {c.platform: [AuthorFactory(platform=c.platform) for _ in range(8)] for c in channels}
    sentiments = list(WORDS)
    mentions = []
    for offset, count in [(n, rng.randint(2, 7)) for n in range(10, 30)] + [(n, 2) for n in range(-30, 0, 3)]:
        day = since + timedelta(days=offset)
        for _ in range(count):
            channel = rng.choice(channels)
            sentiment = rng.choices(sentiments, weights=[3, 3, 3, 1])[0]
            text = rng.choice(WORDS[sentiment])
            published = datetime.combine(day, time(rng.randint(0, 22), rng.randint(0, 59)), tzinfo=UTC)
            m = MentionFactory(
                channel=channel, author=rng.choice(people[channel.platform]), text=text, published_at=published,
                sentiment=sentiment, analyzer_sentiment=sentiment,
            )  # fmt: skip
            m.terms.set([t for t in terms if t.text.lower() in text.lower()])
            mentions.append(m)
    in_period = [m for m in mentions if m.published_at.date() >= since]
    for m in rng.sample(in_period, 12):  # replies, some more than one
        first = m.published_at + timedelta(minutes=rng.randint(5, 600))
        Reply.objects.create(mention=m, author=team.cm, text="on it", status=Reply.Status.SENT, sent_at=first)
        if rng.random() < 0.3:
            Reply.objects.create(mention=m, author=team.cm, text="again", status=Reply.Status.SENT,
                                 sent_at=first + timedelta(hours=1))  # fmt: skip
    negative = [m for m in in_period if m.sentiment == Sentiment.NEGATIVE]
    for n, m in enumerate(negative[:5]):
        opened = m.published_at + timedelta(minutes=30)
        Ticket.objects.create(
            brand=team.brand, department=team.billing if n % 2 else team.support, mention=m, created_at=opened,
            resolve_due_at=opened + timedelta(hours=8) if n < 4 else None,
            resolved_at=opened + timedelta(hours=4 if n < 2 else 12) if n < 3 else None,
            resolve_breached_at=opened + timedelta(hours=8) if n == 2 else None,
            followed_up_at=opened + timedelta(hours=5) if n == 0 else None,
        )  # fmt: skip
    rollups_refresh()
    return since, until


def recount(team, since, until) -> dict[str, str]:
    """The headline, counted again from the mentions, replies and tickets themselves."""
    start = datetime.combine(since, time.min, tzinfo=UTC)
    end = datetime.combine(until + timedelta(days=1), time.min, tzinfo=UTC)
    mentions = Mention.objects.filter(brand=team.brand, published_at__gte=start, published_at__lt=end)
    total = mentions.count()
    by = {s: mentions.filter(sentiment=s).count() for s in WORDS}
    scored = total - by[Sentiment.UNSCORED]
    net = round((by[Sentiment.POSITIVE] - by[Sentiment.NEGATIVE]) / scored, 3)
    firsts = {}
    for reply in Reply.objects.filter(mention__in=mentions, status=Reply.Status.SENT).order_by("sent_at"):
        firsts.setdefault(reply.mention_id, (reply.sent_at - reply.mention.published_at).total_seconds() / 60)
    tickets = Ticket.objects.filter(brand=team.brand, created_at__gte=start, created_at__lt=end)
    with_sla = [t for t in tickets if t.acknowledge_due_at or t.resolve_due_at]
    met = [t for t in with_sla if not t.acknowledge_breached_at and not t.resolve_breached_at]
    resolved = [t for t in tickets if t.resolved_at]
    followed = [t for t in resolved if t.followed_up_at]

    def number(value: float) -> str:
        return f"{round(value, 1):g}"

    before = Mention.objects.filter(
        brand=team.brand, published_at__gte=start - timedelta(days=30), published_at__lt=start
    ).count()
    return {
        "mentions": str(total),
        "mentions_change": f"{round((total - before) / before * 100):+d} % vs the previous 30 days, which had {before}",
        "negative": str(by[Sentiment.NEGATIVE]),
        "net": f"{net:g}",
        "first_response": f"{number(statistics.median(firsts.values()))} min",
        "first_response_detail": f"of {len(firsts)} replied mentions",
        "sla_met": f"{number(len(met) / len(with_sla) * 100)} %",
        "sla_met_detail": f"of {len(with_sla)} tickets with an SLA",
        "followed_up": f"{number(len(followed) / len(resolved) * 100)} %",
        "followed_up_detail": f"of {len(resolved)} resolved tickets",
    }


def test_the_headline_a_manager_reads_is_what_a_recount_gives(team, login) -> None:
    since, until = demo_month(team, timezone.now().astimezone(UTC).date())
    expected = recount(team, since, until)
    page = login(team.manager)
    page.goto(f"/reports/?brand={team.brand.pk}")  # the default: the last 30 days

    def figure(key: str, part: str = "value") -> str:
        return page.locator(f".report-headline [data-figure={key}] .figure-{part}").inner_text()

    for key in ("mentions", "negative", "net", "first_response", "sla_met"):
        assert figure(key) == expected[key], key
    assert figure("first_response", "detail").startswith(expected["first_response_detail"])
    assert figure("sla_met", "detail") == expected["sla_met_detail"]
    team_block = page.locator("section", has=page.get_by_role("heading", name="Team"))
    assert team_block.locator("[data-figure=followed_up] .figure-value").inner_text() == expected["followed_up"]
    assert team_block.locator("[data-figure=followed_up] .figure-detail").inner_text() == expected["followed_up_detail"]
    # Every change says what it compares with, and whether it is good news, in words.
    change = page.locator(".report-headline [data-figure=mentions] .change").inner_text()
    assert change == f"▲ {expected['mentions_change']}"
    # The quiet first ten days are one row of the daily table, not ten.
    daily = page.get_by_role("table").filter(has_text="Mentions per day")
    assert daily.locator("tr.gap").inner_text() == (
        f"10 days without mentions ({since:%-d %b} to {since + timedelta(days=9):%-d %b})"
    )
    assert daily.locator("tbody tr").count() == 21
    height = page.evaluate("() => document.documentElement.scrollHeight")
    print(f"report page height: {height} px")  # measured, not asserted: it depends on fonts
    # Rendering the PDF takes seconds on a busy machine: a generous wait, not a timing check.
    with page.expect_download(timeout=120_000) as download:
        page.get_by_role("link", name="Download PDF").click(no_wait_after=True)
    assert download.value.suggested_filename == f"acme-report-{since}-{until}.pdf"
    with open(download.value.path(), "rb") as pdf:
        assert pdf.read(5) == b"%PDF-"
    assert page.console_errors == []
