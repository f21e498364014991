"""A worker reads a brand's configuration once and uses it page after page, until it changes: then
the very next page uses the change, whatever made it."""

from __future__ import annotations

import itertools
from datetime import UTC, datetime

import pytest
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext

from listening import configuration
from listening.connectors import FetchedAuthor, FetchedItem
from listening.ingest import ingest_items
from listening.learning import FEATURES_VERSION, builtin
from listening.models import AnalyzerModel, Brand, Channel, Mention, Platform, TrackedTerm
from tests.factories import BrandFactory, ChannelFactory, TrackedTermFactory

pytestmark = pytest.mark.django_db

T0 = datetime(2026, 11, 20, 12, 0, tzinfo=UTC)
_ids = itertools.count()


def one(channel: Channel, text: str) -> Mention:
    """The mention a page of one item made, as stored."""
    said = FetchedItem(
        external_id=f"c{next(_ids)}", text=text, author=FetchedAuthor(external_id="a1", handle="h1"), published_at=T0
    )
    (created,) = ingest_items(channel=channel, items=[said]).created
    return Mention.objects.get(pk=created.pk)


def terms_of(mention: Mention) -> list[str]:
    return [term.text for term in mention.terms.all()]


@pytest.fixture
def channel(team) -> Channel:
    return ChannelFactory(brand=team.brand, platform=Platform.X)


def test_a_term_changed_by_a_queryset_update_is_matched_by_the_next_page(team, channel) -> None:
    term = TrackedTermFactory(brand=team.brand, kind=TrackedTerm.Kind.BRAND, text="Acme")
    assert terms_of(one(channel, "Acme anvils")) == ["Acme"]

    TrackedTerm.objects.filter(pk=term.pk).update(text="Roadrunner")
    assert terms_of(one(channel, "Roadrunner rockets")) == ["Roadrunner"]

    TrackedTerm.objects.filter(pk=term.pk).update(is_active=False)
    assert terms_of(one(channel, "Roadrunner rockets")) == []


def test_a_term_added_in_bulk_or_deleted_is_used_by_the_next_page(team, channel) -> None:
    assert terms_of(one(channel, "Acme anvils")) == []

    TrackedTerm.objects.bulk_create([TrackedTerm(brand=team.brand, kind=TrackedTerm.Kind.BRAND, text="Acme")])
    assert terms_of(one(channel, "Acme anvils")) == ["Acme"]

    TrackedTerm.objects.filter(brand=team.brand).delete()
    assert terms_of(one(channel, "Acme anvils")) == []


def test_a_brand_saved_from_an_instance_read_before_a_change_does_not_bring_its_old_terms_back(team, channel) -> None:
    term = TrackedTermFactory(brand=team.brand, kind=TrackedTerm.Kind.BRAND, text="Acme")
    brand = Brand.objects.get(pk=team.brand.pk)  # a form's instance, read before the change
    one(channel, "Acme anvils")

    TrackedTerm.objects.filter(pk=term.pk).update(text="Roadrunner")
    brand.save()  # every column, the stamp it read among them

    assert terms_of(one(channel, "Roadrunner rockets")) == ["Roadrunner"]


def test_a_change_rolled_back_never_lends_its_stamp_to_a_later_one(team, channel) -> None:
    term = TrackedTermFactory(brand=team.brand, kind=TrackedTerm.Kind.BRAND, text="Acme")
    one(channel, "Acme anvils")
    with pytest.raises(RuntimeError), transaction.atomic():
        TrackedTerm.objects.filter(pk=term.pk).update(text="Globex")
        assert terms_of(one(channel, "Globex gadgets")) == ["Globex"]
        raise RuntimeError("rolled back")

    TrackedTerm.objects.filter(pk=term.pk).update(text="Roadrunner")  # the same number of changes again

    assert terms_of(one(channel, "Globex gadgets and Roadrunner rockets")) == ["Roadrunner"]


def test_a_brand_model_stored_or_set_aside_is_used_from_the_next_page_on(team, channel) -> None:
    assert one(channel, "my order never arrived").analysis["analyzer"] == "built-in"

    AnalyzerModel.objects.bulk_create(
        [
            AnalyzerModel(
                brand=team.brand, language="en", target="intent", model_accuracy=0.9, builtin_accuracy=0.8,
                in_use=True, features_version=FEATURES_VERSION, weights=builtin("en").to_bytes(),
            )
        ]
    )  # fmt: skip
    assert one(channel, "my order never arrived").analysis["analyzer"] == "brand"

    AnalyzerModel.objects.filter(brand=team.brand).update(in_use=False)
    assert one(channel, "my order never arrived").analysis["analyzer"] == "built-in"


def test_pages_after_the_first_read_neither_terms_nor_models(team, channel) -> None:
    TrackedTermFactory(brand=team.brand, kind=TrackedTerm.Kind.BRAND, text="Acme")
    one(channel, "Acme anvils")

    with CaptureQueriesContext(connection) as queries:
        mention = one(channel, "Acme rockets")

    tables = ('FROM "listening_trackedterm"', 'FROM "listening_analyzermodel"')
    assert [q["sql"] for q in queries if any(table in q["sql"] for table in tables)] == []
    assert terms_of(mention) == ["Acme"]


def test_a_worker_keeps_the_configuration_of_a_bounded_number_of_brands(monkeypatch) -> None:
    monkeypatch.setattr(configuration, "BRANDS_KEPT", 2)
    channels = [ChannelFactory(brand=BrandFactory(), platform=Platform.X) for _ in range(4)]
    for channel in channels:
        TrackedTermFactory(brand=channel.brand, kind=TrackedTerm.Kind.BRAND, text=f"Brand{channel.brand.pk}")
        one(channel, "hello")

    assert len(configuration._kept) == 2
    assert set(configuration._kept) == {channel.brand.pk for channel in channels[2:]}
    # The brand forgotten is read again, as it is now.
    assert terms_of(one(channels[0], f"Brand{channels[0].brand.pk} again")) == [f"Brand{channels[0].brand.pk}"]
