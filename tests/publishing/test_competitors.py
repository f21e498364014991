"""The competitors' own posting next to the brand's: their public X timeline and Facebook Page read
on a schedule through tweepy and facebook-sdk against recorded payloads, kept per day of the
brand's calendar, and shown in the report's "Our posts" block."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest
import time_machine
from django.core.exceptions import ValidationError
from django.test import Client

from listening.models import Channel, TrackedTerm
from publishing.competitors import competitors_read_due
from publishing.models import CompetitorAccount, Post, PostTarget
from tests.factories import TrackedTermFactory

NOW = datetime(2026, 11, 27, 12, tzinfo=UTC)
GLOBEX_X = "/2/users/2500000000000000001/tweets"


@pytest.fixture
def globex(team, x_channel, fb_channel):
    team.brand.time_zone = "Europe/Madrid"
    team.brand.save()
    TrackedTermFactory(brand=team.brand, kind=TrackedTerm.Kind.COMPETITOR, text="Globex")
    TrackedTermFactory(brand=team.brand, kind=TrackedTerm.Kind.COMPETITOR, text="globex inc", group="Globex")
    return [
        CompetitorAccount.objects.create(
            brand=team.brand, competitor="Globex", platform="x", handle="@globex", next_read_at=NOW
        ),
        CompetitorAccount.objects.create(
            brand=team.brand, competitor="Globex", platform="facebook", handle="globexcorp", next_read_at=NOW
        ),
    ]


def serve(wire) -> None:
    wire.add("GET", "/2/users/by/username/globex", fixture="x/users_by_username_globex.json")
    wire.add("GET", GLOBEX_X, fixture="x/competitor_tweets.json")
    wire.add("GET", "/v21.0/globexcorp/posts", fixture="facebook/competitor_posts.json")


def days(account: CompetitorAccount) -> dict[date, tuple[int, int]]:
    return {d.day: (d.posts, d.engagement) for d in account.days.all() if d.posts}


def test_each_competitor_account_is_read_per_day_of_the_brands_calendar(team, globex, wire):
    serve(wire)
    with time_machine.travel(NOW, tick=False):
        assert competitors_read_due() == 2
        assert competitors_read_due() == 0  # not again before its time (every 6 hours)
    on_x, on_page = globex
    # 23:30 UTC on the 24th is the 25th in Madrid; interactions without impressions or bookmarks.
    assert days(on_x) == {
        date(2026, 11, 24): (1, 40 + 4 + 2),
        date(2026, 11, 25): (1, 20 + 2 + 1),
        date(2026, 11, 26): (1, 100 + 10 + 5 + 1),
    }
    assert days(on_page) == {date(2026, 11, 22): (1, 30), date(2026, 11, 26): (1, 60 + 8 + 2)}
    assert on_x.days.count() == 7  # the quiet days of the window too: read, not missing

    [timeline] = wire.calls(GLOBEX_X)
    assert timeline.query["tweet.fields"] == "public_metrics,created_at"
    assert timeline.query["exclude"] == "retweets,replies"
    assert timeline.query["start_time"] == "2026-11-20T23:00:00Z"  # midnight in Madrid, 7 days back
    assert timeline.headers["authorization"].startswith("Bearer AAAAbearer")  # the brand's X app credentials
    [page_posts] = wire.calls("/v21.0/globexcorp/posts")
    assert "reactions.summary(total_count)" in page_posts.query["fields"]
    assert page_posts.headers["authorization"] == "Bearer page-token"

    # Read again later: the same days are updated with the counts as they grew, not added to.
    with time_machine.travel(NOW + timedelta(hours=7), tick=False):
        assert competitors_read_due() == 2
    assert days(on_x)[date(2026, 11, 26)] == (1, 116)


def test_the_report_shows_the_brand_next_to_each_competitor(team, globex, x_channel, wire):
    serve(wire)
    with time_machine.travel(NOW, tick=False):
        competitors_read_due()
    post = Post.objects.create(brand=team.brand, author=team.cm, text="Ours")
    PostTarget.objects.create(
        post=post, channel=x_channel, text="Ours", status="published", external_id="1",
        published_at=datetime(2026, 11, 25, 10, tzinfo=UTC), metrics={"like_count": 30},
    )  # fmt: skip
    CompetitorAccount.objects.create(brand=team.brand, competitor="Initech", platform="x", handle="initech")
    client = Client()
    client.force_login(team.manager)
    page = client.get(f"/reports/?brand={team.brand.pk}&since=2026-11-20&until=2026-11-27").content.decode()
    table = page.split('id="competitors-posting"')[1].split("</figure>")[0]
    rows = [row.split("</tr>")[0] for row in table.split("<tr")[2:]]
    assert "Acme" in rows[0] and "<td>1</td><td>30</td><td>30.0</td>" in rows[0]
    # Globex on both platforms: 3 posts on X (185) and 2 on its Page (100): 285 in 5 posts.
    assert "Globex" in rows[1] and "<td>5</td><td>285</td><td>57.0</td>" in rows[1]
    assert "X (Twitter) @globex" in rows[1] and "Facebook Page globexcorp" in rows[1]
    assert "Initech" in rows[2] and "not read yet" in rows[2]


def test_a_failing_read_backs_off_and_shows_on_the_channel_and_in_the_report(team, globex, x_channel, wire):
    on_x, on_page = globex
    on_page.is_active = False
    on_page.save()
    wire.add("GET", "/2/users/by/username/globex", fixture="x/users_by_username_globex.json")
    wire.add("GET", GLOBEX_X, fixture="x/error_503.json", status=503)
    wire.add("GET", GLOBEX_X, fixture="x/competitor_tweets.json")  # the next call, once X is back
    with time_machine.travel(NOW, tick=False):
        assert competitors_read_due() == 0
        on_x.refresh_from_db()
        assert on_x.consecutive_failures == 1 and "X server error" in on_x.last_error
        assert NOW + timedelta(seconds=15) <= on_x.next_read_at <= NOW + timedelta(seconds=30)
        assert competitors_read_due() == 0 and len(wire.calls(GLOBEX_X)) == 1  # waits its backoff
    channel = Channel.objects.get(pk=x_channel.pk)
    assert "@globex" in channel.last_error and channel.state == Channel.State.OK  # its polls go on
    assert "AAAAbearer" not in on_x.last_error

    client = Client()
    client.force_login(team.manager)
    page = client.get(f"/reports/?brand={team.brand.pk}").content.decode()
    assert "Not read lately (@globex): X (Twitter) @globex: X server error" in page

    with time_machine.travel(NOW + timedelta(minutes=1), tick=False):
        read = competitors_read_due()
    on_x.refresh_from_db()
    assert read == 1, on_x.last_error
    assert on_x.consecutive_failures == 0 and on_x.last_error == ""


def test_an_unknown_handle_is_said_and_a_competitor_must_be_one_of_the_brands(team, globex, wire):
    on_x, on_page = globex
    on_page.delete()
    CompetitorAccount.objects.filter(pk=on_x.pk).update(handle="globexx")
    wire.add("GET", "/2/users/by/username/globexx", fixture="x/users_by_username_missing.json")
    with time_machine.travel(NOW, tick=False):
        assert competitors_read_due() == 0
    on_x.refresh_from_db()
    assert "X has no account @globexx" in on_x.last_error
    assert on_x.next_read_at == NOW + timedelta(days=1)  # asking again soon would not help
    stranger = CompetitorAccount(brand=team.brand, competitor="Hooli", platform="x", handle="hooli")
    with pytest.raises(ValidationError, match="Globex"):
        stranger.full_clean()


def test_community_managers_give_each_competitor_its_accounts(team):
    from django.urls import reverse

    TrackedTermFactory(brand=team.brand, kind=TrackedTerm.Kind.COMPETITOR, text="Globex")
    TrackedTermFactory(brand=team.brand, kind=TrackedTerm.Kind.COMPETITOR, text="initech corp", group="Initech")
    cm = Client()
    cm.force_login(team.cm)
    url = reverse("publishing:competitor_accounts")
    page = cm.get(f"{url}?brand={team.brand.pk}").content.decode()
    assert "Globex" in page and "Initech" in page and "initech corp" not in page  # by group, as share of voice
    cm.post(url, {"brand": team.brand.pk, "competitor": "Globex", "platform": "x", "handle": "globex"})
    cm.post(url, {"brand": team.brand.pk, "competitor": "Initech", "platform": "facebook", "handle": "initech"})
    again = cm.post(
        url, {"brand": team.brand.pk, "competitor": "Globex", "platform": "x", "handle": "@globex"}, follow=True
    )
    assert "already exists" in again.content.decode()
    stranger = cm.post(
        url, {"brand": team.brand.pk, "competitor": "<b>Hooli</b>", "platform": "x", "handle": "h"}, follow=True
    )
    assert "Use one of the brand&#x27;s competitor groups: Globex, Initech." in stranger.content.decode()
    assert sorted(CompetitorAccount.objects.values_list("competitor", "platform", "handle")) == [
        ("Globex", "x", "@globex"),
        ("Initech", "facebook", "initech"),
    ]
    page = cm.get(f"{url}?brand={team.brand.pk}").content.decode()
    assert "@globex" in page and "not read yet" in page
    account = CompetitorAccount.objects.get(handle="@globex")
    cm.post(url, {"brand": team.brand.pk, "action": "remove", "account": account.pk})
    assert not CompetitorAccount.objects.filter(pk=account.pk).exists()
    # Managers read the report; they do not configure the brand. Another brand's people see nothing.
    manager = Client()
    manager.force_login(team.manager)
    assert manager.get(f"{url}?brand={team.brand.pk}").status_code == 403
    outsider = Client()
    outsider.force_login(team.outsider)
    assert outsider.get(f"{url}?brand={team.brand.pk}").status_code == 404
    kept = CompetitorAccount.objects.get()
    outsider.post(url, {"brand": team.other_brand.pk, "action": "remove", "account": kept.pk})
    assert CompetitorAccount.objects.filter(pk=kept.pk).exists()


def test_refused_credentials_wait_a_day_and_leave_the_channels_own_polls_alone(team, globex, x_channel, wire):
    on_x, on_page = globex
    on_page.delete()
    wire.add("GET", "/2/users/by/username/globex", fixture="x/error_401.json", status=401)
    with time_machine.travel(NOW, tick=False):
        assert competitors_read_due() == 0
    on_x.refresh_from_db()
    assert "X refused the credentials" in on_x.last_error and on_x.next_read_at == NOW + timedelta(days=1)
    channel = Channel.objects.get(pk=x_channel.pk)
    assert channel.state == Channel.State.OK and "X refused the credentials" in channel.last_error
