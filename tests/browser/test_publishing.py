"""A post for X and the Facebook Page, written by one community manager, approved by another,
scheduled a minute ahead and published on the sandbox once, in real Chromium."""

from __future__ import annotations

import time
from datetime import timedelta
from zoneinfo import ZoneInfo

import pytest
from django.utils import timezone

from config.roles import COMMUNITY_MANAGER
from listening.models import Channel, Platform
from listening.polling import channel_poll
from publishing.models import PostComment, PostTarget
from publishing.tasks import dispatch_due_posts
from sandbox.generator import generate
from sandbox.management.commands.demo_setup import _demo_channels
from sandbox.models import SandboxPost
from tests.factories import MembershipFactory, UserFactory

pytestmark = pytest.mark.django_db(transaction=True)

TEXT = "Summer is here: 15% off the Roadrunner Pro <this week> & only here."
LINK = "https://shop.acme.com/summer"


@pytest.fixture
def sandbox_brand(team, live_server, settings):
    settings.CELERY_TASK_ALWAYS_EAGER = True
    settings.SITE_URL = live_server.url
    team.brand.require_post_approval = True
    team.brand.time_zone = "America/Mexico_City"
    team.brand.save()
    _demo_channels(team.brand)
    return team.brand


def test_a_post_is_approved_by_another_community_manager_and_published_once_on_x_and_facebook(
    team, sandbox_brand, login, page
):
    approver = UserFactory(username="alba", first_name="Alba", roles=[COMMUNITY_MANAGER])
    MembershipFactory(brand=sandbox_brand, user=approver)
    x = Channel.objects.get(brand=sandbox_brand, platform=Platform.X)
    facebook = Channel.objects.get(brand=sandbox_brand, platform=Platform.FACEBOOK)

    # The community manager writes it for the coming minute (less than a minute ahead: the field
    # takes minutes), in the brand's time (Mexico City).
    login(team.cm)
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Posts").click()
    page.get_by_role("link", name="Write a post").click()
    cannot = page.locator("#cannot-post").inner_text()
    publishable = [Platform.X, Platform.FACEBOOK, Platform.LINKEDIN]
    for channel in Channel.objects.filter(brand=sandbox_brand).exclude(platform__in=publishable):
        assert channel.name in cannot  # Instagram, YouTube, the feed: listed apart, with why
    linkedin = Channel.objects.get(brand=sandbox_brand, platform=Platform.LINKEDIN)
    assert linkedin.name not in cannot
    page.get_by_role("checkbox", name=linkedin.name).wait_for()  # the organization page can be posted to
    page.get_by_role("checkbox", name="Acme on X (sandbox)").check()
    page.get_by_role("checkbox", name="Acme Facebook Page (sandbox)").check()
    page.get_by_label("Text", exact=True).fill(TEXT)
    page.get_by_label("Link", exact=True).fill(LINK)
    local = timezone.localtime(timezone.now() + timedelta(minutes=1), ZoneInfo("America/Mexico_City"))
    page.get_by_label("Publish at").fill(local.strftime("%Y-%m-%dT%H:%M"))
    page.get_by_role("button", name="Send for approval").click()
    assert page.locator("h1 .post-status").inner_text() == "Pending approval"
    assert f"{local:%Y-%m-%d %H:%M} (America/Mexico_City)" in page.locator("#publish-at").inner_text()
    page.context.clear_cookies()

    # Another community manager sees it as each platform will, and approves it.
    login(approver)
    page.goto(f"/posts/?brand={sandbox_brand.pk}")
    page.locator("#waiting").get_by_role("link").click()
    x_preview = page.locator("[data-channel=x]")
    assert x_preview.locator(".post-text").inner_text() == f"{TEXT} {LINK}"  # escaped, the link in the text
    assert "91 of 280 characters" in x_preview.inner_text()  # the link counts 23
    assert page.locator("[data-channel=facebook] .link-preview").inner_text().endswith(LINK)
    page.get_by_label("Comment").fill("Good to go")
    page.get_by_role("button", name="Approve").click()
    assert page.locator("h1 .post-status").inner_text() == "Scheduled"

    # Its minute comes: the beat's dispatch (every 30 s in production; every second here) hands it
    # to the outbound workers (eager here). Real time, no clock travel: the live server keeps its own.
    dispatched = 0
    for _ in range(90):
        dispatched += dispatch_due_posts()[0]
        if dispatched == 2:
            break
        time.sleep(1)
    assert dispatched == 2
    assert dispatch_due_posts() == (0, 0)  # once

    page.reload()
    assert page.locator("h1 .post-status").inner_text() == "Published"
    targets = {t.channel_id: t for t in PostTarget.objects.filter(post__brand=sandbox_brand)}
    on_x, on_page = targets[x.pk], targets[facebook.pk]
    assert on_x.status == on_page.status == PostTarget.Status.PUBLISHED
    assert page.locator("[data-channel=x] .platform-id").inner_text() == on_x.external_id
    assert page.locator("[data-channel=facebook] .platform-id").inner_text() == on_page.external_id
    history = page.locator("#post-history").inner_text()
    assert "Approved" in history and "Alba" in history and "Good to go" in history

    # The sandbox shows each once, with the ids Escucha recorded.
    page.goto("/sandbox/published/")
    rows = page.locator("#sandbox-posts tbody tr")
    assert rows.count() == 2
    assert page.locator("#sandbox-posts tr[data-platform=x] code").inner_text() == on_x.external_id
    assert page.locator("#sandbox-posts tr[data-platform=facebook] code").inner_text() == on_page.external_id
    published = SandboxPost.objects.filter(payload__published_by="escucha")
    assert sorted(published.values_list("platform", "text")) == [("facebook", TEXT), ("x", f"{TEXT} {LINK}")]

    # People in the demo answer it; the next polls bring their comments into the inbox, linked to it.
    generate(120, seed=20)
    for channel in (x, facebook):
        channel_poll(channel=channel)
    page.goto(f"/posts/{on_x.post_id}/")
    comments = page.locator("#post-comments")
    assert "comments in the inbox" in comments.inner_text()
    comments.get_by_role("link", name="See them in the inbox").click()
    rows = page.locator("#inbox-results li.mention")
    assert rows.count() == PostComment.objects.filter(target__post_id=on_x.post_id).count() > 1
    platforms = set(PostComment.objects.filter(target__post_id=on_x.post_id).values_list("target__channel", flat=True))
    assert platforms == {x.pk, facebook.pk}
    rows.first.get_by_role("link", name="Open").click()
    assert page.locator("#our-post").get_by_role("link").inner_text().startswith("Summer is here")


def test_a_post_dragged_to_another_day_and_hour_of_the_calendar_is_rescheduled_there(team, login, page):
    from datetime import datetime
    from datetime import time as dtime

    from publishing.models import Post

    team.brand.time_zone = "America/Mexico_City"
    team.brand.save()
    zone = ZoneInfo("America/Mexico_City")
    x = Channel.objects.create(brand=team.brand, platform=Platform.X, name="Acme on X", settings={"user_id": "1"})
    today = timezone.localtime(timezone.now(), zone).date()
    tuesday = today + timedelta(days=7 - today.weekday() + 1)  # next week's: always ahead, one week
    thursday, friday = tuesday + timedelta(days=2), tuesday + timedelta(days=3)
    post = Post.objects.create(
        brand=team.brand, author=team.cm, text="Drag me", scheduled_at=datetime.combine(tuesday, dtime(10, 15), zone)
    )
    PostTarget.objects.create(post=post, channel=x, text="Drag me", status=PostTarget.Status.SCHEDULED)

    login(team.cm)
    page.goto(f"/posts/calendar/?brand={team.brand.pk}&date={tuesday:%Y-%m-%d}")
    page.drag_and_drop(".calendar-post.movable", f"td[data-day='{thursday:%Y-%m-%d}']")
    page.wait_for_load_state("networkidle")
    assert "Drag me" in page.locator(f"td[data-day='{thursday:%Y-%m-%d}']").inner_text()
    assert "Drag me" not in page.locator(f"td[data-day='{tuesday:%Y-%m-%d}']").inner_text()
    post.refresh_from_db()
    assert timezone.localtime(post.scheduled_at, zone) == datetime.combine(thursday, dtime(10, 15), zone)

    # The week view's rows are hours: to Friday at two in the afternoon, keeping its minutes.
    page.get_by_role("link", name="Week", exact=True).click()
    page.drag_and_drop(".calendar-post.movable", f"td[data-day='{friday:%Y-%m-%d}'][data-hour='14']")
    page.wait_for_load_state("networkidle")
    assert "14:15" in page.locator(f"td[data-day='{friday:%Y-%m-%d}'][data-hour='14']").inner_text()
    post.refresh_from_db()
    assert timezone.localtime(post.scheduled_at, zone) == datetime.combine(friday, dtime(14, 15), zone)
    assert post.targets.get().status == PostTarget.Status.SCHEDULED

    page.goto(f"/posts/{post.pk}/")
    history = page.locator("#post-history").inner_text()
    assert f"{thursday:%Y-%m-%d} 10:15 America/Mexico_City" in history
    assert f"{friday:%Y-%m-%d} 14:15 America/Mexico_City" in history
    assert page.console_errors == []  # no script refused by the Content-Security-Policy
