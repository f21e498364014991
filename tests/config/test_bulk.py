"""``config.bulk``: writing many rows at once stores what Django's own bulk methods store."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from django.forms.models import model_to_dict

from config.bulk import bulk_insert
from listening.models import Mention
from tests.factories import AuthorFactory, ChannelFactory

pytestmark = pytest.mark.django_db


def test_bulk_insert_stores_what_bulk_create_stores_and_sets_the_ids(team) -> None:
    channel = ChannelFactory(brand=team.brand)
    author = AuthorFactory(platform=channel.platform)

    def new(external_id: str) -> Mention:
        return Mention(
            brand_id=channel.brand_id, channel=channel, author=author, external_id=external_id,
            text="Acme 'quoted' %s ñ \x01 😍", title="", language="es", sentiment_score=-0.25,
            analysis={"cues": [["complaint", "cobró"]], "lexicon": None}, metrics={"likes": 3},
            tags=["a"], published_at=datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC), fetched_at=datetime(2026, 1, 3, tzinfo=UTC),
        )  # fmt: skip

    ours = bulk_insert(Mention, [new("ours-1"), new("ours-2")])
    theirs = Mention.objects.bulk_create([new("theirs-1"), new("theirs-2")])

    assert all(m.pk is not None and not m._state.adding for m in ours)
    for mine, other in zip(ours, theirs, strict=True):
        stored, expected = Mention.objects.get(pk=mine.pk), Mention.objects.get(pk=other.pk)
        left, right = model_to_dict(stored), model_to_dict(expected)
        assert left.pop("external_id").replace("ours", "") == right.pop("external_id").replace("theirs", "")
        left.pop("id"), right.pop("id")
        assert left == right
        assert stored.updated_at is not None and stored.text == mine.text
