"""A reply when Redis is unreachable as it is queued (kept, and queued again once Redis is back), and
when its worker died after the platform accepted it (looked up on the platform, never posted blindly)."""

from __future__ import annotations

from datetime import timedelta

import pytest
import time_machine
from django.urls import reverse
from django.utils import timezone

from listening.models import Mention, MentionEvent, Platform
from responses import replies
from responses.models import Reply
from responses.replies import reply_create
from responses.tasks import send_reply
from tests.factories import ChannelFactory, MentionFactory, ReplyFactory
from tests.listening.connectors.conftest import wire  # noqa: F401 - the local platform server fixture
from tests.responses.test_replies import CREDENTIALS, TWEETS, mention  # noqa: F401 - the mention fixture
from tests.workers import worker_killed_in


@pytest.mark.redis
def test_a_reply_queued_while_redis_is_down_is_kept_queued_again_and_posted_once(
    team,
    mention,  # noqa: F811 - the fixture imported above
    wire,  # noqa: F811 - the fixture imported above
    broker,
    django_capture_on_commit_callbacks,
):
    wire.add("POST", TWEETS, fixture="x/create_tweet.json", status=201)
    broker.stop()
    with django_capture_on_commit_callbacks(execute=True):  # the agent's request does not fail
        reply = reply_create(mention=mention, author=team.cm, text="Sorry! We are on it.")
    reply.refresh_from_db()
    assert reply.status == Reply.Status.QUEUED

    broker.start()
    assert broker.queued("outbound") == 0  # the message never reached Redis
    Reply.objects.filter(pk=reply.pk).update(
        created_at=timezone.now() - timedelta(seconds=replies.QUEUED_LOST_SECONDS + 60)
    )
    with django_capture_on_commit_callbacks(execute=True):
        assert replies.replies_sweep() == (0, 1)
    assert broker.queued("outbound") == 1

    assert send_reply(reply.pk) == "sent"  # what the worker does with it
    reply.refresh_from_db()
    assert reply.status == Reply.Status.SENT
    assert len(wire.calls(TWEETS)) == 1


# --- A worker killed after the platform accepted a reply, before it was recorded -------------------
# The row stays "sending"; once it is stale, the redelivered task or the sweep looks the reply up on
# the platform (the brand's own answers to the mention) before anything is posted again.
USER_TWEETS = "/2/users/1500000000000000001/tweets"
FB_COMMENT = "2201000000000003_3300000000000001"
FB_ANSWERS = f"/v21.0/{FB_COMMENT}/comments"


def interrupted(target: Mention, author, text: str) -> Reply:
    claimed = timezone.now() - timedelta(seconds=replies.SENDING_STALE_SECONDS + 60)
    return ReplyFactory(
        mention=target, author=author, text=text, status=Reply.Status.SENDING, attempts=1, claimed_at=claimed
    )


def checks(target: Mention) -> list[tuple[str, str]]:
    events = target.events.filter(kind=MentionEvent.Kind.REPLY_CHECK)
    return [(event.new_value, event.note) for event in events]


@pytest.fixture
def x_mention(team, wire):  # noqa: F811 - the fixture imported above
    channel = ChannelFactory(
        brand=team.brand,
        platform=Platform.X,
        api_base_url=wire.url,
        credentials=CREDENTIALS,
        settings={"user_id": "1500000000000000001"},
    )
    return MentionFactory(channel=channel, external_id="1861234567890123460", text="My order never came @acme")


def test_an_interrupted_reply_found_on_x_is_recorded_as_sent_and_never_posted_again(client, team, x_mention, wire):  # noqa: F811
    wire.add("GET", USER_TWEETS, fixture="x/user_tweets_replies.json")
    reply = interrupted(x_mention, team.cm, "Sorry! We are on it & will DM you.")
    assert send_reply(reply.pk) == "sent"  # the broker redelivered the killed worker's message
    reply.refresh_from_db()
    assert reply.status == Reply.Status.SENT and reply.external_id == "1861234567890199999"
    assert wire.calls(TWEETS) == []  # no second post
    x_mention.refresh_from_db()
    assert x_mention.status == Mention.Status.REPLIED
    assert checks(x_mention) == [("found", "1861234567890199999")]
    lookup = wire.calls(USER_TWEETS)[0]
    assert lookup.query["start_time"] < reply.claimed_at.isoformat()  # from before the lost attempt
    client.force_login(team.cm)
    page = client.get(reverse("responses:mention_detail", args=[x_mention.pk])).content.decode()
    assert "Interrupted reply looked up on the platform" in page and "found there, recorded as sent" in page


def test_an_interrupted_reply_x_certainly_lacks_is_posted_once(
    team,
    x_mention,
    wire,  # noqa: F811
    django_capture_on_commit_callbacks,
):
    wire.add("GET", USER_TWEETS, fixture="x/empty.json")
    wire.add("POST", TWEETS, fixture="x/create_tweet.json", status=201)
    reply = interrupted(x_mention, team.cm, "Sorry! We are on it.")
    with django_capture_on_commit_callbacks(execute=True):  # the reply is queued again, and sent
        assert replies.replies_sweep() == (1, 0)
    reply.refresh_from_db()
    assert reply.status == Reply.Status.SENT
    assert len(wire.calls(TWEETS)) == 1
    assert checks(x_mention) == [("absent", "")]


def test_an_other_answer_of_the_brand_on_x_leaves_the_reply_for_a_person(team, x_mention, wire):  # noqa: F811
    wire.add("GET", USER_TWEETS, fixture="x/user_tweets_replies.json")
    reply = interrupted(x_mention, team.cm, "A different text than the one X shows")
    assert send_reply(reply.pk) == "failed"
    reply.refresh_from_db()
    assert reply.status == Reply.Status.FAILED and "check on the platform" in reply.error
    assert wire.calls(TWEETS) == []
    [(outcome, note)] = checks(x_mention)
    assert outcome == "unknown" and "another answer" in note


def test_a_lookup_that_fails_leaves_the_reply_for_a_person(team, x_mention, wire):  # noqa: F811
    wire.add("GET", USER_TWEETS, fixture="x/error_503.json", status=503)
    reply = interrupted(x_mention, team.cm, "Sorry! We are on it.")
    assert send_reply(reply.pk) == "failed"
    reply.refresh_from_db()
    assert reply.status == Reply.Status.FAILED and wire.calls(TWEETS) == []
    assert checks(x_mention)[0][0] == "unknown"


def test_an_interrupted_reply_found_among_the_comments_answers_on_facebook(team, wire):  # noqa: F811
    channel = ChannelFactory(
        brand=team.brand,
        platform=Platform.FACEBOOK,
        api_base_url=wire.url,
        settings={"page_id": "104857600000001", "graph_version": "v21.0"},
        credentials={"page_access_token": "PAGE_TOKEN"},
    )
    comment = MentionFactory(channel=channel, external_id=FB_COMMENT, text="Me cobraron dos veces")
    wire.add("GET", FB_ANSWERS, fixture="facebook/comment_replies.json")
    reply = interrupted(comment, team.cm, "Lo sentimos, Carlos. Te escribimos por privado.")
    assert send_reply(reply.pk) == "sent"
    reply.refresh_from_db()
    assert reply.status == Reply.Status.SENT and reply.external_id == "2201000000000003_3300000000000099"
    assert [call.method for call in wire.calls(FB_ANSWERS)] == ["GET"]  # looked up, never posted
    assert checks(comment) == [("found", "2201000000000003_3300000000000099")]


def test_a_platform_that_cannot_be_read_back_leaves_the_reply_for_a_person(team):
    channel = ChannelFactory(brand=team.brand, platform=Platform.FEED)
    article = MentionFactory(channel=channel)
    reply = interrupted(article, team.cm, "Thanks!")
    assert send_reply(reply.pk) == "failed"
    reply.refresh_from_db()
    assert reply.status == Reply.Status.FAILED and "check on the platform" in reply.error


def test_a_sweep_out_of_lookup_time_leaves_the_rest_for_the_next_sweep(team, x_mention, wire, monkeypatch):  # noqa: F811
    wire.add("GET", USER_TWEETS, fixture="x/user_tweets_replies.json")
    reply = interrupted(x_mention, team.cm, "Sorry! We are on it & will DM you.")
    monkeypatch.setattr(replies, "SWEEP_LOOKUP_SECONDS", -1)  # spent before the first lookup
    assert replies.replies_sweep() == (0, 0)
    reply.refresh_from_db()
    assert reply.status == Reply.Status.SENDING and wire.calls(USER_TWEETS) == []
    monkeypatch.undo()
    assert replies.replies_sweep() == (1, 0)
    reply.refresh_from_db()
    assert reply.status == Reply.Status.SENT


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_a_worker_killed_after_x_accepted_the_reply_is_followed_by_no_second_post(team, x_mention, wire):  # noqa: F811
    wire.add("POST", TWEETS, fixture="x/create_tweet.json", status=201)
    wire.add("GET", USER_TWEETS, fixture="x/user_tweets_replies.json")  # X has the reply the worker posted
    reply = ReplyFactory(mention=x_mention, author=team.cm, text="Sorry! We are on it & will DM you.")
    # killed as it records: X has the reply, the row still says "sending"
    worker_killed_in(replies, "_record_sent", lambda: replies.reply_deliver(reply_id=reply.pk))
    reply.refresh_from_db()
    assert reply.status == Reply.Status.SENDING and len(wire.calls(TWEETS)) == 1

    with time_machine.travel(timezone.now() + timedelta(seconds=replies.SENDING_STALE_SECONDS + 1)):
        assert send_reply(reply.pk) == "sent"  # the broker hands the killed worker's message out again
    reply.refresh_from_db()
    assert reply.status == Reply.Status.SENT and reply.external_id == "1861234567890199999"
    assert len(wire.calls(TWEETS)) == 1  # posted once
