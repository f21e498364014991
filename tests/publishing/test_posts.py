"""Writing a post: per-platform limits counted as the platform counts them, approval by another
community manager, scheduling in the brand's time zone, and a history of everything."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

import pytest
from django.core.exceptions import PermissionDenied, ValidationError

from listening.models import Platform, TrackedTerm
from publishing.models import PostEvent, PostTarget
from publishing.services import (
    channel_can_publish,
    post_approve,
    post_create,
    post_length,
    post_reject,
    post_request_changes,
    post_schedule,
    post_submit,
)
from tests.factories import ChannelFactory, MembershipFactory, TrackedTermFactory, UserFactory

Status = PostTarget.Status


@pytest.fixture
def approver(team):
    from config.roles import COMMUNITY_MANAGER

    user = UserFactory(username="alba", roles=[COMMUNITY_MANAGER])
    MembershipFactory(brand=team.brand, user=user)
    return user


def statuses(post) -> set[str]:
    return set(post.targets.values_list("status", flat=True))


def history(post) -> list[str]:
    return list(post.events.values_list("kind", flat=True))


def test_x_counts_a_link_as_23_and_wide_characters_as_two(team, x_channel):
    # A link X recognises (a known top-level domain), however long, counts 23 as t.co shortens it.
    long_link = "https://shop.acme.com/summer/" + "a" * 200
    assert post_length(channel=x_channel, text="Sale", link=long_link) == (4 + 1 + 23, 280)
    # CJK characters weigh 2 on X; Python's len() would say 140 and let a post X refuses through.
    with pytest.raises(ValidationError, match="as X \\(Twitter\\) counts them; it allows 280"):
        post_create(brand=team.brand, author=team.cm, text="日" * 141, channels=[x_channel])
    post = post_create(brand=team.brand, author=team.cm, text="日" * 140, channels=[x_channel])
    assert post.targets.get().text == "日" * 140


def test_each_platform_gets_its_own_text_and_facebook_its_longer_limit(team, x_channel, fb_channel):
    long_text = "Roadrunner " * 40  # 440 characters: too long for X, fine for a Page
    with pytest.raises(ValidationError):
        post_create(brand=team.brand, author=team.cm, text=long_text, channels=[x_channel, fb_channel])
    post = post_create(
        brand=team.brand,
        author=team.cm,
        text=long_text,
        channels=[x_channel, fb_channel],
        texts={x_channel.pk: "Roadrunner, shorter for X"},
    )
    texts = dict(post.targets.values_list("channel__platform", "text"))
    assert texts == {"x": "Roadrunner, shorter for X", "facebook": long_text.strip()}
    assert statuses(post) == {Status.DRAFT} and history(post) == [PostEvent.Kind.CREATED]


@pytest.mark.parametrize("platform", [Platform.YOUTUBE, Platform.FEED, Platform.INSTAGRAM])
def test_platforms_that_take_no_text_post_are_refused_with_the_reason(team, platform):
    channel = ChannelFactory(brand=team.brand, platform=platform)
    assert not channel_can_publish(channel)
    with pytest.raises(ValidationError, match="cannot be posted to from Escucha"):
        post_create(brand=team.brand, author=team.cm, text="Hello", channels=[channel])


def test_a_campaign_is_one_of_the_brands_campaign_terms(team, x_channel):
    summer = TrackedTermFactory(brand=team.brand, kind=TrackedTerm.Kind.CAMPAIGN, text="#AcmeSummer")
    keyword = TrackedTermFactory(brand=team.brand, kind=TrackedTerm.Kind.KEYWORD, text="battery")
    with pytest.raises(ValidationError, match="campaign terms"):
        post_create(brand=team.brand, author=team.cm, text="Hi", channels=[x_channel], campaign=keyword)
    post = post_create(brand=team.brand, author=team.cm, text="Hi", channels=[x_channel], campaign=summer)
    assert post.campaign == summer


def test_people_outside_the_brand_or_without_the_permission_cannot_post(team, x_channel):
    with pytest.raises(PermissionDenied):
        post_create(brand=team.brand, author=team.outsider, text="Hi", channels=[x_channel])
    with pytest.raises(PermissionDenied):
        post_create(brand=team.brand, author=team.billing_member, text="Hi", channels=[x_channel])


def test_with_approval_another_community_manager_approves_and_the_time_is_the_brands(team, x_channel, approver):
    team.brand.require_post_approval = True
    team.brand.time_zone = "America/Mexico_City"
    team.brand.save()
    post = post_create(brand=team.brand, author=team.cm, text="Hi", channels=[x_channel])
    post_schedule(post=post, user=team.cm, at=datetime(2026, 12, 1, 9, 0, tzinfo=ZoneInfo("America/Mexico_City")))
    post_submit(post=post, user=team.cm)
    assert statuses(post) == {Status.PENDING_APPROVAL}

    with pytest.raises(ValidationError, match="another community manager"):
        post_approve(post=post, user=team.cm)  # not its own author
    with pytest.raises(PermissionDenied):
        post_approve(post=post, user=team.manager)
    post_approve(post=post, user=approver)
    post.refresh_from_db()
    assert statuses(post) == {Status.SCHEDULED} and post.approved_by == approver
    assert post.scheduled_at.isoformat() == "2026-12-01T15:00:00+00:00"  # 9:00 in Mexico City
    assert history(post) == ["created", "scheduled", "submitted", "approved", "scheduled"]
    assert post.events.last().note == "2026-12-01 09:00 America/Mexico_City"
    with pytest.raises(ValidationError, match="no longer waiting"):
        post_reject(post=post, user=approver)  # approved already: one decision wins


def test_changes_asked_send_the_post_back_as_a_draft_with_the_comment(team, x_channel, approver):
    team.brand.require_post_approval = True
    team.brand.save()
    post = post_create(brand=team.brand, author=team.cm, text="Hi", channels=[x_channel])
    post_submit(post=post, user=team.cm)
    with pytest.raises(ValidationError, match="Say what should change"):
        post_request_changes(post=post, user=approver, comment="  ")
    post_request_changes(post=post, user=approver, comment="Add the <b>campaign</b> hashtag")
    assert statuses(post) == {Status.DRAFT}
    event = post.events.last()
    assert (event.kind, event.actor, event.note) == ("changes", approver, "Add the <b>campaign</b> hashtag")

    post_submit(post=post, user=team.cm)
    post_reject(post=post, user=approver, comment="Off brand")
    assert statuses(post) == {Status.REJECTED}
    with pytest.raises(ValidationError):
        post_submit(post=post, user=team.cm)


def test_without_approval_the_author_sends_it_straight_on(team, x_channel):
    post = post_create(brand=team.brand, author=team.cm, text="Hi", channels=[x_channel])
    post_submit(post=post, user=team.cm)
    assert statuses(post) == {Status.APPROVED}
    assert history(post) == ["created", "approved"]


def test_a_naive_time_is_refused(team, x_channel):
    post = post_create(brand=team.brand, author=team.cm, text="Hi", channels=[x_channel])
    with pytest.raises(ValidationError, match="time zone"):
        post_schedule(post=post, user=team.cm, at=datetime(2026, 12, 1, 9, 0))
