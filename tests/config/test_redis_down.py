"""Redis unreachable (cache and broker): every role's pages still answer, and the actions that queue
work commit it for the sweeps to queue again; /healthz names what is down."""

from __future__ import annotations

import socket
from collections.abc import Iterator

import pytest
from django.urls import reverse

from listening.models import Platform
from responses.models import Reply, Ticket
from tests.factories import ChannelFactory, MentionFactory, TicketFactory


@pytest.fixture
def redis_down(settings) -> Iterator[str]:
    """The cache and Celery's broker both on a port nothing listens on."""
    from config.celery import app

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        url = f"redis://127.0.0.1:{probe.getsockname()[1]}/0"
    settings.CACHES = {"default": {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": url}}

    def forget_connections() -> None:  # Celery keeps its broker connections for the process
        app._pool = None
        app.amqp._producer_pool = None

    saved = {key: app.conf[key] for key in ("broker_url", "task_always_eager")}
    app.conf.update(broker_url=url, task_always_eager=False)
    forget_connections()
    try:
        yield url
    finally:
        app.conf.update(saved)
        forget_connections()


@pytest.fixture
def mention(team):
    channel = ChannelFactory(brand=team.brand, platform=Platform.X)
    return MentionFactory(channel=channel, external_id="101", text="My order never arrived")


@pytest.mark.django_db
def test_every_roles_pages_answer_while_redis_is_unreachable(client, team, mention, redis_down):
    ticket = TicketFactory(mention=mention, department=team.billing)
    pages = {
        team.cm: [
            reverse("responses:inbox"),
            reverse("responses:inbox_new"),
            reverse("responses:mention_detail", args=[mention.pk]),
            reverse("responses:reply_list", args=[mention.pk]),
            "/api/v1/brands/",  # the API's throttle counts are kept in the cache
        ],
        team.billing_member: [
            reverse("responses:ticket_list"),
            reverse("responses:ticket_detail", args=[ticket.pk]),
        ],
        team.manager: [reverse("reports:report")],
    }
    for user, urls in pages.items():
        client.force_login(user)
        for url in urls:
            response = client.get(url)
            assert response.status_code == 200, (user.username, url, response.status_code)
    client.force_login(team.cm)
    presence = client.post(reverse("responses:mention_presence", args=[mention.pk]))
    assert presence.status_code == 200 and b"Also viewing" not in presence.content  # nobody known


@pytest.mark.django_db(transaction=True)  # the queueing runs on a real commit
def test_a_reply_and_a_routing_while_redis_is_unreachable_are_committed(client, team, mention, redis_down):
    client.force_login(team.cm)
    response = client.post(reverse("responses:reply_send", args=[mention.pk]), {"text": "Sorry! We are on it."})
    assert response.status_code == 302
    reply = Reply.objects.get(mention=mention)
    assert reply.status == Reply.Status.QUEUED  # the reply sweep queues it again once Redis is back

    response = client.post(reverse("responses:mention_open_ticket", args=[mention.pk]), {"department": team.billing.pk})
    assert response.status_code == 302
    assert Ticket.objects.filter(mention=mention, department=team.billing).exists()


@pytest.mark.django_db
def test_healthz_names_the_unreachable_cache_and_broker(client, redis_down):
    response = client.get("/healthz")
    assert response.status_code == 200  # web serves its pages: a load balancer keeps it in
    assert response.json() == {
        "status": "degraded",
        "checks": {"database": "ok", "broker": "unreachable", "cache": "unreachable"},
    }
