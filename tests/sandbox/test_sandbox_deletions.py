"""End to end: people delete posts and comments on the sandbox platforms, and Escucha, through the
real client libraries, erases them — X by a compliance job, Facebook by its ``remove`` webhook and
by lookups, YouTube by refreshing its comments — while the reports' totals stay as they were."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.core.cache import cache
from django.db.models import Sum
from django.utils import timezone

from listening.models import Channel, Mention, PrivacyAuditEntry
from listening.polling import channel_poll
from listening.privacy import platform_deletions_check_all
from reports.models import ChannelDay
from sandbox.deletions import posts_delete
from sandbox.management.commands.demo_setup import _demo_channels
from sandbox.models import SandboxPost
from tests.factories import BrandFactory, TrackedTermFactory

pytestmark = pytest.mark.django_db(transaction=True)


def totals(brand) -> dict:
    rows = ChannelDay.objects.filter(brand=brand).values("sentiment").annotate(n=Sum("count"))
    return {row["sentiment"]: row["n"] for row in rows}


def test_items_deleted_on_each_sandbox_platform_are_erased_in_escucha(live_server, settings):
    cache.clear()
    settings.SITE_URL = live_server.url
    brand = BrandFactory(name="Acme", slug="acme")
    TrackedTermFactory(brand=brand, kind="brand", text="Acme")
    _demo_channels(brand)
    for channel in Channel.objects.filter(brand=brand):
        assert channel_poll(channel=channel).error == ""
    before = totals(brand)
    stored = Mention.objects.filter(brand=brand).count()

    doomed = {}
    for platform, kinds in (("x", ["tweet"]), ("facebook", ["comment"]), ("youtube", ["comment"])):
        known = set(Mention.objects.filter(channel__platform=platform).values_list("external_id", flat=True))
        post = SandboxPost.objects.filter(platform=platform, kind__in=kinds, external_id__in=known).first()
        assert post is not None, platform
        doomed[platform] = post.external_id
    facebook = Mention.objects.get(channel__platform="facebook", external_id=doomed["facebook"])

    # Facebook tells at once: the sandbox delivers a signed remove change to the channel's webhook.
    posts_delete(SandboxPost.objects.filter(platform="facebook", external_id=doomed["facebook"]))
    facebook.refresh_from_db()
    assert facebook.erased_reason == "platform" and facebook.text == ""

    deleted = list(SandboxPost.objects.filter(external_id__in=[doomed["x"], doomed["youtube"]]))
    gone_with = [p.external_id for p in posts_delete(deleted)]  # a YouTube comment takes its replies
    # The others are asked about once their check is due: X and Facebook daily, YouTube after 20 days.
    Mention.objects.filter(brand=brand).update(fetched_at=timezone.now() - timedelta(days=21))
    platform_deletions_check_all()  # X's job is created and its ids uploaded
    platform_deletions_check_all(now=timezone.now() + timedelta(minutes=11))  # its result is read

    for platform in ("x", "youtube"):
        mentions = Mention.objects.filter(channel__platform=platform, erased_reason="platform")
        assert mentions.filter(external_id__startswith="erased:").count() == mentions.count() >= 1
        for mention in mentions:  # out of the inbox's queue, nothing of the person left
            assert mention.status not in ("new", "open") and mention.text == "" and mention.author.is_anonymous
    erased = set(Mention.objects.filter(erased_reason="platform").values_list("channel__platform", flat=True))
    assert erased == {"x", "facebook", "youtube"}
    left = Mention.objects.filter(brand=brand, erased_at__isnull=True).count()
    known_gone = Mention.objects.filter(erased_reason="platform").count()
    assert left + known_gone == stored and known_gone <= 2 + len(gone_with)
    assert PrivacyAuditEntry.objects.filter(action="platform_deletion", brand=brand).exists()
    assert totals(brand) == before  # counted as nobody's, not taken away
