"""Publishing through the real client libraries (tweepy, facebook-sdk) to a local server playing the
platforms' recorded answers: once per channel, failures with the platform's reason, and a post
interrupted mid-send looked up on the platform before anything is posted again."""

from __future__ import annotations

import json
from datetime import timedelta
from urllib.parse import parse_qs

import pytest
import time_machine
from django.core.exceptions import ValidationError
from django.utils import timezone

from publishing import services
from publishing.models import Post, PostTarget
from publishing.services import post_create, post_retry, post_schedule, post_submit, posts_dispatch_due, target_publish
from publishing.tasks import dispatch_due_posts, publish_target
from tests.publishing.conftest import PAGE_ID, X_USER_ID
from tests.workers import worker_killed_in

Status = PostTarget.Status
TWEETS = "/2/tweets"
FEED = f"/v21.0/{PAGE_ID}/feed"
USER_TWEETS = f"/2/users/{X_USER_ID}/tweets"
TEXT = "Summer is here: 15% off the Roadrunner Pro, this week only."
LINK = "https://shop.acme.com/summer?utm_source=x&ref=escucha"


def due_post(team, *channels, text: str = TEXT, link: str = LINK) -> Post:
    """An approved post whose time has come."""
    post = post_create(brand=team.brand, author=team.cm, text=text, link=link, channels=channels)
    post_submit(post=post, user=team.cm)
    post_schedule(post=post, user=team.cm, at=timezone.now() - timedelta(seconds=1))
    return post


def target(post: Post, platform: str) -> PostTarget:
    return post.targets.get(channel__platform=platform)


def test_a_due_post_goes_out_once_on_x_and_on_the_page(
    team, x_channel, fb_channel, wire, django_capture_on_commit_callbacks
):
    wire.add("POST", TWEETS, fixture="x/create_post.json", status=201)
    wire.add("POST", FEED, fixture="facebook/feed_post.json")
    post = due_post(team, x_channel, fb_channel)
    with django_capture_on_commit_callbacks(execute=True):  # the beat's dispatch, the workers eagerly
        assert dispatch_due_posts() == (2, 0)
    with django_capture_on_commit_callbacks(execute=True):
        assert dispatch_due_posts() == (0, 0)  # queued already, published already

    on_x, on_page = target(post, "x"), target(post, "facebook")
    assert (on_x.status, on_x.external_id) == (Status.PUBLISHED, "1862000000000000001")
    assert on_x.external_url == "https://x.com/i/web/status/1862000000000000001"
    assert (on_page.status, on_page.external_id) == (Status.PUBLISHED, "104857600000001_990000000000001")
    assert on_page.external_url == "https://www.facebook.com/104857600000001_990000000000001"
    # X takes the link in the text (it counts 23); the Page in its own field, shown as a preview.
    assert [json.loads(call.body) for call in wire.calls(TWEETS)] == [{"text": f"{TEXT} {LINK}"}]
    [page_call] = wire.calls(FEED)
    assert parse_qs(page_call.body.decode()) == {"message": [TEXT], "link": [LINK]}
    assert page_call.headers["authorization"] == "Bearer page-token" and "page-token" not in str(page_call.query)
    assert wire.calls(TWEETS)[0].headers["authorization"].startswith("OAuth ")
    assert list(post.events.filter(kind="published").values_list("note", flat=True).order_by("note")) == [
        "104857600000001_990000000000001",
        "1862000000000000001",
    ]


def test_a_redelivered_or_repeated_task_publishes_nothing_more(team, x_channel, wire):
    wire.add("POST", TWEETS, fixture="x/create_post.json", status=201)
    on_x = target(due_post(team, x_channel), "x")
    assert publish_target(on_x.pk) == "published"
    assert publish_target(on_x.pk) == "skipped"  # the broker delivered the message again
    with pytest.raises(ValidationError, match="Only a failed post"):
        post_retry(target=PostTarget.objects.get(pk=on_x.pk), user=team.cm)
    assert len(wire.calls(TWEETS)) == 1


def test_a_post_not_due_yet_or_not_approved_is_not_published(team, x_channel, wire):
    wire.add("POST", TWEETS, fixture="x/create_post.json", status=201)
    later = post_create(brand=team.brand, author=team.cm, text=TEXT, channels=[x_channel])
    post_schedule(post=later, user=team.cm, at=timezone.now() + timedelta(hours=1))
    post_submit(post=later, user=team.cm)
    draft = post_create(brand=team.brand, author=team.cm, text="draft", channels=[x_channel])
    post_schedule(post=draft, user=team.cm, at=timezone.now() - timedelta(hours=1))
    assert posts_dispatch_due() == 0
    assert target_publish(target_id=target(later, "x").pk).outcome == "skipped"
    assert target_publish(target_id=target(draft, "x").pk).outcome == "skipped"
    assert wire.calls(TWEETS) == []


def test_a_refusal_fails_with_the_platforms_reason_and_a_retry_publishes_it(
    team, x_channel, fb_channel, wire, django_capture_on_commit_callbacks
):
    wire.add("POST", TWEETS, fixture="x/error_403_duplicate.json", status=403)
    wire.add("POST", TWEETS, fixture="x/create_post.json", status=201)
    wire.add("POST", FEED, fixture="facebook/error_100_link.json", status=400)
    post = due_post(team, x_channel, fb_channel)
    assert publish_target(target(post, "x").pk) == "failed"
    assert publish_target(target(post, "facebook").pk) == "failed"
    on_x, on_page = target(post, "x"), target(post, "facebook")
    assert on_x.status == Status.FAILED and "duplicate content" in on_x.error
    assert on_page.status == Status.FAILED and "The link you shared is not valid" in on_page.error
    assert "page-token" not in on_page.error

    with django_capture_on_commit_callbacks(execute=True):
        post_retry(target=on_x, user=team.cm)
    on_x.refresh_from_db()
    assert on_x.status == Status.PUBLISHED and len(wire.calls(TWEETS)) == 2
    assert list(post.events.filter(target=on_x).values_list("kind", flat=True)) == ["failed", "retried", "published"]


def test_a_server_error_is_retried_with_backoff_then_given_up(team, x_channel, wire):
    wire.add("POST", TWEETS, fixture="x/error_503.json", status=503)
    on_x = target(due_post(team, x_channel), "x")
    first = target_publish(target_id=on_x.pk)
    assert first.outcome == "retry" and first.retry_in > 0
    on_x.refresh_from_db()
    assert on_x.status == Status.SCHEDULED and on_x.error.startswith("Retrying")
    for _ in range(services.MAX_ATTEMPTS - 1):
        outcome = target_publish(target_id=on_x.pk).outcome
    assert outcome == "failed"
    on_x.refresh_from_db()
    assert on_x.status == Status.FAILED and on_x.error.startswith("Gave up after 5 attempts")


# --- Interrupted mid-send --------------------------------------------------------------------------
def interrupted(post: Post, platform: str) -> PostTarget:
    """The row a worker left when it died after claiming it: "publishing", its claim stale."""
    row = target(post, platform)
    stale = timezone.now() - timedelta(seconds=services.PUBLISHING_STALE_SECONDS + 1)
    PostTarget.objects.filter(pk=row.pk).update(status=Status.PUBLISHING, claimed_at=stale, attempts=1)
    return row


def test_an_interrupted_post_found_on_x_is_recorded_and_never_posted_again(team, x_channel, wire):
    wire.add("POST", TWEETS, fixture="x/create_post.json", status=201)
    # X has it, its link shortened to t.co, among the brand's replies and other posts.
    wire.add("GET", USER_TWEETS, fixture="x/user_tweets_posts.json")
    row = interrupted(due_post(team, x_channel), "x")
    assert publish_target(row.pk) == "published"  # the broker redelivered the dead worker's message
    row.refresh_from_db()
    assert (row.status, row.external_id) == (Status.PUBLISHED, "1862000000000000001")
    assert wire.calls(TWEETS) == []
    assert wire.calls(USER_TWEETS)[0].query["start_time"]  # read from just before the claim


def test_an_interrupted_post_found_on_the_page_is_recorded(team, fb_channel, wire):
    wire.add("POST", FEED, fixture="facebook/feed_post.json")
    wire.add("GET", FEED, fixture="facebook/page_feed_own.json")
    row = interrupted(due_post(team, fb_channel), "facebook")
    assert services.posts_sweep() == 1  # the beat's sweep, when no redelivery came
    row.refresh_from_db()
    # The visitor who quoted the same words is not the Page.
    assert (row.status, row.external_id) == (Status.PUBLISHED, "104857600000001_990000000000001")
    assert [call for call in wire.requests if call.method == "POST"] == []


def test_an_interrupted_post_the_platform_certainly_lacks_is_published_once(
    team, x_channel, wire, django_capture_on_commit_callbacks
):
    wire.add("POST", TWEETS, fixture="x/create_post.json", status=201)
    wire.add("GET", USER_TWEETS, fixture="x/empty.json")
    row = interrupted(due_post(team, x_channel, text="Another post"), "x")
    with django_capture_on_commit_callbacks(execute=True):
        assert publish_target(row.pk) == "requeued"
    row.refresh_from_db()
    assert row.status == Status.PUBLISHED and len(wire.calls(TWEETS)) == 1


def test_an_interrupted_post_that_cannot_be_looked_up_waits_for_a_person(team, x_channel, wire):
    wire.add("POST", TWEETS, fixture="x/create_post.json", status=201)
    wire.add("GET", USER_TWEETS, fixture="x/error_503.json", status=503)
    row = interrupted(due_post(team, x_channel), "x")
    assert publish_target(row.pk) == "failed"
    row.refresh_from_db()
    assert row.status == Status.FAILED and "check on the platform" in row.error
    assert wire.calls(TWEETS) == []


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_a_worker_killed_after_x_accepted_the_post_is_followed_by_no_second_post(team, x_channel, wire):
    wire.add("POST", TWEETS, fixture="x/create_post.json", status=201)
    wire.add("GET", USER_TWEETS, fixture="x/user_tweets_posts.json")  # X has the post the worker sent
    row = target(due_post(team, x_channel), "x")
    # killed as it records: X has the post, the row still says "publishing"
    worker_killed_in(services, "_record_published", lambda: services.target_publish(target_id=row.pk))
    row.refresh_from_db()
    assert row.status == Status.PUBLISHING and len(wire.calls(TWEETS)) == 1

    assert publish_target(row.pk) == "skipped"  # redelivered at once: the claim is fresh, no second post
    with time_machine.travel(timezone.now() + timedelta(seconds=services.PUBLISHING_STALE_SECONDS + 1)):
        assert publish_target(row.pk) == "published"  # the broker hands the message out again
    row.refresh_from_db()
    assert row.status == Status.PUBLISHED and row.external_id == "1862000000000000001"
    assert len(wire.calls(TWEETS)) == 1  # posted once
