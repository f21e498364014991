"""The calendar in the brand's time zone (month, week, agenda) and its iCalendar file."""

from __future__ import annotations

from datetime import UTC, datetime

import time_machine
from django.test import Client
from django.urls import reverse

from listening.models import TrackedTerm
from publishing.models import Post, PostTarget
from tests.factories import TrackedTermFactory


def client_for(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def timed_post(team, channel, text: str, at: datetime, **fields) -> Post:
    post = Post.objects.create(brand=team.brand, author=team.cm, text=text, scheduled_at=at, **fields)
    PostTarget.objects.create(post=post, channel=channel, text=text, **fields.pop("target", {}))
    return post


def test_a_post_is_on_the_day_and_hour_of_the_brands_time_zone(team, x_channel):
    team.brand.time_zone = "America/Mexico_City"
    team.brand.save()
    summer = TrackedTermFactory(brand=team.brand, kind=TrackedTerm.Kind.CAMPAIGN, text="#AcmeSummer")
    # 02:30 UTC on 2 December is still 1 December, 20:30, in Mexico City.
    timed_post(team, x_channel, "Late <b>news</b>", datetime(2026, 12, 2, 2, 30, tzinfo=UTC), campaign=summer)
    url = reverse("publishing:post_calendar") + f"?brand={team.brand.pk}&date=2026-12-10"
    page = client_for(team.cm).get(url).content.decode()
    cell = page.split('data-day="2026-12-01"')[1].split("</td>")[0]
    assert "20:30" in cell and "Late &lt;b&gt;news&lt;/b&gt;" in cell and f"campaign-{summer.pk % 10}" in cell
    assert "Late" not in page.split('data-day="2026-12-02"')[1].split("</td>")[0]
    assert 'data-day="2026-11-30"' in page and 'data-day="2027-01-03"' in page  # whole weeks, Monday first
    agenda = page.split('id="agenda"')[1]
    assert "20:30" in agenda  # the same posts as a list, for phones

    week = client_for(team.cm).get(url.replace("2026-12-10", "2026-12-03") + "&view=week").content.decode()
    assert week.count('data-day="') == 7 and "Late &lt;b&gt;news" in week


def test_published_posts_link_to_the_platform_and_others_brands_posts_stay_out(team, x_channel):
    post = timed_post(team, x_channel, "Out already", datetime(2026, 12, 1, 12, tzinfo=UTC))
    post.targets.update(status="published", external_id="1862", external_url="https://x.com/i/web/status/1862")
    url = reverse("publishing:post_calendar") + f"?brand={team.brand.pk}&date=2026-12-01"
    assert 'href="https://x.com/i/web/status/1862"' in client_for(team.cm).get(url).content.decode()
    assert client_for(team.outsider).get(url).status_code == 404


def test_the_icalendar_file_holds_each_timed_post_escaped_and_folded(team, x_channel):
    text = "Summer; sale, now\\here\n" + "ñ" * 80
    timed_post(team, x_channel, text, datetime(2026, 12, 1, 15, tzinfo=UTC))
    Post.objects.create(brand=team.brand, author=team.cm, text="No time yet")
    with time_machine.travel(datetime(2026, 11, 29, 12, tzinfo=UTC)):
        response = client_for(team.manager).get(reverse("publishing:post_calendar_ical") + "?brand=acme")
    assert response["Content-Type"] == "text/calendar; charset=utf-8"
    body = response.content.decode()
    assert body.startswith("BEGIN:VCALENDAR\r\n") and body.endswith("END:VCALENDAR\r\n")
    assert body.count("BEGIN:VEVENT") == 1 and "No time yet" not in body
    assert "DTSTART:20261201T150000Z\r\n" in body and "DTEND:20261201T151500Z\r\n" in body
    assert all(len(line.encode()) <= 75 for line in body.split("\r\n"))
    unfolded = body.replace("\r\n ", "")
    assert "SUMMARY:Summer\\; sale\\, now\\\\here " + "ñ" * 80 in unfolded
    assert "STATUS:TENTATIVE" in unfolded  # a draft may not go out
