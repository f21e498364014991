"""Replies: validation, approval, and delivery through the real X client to a local platform server."""

from __future__ import annotations

import json
from datetime import timedelta
from unittest import mock

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.utils import timezone

from listening.models import Channel, Mention, MentionEvent, Platform
from responses import replies
from responses.models import Reply
from responses.replies import (
    MAX_DELIVERY_ATTEMPTS,
    reply_approve,
    reply_create,
    reply_deliver,
    reply_reject,
    reply_retry,
    saved_reply_render,
)
from responses.tasks import send_reply
from sandbox.management.commands.demo_setup import _demo_channels
from sandbox.models import SandboxPost, SandboxReply
from tests.factories import (
    AuthorFactory,
    BrandFactory,
    ChannelFactory,
    MentionFactory,
    ReplyFactory,
    SavedReplyFactory,
    UserFactory,
)

TWEETS = "/2/tweets"
CREDENTIALS = {
    "bearer_token": "b",
    "consumer_key": "ck",
    "consumer_secret": "cs",
    "access_token": "at",
    "access_token_secret": "ats",
}


@pytest.fixture
def mention(team, wire):
    channel = ChannelFactory(brand=team.brand, platform=Platform.X, api_base_url=wire.url, credentials=CREDENTIALS)
    return MentionFactory(channel=channel, external_id="1861234567890123460", text="My order never came @acme")


def posted_replies(wire) -> list[dict]:
    return [json.loads(call.body) for call in wire.calls(TWEETS)]


def test_sending_posts_once_to_the_mention_and_marks_it_replied(
    team, mention, wire, django_capture_on_commit_callbacks
):
    wire.add("POST", TWEETS, fixture="x/create_tweet.json", status=201)
    with django_capture_on_commit_callbacks(execute=True):
        reply = reply_create(mention=mention, author=team.cm, text="  Sorry! Please DM us.  ")
    reply.refresh_from_db()
    assert reply.status == Reply.Status.SENT
    assert reply.external_id == "1861234567890199999"
    assert reply.external_url.endswith("/1861234567890199999")
    assert reply.sent_at is not None and reply.attempts == 1
    assert posted_replies(wire) == [
        {"text": "Sorry! Please DM us.", "reply": {"in_reply_to_tweet_id": "1861234567890123460"}}
    ]
    mention.refresh_from_db()
    assert mention.status == Mention.Status.REPLIED
    assert MentionEvent.objects.filter(mention=mention, new_value="replied", actor=team.cm).exists()


def test_a_redelivered_task_or_a_retry_of_a_sent_reply_never_posts_twice(team, mention, wire):
    wire.add("POST", TWEETS, fixture="x/create_tweet.json", status=201)
    reply = ReplyFactory(mention=mention, author=team.cm, status=Reply.Status.QUEUED)
    with mock.patch("responses.replies.ticket_on_reply_sent") as on_sent:
        assert send_reply(reply.pk) == "sent"
        assert send_reply(reply.pk) == "skipped"  # the broker delivered the message again
        assert reply_deliver(reply_id=reply.pk).outcome == "skipped"
    with pytest.raises(ValidationError):
        reply_retry(reply=Reply.objects.get(pk=reply.pk), user=team.cm)
    assert len(wire.calls(TWEETS)) == 1
    on_sent.assert_called_once()


def test_a_failing_follow_up_never_makes_a_posted_reply_look_unsent(team, mention, wire):
    wire.add("POST", TWEETS, fixture="x/create_tweet.json", status=201)
    reply = ReplyFactory(mention=mention, author=team.cm, status=Reply.Status.QUEUED)
    with (
        mock.patch("responses.replies.ticket_on_reply_sent", side_effect=RuntimeError("bug")),
        pytest.raises(RuntimeError),
    ):
        reply_deliver(reply_id=reply.pk)
    reply.refresh_from_db()
    assert reply.status == Reply.Status.SENT
    assert reply_deliver(reply_id=reply.pk).outcome == "skipped"
    assert len(wire.calls(TWEETS)) == 1


def test_a_reply_being_sent_by_another_worker_is_left_alone(team, mention, wire):
    reply = ReplyFactory(mention=mention, author=team.cm, status=Reply.Status.SENDING, attempts=1)
    assert reply_deliver(reply_id=reply.pk).outcome == "skipped"
    assert wire.calls(TWEETS) == []


def test_a_reply_left_sending_by_a_dead_worker_fails_without_posting_again(team, mention, wire):
    claimed = timezone.now() - timedelta(seconds=replies.SENDING_STALE_SECONDS + 60)
    reply = ReplyFactory(mention=mention, author=team.cm, status=Reply.Status.SENDING, attempts=1, claimed_at=claimed)
    assert send_reply(reply.pk) == "failed"  # the broker redelivered the killed worker's message
    reply.refresh_from_db()
    assert reply.status == Reply.Status.FAILED and "check on the platform" in reply.error
    assert wire.calls(TWEETS) == []


def test_the_sweep_fails_interrupted_sends_and_requeues_lost_ones(
    team, mention, wire, django_capture_on_commit_callbacks
):
    wire.add("POST", TWEETS, fixture="x/create_tweet.json", status=201)
    long_ago = timezone.now() - timedelta(seconds=replies.QUEUED_LOST_SECONDS + 60)
    interrupted = ReplyFactory(
        mention=mention, author=team.cm, status=Reply.Status.SENDING, attempts=1, claimed_at=long_ago
    )
    sending_now = ReplyFactory(
        mention=mention, author=team.cm, status=Reply.Status.SENDING, attempts=1, claimed_at=timezone.now()
    )
    lost = ReplyFactory(mention=mention, author=team.cm, status=Reply.Status.QUEUED, created_at=long_ago)
    fresh = ReplyFactory(mention=mention, author=team.cm, status=Reply.Status.QUEUED)
    with django_capture_on_commit_callbacks(execute=True):  # tasks run inline under the test settings
        assert replies.replies_sweep() == (1, 1)
    for reply in (interrupted, sending_now, lost, fresh):
        reply.refresh_from_db()
    assert interrupted.status == Reply.Status.FAILED and "check on the platform" in interrupted.error
    assert sending_now.status == Reply.Status.SENDING  # a worker is on it
    assert lost.status == Reply.Status.SENT  # queued again and posted once
    assert fresh.status == Reply.Status.QUEUED  # its task is surely still on its way
    assert len(wire.calls(TWEETS)) == 1


def test_a_transient_failure_is_retried_then_sent(team, mention, wire):
    wire.add("POST", TWEETS, fixture="x/error_503.json", status=503)
    wire.add("POST", TWEETS, fixture="x/create_tweet.json", status=201)
    reply = ReplyFactory(mention=mention, author=team.cm, status=Reply.Status.QUEUED)
    first = reply_deliver(reply_id=reply.pk)
    assert first.outcome == "retry" and first.retry_in > 0
    reply.refresh_from_db()
    assert reply.status == Reply.Status.QUEUED and "Retrying" in reply.error
    assert reply_deliver(reply_id=reply.pk).outcome == "sent"
    reply.refresh_from_db()
    assert (reply.status, reply.attempts, reply.error) == (Reply.Status.SENT, 2, "")
    assert len(wire.calls(TWEETS)) == 2


def test_the_task_retries_by_itself_with_backoff(team, mention, wire):
    wire.add("POST", TWEETS, fixture="x/error_503.json", status=503)
    wire.add("POST", TWEETS, fixture="x/create_tweet.json", status=201)
    reply = ReplyFactory(mention=mention, author=team.cm, status=Reply.Status.QUEUED)
    send_reply.apply(args=[reply.pk])  # eager: Celery runs the retry at once
    reply.refresh_from_db()
    assert reply.status == Reply.Status.SENT and reply.attempts == 2


def test_the_task_keeps_retrying_until_the_replys_own_attempt_limit(team, mention, wire):
    for _ in range(MAX_DELIVERY_ATTEMPTS - 1):
        wire.add("POST", TWEETS, fixture="x/error_503.json", status=503)
    wire.add("POST", TWEETS, fixture="x/create_tweet.json", status=201)
    reply = ReplyFactory(mention=mention, author=team.cm, status=Reply.Status.QUEUED)
    send_reply.apply(args=[reply.pk])
    reply.refresh_from_db()
    assert reply.status == Reply.Status.SENT and reply.attempts == MAX_DELIVERY_ATTEMPTS
    assert len(wire.calls(TWEETS)) == MAX_DELIVERY_ATTEMPTS


def test_a_platform_that_keeps_failing_makes_the_reply_failed_with_the_reason(team, mention, wire):
    wire.add("POST", TWEETS, fixture="x/error_503.json", status=503)
    reply = ReplyFactory(mention=mention, author=team.cm, status=Reply.Status.QUEUED)
    outcomes = [reply_deliver(reply_id=reply.pk).outcome for _ in range(MAX_DELIVERY_ATTEMPTS)]
    assert outcomes == ["retry"] * (MAX_DELIVERY_ATTEMPTS - 1) + ["failed"]
    reply.refresh_from_db()
    assert reply.status == Reply.Status.FAILED
    assert "Gave up after 5 attempts" in reply.error and "503" in reply.error


def test_a_permanent_failure_fails_at_once_and_a_person_can_retry(team, mention, wire):
    wire.add("POST", TWEETS, fixture="x/error_401.json", status=401)
    wire.add("POST", TWEETS, fixture="x/create_tweet.json", status=201)
    reply = ReplyFactory(mention=mention, author=team.cm, status=Reply.Status.QUEUED)
    assert reply_deliver(reply_id=reply.pk).outcome == "failed"
    reply.refresh_from_db()
    assert reply.status == Reply.Status.FAILED and reply.error
    reply_retry(reply=reply, user=team.cm)
    assert reply.status == Reply.Status.QUEUED and reply.error == ""
    assert reply_deliver(reply_id=reply.pk).outcome == "sent"
    assert len(wire.calls(TWEETS)) == 2


def test_rate_limit_retries_after_the_platform_says(team, mention, wire):
    wire.add("POST", TWEETS, fixture="x/error_429.json", status=429, headers={"x-rate-limit-reset": "9999999999"})
    reply = ReplyFactory(mention=mention, author=team.cm, status=Reply.Status.QUEUED)
    delivery = reply_deliver(reply_id=reply.pk)
    assert delivery.outcome == "retry" and delivery.retry_in >= 1


@pytest.mark.parametrize(
    ("text", "message"), [("   ", "Write a reply first"), ("x" * 281, "281 characters long; X (Twitter) allows 280")]
)
def test_empty_or_too_long_replies_are_refused(team, mention, text, message):
    with pytest.raises(ValidationError) as error:
        reply_create(mention=mention, author=team.cm, text=text)
    assert message in error.value.messages[0]
    assert not Reply.objects.exists()


def test_a_reply_is_measured_as_x_counts_it(team, mention):
    # X weighs CJK characters 2 and counts every link as 23: 141 of them are 282 there, not 141.
    with pytest.raises(ValidationError, match="282 characters long; X \\(Twitter\\) allows 280"):
        reply_create(mention=mention, author=team.cm, text="日" * 141)
    long_link = "https://shop.acme.com/" + "a" * 300
    assert reply_create(mention=mention, author=team.cm, text=f"Here: {long_link}").text.endswith("a" * 300)


@pytest.mark.parametrize(
    ("platform", "kind", "target"),
    [
        (Platform.YOUTUBE, Mention.Kind.REPLY, "top-comment"),
        (Platform.FACEBOOK, Mention.Kind.REPLY, "top-comment"),
        (Platform.YOUTUBE, Mention.Kind.COMMENT, "this"),
        (Platform.X, Mention.Kind.REPLY, "this"),
    ],
)
def test_replies_land_in_the_conversation_where_platforms_nest_one_level(team, platform, kind, target):
    mention = MentionFactory(
        channel=ChannelFactory(brand=team.brand, platform=platform),
        external_id="this",
        kind=kind,
        parent_external_id="top-comment",
    )
    assert replies.reply_target(mention) == target


def test_a_feed_item_cannot_be_answered(team):
    article = MentionFactory(channel=ChannelFactory(brand=team.brand, platform=Platform.FEED))
    with pytest.raises(ValidationError) as error:
        reply_create(mention=article, author=team.cm, text="Thanks for the article")
    assert "Feeds" in error.value.messages[0]


def test_approval_holds_replies_of_users_who_may_not_publish(team, mention, wire, django_capture_on_commit_callbacks):
    wire.add("POST", TWEETS, fixture="x/create_tweet.json", status=201)
    team.brand.require_reply_approval = True
    team.brand.save()
    junior = team.billing_member
    with django_capture_on_commit_callbacks(execute=True):
        held = reply_create(mention=mention, author=junior, text="We are on it")
        trusted = reply_create(mention=mention, author=team.cm, text="Sorry!")
    assert held.status == Reply.Status.PENDING_APPROVAL
    trusted.refresh_from_db()
    assert trusted.status == Reply.Status.SENT
    assert len(wire.calls(TWEETS)) == 1

    with pytest.raises(PermissionDenied):
        reply_approve(reply=held, user=junior)
    with django_capture_on_commit_callbacks(execute=True):
        reply_approve(reply=held, user=team.cm)
    held.refresh_from_db()
    assert held.status == Reply.Status.SENT and held.approved_by == team.cm
    assert len(wire.calls(TWEETS)) == 2
    with pytest.raises(ValidationError):
        reply_approve(reply=held, user=team.cm)


def test_a_rejected_reply_is_never_sent(team, mention, wire):
    team.brand.require_reply_approval = True
    team.brand.save()
    held = reply_create(mention=mention, author=team.manager, text="Hmm")
    reply_reject(reply=held, user=team.cm)
    assert held.status == Reply.Status.REJECTED and team.cm.get_full_name() in held.error
    assert reply_deliver(reply_id=held.pk).outcome == "skipped"
    assert wire.requests == []


@pytest.mark.parametrize(
    "hostile",
    [
        "{{ brand.name }}",
        "{% debug %}",
        "{{ agent.first_name }}",
        "<script>alert(1)</script>",
        "{{ settings.SECRET_KEY }}",
    ],
)
def test_saved_reply_variables_insert_hostile_names_as_plain_text(team, hostile):
    author = AuthorFactory(name=hostile, handle="ev{il}")
    mention = MentionFactory(channel=ChannelFactory(brand=team.brand), author=author)
    saved = SavedReplyFactory(
        brand=team.brand,
        body="Hi {{author.name}} ({{ author.handle }}), {{ brand.name }} here. — {{ agent.first_name }}",
    )
    team.cm.first_name = "Carla"
    text = saved_reply_render(saved_reply=saved, mention=mention, agent=team.cm)
    assert text == f"Hi {hostile} (@ev{{il}}), Acme here. — Carla"


def test_unknown_variables_are_left_as_written(team):
    mention = MentionFactory(channel=ChannelFactory(brand=team.brand))
    saved = SavedReplyFactory(brand=team.brand, body="{{ mention.text }} {{ author.email }}")
    assert saved_reply_render(saved_reply=saved, mention=mention, agent=team.cm) == saved.body


def test_backoff_grows_and_is_jittered():
    samples = [replies.backoff_seconds(attempt) for attempt in (1, 2, 3, 10)]
    assert replies.BACKOFF_BASE_SECONDS / 2 <= samples[0] <= replies.BACKOFF_BASE_SECONDS
    assert samples[2] > samples[0]
    assert samples[3] <= replies.BACKOFF_MAX_SECONDS


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize(
    ("platform", "kind", "parent", "answered"),
    [
        (Platform.X, Mention.Kind.MENTION, "", "1861234567890123460"),
        (Platform.FACEBOOK, Mention.Kind.COMMENT, "111_222", "111_333"),
        (Platform.YOUTUBE, Mention.Kind.REPLY, "UgzTopLevel", "UgzTopLevel"),
    ],
)
def test_each_demo_channel_delivers_to_the_sandbox(live_server, settings, platform, kind, parent, answered):
    settings.SITE_URL = live_server.url
    SandboxPost.objects.create(platform="x", external_id="seed", kind="tweet", text="seed", sort_key=1)  # no seeding
    brand = BrandFactory(name="Acme", slug="acme")
    _demo_channels(brand)
    channel = Channel.objects.get(brand=brand, platform=platform)
    external_id = answered if kind != Mention.Kind.REPLY else "UgzTopLevel.reply1"
    mention = MentionFactory(channel=channel, kind=kind, external_id=external_id, parent_external_id=parent)
    reply = ReplyFactory(
        mention=mention, author=UserFactory(), status=Reply.Status.QUEUED, text="Thanks for telling us"
    )
    assert reply_deliver(reply_id=reply.pk).outcome == "sent"
    reply.refresh_from_db()
    posted = SandboxReply.objects.get()
    assert (posted.platform, posted.in_reply_to, posted.text) == (platform, answered, "Thanks for telling us")
    assert reply.external_id == posted.external_id


# --- No secret in a reply's stored error ----------------------------------------------------------
def test_a_transient_error_echoing_a_secret_is_stored_without_it(team, mention, wire):
    mention.channel.credentials = {**CREDENTIALS, "consumer_secret": "cs-Secret-42", "access_token": "at-Secret-7"}
    mention.channel.save()
    echoed = "signature for consumer_secret=cs-Secret-42 and token at-Secret-7 rejected"
    wire.add("POST", TWEETS, body={"errors": [{"message": echoed}], "title": "Unavailable"}, status=503)
    reply = ReplyFactory(mention=mention, author=team.cm, status=Reply.Status.QUEUED, text="Hi")
    assert reply_deliver(reply_id=reply.pk).outcome == "retry"
    reply.refresh_from_db()
    assert "X server error" in reply.error
    assert "cs-Secret-42" not in reply.error and "at-Secret-7" not in reply.error


def test_a_refused_oauth_refresh_echoing_the_client_secret_is_stored_without_it(team, wire):
    secrets = {"client_id": "id-1", "client_secret": "GOCSPX-client-Secret", "refresh_token": "1//refresh-Secret"}
    wire.add(
        "POST",
        "/token",
        status=400,
        body={"error": "invalid_client", "error_description": f"client_secret {secrets['client_secret']} is wrong"},
    )
    channel = ChannelFactory(brand=team.brand, platform=Platform.YOUTUBE, api_base_url=wire.url, credentials=secrets)
    mention = MentionFactory(channel=channel, kind=Mention.Kind.COMMENT, external_id="UgzTopLevel")
    reply = ReplyFactory(mention=mention, author=team.cm, status=Reply.Status.QUEUED, text="Thanks")
    assert reply_deliver(reply_id=reply.pk).outcome == "failed"
    reply.refresh_from_db()
    assert reply.error.startswith("YouTube refused the OAuth credentials")
    assert all(secret not in reply.error for secret in secrets.values())
