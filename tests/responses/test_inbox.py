"""The triage inbox: filters, keyset pages, new-mention counter, bulk actions, brand walls."""

from __future__ import annotations

import io
from datetime import timedelta

import pytest
from django.core.exceptions import ValidationError
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from config.pagination import encode_cursor
from listening.models import Mention, MentionEvent, Sentiment, TrackedTerm
from listening.selectors import MentionFilters, mentions_filtered, mentions_matching_text
from responses.models import SavedView, Ticket
from responses.selectors import inbox_page
from responses.services import mentions_bulk_update
from tests.factories import AuthorFactory, ChannelFactory, MentionFactory, TrackedTermFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def channel(team):
    return ChannelFactory(brand=team.brand, name="Acme on X")


def ids(mentions) -> list[int]:
    return [m.pk for m in mentions]


def test_filters_combine(team, channel) -> None:
    competitor = TrackedTermFactory(brand=team.brand, kind=TrackedTerm.Kind.COMPETITOR, text="Globex")
    hit = MentionFactory(channel=channel, sentiment=Sentiment.NEGATIVE, language="es", text="Globex es mejor")
    hit.terms.add(competitor)
    MentionFactory(channel=channel, sentiment=Sentiment.NEGATIVE, language="en", text="Globex is better").terms.add(
        competitor
    )
    MentionFactory(channel=channel, sentiment=Sentiment.POSITIVE, language="es", text="Globex me gusta").terms.add(
        competitor
    )
    MentionFactory(channel=channel, sentiment=Sentiment.NEGATIVE, language="es", assignee=team.cm, text="Globex no")
    filters = MentionFilters.from_params(
        {"sentiment": "negative", "language": "es", "assignee": "none", "term": "competitor", "q": "mejor"}
    )
    assert ids(mentions_filtered(user=team.cm, filters=filters)) == [hit.pk]


def test_the_inbox_url_carries_filters_and_shows_only_matches(client: Client, team, channel) -> None:
    MentionFactory(channel=channel, sentiment=Sentiment.NEGATIVE, text="angry about the refund")
    MentionFactory(channel=channel, sentiment=Sentiment.POSITIVE, text="happy with the product")
    client.force_login(team.cm)
    html = client.get("/inbox/?sentiment=negative&assignee=none").content.decode()
    assert "angry about the refund" in html
    assert "happy with the product" not in html
    assert '<option value="negative" selected>' in html


def test_keyset_pages_never_skip_or_repeat_rows_with_equal_timestamps(team, channel) -> None:
    same_moment = timezone.now() - timedelta(hours=1)
    created = [MentionFactory(channel=channel, published_at=same_moment) for _ in range(7)]
    created += [MentionFactory(channel=channel, published_at=same_moment - timedelta(minutes=i)) for i in range(5)]
    seen, after = [], ""
    while True:
        page = inbox_page(user=team.cm, filters=MentionFilters(), after=after, size=3)
        seen += ids(page.mentions)
        if not page.next_cursor:
            break
        after = page.next_cursor
    assert sorted(seen) == sorted(ids(created))
    assert len(seen) == len(set(seen))
    expected = sorted(created, key=lambda m: (m.published_at, m.pk), reverse=True)
    assert seen == ids(expected)


def test_a_tampered_cursor_starts_from_the_top(client: Client, team, channel) -> None:
    MentionFactory(channel=channel, text="still listed")
    client.force_login(team.cm)
    response = client.get("/inbox/?after=not-a-cursor!!")
    assert response.status_code == 200
    assert "still listed" in response.content.decode()


def test_rows_cost_the_same_queries_however_many_there_are(client: Client, team, channel) -> None:
    term = TrackedTermFactory(brand=team.brand, text="acme")
    client.force_login(team.cm)

    def queries_for_inbox() -> int:
        with CaptureQueriesContext(connection) as queries:
            assert client.get("/inbox/").status_code == 200
        return len(queries)

    MentionFactory(channel=channel, assignee=team.cm).terms.add(term)
    few = queries_for_inbox()
    for _ in range(20):
        MentionFactory(channel=channel, assignee=team.cm, author=AuthorFactory()).terms.add(term)
    assert queries_for_inbox() == few


def test_a_page_reads_the_users_brands_once_and_its_four_counts_in_one_query(client: Client, team, channel) -> None:
    """On a busy server each round trip to the database costs more than the query itself: whether
    the user sees every brand, and which, are read once a page, and the tabs' counts together."""
    MentionFactory(channel=channel)
    client.force_login(team.cm)
    with CaptureQueriesContext(connection) as queries:
        assert client.get("/inbox/").status_code == 200
    sql = [query["sql"] for query in queries]
    assert sum('"auth_group"."name" =' in statement for statement in sql) == 1
    assert sum(statement.startswith('SELECT "listening_brand"') for statement in sql) == 1
    assert sum("COUNT(*)" in statement and '"listening_mention"' in statement for statement in sql) == 1


def test_rows_leave_in_the_database_what_they_do_not_show(client: Client, team, channel) -> None:
    """The channel's credentials are not decrypted fifty times for a page, nor the JSON columns
    a row never shows decoded; what a row shows is all there, in the reader's language."""
    channel.credentials = {"bearer_token": "secret-token"}
    channel.save()
    MentionFactory(channel=channel, sentiment=Sentiment.NEGATIVE, intent="complaint", text="where is my refund")
    client.force_login(team.cm)
    with CaptureQueriesContext(connection) as queries:
        html = client.get("/inbox/", HTTP_ACCEPT_LANGUAGE="es").content.decode()
    page_sql = [query["sql"] for query in queries if '"listening_mention"."text"' in query["sql"]]
    assert page_sql
    for column in ('"listening_channel"."credentials"', '"listening_mention"."routing_log"'):
        assert not any(column in statement for statement in page_sql)
    assert "where is my refund" in html
    assert ">X (Twitter)</span>" in html
    assert ">Negativo</span>" in html and ">Queja</span>" in html and ">Nueva</span>" in html


def test_new_mentions_are_counted_above_the_top_row_and_loaded_on_top(client: Client, team, channel) -> None:
    old = MentionFactory(channel=channel, published_at=timezone.now() - timedelta(hours=2), text="old one")
    top = encode_cursor(old)
    client.force_login(team.cm)
    assert "new mention" not in client.get(f"/inbox/new/?top={top}").content.decode()
    MentionFactory(channel=channel, sentiment=Sentiment.NEGATIVE, text="fresh complaint")
    MentionFactory(channel=channel, sentiment=Sentiment.POSITIVE, text="fresh praise")
    assert "2 new mentions" in client.get(f"/inbox/new/?top={top}").content.decode()
    assert "1 new mention" in client.get(f"/inbox/new/?sentiment=negative&top={top}").content.decode()
    html = client.get(f"/inbox/?newer={top}", headers={"HX-Request": "true"}).content.decode()
    assert "fresh complaint" in html and "fresh praise" in html
    assert "old one" not in html


def test_load_more_returns_the_next_rows_for_htmx(client: Client, team, channel) -> None:
    for i in range(55):
        MentionFactory(channel=channel, text=f"row number {i:02d}", published_at=timezone.now() - timedelta(minutes=i))
    client.force_login(team.cm)
    first = client.get("/inbox/").content.decode()
    assert "row number 00" in first and "row number 50" not in first
    cursor = first.split("after=")[1].split('"')[0]
    more = client.get(f"/inbox/?after={cursor}", headers={"HX-Request": "true", "HX-Target": "load-more"})
    html = more.content.decode()
    assert "row number 50" in html and "row number 54" in html and "row number 49" not in html
    assert "<html" not in html


def test_outsider_sees_nothing_of_another_brand_and_cannot_act_on_it(client: Client, team, channel) -> None:
    mention = MentionFactory(channel=channel, text="acme secret")
    client.force_login(team.outsider)
    assert "acme secret" not in client.get("/inbox/").content.decode()
    client.post("/inbox/bulk/", {"ids": [mention.pk], "action": "close"})
    client.post("/inbox/bulk/", {"ids": [mention.pk], "action": "assign", "assignee": "me"})
    mention.refresh_from_db()
    assert mention.status == Mention.Status.NEW and mention.assignee is None
    assert not MentionEvent.objects.filter(mention=mention).exists()
    assert mentions_bulk_update(user=team.outsider, ids=[mention.pk], action="spam") == []


@pytest.mark.parametrize("who", ["billing_member", "manager"])
def test_department_staff_and_managers_cannot_open_or_work_the_inbox(client: Client, team, channel, who) -> None:
    mention = MentionFactory(channel=channel)
    client.force_login(getattr(team, who))
    assert client.get("/inbox/").status_code == 403
    assert client.get("/inbox/new/").status_code == 403
    assert client.post("/inbox/bulk/", {"ids": [mention.pk], "action": "close"}).status_code == 403
    mention.refresh_from_db()
    assert mention.status == Mention.Status.NEW


def test_hostile_text_and_links_are_escaped(client: Client, team, channel) -> None:
    author = AuthorFactory(name="<img src=x onerror=alert(1)>", handle="x", profile_url="javascript:alert(1)")
    MentionFactory(
        channel=channel,
        author=author,
        text="<script>alert(1)</script>",
        title="<b>bold</b>",
        url="javascript:alert(2)",
    )
    client.force_login(team.cm)
    html = client.get("/inbox/").content.decode()
    assert "<script>alert(1)</script>" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert "<img src=x" not in html
    assert "&lt;b&gt;bold&lt;/b&gt;" in html
    assert "javascript:" not in html


def test_bulk_actions_change_the_rows_and_record_who_did_it(client: Client, team, channel) -> None:
    first, second = MentionFactory(channel=channel), MentionFactory(channel=channel)
    untouched = MentionFactory(channel=channel)
    client.force_login(team.cm)
    response = client.post("/inbox/bulk/", {"ids": [first.pk, second.pk], "action": "close", "next": "/inbox/"})
    assert response.status_code == 302
    for mention in (first, second):
        mention.refresh_from_db()
        assert mention.status == Mention.Status.CLOSED
        event = mention.events.get()
        assert (event.actor, event.kind, event.new_value) == (team.cm, MentionEvent.Kind.STATUS, "closed")
    untouched.refresh_from_db()
    assert untouched.status == Mention.Status.NEW

    client.post("/inbox/bulk/", {"ids": [untouched.pk], "action": "sentiment", "sentiment": "negative"})
    untouched.refresh_from_db()
    assert untouched.sentiment == Sentiment.NEGATIVE and untouched.sentiment_corrected_by == team.cm


def test_assign_to_me_by_htmx_returns_the_row_in_place(client: Client, team, channel) -> None:
    mention = MentionFactory(channel=channel)
    client.force_login(team.cm)
    response = client.post("/inbox/bulk/", {"ids": [mention.pk], "action": "assign"}, headers={"HX-Request": "true"})
    html = response.content.decode()
    assert f'id="mention-{mention.pk}"' in html and 'hx-swap-oob="true"' in html
    mention.refresh_from_db()
    assert mention.assignee == team.cm and mention.status == Mention.Status.OPEN
    assert mention.events.get(kind=MentionEvent.Kind.ASSIGNED).actor == team.cm


def test_cannot_assign_to_someone_outside_the_brand(team, channel) -> None:
    """Someone of another brand is "not found", exactly like an id that is nobody: the form does
    not tell which ids are people working elsewhere, nor their names."""
    mention = MentionFactory(channel=channel)
    messages = []
    for ref in (str(team.outsider.pk), "987654"):
        with pytest.raises(ValidationError) as refused:
            mentions_bulk_update(user=team.cm, ids=[mention.pk], action="assign", assignee=ref)
        messages.append(refused.value.messages)
    assert messages[0] == messages[1] == ["That person does not exist."]
    mention.refresh_from_db()
    assert mention.assignee is None


def test_send_to_department_opens_a_ticket_with_the_note(client: Client, team, channel) -> None:
    mention = MentionFactory(channel=channel)
    client.force_login(team.cm)
    client.post(
        "/inbox/bulk/",
        {"ids": [mention.pk], "action": "department", "department": team.billing.pk, "note": "double charge"},
    )
    ticket = Ticket.objects.get(mention=mention)
    assert ticket.department == team.billing and ticket.created_by == team.cm
    assert ticket.events.get().body == "double charge"
    mention.refresh_from_db()
    assert mention.status == Mention.Status.ROUTED


def test_saved_views_keep_the_filters_and_show_in_the_sidebar(client: Client, team, channel) -> None:
    client.force_login(team.cm)
    client.post(
        "/inbox/views/", {"name": "Angry", "query": "sentiment=negative&after=abc&assignee=none", "shared": "1"}
    )
    view = SavedView.objects.get(name="Angry")
    assert view.query == "sentiment=negative&assignee=none"
    assert view.brand == team.brand and view.shared
    html = client.get("/inbox/").content.decode()
    assert 'href="/inbox/?sentiment=negative&amp;assignee=none"' in html
    client.force_login(team.outsider)
    assert "Angry" not in client.get("/inbox/").content.decode()


@pytest.mark.postgres
def test_full_text_search_uses_the_gin_index(team, channel) -> None:
    MentionFactory(channel=channel, text="The refund never arrived")
    MentionFactory(channel=channel, text="Refunded quickly, thanks")
    qs = mentions_filtered(user=team.cm, filters=MentionFilters(q="REFUND"))
    assert [m.text for m in qs] == ["The refund never arrived"]
    # The search expression is the index's: without the brand range, only the GIN index serves it.
    search = mentions_matching_text(Mention.objects.all(), "refund").order_by()
    with connection.cursor() as cursor:
        cursor.execute("SET enable_seqscan = off")
        plan = search.explain()
        cursor.execute("SET enable_seqscan = on")
    assert "mention_text_fts_idx" in plan


def test_demo_views_and_a_relative_today(team, channel) -> None:
    from django.core.management import call_command

    call_command("demo_setup", stdout=io.StringIO())
    names = set(SavedView.objects.filter(shared=True).values_list("name", flat=True))
    assert {"Negative, unassigned", "Competitors today"} <= names
    MentionFactory(channel=channel, text="today")
    MentionFactory(channel=channel, text="yesterday", published_at=timezone.now() - timedelta(days=2))
    filters = MentionFilters.from_params({"since": "today"})
    assert [m.text for m in mentions_filtered(user=team.cm, filters=filters)] == ["today"]


def test_a_filter_change_by_htmx_updates_the_address_and_the_save_form(client: Client, team, channel) -> None:
    client.force_login(team.cm)
    response = client.get(
        "/inbox/?q=&sentiment=negative&status=&assignee=none",
        headers={"HX-Request": "true", "HX-Target": "inbox-results"},
    )
    assert response["HX-Push-Url"] == "/inbox/?sentiment=negative&assignee=none"
    html = response.content.decode()
    assert 'id="save-view-query" hx-swap-oob="true"' in html
    assert 'value="sentiment=negative&amp;assignee=none"' in html
