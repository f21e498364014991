"""The time limits, the broker's visibility timeout and the poll lease fit together (config/settings.py)."""

from __future__ import annotations

from django.conf import settings

from config.celery import app
from listening import polling
from listening.tasks import poll_channel


def _tasks():
    app.loader.import_default_modules()
    return [task for name, task in app.tasks.items() if not name.startswith("celery.")]


def test_every_late_acked_task_ends_before_the_broker_hands_its_message_out_again():
    late = [task for task in _tasks() if task.acks_late]
    assert late, "no task acknowledged late: the check below would hold nothing"
    for task in late:
        limit = task.time_limit or app.conf.task_time_limit
        assert limit, f"{task.name} has no hard time limit"
        assert limit + settings.CELERY_RESERVED_WAIT_SECONDS <= settings.CELERY_VISIBILITY_TIMEOUT, task.name


def test_the_visibility_timeout_is_minutes_not_an_hour():
    # A killed reply or delivery comes back in minutes; an hour left a channel's work waiting.
    assert settings.CELERY_VISIBILITY_TIMEOUT <= 600
    if settings.CELERY_BROKER_URL.startswith("redis"):
        assert settings.CELERY_BROKER_TRANSPORT_OPTIONS["visibility_timeout"] == settings.CELERY_VISIBILITY_TIMEOUT


def test_a_running_poll_never_outlives_its_lock_and_a_killed_one_frees_its_channel_within_a_minute():
    assert poll_channel.time_limit < polling.LEASE_SECONDS <= 60
    assert poll_channel.soft_time_limit > polling.POLL_TIME_BUDGET_SECONDS
