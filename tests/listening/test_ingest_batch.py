"""A page ingested at once stores what its items ingested one by one store: the same mentions,
scored, matched, threaded and routed alike, each once, whatever the page holds (repeats, replies
before their parent, hostile text)."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from listening.connectors import FetchedAuthor, FetchedItem
from listening.ingest import ingest_items
from listening.models import Mention, Platform, TrackedTerm
from responses.models import Ticket
from tests.factories import ChannelFactory, RoutingRuleFactory, TrackedTermFactory

pytestmark = pytest.mark.django_db

T0 = datetime(2026, 11, 20, 12, 0, tzinfo=UTC)
TEXTS = [
    "I love my new Acme anvil, best purchase this year!",
    "@acme I was charged twice, I want a refund now",
    "Globex is cheaper and their support actually answers",
    "Acme me cobró dos veces, quiero un reembolso ya",
    "¿Alguien sabe si Initech tiene mejor garantía que Acme?",
    "Obrigado Acme",
    "<script>alert('acme')</script> refund",
    "ok",
    "",
]

items = st.lists(
    st.fixed_dictionaries(
        {
            "id": st.integers(1, 12),  # few ids: repeats within a page are frequent
            "text": st.sampled_from(TEXTS),
            "author": st.integers(1, 4),
            "parent": st.one_of(st.just(0), st.integers(1, 12)),  # 0: not a reply
            "language": st.sampled_from(["", "en", "es", "pt-BR"]),
        }
    ),
    min_size=1,
    max_size=15,
)


def _fetched(spec: dict[str, Any]) -> FetchedItem:
    return FetchedItem(
        external_id=str(spec["id"]),
        text=spec["text"],
        author=FetchedAuthor(external_id=f"batch-{spec['author']}", handle=f"h{spec['author']}", followers=10),
        published_at=T0 + timedelta(minutes=spec["id"]),
        parent_external_id=str(spec["parent"]) if spec["parent"] and spec["parent"] != spec["id"] else "",
        raw_language=spec["language"],
    )


def _stored(channel) -> dict[str, tuple]:
    """Each stored mention by platform id, with what differs between two channels left out."""
    rows = {}
    for m in Mention.objects.filter(channel=channel).select_related("author", "parent").prefetch_related("terms"):
        log = [
            {**{k: v for k, v in entry.items() if k != "at"}, "did": [d.split("#")[0] for d in entry["did"]]}
            for entry in m.routing_log
        ]
        rows[m.external_id] = (
            m.text, m.title, m.language, m.kind, m.author.external_id,
            m.parent.external_id if m.parent else None, m.parent_external_id,
            m.sentiment, m.analyzer_sentiment, m.sentiment_score, m.intent, m.analyzer_intent, m.analysis,
            sorted(t.text for t in m.terms.all()), m.status, m.tags, log, m.published_at,
            sorted(Ticket.objects.filter(mention=m).values_list("department__name", "priority", "status")),
        )  # fmt: skip
    return rows


@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(specs=items)
def test_a_page_stores_what_its_items_store_one_by_one_each_once(team, specs) -> None:
    if not team.brand.terms.exists():
        TrackedTermFactory(brand=team.brand, kind=TrackedTerm.Kind.BRAND, text="Acme")
        TrackedTermFactory(brand=team.brand, kind=TrackedTerm.Kind.COMPETITOR, text="Globex")
        RoutingRuleFactory(brand=team.brand, name="Refunds", position=0,
                           conditions=[{"field": "text", "op": "any", "value": ["refund", "reembolso"]}],
                           actions=[{"type": "ticket", "department": team.billing.pk}, {"type": "tag", "tag": "money"}])  # fmt: skip
    page = [_fetched(spec) for spec in specs]
    together = ChannelFactory(brand=team.brand, platform=Platform.X)
    alone = ChannelFactory(brand=team.brand, platform=Platform.X)

    created = ingest_items(channel=together, items=page).created
    for fetched in page:
        ingest_items(channel=alone, items=[fetched])

    distinct = {fetched.external_id for fetched in page}
    assert sorted(m.external_id for m in created) == sorted(distinct)
    assert Mention.objects.filter(channel=together).count() == len(distinct)  # each once
    assert _stored(together) == _stored(alone)
    # The page again (a redelivery) stores nothing and changes nothing.
    before = _stored(together)
    assert ingest_items(channel=together, items=page).created == []
    assert _stored(together) == before


def _refused(fetched: FetchedItem) -> FetchedItem:
    """``fetched`` with a follower count past what the database holds: refused as data."""
    return replace(fetched, author=FetchedAuthor(external_id="liar", handle="liar", followers=10**19))


@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(specs=items, refused=st.sets(st.integers(1, 12), max_size=4))
def test_a_page_with_items_the_database_refuses_stores_the_others_as_they_store_alone(team, specs, refused) -> None:
    if not team.brand.terms.exists():
        TrackedTermFactory(brand=team.brand, kind=TrackedTerm.Kind.BRAND, text="Acme")
        RoutingRuleFactory(brand=team.brand, name="Refunds", position=0,
                           conditions=[{"field": "text", "op": "any", "value": ["refund", "reembolso"]}],
                           actions=[{"type": "ticket", "department": team.billing.pk}, {"type": "tag", "tag": "money"}])  # fmt: skip
    page = [_refused(f) if int(f.external_id) in refused else f for f in map(_fetched, specs)]
    together = ChannelFactory(brand=team.brand, platform=Platform.X)
    alone = ChannelFactory(brand=team.brand, platform=Platform.X)

    result = ingest_items(channel=together, items=page)
    for fetched in page:
        if int(fetched.external_id) not in refused:
            ingest_items(channel=alone, items=[fetched])

    distinct = list(dict.fromkeys(fetched.external_id for fetched in page))
    # Each refused item listed once, in the page's order; every other item stored, once.
    assert [r.external_id for r in result.rejected] == [i for i in distinct if int(i) in refused]
    assert sorted(m.external_id for m in result.created) == sorted(i for i in distinct if int(i) not in refused)
    assert _stored(together) == _stored(alone)
    together.refresh_from_db()
    assert sorted(r["external_id"] for r in together.rejected_items) == sorted(i for i in distinct if int(i) in refused)


def test_a_text_a_page_holds_many_times_is_read_once_and_stored_for_each(team, monkeypatch) -> None:
    from listening import ingest, language

    TrackedTermFactory(brand=team.brand, kind=TrackedTerm.Kind.BRAND, text="Acme")
    read, detected = [], []
    analyzer_for = ingest.analyzer_for

    def counting_analyzer(brand_id):
        analyze = analyzer_for(brand_id)
        return lambda text, lang: read.append(text) or analyze(text, lang)

    detector = language.language_detector()

    class CountingDetector:
        def __getattr__(self, name):
            method = getattr(detector, name)
            return lambda texts, *a: detected.extend(texts) or method(texts, *a)

    monkeypatch.setattr(ingest, "analyzer_for", counting_analyzer)
    monkeypatch.setattr(language, "language_detector", CountingDetector)
    retweet = "@acme I was charged twice, I want a refund now"
    page = [_fetched({"id": n, "text": retweet, "author": n % 4 + 1, "parent": 0, "language": ""}) for n in range(1, 9)]

    created = ingest_items(channel=ChannelFactory(brand=team.brand, platform=Platform.X), items=page).created

    assert read == [retweet]
    assert len(detected) == 1
    assert len(created) == 8
    stored = Mention.objects.filter(pk__in=[m.pk for m in created]).prefetch_related("terms")
    assert {(m.language, m.sentiment, m.intent, tuple(t.text for t in m.terms.all())) for m in stored} == {
        ("en", "negative", "complaint", ("Acme",))
    }
