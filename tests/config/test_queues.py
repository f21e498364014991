"""Every queue a task is routed to has a worker: in production (docker-compose.yml) and in `make run`."""

from __future__ import annotations

import base64
import json
import shlex
from pathlib import Path

import yaml
from django.conf import settings

ROOT = Path(__file__).resolve().parents[2]


def routed_queues() -> set[str]:
    return {route["queue"] for route in settings.CELERY_TASK_ROUTES.values()} | {settings.CELERY_TASK_DEFAULT_QUEUE}


def consumed(argv: list[str]) -> set[str]:
    """The queues of a `celery worker -Q a,b` command line."""
    for flag in ("-Q", "--queues"):
        if flag in argv:
            return set(argv[argv.index(flag) + 1].split(","))
    return set()


def compose_workers() -> dict[str, set[str]]:
    services = yaml.safe_load((ROOT / "docker-compose.yml").read_text())["services"]
    return {
        name: consumed(service["command"])
        for name, service in services.items()
        if isinstance(service.get("command"), list) and "worker" in service["command"]
    }


def test_every_routed_queue_has_a_compose_worker() -> None:
    workers = compose_workers()
    covered = set().union(*workers.values())
    assert routed_queues() - covered == set(), workers


def test_the_development_worker_consumes_every_routed_queue() -> None:
    lines = dict(line.split(":", 1) for line in (ROOT / "Procfile.dev").read_text().splitlines() if line.strip())
    assert routed_queues() <= consumed(shlex.split(lines["worker"]))
    assert set(settings.CELERY_QUEUES_ALL.split(",")) == routed_queues()


def test_webhooks_have_a_worker_of_their_own() -> None:
    """A slow or failing receiver must never hold up a reply to a customer or an e-mail."""
    from config.celery import app

    queue = app.amqp.router.route({}, "responses.deliver_webhook")["queue"].name
    assert queue == "integrations"
    assert [name for name, queues in compose_workers().items() if queue in queues] == ["worker-integrations"]
    assert compose_workers()["worker-integrations"] == {"integrations"}


def test_facebook_deliveries_have_a_queue_and_a_worker_of_their_own() -> None:
    """No poll, however long, stands between a webhook delivery and the inbox."""
    from config.celery import app

    queue = app.amqp.router.route({}, "listening.ingest_webhook")["queue"].name
    assert queue == "webhooks"
    assert [name for name, queues in compose_workers().items() if queue in queues] == ["worker-webhooks"]
    assert compose_workers()["worker-webhooks"] == {"webhooks"}


def test_training_runs_beside_the_workers_that_ingest_not_in_them() -> None:
    """Training imports scikit-learn, which a worker that ingests keeps out of its pool processes."""
    from config.celery import app
    from listening.tasks import INGESTING_QUEUES

    queue = app.amqp.router.route({}, "listening.train_analyzers")["queue"].name
    assert queue not in INGESTING_QUEUES
    assert all(queue not in queues for queues in compose_workers().values() if queues & INGESTING_QUEUES)


def test_a_batch_of_task_messages_shows_its_arguments_without_walking_them(
    broker, db, monkeypatch, django_capture_on_commit_callbacks
) -> None:
    """Celery's saferepr walked each message's arguments (a batch of 25 e-mails) value by value:
    the messages queued after commit show the arguments' repr, cut to Celery's length."""
    from celery import signals
    from celery.app import amqp

    from config.celery import batched, queue_all_after_commit

    def refused(*args, **kwargs):
        raise AssertionError("saferepr walked the arguments")

    monkeypatch.setattr(amqp, "saferepr", refused)
    sent: list[dict] = []

    def published(*, headers: dict, **kwargs) -> None:
        sent.append(headers)

    signals.before_task_publish.connect(published)
    mails = [{"notification_id": n, "subject": f"Ticket #{n} " + "x" * 80} for n in range(30)]
    try:
        with django_capture_on_commit_callbacks(execute=True):
            lone = ("responses.notify_email", (), {"notification_id": 7})
            queue_all_after_commit([*batched("responses.notify_email", "responses.notify_emails", mails), lone])
    finally:
        signals.before_task_publish.disconnect(published)
    shown = [(h["task"], h["argsrepr"], h["kwargsrepr"]) for h in sent]
    assert shown == [
        ("responses.notify_emails", repr((mails[:25],))[:1021] + "...", "{}"),
        ("responses.notify_emails", repr((mails[25:],)), "{}"),
        ("responses.notify_email", "()", "{'notification_id': 7}"),
    ]


def test_a_batch_of_task_messages_reaches_redis_in_one_exchange(
    broker, db, monkeypatch, django_capture_on_commit_callbacks
) -> None:
    """A round trip to Redis per message was most of the CPU of queueing a page's e-mails: a
    batch's messages travel together in one pipeline, and land in their queue as the same
    messages, in the same order."""
    import redis

    from config.celery import batched, queue_all_after_commit

    pushes: list[list[str]] = []  # the commands of each pipeline that pushes a message
    execute = redis.client.Pipeline.execute

    def counted(pipeline: redis.client.Pipeline, *args, **kwargs):
        commands = [str(command[0]) for command, _options in pipeline.command_stack]
        if "LPUSH" in commands:
            pushes.append(commands)
        return execute(pipeline, *args, **kwargs)

    monkeypatch.setattr(redis.client.Pipeline, "execute", counted)
    mails = [{"notification_id": n} for n in range(30)]
    address = {"address": "billing@example.com", "message": "New ticket #4", "url": "/tickets/4/"}
    with django_capture_on_commit_callbacks(execute=True):
        queue_all_after_commit(
            [
                *batched("responses.notify_email", "responses.notify_emails", mails),
                ("responses.notify_email_address", (), address),
            ]
        )

    assert pushes == [["LPUSH", "LPUSH", "LPUSH"]]
    # LPUSH puts the newest first; a worker takes them from the other end, oldest first.
    queued = [json.loads(raw) for raw in reversed(redis.Redis.from_url(broker.url).lrange("notifications", 0, -1))]
    bodies = [json.loads(base64.b64decode(message["body"]))[:2] for message in queued]
    assert [(message["headers"]["task"], body) for message, body in zip(queued, bodies, strict=True)] == [
        ("responses.notify_emails", [[mails[:25]], {}]),
        ("responses.notify_emails", [[mails[25:]], {}]),
        ("responses.notify_email_address", [[], address]),
    ]


def test_a_batch_the_broker_fails_is_sent_again_message_by_message(
    broker, db, monkeypatch, django_capture_on_commit_callbacks, caplog
) -> None:
    """Celery tries a lone message again when Redis fails it; a batch's one exchange is not, so a
    blip while a page's e-mails are queued would lose them all: its messages go again one by one,
    and every one of them reaches its queue."""
    import redis

    from config.celery import batched, queue_all_after_commit

    execute = redis.client.Pipeline.execute
    failed: list[int] = []

    def blip(pipeline: redis.client.Pipeline, *args, **kwargs):
        if not failed and any(str(command[0]) == "LPUSH" for command, _options in pipeline.command_stack):
            failed.append(len(pipeline.command_stack))
            raise redis.exceptions.ConnectionError("Connection reset by peer")
        return execute(pipeline, *args, **kwargs)

    monkeypatch.setattr(redis.client.Pipeline, "execute", blip)
    mails = [{"notification_id": n} for n in range(30)]
    with django_capture_on_commit_callbacks(execute=True):
        queue_all_after_commit(batched("responses.notify_email", "responses.notify_emails", mails))

    assert failed, "the batch never reached Redis"
    queued = [json.loads(raw) for raw in reversed(redis.Redis.from_url(broker.url).lrange("notifications", 0, -1))]
    bodies = [json.loads(base64.b64decode(message["body"]))[0] for message in queued]
    assert bodies == [[mails[:25]], [mails[25:]]]
    assert "sending them one by one" in caplog.text
