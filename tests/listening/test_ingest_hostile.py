"""Whatever a platform (or whoever forged its answer) sends in a page, the page is stored: each
item is either stored or left out and listed on the channel with the reason, and the cursor moves
on. A page that failed as a whole would be fetched again at every poll and fail again, and the
channel would never move past it."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from listening.connectors import FetchedAuthor, FetchedItem
from listening.ingest import ingest_items
from listening.models import Mention, Platform, TrackedTerm
from tests.factories import ChannelFactory, RoutingRuleFactory, TrackedTermFactory

pytestmark = pytest.mark.django_db

# Text from strangers: any code point (NUL, lone surrogates, right-to-left marks, emoji), and the
# brand's words among them so that the terms, the rules and the reports have something to read.
text = st.one_of(
    st.text(max_size=60),
    st.lists(st.sampled_from(["Acme", "refund", "reembolso", "#AcmeFail", "@acme", "?", "😡", "\x00", "\ud800"])).map(
        " ".join
    ),
)
huge = st.one_of(st.integers(-(2**80), 2**80), st.sampled_from([0, 2**31, 2**63 - 1, 2**63, 10**12, 10**12 + 1]))
json_values = st.recursive(
    st.one_of(st.none(), st.booleans(), huge, st.floats(allow_nan=False, allow_infinity=False), text),
    lambda inner: st.one_of(st.lists(inner, max_size=3), st.dictionaries(text, inner, max_size=3)),
    max_leaves=6,
)
moments = st.datetimes(min_value=datetime(1, 1, 2), max_value=datetime(9999, 12, 30), timezones=st.just(UTC))
items = st.lists(
    st.builds(
        FetchedItem,
        external_id=st.one_of(st.integers(1, 6).map(str), text.filter(bool)),
        text=text,
        author=st.builds(
            FetchedAuthor,
            external_id=st.one_of(st.integers(1, 3).map(str), text.filter(bool)),
            handle=text,
            name=text,
            followers=huge,
            verified=st.booleans(),
            profile_url=text,
            avatar_url=text,
        ),
        published_at=moments,
        kind=st.one_of(st.sampled_from(Mention.Kind.values), text),
        url=text,
        title=text,
        parent_external_id=st.one_of(st.just(""), st.integers(1, 6).map(str), text),
        source=text,
        thread_root=text,
        source_title=text,
        metrics=st.dictionaries(text, json_values, max_size=4),
        raw_language=st.one_of(st.sampled_from(["", "en", "es", "pt-BR", "und"]), text),
        reply_route=text,
    ),
    min_size=1,
    max_size=8,
)


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(page=items)
def test_any_page_is_stored_item_by_item_or_listed_and_the_cursor_moves_on(team, page) -> None:
    if not team.brand.terms.exists():
        TrackedTermFactory(brand=team.brand, kind=TrackedTerm.Kind.BRAND, text="Acme")
        RoutingRuleFactory(brand=team.brand, name="Refunds", position=0,
                           conditions=[{"field": "text", "op": "any", "value": ["refund", "reembolso"]}],
                           actions=[{"type": "ticket", "department": team.billing.pk}, {"type": "tag", "tag": "money"}])  # fmt: skip
    channel = ChannelFactory(brand=team.brand, platform=Platform.X)

    result = ingest_items(channel=channel, items=page, cursor={"since_id": "next"})

    distinct = {item.external_id for item in page if item.external_id}  # one without an id is no item
    rejected = {r.external_id for r in result.rejected}
    assert {m.external_id for m in result.created} | rejected == distinct
    assert Mention.objects.filter(channel=channel).count() == len(result.created)
    channel.refresh_from_db()
    assert channel.cursor == {"since_id": "next"}
    assert {r["external_id"] for r in channel.rejected_items} == {i[:255] for i in rejected}
