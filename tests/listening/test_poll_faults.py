"""A poll when its infrastructure fails: Redis unreachable, the database connection dropped, the worker killed.

After each: every item stored exactly once, the cursor where its items are, the channel healthy.
"""

from __future__ import annotations

import os
import signal
import time
from datetime import timedelta

import pytest
import time_machine
from django.db import connection, connections, transaction
from django.utils import timezone

from listening import polling, tasks
from listening.models import Channel, Platform
from tests.factories import ChannelFactory
from tests.listening.test_polling import ScriptedConnector, page


@pytest.fixture
def channel(team):
    return ChannelFactory(brand=team.brand, platform=Platform.X, settings={"user_id": "1"}, cursor={"n": 0})


def stored(channel: Channel) -> list[str]:
    return sorted(channel.mentions.values_list("external_id", flat=True))


@pytest.mark.redis
def test_a_poll_queued_while_redis_is_down_is_queued_again_once_it_is_back(
    channel, broker, django_capture_on_commit_callbacks
):
    Channel.objects.filter(pk=channel.pk).update(next_poll_at=timezone.now() - timedelta(seconds=1))
    broker.stop()
    with django_capture_on_commit_callbacks(execute=True):
        assert tasks.dispatch_due_channels() == 1  # the claim stands; the message could not go
    broker.start()
    assert broker.queued("polling") == 0  # lost with Redis
    with time_machine.travel(timezone.now() + timedelta(seconds=polling.LEASE_SECONDS + 1)):
        with django_capture_on_commit_callbacks(execute=True):
            assert tasks.dispatch_due_channels() == 1  # the lease ran out: claimed and queued again
    assert broker.queued("polling") == 1


@pytest.mark.redis
def test_redis_lost_while_a_worker_polls_keeps_the_pages_stored_and_the_next_poll_goes_on(
    channel, redis_server, settings, monkeypatch
):
    settings.CACHES = {
        "default": {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": redis_server.url}
    }

    class RedisDiesAfterPageOne(ScriptedConnector):
        def fetch(self, cursor):
            if cursor == {"n": 0}:
                redis_server.stop()
            return super().fetch(cursor)

    connector = RedisDiesAfterPageOne([page("1", cursor={"n": 1}, more=True)])
    monkeypatch.setattr(polling, "get_connector", lambda channel: connector)
    monkeypatch.setattr(polling, "POLL_TIME_BUDGET_SECONDS", 3600)  # a slow first ingestion still renews
    tasks.poll_channel(channel.pk)  # renewing its lock fails: recorded, and the task ends cleanly
    channel.refresh_from_db()
    assert stored(channel) == ["1"] and channel.cursor == {"n": 1}
    assert channel.state == Channel.State.BACKING_OFF

    redis_server.start()
    connector.script = [page("1", "2", cursor={"n": 2})]  # the platform repeats the edge of the page
    tasks.poll_channel(channel.pk)
    channel.refresh_from_db()
    assert stored(channel) == ["1", "2"] and channel.cursor == {"n": 2}
    assert channel.state == Channel.State.OK and channel.consecutive_failures == 0


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_the_database_connection_dropped_mid_ingest_stores_nothing_and_the_next_poll_stores_the_page_once(
    channel, monkeypatch
):
    from listening import ingest

    real_link = ingest._link_threads

    def drop_the_connection(*args, **kwargs):
        real_link(*args, **kwargs)  # the page's mentions are inserted, not committed
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_terminate_backend(pg_backend_pid())")

    monkeypatch.setattr(ingest, "_link_threads", drop_the_connection)
    connector = ScriptedConnector([page("1", "2", "3", cursor={"n": 1})])
    monkeypatch.setattr(polling, "get_connector", lambda channel: connector)
    outcome = polling.channel_poll(channel=channel)
    assert outcome.error
    channel.refresh_from_db()
    assert stored(channel) == [] and channel.cursor == {"n": 0}  # nothing half stored
    assert channel.state == Channel.State.BACKING_OFF

    monkeypatch.setattr(ingest, "_link_threads", real_link)
    connector.script = [page("1", "2", "3", cursor={"n": 1})]
    polling.channel_poll(channel=channel)
    channel.refresh_from_db()
    assert stored(channel) == ["1", "2", "3"] and channel.cursor == {"n": 1}
    assert channel.state == Channel.State.OK


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_a_worker_killed_between_fetching_a_page_and_committing_it_loses_nothing(channel, monkeypatch):
    connector = ScriptedConnector([page("1", "2", cursor={"n": 1})])
    monkeypatch.setattr(polling, "get_connector", lambda channel: connector)
    real_ingest = polling.ingest_items
    read, write = os.pipe()
    connections.close_all()  # the worker opens its own connection, as a pool process does
    pid = os.fork()
    if pid == 0:  # the worker
        try:

            def stuck_before_commit(**kwargs):
                with transaction.atomic():
                    real_ingest(**kwargs)
                    os.write(write, b"fetched")
                    time.sleep(60)  # killed here, its transaction open

            polling.ingest_items = stuck_before_commit
            polling.channel_poll(channel=Channel.objects.get(pk=channel.pk))
        finally:
            os._exit(0)
    assert os.read(read, 10) == b"fetched"
    os.kill(pid, signal.SIGKILL)
    os.waitpid(pid, 0)
    os.close(read)
    os.close(write)

    channel.refresh_from_db()
    assert stored(channel) == [] and channel.cursor == {"n": 0}
    with time_machine.travel(timezone.now() + timedelta(seconds=polling.LEASE_SECONDS + 1)):
        channel.refresh_from_db()
        assert channel.poll_interrupted
        assert polling.channels_claim_due() == [channel.pk]
        connector.script = [page("1", "2", cursor={"n": 1})]
        polling.channel_poll(channel=channel)
    channel.refresh_from_db()
    assert stored(channel) == ["1", "2"] and channel.cursor == {"n": 1}
    assert channel.state == Channel.State.OK and not channel.poll_interrupted
