"""End to end: the demo channels, polled through the real client libraries from the sandbox."""

from __future__ import annotations

import pytest
from django.core.cache import cache

from listening.models import Channel, Mention, Sentiment
from listening.polling import channel_poll
from sandbox.management.commands.demo_setup import _demo_channels
from tests.factories import BrandFactory, TrackedTermFactory

pytestmark = pytest.mark.django_db(transaction=True)


def test_every_demo_channel_fills_the_inbox_and_a_second_poll_adds_nothing(live_server, settings):
    cache.clear()
    settings.SITE_URL = live_server.url
    brand = BrandFactory(name="Acme", slug="acme")
    TrackedTermFactory(brand=brand, kind="brand", text="Acme")
    _demo_channels(brand)
    channels = list(Channel.objects.filter(brand=brand))
    assert len(channels) == 4
    for channel in channels:
        outcome = channel_poll(channel=channel)
        assert outcome.error == "", (channel.platform, outcome.error)
        channel.refresh_from_db()
        assert channel.state == Channel.State.OK and channel.last_success_at
    total = Mention.objects.filter(brand=brand).count()
    assert total > 20
    assert set(Mention.objects.values_list("channel__platform", flat=True)) == {"x", "facebook", "youtube", "feed"}
    languages = set(Mention.objects.values_list("language", flat=True))
    assert {"en", "es"} <= languages
    assert Mention.objects.filter(language="es").exclude(sentiment=Sentiment.UNSCORED).exists()
    assert Mention.objects.filter(terms__text="Acme").exists()

    for channel in Channel.objects.filter(brand=brand):
        assert channel_poll(channel=channel).created == 0
    assert Mention.objects.filter(brand=brand).count() == total
