"""A database from before a migration keeps what it means after it."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from listening.models import Channel
from tests.migrations import migrated

ERASED_MARK = [("listening", "0022_fewer_indexes_written_again")]


@pytest.mark.django_db(transaction=True)
def test_a_channel_something_was_erased_from_before_the_mark_existed_is_marked():
    """Ingestion looks for erased ids only on a marked channel: one erased from before the mark
    must be marked, or an erased post fetched again would be stored again."""
    executor = migrated(ERASED_MARK)
    old = executor.loader.project_state(ERASED_MARK).apps
    brand = old.get_model("listening", "Brand").objects.create(name="Acme", slug="acme")
    channel_model, mention_model = old.get_model("listening", "Channel"), old.get_model("listening", "Mention")
    author = old.get_model("listening", "Author").objects.create(platform="x", external_id="1")
    erased_from, untouched = (channel_model.objects.create(brand=brand, platform="x", name=n) for n in "ab")
    at = datetime(2026, 11, 20, tzinfo=UTC)
    for channel, erased in ((erased_from, at), (erased_from, None), (untouched, None)):
        mention_model.objects.create(
            brand=brand, channel=channel, author=author, external_id=f"{channel.pk}-{erased}", text="hi",
            published_at=at, fetched_at=at, erased_at=erased,
        )  # fmt: skip

    migrated(executor.loader.graph.leaf_nodes())

    marked = dict(Channel.objects.values_list("name", "has_erased_mentions"))
    assert marked == {"a": True, "b": False}
