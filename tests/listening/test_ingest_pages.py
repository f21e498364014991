"""Items stored a page at a time leave the database as storing them one by one does: the same
mentions and thread parents (a reply stored pages before its parent, or after), each person's
latest known profile, and the same counts in every rollup table."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from listening.connectors import FetchedAuthor, FetchedItem
from listening.ingest import ingest_items
from listening.models import Author, Brand, Mention, Platform, TrackedTerm
from reports.rollups import ROLLUPS
from tests.factories import BrandFactory, ChannelFactory, TrackedTermFactory

pytestmark = pytest.mark.django_db

T0 = datetime(2026, 11, 20, 23, 30, tzinfo=UTC)  # the items span two days
TEXTS = [
    "I love my new Acme anvil, best purchase this year! #acme",
    "@acme I was charged twice, I want a refund now",
    "Globex is cheaper and their support actually answers",
    "¿Alguien sabe si Initech tiene mejor garantía que Acme?",
    "<script>alert('acme')</script> refund",
    "",
]

profiles = st.fixed_dictionaries(
    {
        "handle": st.sampled_from(["", "ana", "ana_b"]),
        "name": st.sampled_from(["", "Ana"]),
        "followers": st.sampled_from([None, 0, 7, 9000]),
        "verified": st.booleans(),
        "profile_url": st.sampled_from(["", "https://x.example/ana"]),
    }
)
items = st.lists(
    st.fixed_dictionaries(
        {
            "id": st.integers(1, 14),
            "text": st.sampled_from(TEXTS),
            "author": st.integers(1, 3),
            "parent": st.one_of(st.just(0), st.integers(1, 14)),  # 0: not a reply
            "page": st.integers(0, 3),  # which page it arrives in
        }
    ),
    min_size=1,
    max_size=14,
)


def _fetched(spec: dict[str, Any], people: str, profiles: list[dict[str, Any]]) -> FetchedItem:
    # A page holds one profile per person (of two in one page, the last one counts whole).
    profile = profiles[(spec["author"] - 1) * 4 + spec["page"]]
    return FetchedItem(
        external_id=str(spec["id"]),
        text=spec["text"],
        author=FetchedAuthor(external_id=f"{people}-{spec['author']}", **profile),
        published_at=T0 + timedelta(minutes=20 * spec["id"]),
        parent_external_id=str(spec["parent"]) if spec["parent"] else "",
        source="https://news.example/a" if spec["id"] % 3 == 0 else "",
    )


def _brand(people: str) -> Brand:
    brand = BrandFactory(slug=people)
    TrackedTermFactory(brand=brand, kind=TrackedTerm.Kind.BRAND, text="Acme")
    TrackedTermFactory(brand=brand, kind=TrackedTerm.Kind.COMPETITOR, text="Globex", group="Globex")
    return brand


def _stored(brand: Brand, people: str) -> dict[str, Any]:
    """What the brand's ingestion stored, in terms that do not differ between two brands."""
    mentions = {
        m.external_id: (
            m.text,
            m.author.external_id.removeprefix(people),
            m.parent.external_id if m.parent else None,
            m.sentiment,
            m.intent,
            sorted(t.text for t in m.terms.all()),
            m.published_at,
            m.source,
        )
        for m in Mention.objects.filter(brand=brand).select_related("author", "parent").prefetch_related("terms")
    }
    authors = {
        a.external_id.removeprefix(people): (a.handle, a.name, a.followers, a.verified, a.profile_url, a.avatar_url)
        for a in Author.objects.filter(platform=Platform.X, external_id__startswith=f"{people}-")
    }
    people_ids = dict(Author.objects.filter(external_id__startswith=f"{people}-").values_list("pk", "external_id"))
    terms = dict(TrackedTerm.objects.filter(brand=brand).values_list("pk", "text"))
    rollups = {}
    for model in ROLLUPS:
        rows = []
        for row in model.objects.filter(brand=brand).values():
            row = {k: v for k, v in row.items() if k not in ("id", "brand_id", "channel_id", "updated_at")}
            if "author_id" in row:
                row["author_id"] = people_ids[row["author_id"]].removeprefix(people)
            if "term_id" in row:
                row["term_id"] = terms[row["term_id"]]
            rows.append(sorted(row.items(), key=lambda kv: kv[0]))
        rollups[model.__name__] = sorted(rows, key=repr)
    return {"mentions": mentions, "authors": authors, "rollups": rollups}


@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(specs=items, profiles=st.lists(profiles, min_size=12, max_size=12))
def test_pages_store_what_their_items_store_one_by_one(db, specs, profiles) -> None:
    run = Brand.objects.count()
    paged, alone = f"paged{run}", f"alone{run}"
    paged_channel = ChannelFactory(brand=_brand(paged), platform=Platform.X)
    alone_channel = ChannelFactory(brand=_brand(alone), platform=Platform.X)

    for page in range(4):
        ingest_items(channel=paged_channel, items=[_fetched(s, paged, profiles) for s in specs if s["page"] == page])
    for page in range(4):
        for spec in specs:
            if spec["page"] == page:
                ingest_items(channel=alone_channel, items=[_fetched(spec, alone, profiles)])

    stored = _stored(paged_channel.brand, paged)
    assert stored == _stored(alone_channel.brand, alone)
    assert len(stored["mentions"]) == len({s["id"] for s in specs})
