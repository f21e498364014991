"""End to end: the demo channels, polled through the real client libraries from the sandbox."""

from __future__ import annotations

from io import StringIO

import pytest
from django.core.cache import cache

from listening.models import Channel, Mention, Sentiment
from listening.polling import channel_poll
from sandbox.management.commands.demo_setup import _demo_channels
from tests.factories import BrandFactory, TrackedTermFactory, role_groups

pytestmark = pytest.mark.django_db(transaction=True)


def test_every_demo_channel_fills_the_inbox_and_a_second_poll_adds_nothing(live_server, settings):
    cache.clear()
    settings.SITE_URL = live_server.url
    brand = BrandFactory(name="Acme", slug="acme")
    TrackedTermFactory(brand=brand, kind="brand", text="Acme")
    _demo_channels(brand)
    channels = list(Channel.objects.filter(brand=brand))
    assert len(channels) == 6
    for channel in channels:
        outcome = channel_poll(channel=channel)
        assert outcome.error == "", (channel.platform, outcome.error)
        channel.refresh_from_db()
        assert channel.state == Channel.State.OK and channel.last_success_at
    total = Mention.objects.filter(brand=brand).count()
    assert total > 20
    assert set(Mention.objects.values_list("channel__platform", flat=True)) == {
        "x",
        "facebook",
        "instagram",
        "youtube",
        "linkedin",
        "feed",
    }
    languages = set(Mention.objects.values_list("language", flat=True))
    assert {"en", "es"} <= languages
    assert Mention.objects.filter(language="es").exclude(sentiment=Sentiment.UNSCORED).exists()
    assert Mention.objects.filter(terms__text="Acme").exists()

    for channel in Channel.objects.filter(brand=brand):
        assert channel_poll(channel=channel).created == 0
    assert Mention.objects.filter(brand=brand).count() == total


def test_the_demo_reads_as_the_product_will_be_used(live_server, settings):
    """``demo_setup`` and a first poll: every ticket is a different customer's own case, Billing gets
    money complaints, and the outlets' posts are read as news, not as cases of their own."""
    from django.core.management import call_command

    from config.roles import ADMIN, ROLE_PERMISSIONS
    from responses.models import Ticket
    from sandbox import generator

    cache.clear()
    settings.SITE_URL = live_server.url
    role_groups([ADMIN, *ROLE_PERMISSIONS])  # a live-server test's flush took the migration's groups
    call_command("demo_setup", stdout=StringIO())
    for channel in Channel.objects.all():
        assert channel_poll(channel=channel).error == ""
    media = {p.name for p in generator.PERSONAS if p.role == "media"} | {
        f"@{p.handle}" for p in generator.PERSONAS if p.role == "media"
    }
    tickets = list(Ticket.objects.select_related("mention__author", "department"))
    assert tickets
    texts = [t.mention.text for t in tickets]
    assert len(set(texts)) == len(texts), "one forum post behind several tickets"
    billing = [t for t in tickets if t.department.name == "Billing"]
    assert billing
    money = ("refund", "reembolso", "charge", "cobr", "invoice", "factura")
    assert all(any(word in t.mention.text.lower() for word in money) for t in billing), [
        t.mention.text for t in billing
    ]
    assert not [t for t in billing if t.mention.author.name in media], "an outlet complaining about its own invoice"
    by_text: dict[str, set[int]] = {}
    for text, author in Mention.objects.values_list("text", "author_id"):
        by_text.setdefault(text, set()).add(author)
    assert not {text: a for text, a in by_text.items() if len(a) > 1}
