"""Odd input gets a clear answer, never a 500: Unicode digits, huge ids, impossible or far dates,
NUL in any text, deeply nested JSON, and non-ASCII webhook secrets. Error messages about other
brands' objects and people say "not found", whatever the id belongs to."""

from __future__ import annotations

import base64
import json

import pytest
from django.test import Client

from listening.models import Platform
from responses.models import RoutingRule, SavedView, Ticket, TicketEvent
from tests.factories import ChannelFactory, DepartmentFactory, MentionFactory, TicketFactory, UserFactory

HUGE = "9" * 23


def cursor_of(raw: str) -> str:
    return base64.urlsafe_b64encode(raw.encode()).decode().rstrip("=")


@pytest.fixture
def cm_client(team) -> Client:
    client = Client()
    client.force_login(team.cm)
    return client


@pytest.fixture
def mention(team):
    return MentionFactory(channel__brand=team.brand, text="the bill arrived twice")


# --- Query strings in the browser: a stale or mangled link still opens ------------------------------
@pytest.mark.parametrize(
    "query",
    [
        "brand=²",
        "channel=\u0661\u0662",
        f"assignee={HUGE}",
        f"channel={HUGE}",
        "until=0001-01-03",
        "until=9999-12-31",
        "since=0001-01-01T00:00:00%2B05:00",
        "q=bill%00",
        "language=e%00n",
        "after=" + cursor_of("2026-02-30T00:00:00+00:00|1"),
        "after=" + cursor_of(f"2026-01-01T00:00:00+00:00|{HUGE}"),
        "after=" + cursor_of("0001-01-01T00:00:00+05:00|1"),
    ],
)
def test_odd_inbox_filters_open_the_inbox(cm_client: Client, mention, query: str) -> None:
    response = cm_client.get(f"/inbox/?{query}")
    assert response.status_code == 200
    assert "the bill arrived twice" in response.content.decode()


def test_a_nul_in_the_search_box_is_dropped(cm_client: Client, mention) -> None:
    assert "the bill arrived twice" in cm_client.get("/inbox/?q=bi%00ll").content.decode()


@pytest.mark.parametrize(
    "before",
    [
        "2026-02-30T00:00:00%2B00:00",
        cursor_of("2026-02-30T00:00:00+00:00|1"),
        cursor_of(f"2026-01-01T00:00:00+00:00|{HUGE}"),
        cursor_of("0001-01-01T00:00:00+05:00|1"),
    ],
)
def test_the_author_page_with_an_odd_cursor_shows_the_first_page(cm_client: Client, mention, before: str) -> None:
    response = cm_client.get(f"/authors/{mention.author_id}/?before={before}")
    assert response.status_code == 200
    assert "the bill arrived twice" in response.content.decode()


@pytest.mark.parametrize(
    "query", [f"department={HUGE}", "department=²", "after=" + cursor_of(f"2026-01-01T00:00:00+00:00|{HUGE}")]
)
def test_odd_ticket_filters_open_the_queue(cm_client: Client, team, mention, query: str) -> None:
    TicketFactory(mention=mention, department=team.billing, subject="double charge")
    response = cm_client.get(f"/tickets/?{query}")
    assert response.status_code == 200
    assert "double charge" in response.content.decode()


@pytest.mark.parametrize("query", ["brand=²", "until=0001-01-03", "until=9999-12-31", "since=2026-02-30"])
def test_odd_report_parameters(cm_client: Client, query: str) -> None:
    response = cm_client.get(f"/reports/?{query}")
    if query.startswith("brand"):
        assert response.status_code == 404  # "²" is no brand's id or slug
    else:
        assert response.status_code == 200
        assert "1970-01-01" in response.content.decode() or "YYYY-MM-DD" in response.content.decode()


def test_a_report_table_with_a_far_date_is_a_400(cm_client: Client) -> None:
    response = cm_client.get("/reports/export/volume.csv?until=0001-01-03")
    assert response.status_code == 400
    assert "between 1970-01-01 and 2999-12-31" in response.content.decode()


def test_the_term_page_with_an_odd_edit_id(cm_client: Client, team) -> None:
    assert cm_client.get(f"/brands/{team.brand.slug}/terms/?edit=²").status_code == 404


# --- The API: a 400 that names the parameter -------------------------------------------------------
@pytest.mark.parametrize(
    ("url", "field"),
    [
        ("/api/v1/mentions/?page_size=²", "page_size"),
        ("/api/v1/mentions/?brand=²", "brand"),
        ("/api/v1/mentions/?until=9999-12-31", "until"),
        ("/api/v1/mentions/?since=0001-01-01T00:00:00%2B05:00", "since"),
        ("/api/v1/mentions/?cursor=" + cursor_of(f"2026-01-01T00:00:00+00:00|{HUGE}"), "cursor"),
        ("/api/v1/mentions/?cursor=" + cursor_of("2026-02-30T00:00:00+00:00|1"), "cursor"),
        ("/api/v1/channels/?brand=²", "brand"),
        (f"/api/v1/channels/?brand={HUGE}", "brand"),
        ("/api/v1/tickets/?department=²", "department"),
        (f"/api/v1/tickets/?department={HUGE}", "department"),
        ("/api/v1/tickets/?status=nonsense", "status"),
        ("/api/v1/reports/summary/?brand=1&until=0001-01-03", "until"),
    ],
)
def test_odd_api_parameters_are_a_400_naming_the_parameter(cm_client: Client, team, url: str, field: str) -> None:
    response = cm_client.get(url.replace("brand=1&", f"brand={team.brand.pk}&"))
    assert response.status_code == 400
    assert field in response.json()


@pytest.mark.parametrize("brand", ["²", "a%00", HUGE])
def test_the_report_api_with_an_odd_brand_is_a_400_naming_it(cm_client: Client, brand: str) -> None:
    response = cm_client.get(f"/api/v1/reports/summary/?brand={brand}")
    assert response.status_code == 400 and list(response.json()) == ["brand"]


def test_the_mentions_api_reads_a_nul_in_q_as_nothing(cm_client: Client, mention) -> None:
    response = cm_client.get("/api/v1/mentions/?q=bi%00ll")
    assert response.status_code == 200
    assert [row["id"] for row in response.json()["results"]] == [mention.pk]


@pytest.mark.parametrize("url", ["/api/v1/routing-rules/", "/api/v1/brands/", "/api/v1/channels/", "/api/v1/tickets/"])
def test_deeply_nested_json_is_a_400(cm_client: Client, url: str) -> None:
    body = "[" * 5000 + "]" * 5000
    response = cm_client.post(url, body, content_type="application/json")
    assert response.status_code in (400, 403, 405)
    response = cm_client.post("/api/v1/routing-rules/", body, content_type="application/json")
    assert response.status_code == 400
    assert "nested" in response.json()["non_field_errors"][0]


def test_json_nested_past_the_limit_but_within_python_is_a_400(cm_client: Client, team) -> None:
    value: object = "x"
    for _level in range(200):
        value = [value]
    rule = {"brand": team.brand.pk, "name": "deep", "match": "all", "conditions": value, "actions": []}
    response = cm_client.post("/api/v1/routing-rules/", json.dumps(rule), content_type="application/json")
    assert response.status_code == 400
    assert "nested more than 32 levels" in response.json()["non_field_errors"][0]


def test_nul_in_api_json_is_dropped(cm_client: Client, team, mention) -> None:
    rule = {
        "brand": team.brand.pk,
        "name": "Bill\u0000ing",
        "match": "all",
        "conditions": [{"field": "text", "op": "any", "value": ["twi\u0000ce"]}],
        "actions": [{"type": "tag", "tag": "bil\u0000l"}],
    }
    response = cm_client.post("/api/v1/routing-rules/", json.dumps(rule), content_type="application/json")
    assert response.status_code == 201, response.content
    saved = RoutingRule.objects.get()
    assert (saved.name, saved.conditions[0]["value"], saved.actions[0]["tag"]) == ("Billing", ["twice"], "bill")
    response = cm_client.post(
        f"/api/v1/mentions/{mention.pk}/replies/", json.dumps({"text": "Sorry\u0000!"}), content_type="application/json"
    )
    assert response.status_code == 202
    assert mention.replies.get().text == "Sorry!"


def test_nul_in_an_api_form_body_is_dropped(cm_client: Client, team) -> None:
    ticket = TicketFactory(mention__channel__brand=team.brand, department=team.billing)
    response = cm_client.post(
        f"/api/v1/tickets/{ticket.pk}/notes/", "body=call%00ed", content_type="application/x-www-form-urlencoded"
    )
    assert response.status_code == 201
    assert ticket.events.get(kind=TicketEvent.Kind.NOTE).body == "called"


# --- Forms: ids in bulk actions and rules, NUL in every text ---------------------------------------
def test_bulk_actions_with_unicode_digits_or_huge_ids(cm_client: Client, team, mention) -> None:
    response = cm_client.post("/inbox/bulk/", {"ids": ["²", HUGE, str(mention.pk)], "action": "close"})
    assert response.status_code == 302
    mention.refresh_from_db()
    assert mention.status == "closed"
    response = cm_client.post(
        "/inbox/bulk/", {"ids": [mention.pk], "action": "department", "department": "²"}, headers={"HX-Request": "true"}
    )
    assert response.status_code == 422
    assert "Choose a department." in response.content.decode()


def test_nul_in_posted_text_is_dropped(cm_client: Client, team, mention) -> None:
    cm_client.post("/inbox/views/", {"name": "Bil\x00ling", "query": "q=bill%00&brand=²"})
    assert SavedView.objects.get().name == "Billing"
    cm_client.post("/inbox/bulk/", {"ids": [mention.pk], "action": "close", "note": "dup\x00licate"})
    assert mention.events.get(kind="status").note == "duplicate"
    assert cm_client.post(f"/mentions/{mention.pk}/replies/send/", {"text": "Sorry\x00!"}).status_code == 302
    assert mention.replies.get().text == "Sorry!"
    ticket = TicketFactory(mention=mention, department=team.billing)
    cm_client.post(f"/tickets/{ticket.pk}/notes/", {"body": "call\x00ed"})
    assert ticket.events.get(kind=TicketEvent.Kind.NOTE).body == "called"
    cm_client.post(f"/brands/{team.brand.slug}/terms/", {"text": "acme\x00", "kind": "brand"})
    assert team.brand.terms.filter(text="acme").exists()


def test_the_saved_view_query_keeps_a_nul_out_of_the_inbox(cm_client: Client, mention) -> None:
    cm_client.post("/inbox/views/", {"name": "Bills", "query": "q=bill%00"})
    query = SavedView.objects.get().query
    assert cm_client.get(f"/inbox/?{query}").status_code == 200


def test_rule_builder_with_odd_ids_names_and_numbers(cm_client: Client, team) -> None:
    base = {"name": "R", "brand": team.brand.pk, "match": "all", "act-0-type": "spam"}
    cases = [
        {"cond-0-field": "channel", "cond-0-op": "in", "cond-0-value": "²"},
        {"cond-0-field": "channel", "cond-0-op": "in", "cond-0-value": HUGE},
        {"cond-0-field": "followers", "cond-0-op": "above", "cond-0-value": HUGE},
        {"cond-0-field": "followers", "cond-0-op": "above", "cond-0-value": "\u0661\u0660"},
        {"cond-0-field": "sentiment", "cond-0-op": "below", "cond-0-value": "nan"},
        {
            "cond-0-field": "text",
            "cond-0-op": "any",
            "cond-0-value": "a",
            "act-0-type": "ticket",
            "act-0-department": "x\x00",
        },
        {"cond-0-field": "text", "cond-0-op": "any", "cond-0-value": "a", "brand": "²"},
    ]
    for fields in cases:
        assert cm_client.post("/rules/new/", {**base, **fields}).status_code == 400, fields
    assert not RoutingRule.objects.exists()
    cm_client.post(
        "/rules/new/",
        {**base, "name": "Spam\x00", "cond-0-field": "text", "cond-0-op": "any", "cond-0-value": "win\x00"},
    )
    assert RoutingRule.objects.get().name == "Spam"
    assert cm_client.post("/rules/preview/", {"rule": "²"}).status_code == 404


def test_mention_page_assignee_with_unicode_digits(cm_client: Client, mention) -> None:
    response = cm_client.post(f"/mentions/{mention.pk}/update/", {"field": "assignee", "value": "²"})
    assert response.status_code == 400


def test_report_subscription_with_an_odd_brand(cm_client: Client) -> None:
    assert cm_client.post("/reports/subscribe/", {"brand": "²"}).status_code == 404


@pytest.mark.postgres
def test_a_nul_in_the_session_cookie_is_a_stranger_not_a_500(team) -> None:
    client = Client()
    client.cookies["sessionid"] = "abcdefgh\x00ijklmnop"
    response = client.get("/inbox/")
    assert response.status_code == 302


# --- The Facebook webhook --------------------------------------------------------------------------
@pytest.fixture
def facebook(team):
    return ChannelFactory(
        brand=team.brand, platform=Platform.FACEBOOK, credentials={"app_secret": "s3cret", "verify_token": "tok"}
    )


@pytest.mark.parametrize("token", ["é", "tök", "\u2603"])
def test_a_non_ascii_verify_token_is_refused(facebook, token: str) -> None:
    response = Client().get(
        f"/hooks/facebook/{facebook.pk}/", {"hub.mode": "subscribe", "hub.verify_token": token, "hub.challenge": "1"}
    )
    assert response.status_code == 403


@pytest.mark.parametrize("signature", ["sha256=é", "sha256=" + "ä" * 64])
def test_a_non_ascii_signature_is_refused(facebook, signature: str) -> None:
    response = Client().post(
        f"/hooks/facebook/{facebook.pk}/", b"{}", content_type="application/json", HTTP_X_HUB_SIGNATURE_256=signature
    )
    assert response.status_code == 403


# --- "Not found", never whose --------------------------------------------------------------------
def test_another_brands_department_is_not_found(cm_client: Client, team, mention) -> None:
    theirs = DepartmentFactory(brand=team.other_brand, name="Globex legal")
    answers = []
    for department in (theirs.pk, 987654):
        response = cm_client.post(
            "/inbox/bulk/",
            {"ids": [mention.pk], "action": "department", "department": department},
            headers={"HX-Request": "true"},
        )
        answers.append((response.status_code, response.content.decode()))
    assert answers[0] == answers[1]
    assert "That department does not exist." in answers[0][1] and "Globex" not in answers[0][1]
    assert not Ticket.objects.exists()


def test_the_api_does_not_say_whether_a_user_id_works_elsewhere(cm_client: Client, team) -> None:
    ticket = TicketFactory(mention__channel__brand=team.brand, department=team.billing)
    stranger = UserFactory(username="stranger")
    answers = []
    for user_id in (team.outsider.pk, stranger.pk, 987654):
        response = cm_client.patch(
            f"/api/v1/tickets/{ticket.pk}/", {"assignee": user_id}, content_type="application/json"
        )
        answers.append((response.status_code, json.dumps(response.json()).replace(str(user_id), "ID")))
    assert answers[0] == answers[1] == answers[2]
    assert answers[0][0] == 400


def test_ticket_assign_to_nobody_that_exists_is_refused_not_an_unassign(cm_client: Client, team) -> None:
    ticket = TicketFactory(mention__channel__brand=team.brand, department=team.billing, assignee=team.billing_member)
    response = cm_client.post(f"/tickets/{ticket.pk}/assign/", {"assignee": "987654"})
    assert response.status_code == 400
    assert "Only a member of Billing can take this ticket." in response.content.decode()
    ticket.refresh_from_db()
    assert ticket.assignee == team.billing_member
