"""A reply when Redis is unreachable as it is queued: kept, and queued again once Redis is back."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from responses import replies
from responses.models import Reply
from responses.replies import reply_create
from responses.tasks import send_reply
from tests.listening.connectors.conftest import wire  # noqa: F401 - the local platform server fixture
from tests.responses.test_replies import TWEETS, mention  # noqa: F401 - the mention fixture


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
