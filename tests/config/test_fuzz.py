"""Whatever is typed into a filter, an id field or a cursor, or sent to the webhook, the answer is
never a 5xx: arbitrary Unicode, NUL, Unicode digits, huge numbers and impossible or far dates."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
from typing import Any

import pytest
from django.db import transaction
from django.test import Client
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from listening.models import Platform
from tests.factories import ChannelFactory, MentionFactory, RoutingRuleFactory, TicketFactory

# Bounded so the whole file runs in seconds; the strategies lean on the known troublemakers.
FUZZ = settings(
    max_examples=50,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
SECRET = "app-s3cret"


def b64(raw: str) -> str:
    return base64.urlsafe_b64encode(raw.encode("utf-8", "surrogatepass")).decode().rstrip("=")


text = st.text(st.characters(exclude_categories=("Cs",)), max_size=40)
numbers = st.one_of(
    st.integers(min_value=-(2**70), max_value=2**70).map(str),
    st.sampled_from(["0", "9" * 25, "²", "\u0661\u0662", "\uff11\uff12", "1e9", "1_0", " 7 ", "-0", "nan", "inf"]),
)
days = st.one_of(
    st.dates().map(lambda d: d.isoformat()),
    st.datetimes().map(lambda d: d.isoformat()),
    st.sampled_from(["0001-01-03", "9999-12-31", "2026-02-30", "2026-02-30T00:00:00+00:00", "0001-01-01T00:00:00+05:00",
                     "9999-12-31T23:59:59-05:00", "2026-01-01T00:00:00+99:00", "today", "\uff12\uff10\uff12\uff16-01-01"]),
)  # fmt: skip
cursors = st.one_of(
    text,
    st.tuples(days, numbers).map(lambda pair: b64(f"{pair[0]}|{pair[1]}")),
    st.binary(max_size=40).map(lambda raw: base64.urlsafe_b64encode(raw).decode()),
)
nul = st.builds(lambda a, b: f"{a}\x00{b}", text, text)
odd = st.one_of(text, numbers, days, cursors, nul)


def params(*names: str) -> st.SearchStrategy[dict[str, str]]:
    """Some of ``names``, each with an odd value."""
    return st.dictionaries(st.sampled_from(names), odd, max_size=len(names))


def answer(client: Client, method: str, url: str, data: Any = None, **extra: Any) -> int:
    # Each request in a savepoint rolled back: no example sees another's writes, and a database
    # error (which the assertion below would report) cannot poison the test's transaction.
    with transaction.atomic():
        response = getattr(client, method)(url, data, **extra)
        transaction.set_rollback(True)
    return response.status_code


@pytest.fixture
def world(team) -> dict[str, Any]:
    channel = ChannelFactory(brand=team.brand)
    mention = MentionFactory(channel=channel, text="my bill came twice")
    ticket = TicketFactory(mention=mention, department=team.billing)
    rule = RoutingRuleFactory(brand=team.brand, conditions=[{"field": "text", "op": "any", "value": ["bill"]}],
                              actions=[{"type": "spam"}])  # fmt: skip
    facebook = ChannelFactory(
        brand=team.brand, platform=Platform.FACEBOOK, credentials={"app_secret": SECRET, "verify_token": "v-token"}
    )
    cm = Client(raise_request_exception=False)
    cm.force_login(team.cm)
    staff = Client(raise_request_exception=False)
    staff.force_login(team.billing_member)
    return {"mention": mention, "ticket": ticket, "rule": rule, "facebook": facebook, "cm": cm, "staff": staff,
            "brand": team.brand}  # fmt: skip


INBOX_KEYS = ("brand", "platform", "channel", "sentiment", "status", "assignee", "language", "term", "since",
              "until", "q", "after", "newer", "top")  # fmt: skip


@FUZZ
@given(query=params(*INBOX_KEYS))
def test_inbox_and_its_export(world, query) -> None:
    cm = world["cm"]
    assert answer(cm, "get", "/inbox/", query) < 500
    assert answer(cm, "get", "/inbox/", query, HTTP_HX_REQUEST="true", HTTP_HX_TARGET="load-more") < 500
    assert answer(cm, "get", "/inbox/new/", query) < 500
    assert answer(cm, "get", "/inbox/export.csv", query) < 500


@FUZZ
@given(query=params(*INBOX_KEYS, "cursor", "page_size", "stored_since", "stored_until"))
def test_the_mentions_api(world, query) -> None:
    assert answer(world["cm"], "get", "/api/v1/mentions/", query) in (200, 400)


@FUZZ
@given(query=params("tab", "department", "status", "after", "brand", "priority", "cursor", "page_size"), ref=odd)
def test_tickets(world, query, ref) -> None:
    for client in (world["cm"], world["staff"]):
        assert answer(client, "get", "/tickets/", query) < 500
        assert answer(client, "get", "/api/v1/tickets/", query) in (200, 400)
        assert answer(client, "get", "/api/v1/channels/", {"brand": ref, "platform": ref, "is_active": ref}) in (
            200,
            400,
            403,
        )
        assert answer(client, "get", "/api/v1/departments/", {"brand": ref, "page_size": ref}) in (200, 400, 403)
    ticket = world["ticket"].pk
    assert answer(world["staff"], "post", f"/tickets/{ticket}/assign/", {"assignee": ref}) < 500
    assert answer(world["cm"], "patch", f"/api/v1/tickets/{ticket}/", {"assignee": ref}, content_type="application/json") < 500  # fmt: skip


@FUZZ
@given(query=params("brand", "since", "until"))
def test_reports(world, query) -> None:
    cm = world["cm"]
    assert answer(cm, "get", "/reports/", query) < 500
    assert answer(cm, "get", "/reports/export/volume.csv", query) < 500
    assert answer(cm, "get", "/api/v1/reports/summary/", query) in (200, 400, 404)
    assert answer(cm, "post", "/reports/subscribe/", {"brand": query.get("brand", "")}) < 500


@FUZZ
@given(before=cursors)
def test_the_author_page_cursor(world, before) -> None:
    assert answer(world["cm"], "get", f"/authors/{world['mention'].author_id}/", {"before": before}) == 200


@FUZZ
@given(ids=st.lists(odd, max_size=4), action=st.sampled_from(["assign", "close", "department", "sentiment", "x"]),
       form=params("assignee", "department", "sentiment", "note"))  # fmt: skip
def test_bulk_actions(world, ids, action, form) -> None:
    data = {**form, "ids": [*ids, world["mention"].pk], "action": action}
    assert answer(world["cm"], "post", "/inbox/bulk/", data) < 500
    assert answer(world["cm"], "post", "/inbox/views/", {"name": form.get("note", "x") or "x", "query": form.get("assignee", "")}) < 500  # fmt: skip


@FUZZ
@given(field=st.sampled_from(["status", "assignee", "sentiment", "x"]), value=odd, ref=odd)
def test_mention_page_and_notifications(world, field, value, ref) -> None:
    cm, mention = world["cm"], world["mention"]
    assert answer(cm, "post", f"/mentions/{mention.pk}/update/", {"field": field, "value": value}) < 500
    assert answer(cm, "post", f"/mentions/{mention.pk}/replies/send/", {"text": value, "loaded_at": ref}) < 500
    assert answer(cm, "post", "/notifications/read/", {"id": ref, "next": value}) < 500
    assert answer(cm, "get", f"/brands/{world['brand'].slug}/terms/", {"edit": ref}) < 500


@FUZZ
@given(
    field=st.sampled_from(
        ["text", "term_kind", "sentiment", "platform", "channel", "language", "followers", "verified"]
    ),
    op=st.sampled_from(["any", "in", "above", "below", "is", "x"]),
    action=st.sampled_from(["ticket", "assign", "notify", "status", "tag", "spam"]),
    values=params(
        "cond-0-value", "act-0-department", "act-0-user", "act-0-status", "act-0-tag", "brand", "name", "rule"
    ),
)
def test_the_rule_builder_and_preview(world, field, op, action, values) -> None:
    data = {"name": "R", "match": "all", "brand": world["brand"].pk, "cond-0-field": field, "cond-0-op": op,
            "act-0-type": action, **values}  # fmt: skip
    assert answer(world["cm"], "post", "/rules/new/", data) < 500
    assert answer(world["cm"], "post", f"/rules/{world['rule'].pk}/", data) < 500
    assert answer(world["cm"], "post", "/rules/preview/", data) < 500
    rule = {"brand": values.get("brand", world["brand"].pk), "name": values.get("name", "R"), "match": "all",
            "conditions": [{"field": field, "op": op, "value": values.get("cond-0-value", "x")}],
            "actions": [{"type": action, "department": values.get("act-0-department"), "user": values.get("act-0-user")}]}  # fmt: skip
    assert answer(world["cm"], "post", "/api/v1/routing-rules/", json.dumps(rule), content_type="application/json") in (201, 400)  # fmt: skip


# The shape and the values of a signed delivery vary, NUL included: the ingestion boundary cleans it.
plain = st.one_of(text, nul)
item_value = st.one_of(plain, numbers, days)
json_values = st.recursive(
    st.one_of(st.none(), st.booleans(), st.integers(), st.floats(allow_nan=False), plain),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(text, inner, max_size=3),
    max_leaves=10,
)


@FUZZ
@given(mode=st.sampled_from(["subscribe", "", "x"]), token=st.one_of(odd, st.just("v-token")), challenge=odd,
       signature=st.one_of(odd, odd.map(lambda s: "sha256=" + s)), body=st.binary(max_size=200))  # fmt: skip
def test_the_webhook_with_anything(world, mode, token, challenge, signature, body) -> None:
    url = f"/hooks/facebook/{world['facebook'].pk}/"
    client = Client(raise_request_exception=False)
    query = {"hub.mode": mode, "hub.verify_token": token, "hub.challenge": challenge}
    assert answer(client, "get", url, query) in (200, 403)
    assert answer(client, "post", url, body, content_type="application/json", HTTP_X_HUB_SIGNATURE_256=signature) == 403  # fmt: skip


@FUZZ
@given(payload=st.one_of(json_values, st.fixed_dictionaries({"object": st.just("page"), "entry": st.lists(
    st.fixed_dictionaries({"id": item_value, "time": st.integers(), "changes": st.lists(st.fixed_dictionaries({
        "field": st.just("feed"),
        "value": st.fixed_dictionaries({"item": st.sampled_from(["comment", "post", "status"]), "verb": st.just("add"),
                                         "post_id": item_value, "comment_id": item_value, "parent_id": item_value, "message": plain,
                                         "from": json_values, "created_time": st.one_of(st.integers(), st.floats(), days)}),
    }), max_size=2)}), max_size=2)})))  # fmt: skip
def test_the_webhook_with_signed_odd_payloads(world, payload) -> None:
    body = json.dumps(payload).encode()
    signature = "sha256=" + hmac.new(SECRET.encode(), body, hashlib.sha256).hexdigest()
    client = Client(raise_request_exception=False)
    url = f"/hooks/facebook/{world['facebook'].pk}/"
    assert answer(client, "post", url, body, content_type="application/json", HTTP_X_HUB_SIGNATURE_256=signature) in (200, 400)  # fmt: skip
