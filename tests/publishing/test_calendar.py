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
    # The week by hour: seven days a row, the post in its day's 20:00 row.
    assert week.count('data-hour="20"') == 7 and week.count('data-hour="07"') == 7
    assert "Late &lt;b&gt;news" in week.split('data-day="2026-12-01" data-hour="20"')[1].split("</td>")[0]


def test_switching_between_month_and_week_keeps_to_the_day_asked_for(team, x_channel):
    # 10 December is in the month's second week: its week, not the grid's first (30 November).
    url = reverse("publishing:post_calendar") + f"?brand={team.brand.pk}&date=2026-12-10"
    month = client_for(team.cm).get(url).content.decode()
    assert f"?brand={team.brand.pk}&amp;view=week&amp;date=2026-12-10" in month
    week = client_for(team.cm).get(url + "&view=week").content.decode()
    assert 'data-day="2026-12-07"' in week and 'data-day="2026-11-30"' not in week
    # And back: the month of that day, not of the week's Monday (a week can start in the month before).
    week = client_for(team.cm).get(url.replace("2026-12-10", "2026-12-02") + "&view=week").content.decode()
    assert f"?brand={team.brand.pk}&amp;view=month&amp;date=2026-12-02" in week


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


def move(user, post: Post, **data) -> object:
    data.setdefault("next", f"/posts/calendar/?brand={post.brand_id}&date=2026-12-01")
    return client_for(user).post(reverse("publishing:post_move", args=[post.pk]), data, follow=True)


def scheduled_post(team, channel, text: str, at: datetime, status: str = "scheduled") -> Post:
    post = Post.objects.create(brand=team.brand, author=team.cm, text=text, scheduled_at=at)
    PostTarget.objects.create(post=post, channel=channel, text=text, status=status)
    return post


def test_dropping_a_post_on_another_day_keeps_its_time_in_the_brands_zone_and_writes_history(team, x_channel):
    team.brand.time_zone = "America/Mexico_City"
    team.brand.save()
    # 20:30 on 1 December in Mexico City (02:30 UTC on the 2nd).
    post = scheduled_post(team, x_channel, "Move me", datetime(2026, 12, 2, 2, 30, tzinfo=UTC))
    with time_machine.travel(datetime(2026, 11, 29, 12, tzinfo=UTC)):
        page = client_for(team.cm).get(reverse("publishing:post_calendar") + f"?brand={team.brand.pk}&date=2026-12-01")
    html = page.content.decode()
    assert f'data-move="{reverse("publishing:post_move", args=[post.pk])}"' in html
    assert "js/calendar.js" in html and "<script>" not in html  # loaded from static/, under the CSP
    assert f'href="{reverse("publishing:post_detail", args=[post.pk])}#schedule"' in html  # without a mouse

    with time_machine.travel(datetime(2026, 11, 29, 12, tzinfo=UTC)):
        response = move(team.cm, post, date="2026-12-04")
    post.refresh_from_db()
    assert post.scheduled_at == datetime(2026, 12, 5, 2, 30, tzinfo=UTC)  # 4 December, 20:30 there
    assert response.redirect_chain[-1][0].endswith("&date=2026-12-01")  # back to the calendar it came from
    assert "Moved to" in response.content.decode()
    assert "Move me" in response.content.decode().split('data-day="2026-12-04"')[1].split("</td>")[0]
    event = post.events.get(kind="scheduled")
    assert event.actor == team.cm and event.note == "2026-12-04 20:30 America/Mexico_City"


def test_dropping_a_post_on_an_hour_of_the_week_moves_it_there_keeping_its_minutes(team, x_channel):
    post = scheduled_post(team, x_channel, "Week", datetime(2026, 12, 1, 9, 45, tzinfo=UTC))
    with time_machine.travel(datetime(2026, 11, 29, 12, tzinfo=UTC)):
        move(team.cm, post, date="2026-12-03", time="16:45")
    post.refresh_from_db()
    assert post.scheduled_at == datetime(2026, 12, 3, 16, 45, tzinfo=UTC)


def test_a_published_post_does_not_move_and_one_waiting_for_approval_still_waits(team, x_channel):
    out = scheduled_post(team, x_channel, "Out", datetime(2026, 12, 1, 9, tzinfo=UTC), status="published")
    waiting = scheduled_post(team, x_channel, "Waiting", datetime(2026, 12, 1, 10, tzinfo=UTC), "pending_approval")
    page = client_for(team.cm).get(reverse("publishing:post_calendar") + f"?brand={team.brand.pk}&date=2026-12-01")
    assert f'data-move="{reverse("publishing:post_move", args=[out.pk])}"' not in page.content.decode()

    with time_machine.travel(datetime(2026, 11, 29, 12, tzinfo=UTC)):
        refused = move(team.cm, out, date="2026-12-05")
        move(team.cm, waiting, date="2026-12-05")
    out.refresh_from_db()
    assert out.scheduled_at == datetime(2026, 12, 1, 9, tzinfo=UTC)
    assert "can no longer be rescheduled" in refused.content.decode()
    assert not out.events.exists()
    waiting.refresh_from_db()
    assert waiting.scheduled_at == datetime(2026, 12, 5, 10, tzinfo=UTC)
    assert waiting.targets.get().status == PostTarget.Status.PENDING_APPROVAL


def test_only_people_who_may_change_the_brands_posts_move_them(team, x_channel):
    post = scheduled_post(team, x_channel, "Mine", datetime(2026, 12, 1, 9, tzinfo=UTC))
    url = reverse("publishing:post_move", args=[post.pk])
    assert client_for(team.manager).post(url, {"date": "2026-12-05"}).status_code == 403
    assert client_for(team.outsider).post(url, {"date": "2026-12-05"}).status_code == 404
    page = client_for(team.manager).get(reverse("publishing:post_calendar") + f"?brand={team.brand.pk}&date=2026-12-01")
    assert "data-move" not in page.content.decode() and "calendar.js" not in page.content.decode()
    # A bad day or hour is said, and nothing moves; a foreign "next" is not followed.
    response = client_for(team.cm).post(url, {"date": "5/12/2026", "next": "https://evil.example/"})
    assert response.status_code == 302 and response["Location"].startswith("/posts/calendar/")
    assert "Times are written HH:MM." in move(team.cm, post, date="2026-12-05", time="4pm").content.decode()
    post.refresh_from_db()
    assert post.scheduled_at == datetime(2026, 12, 1, 9, tzinfo=UTC)
