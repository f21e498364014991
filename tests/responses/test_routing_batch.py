"""Routing a batch at once ends exactly as routing its mentions one by one: the same state, history,
tickets, notifications, e-mails and webhook events, whatever the batch."""

from __future__ import annotations

import re
from datetime import timedelta
from typing import Any

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from listening.models import Author, Mention, MentionEvent, Platform, Sentiment
from responses.models import Notification, SlaPolicy, Ticket, TicketEvent, WebhookDelivery, WebhookEndpoint
from responses.routing import route_mentions
from tests.factories import AuthorFactory, ChannelFactory, MentionFactory, RoutingRuleFactory, TicketFactory

pytestmark = pytest.mark.django_db

WORDS = ["refund", "broken", "hello", "casino", "thanks", "late", "again"]
NUMBERS = re.compile(r"(#|/)\d+")

mentions = st.lists(
    st.fixed_dictionaries(
        {
            "words": st.lists(st.sampled_from(WORDS), min_size=1, max_size=4),
            "score": st.one_of(st.none(), st.floats(-1, 1)),
            "author": st.integers(0, 3),  # author 0 had a ticket closed last week: a repeat complaint
            "status": st.sampled_from([Mention.Status.NEW, Mention.Status.OPEN]),
        }
    ),
    min_size=1,
    max_size=12,
)


def _rules(team) -> None:
    rule = RoutingRuleFactory
    brand = team.brand
    rule(brand=brand, name="Refunds", position=0, stop_processing=False,
         conditions=[{"field": "text", "op": "any", "value": ["refund"]}],
         actions=[{"type": "ticket", "department": team.billing.pk, "priority": "high"}, {"type": "tag", "tag": "money"}])  # fmt: skip
    rule(brand=brand, name="Broken", position=1, stop_processing=False, match="any",
         conditions=[{"field": "text", "op": "any", "value": ["broken"]}, {"field": "sentiment", "op": "below", "value": -0.5}],
         actions=[{"type": "ticket", "department": "Support"}, {"type": "ticket", "department": "Billing"},
                  {"type": "notify", "user": team.cm.pk}])  # fmt: skip
    rule(brand=brand, name="Greeting", position=2, stop_processing=False,
         conditions=[{"field": "text", "op": "any", "value": ["hello"]}],
         actions=[{"type": "assign", "user": team.cm.pk}, {"type": "status", "status": "open"},
                  {"type": "tag", "tag": "money"}])  # fmt: skip
    rule(brand=brand, name="Spam", position=3, stop_processing=True,
         conditions=[{"field": "text", "op": "all", "value": ["casino", "again"]}],
         actions=[{"type": "spam"}, {"type": "notify", "user": team.billing_member.pk}])  # fmt: skip
    rule(brand=brand, name="Late", position=4,
         conditions=[{"field": "text", "op": "any", "value": ["late"]}],
         actions=[{"type": "status", "status": "closed"}, {"type": "ticket", "department": "Support", "priority": "low"}])  # fmt: skip


def _normal(text: str) -> str:
    return NUMBERS.sub(r"\1N", text)


def _outcome(mention: Mention) -> dict[str, Any]:
    """What routing did to ``mention``, with the ids that differ between two runs left out."""
    mention.refresh_from_db()
    tickets = list(Ticket.objects.filter(mention=mention).order_by("pk"))
    for entry in mention.routing_log:
        for record in entry["did"]:
            if record.startswith("ticket #"):
                number = int(record.split("#")[1].split()[0])
                assert number in {t.pk for t in tickets}  # the log names the mention's own ticket
    ticket_urls = [f"/tickets/{t.pk}/" for t in tickets]
    return {
        "state": (mention.status, mention.assignee_id, mention.tags),
        "log": [
            {**{k: v for k, v in e.items() if k != "at"}, "did": [_normal(d) for d in e["did"]]}
            for e in mention.routing_log
        ],
        "events": list(
            MentionEvent.objects.filter(mention=mention)
            .order_by("pk")
            .values_list("kind", "old_value", "new_value", "note", "actor")
        ),
        "tickets": [
            (
                t.department_id,
                t.priority,
                t.rule_id,
                t.status,
                t.subject,
                t.acknowledge_due_at and t.acknowledge_due_at - t.created_at,
                t.resolve_due_at and t.resolve_due_at - t.created_at,
                list(TicketEvent.objects.filter(ticket=t).values_list("kind", "to_status", "body")),
            )
            for t in tickets
        ],
        "notifications": sorted(
            (n.user_id, n.verb, _normal(n.message), _normal(n.url))
            for n in Notification.objects.filter(url__in=[f"/mentions/{mention.pk}/", *ticket_urls])
        ),
        "webhooks": sorted(
            (d.event, d.target, d.department_id)
            for d in WebhookDelivery.objects.filter(body__contains=f'"mention_id":{mention.pk},')
        ),
    }


@settings(
    max_examples=12, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow]
)
@given(specs=mentions)
def test_a_batch_ends_as_routing_one_by_one(
    team, receiver, django_capture_on_commit_callbacks, mailoutbox, specs
) -> None:
    if not team.brand.routing_rules.exists():
        _rules(team)
        SlaPolicy.objects.create(department=team.billing, priority="high", acknowledge_minutes=60, resolve_minutes=240)
        team.support.slack_webhook_url = receiver.url + "/slack"
        team.support.save()
        WebhookEndpoint.objects.create(
            brand=team.brand, url=receiver.url + "/hook", secret="s" * 20, events=["ticket.opened"]
        )
        channel = ChannelFactory(brand=team.brand, platform=Platform.X)
        for n in range(4):
            AuthorFactory(external_id=f"routing-{n}")
        repeating = Author.objects.get(external_id="routing-0")
        old = TicketFactory(mention=MentionFactory(channel=channel, author=repeating), department=team.billing)
        Ticket.objects.filter(pk=old.pk).update(status="closed", closed_at=timezone.now() - timedelta(days=7))
    channel = team.brand.channels.get()
    authors = list(Author.objects.filter(external_id__startswith="routing-").order_by("external_id"))

    def make() -> list[Mention]:
        made = []
        for spec in specs:
            score = spec["score"]
            sentiment = Sentiment.NEGATIVE if score is not None and score < -0.05 else Sentiment.NEUTRAL
            made.append(
                MentionFactory(
                    channel=channel,
                    author=authors[spec["author"]],
                    text=" ".join(spec["words"]),
                    sentiment_score=score,
                    sentiment=sentiment,
                    status=spec["status"],
                )
            )
        return [Mention.objects.get(pk=m.pk) for m in made]  # as ingestion hands them over

    alone, together = make(), make()
    mails, posts = len(mailoutbox), len(receiver.received)
    with django_capture_on_commit_callbacks(execute=True):
        for mention in alone:
            route_mentions([mention])
    alone_mails = sorted((m.to[0], _normal(m.subject)) for m in mailoutbox[mails:])
    alone_posts = sorted((r.path, r.headers.get("X-Escucha-Event", "")) for r in receiver.received[posts:])
    mails, posts = len(mailoutbox), len(receiver.received)
    with django_capture_on_commit_callbacks(execute=True):
        route_mentions(together)
    together_mails = sorted((m.to[0], _normal(m.subject)) for m in mailoutbox[mails:])
    together_posts = sorted((r.path, r.headers.get("X-Escucha-Event", "")) for r in receiver.received[posts:])

    for one, other in zip(alone, together, strict=True):
        assert _outcome(one) == _outcome(other)
    assert together_mails == alone_mails
    assert together_posts == alone_posts


# PostgreSQL writes each kind in one statement; SQLite's limit on a statement's variables splits
# a large batch's INSERTs, so the count is PostgreSQL's promise.
@pytest.mark.postgres
def test_a_batch_opens_its_tickets_in_a_fixed_number_of_queries(team, django_capture_on_commit_callbacks) -> None:
    _rules(team)
    channel = ChannelFactory(brand=team.brand)

    def batch(size: int) -> list[Mention]:
        made = [MentionFactory(channel=channel, text="refund broken hello late") for _ in range(size)]
        return [Mention.objects.get(pk=m.pk) for m in made]

    small, large = batch(3), batch(30)
    with django_capture_on_commit_callbacks() as queued:
        with CaptureQueriesContext(connection) as few:
            route_mentions(small)
        with CaptureQueriesContext(connection) as many:
            route_mentions(large)
    assert len(many) == len(few)
    assert Ticket.objects.filter(mention__in=large).count() == 60  # Billing and Support each
    assert len(queued) == 2  # a batch's e-mails are queued by one hook


@pytest.mark.postgres  # reads PostgreSQL's UPDATE … FROM (VALUES …) statements
def test_a_routed_batch_writes_each_mention_once(team) -> None:
    _rules(team)
    channel = ChannelFactory(brand=team.brand)
    texts = ["refund now", "hello there", "nothing to see", "late again", "refund hello"]
    made = [MentionFactory(channel=channel, text=text) for text in texts * 4]
    batch = [Mention.objects.get(pk=m.pk) for m in made]
    with CaptureQueriesContext(connection) as queries:
        route_mentions(batch)
    updates = [q["sql"] for q in queries if q["sql"].startswith('UPDATE "listening_mention"')]
    written = [int(pk) for sql in updates for pk in re.findall(r"\((\d+)::bigint", sql)]
    # Its log and what the rules changed, in one statement per kind of change, never twice a row.
    assert sorted(written) == sorted(m.pk for m in batch)
    assert all(m.routing_log for m in Mention.objects.filter(pk__in=written))


@pytest.mark.postgres  # SQLite's limit on a statement's variables splits a large page's INSERTs
def test_a_page_goes_through_the_whole_pipeline_in_the_same_number_of_queries_whatever_its_size(
    team, django_capture_on_commit_callbacks
) -> None:
    from listening.connectors import FetchedAuthor, FetchedItem
    from listening.ingest import ingest_items
    from listening.models import TrackedTerm
    from tests.factories import TrackedTermFactory

    _rules(team)
    SlaPolicy.objects.create(department=team.billing, priority="high", acknowledge_minutes=60, resolve_minutes=240)
    WebhookEndpoint.objects.create(
        brand=team.brand, url="http://hooks.invalid/", secret="s" * 20, events=["ticket.opened"]
    )
    TrackedTermFactory(brand=team.brand, kind=TrackedTerm.Kind.BRAND, text="Acme")
    TrackedTermFactory(brand=team.brand, kind=TrackedTerm.Kind.COMPETITOR, text="Globex")
    channel = ChannelFactory(brand=team.brand, platform=Platform.X)
    texts = [
        "@acme refund now, charged twice",
        "Acme broken again, so late",
        "hello Acme, is Globex cheaper?",
        "casino again acme",
        "I love my Acme anvil #AcmeSummer",
    ]
    start = timezone.now() - timedelta(days=1)

    def page(first: int, size: int) -> list[FetchedItem]:
        return [
            FetchedItem(
                external_id=str(n),
                text=f"{texts[n % len(texts)]} {n}",
                author=FetchedAuthor(external_id=f"a{n % 9}", handle=f"h{n % 9}", followers=n),
                published_at=start + timedelta(minutes=n),
                parent_external_id=str(n - 1) if n % 3 == 0 else "",
                source=f"site{n % 4}.example",
            )
            for n in range(first, first + size)
        ]

    ingest_items(channel=channel, items=page(0, 6))  # authors and threads known from an earlier page
    counts = []
    # Both pages open with a reply to the page before (a thread going on), then differ in size only.
    for first, size in ((6, 9), (15, 51)):
        with django_capture_on_commit_callbacks(), CaptureQueriesContext(connection) as queries:
            created = ingest_items(channel=channel, items=page(first, size), cursor={"since_id": str(first)}).created
        assert len(created) == size
        assert Ticket.objects.filter(mention__in=created).exists()
        counts.append(len(queries))
    assert counts[0] == counts[1]


def test_a_new_mention_is_folded_once_for_its_tracked_terms_and_the_rules_phrases(team, monkeypatch) -> None:
    from listening import terms
    from listening.connectors import FetchedAuthor, FetchedItem
    from listening.ingest import ingest_items
    from listening.models import TrackedTerm
    from responses import routing
    from tests.factories import TrackedTermFactory

    _rules(team)
    TrackedTermFactory(brand=team.brand, kind=TrackedTerm.Kind.BRAND, text="Acme")
    folded = []
    fold = terms.fold

    def counting(text: str) -> str:
        folded.append(text)
        return fold(text)

    monkeypatch.setattr(terms, "fold", counting)
    monkeypatch.setattr(routing, "fold", counting, raising=False)
    said = FetchedItem(
        external_id="1",
        text="Acme: refund now, hello",
        author=FetchedAuthor(external_id="a1", handle="h1"),
        published_at=timezone.now(),
    )
    (mention,) = ingest_items(channel=ChannelFactory(brand=team.brand, platform=Platform.X), items=[said]).created

    assert len([text for text in folded if "now, hello" in text]) == 1
    mention.refresh_from_db()
    assert [t.text for t in mention.terms.all()] == ["Acme"]
    assert "money" in mention.tags and Ticket.objects.filter(mention=mention).exists()


def test_a_page_reads_its_brands_webhook_endpoints_and_department_members_once(
    team, django_capture_on_commit_callbacks
) -> None:
    from listening.ingest import ingest_items

    _rules(team)
    WebhookEndpoint.objects.create(
        brand=team.brand, url="http://hooks.invalid/", secret="s" * 20, events=["ticket.opened", "mention.created"]
    )
    said = _said(["refund now", "broken again", "hello"])
    channel = ChannelFactory(brand=team.brand, platform=Platform.X)
    with django_capture_on_commit_callbacks(), CaptureQueriesContext(connection) as queries:
        created = ingest_items(channel=channel, items=said).created

    def reads(table: str) -> int:
        return len([q for q in queries if q["sql"].startswith("SELECT") and f'FROM "{table}"' in q["sql"]])

    # Routing's tickets and the announcement of the mentions are told to the same endpoints.
    assert reads("responses_webhookendpoint") == 1
    # The members told of a new ticket are those the batch of tickets reads; routing reads none.
    assert reads("responses_department_members") == 1
    events = sorted(WebhookDelivery.objects.values_list("event", flat=True))
    assert events == ["mention.created"] * len(created) + ["ticket.opened"] * 3
    assert Notification.objects.filter(user=team.billing_member, verb="ticket_opened").count() == 2


def test_a_page_of_new_mentions_is_stored_routed_without_writing_its_rows_again(
    team, django_capture_on_commit_callbacks
) -> None:
    from listening.ingest import ingest_items

    _rules(team)
    # Tagged and routed, assigned and opened, closed, left alone: each a different set of fields.
    texts = ["refund now", "hello there", "late again", "nothing to see"]
    said = _said(texts)
    channel = ChannelFactory(brand=team.brand, platform=Platform.X)
    with django_capture_on_commit_callbacks(), CaptureQueriesContext(connection) as queries:
        ingest_items(channel=channel, items=said)

    # Routed before they are stored: each row is inserted once, with what routing did.
    writes = [
        q["sql"] for q in queries if q["sql"].startswith('UPDATE "listening_mention"') and "routing_log" in q["sql"]
    ]
    assert writes == []
    stored = {m.text: m for m in Mention.objects.filter(channel=channel)}
    assert (stored["refund now"].status, stored["refund now"].tags) == (Mention.Status.ROUTED, ["money"])
    assert (stored["hello there"].status, stored["hello there"].assignee_id) == (Mention.Status.OPEN, team.cm.pk)
    assert stored["late again"].status == Mention.Status.ROUTED
    assert (stored["nothing to see"].status, stored["nothing to see"].tags) == (Mention.Status.NEW, [])
    assert all(m.routing_log for m in stored.values())


@pytest.mark.postgres  # PostgreSQL counts the rows a transaction updated (pg_stat_xact_user_tables)
def test_no_row_of_a_routed_page_is_updated_once_inserted(team, django_capture_on_commit_callbacks) -> None:
    from listening.connectors import FetchedAuthor, FetchedItem
    from listening.ingest import ingest_items

    def rows_updated() -> int:
        with connection.cursor() as cursor:
            cursor.execute("SELECT n_tup_upd FROM pg_stat_xact_user_tables WHERE relname = 'listening_mention'")
            row = cursor.fetchone()
        return row[0] if row else 0

    _rules(team)
    said = _said(["refund now", "hello there", "late again", "nothing to see"])
    # A reply in the same page: stored with its parent already.
    reply = FetchedItem(
        external_id="reply",
        text="thanks",
        author=FetchedAuthor(external_id="a9", handle="h9"),
        published_at=timezone.now(),
        parent_external_id="0",
    )
    channel = ChannelFactory(brand=team.brand, platform=Platform.X)
    before = rows_updated()
    with django_capture_on_commit_callbacks():
        ingest_items(channel=channel, items=[*said, reply])

    assert rows_updated() == before
    stored = {m.external_id: m for m in Mention.objects.filter(channel=channel)}
    assert [stored[str(n)].status for n in range(4)] == [
        Mention.Status.ROUTED, Mention.Status.OPEN, Mention.Status.ROUTED, Mention.Status.NEW,
    ]  # fmt: skip
    assert stored["1"].assignee_id == team.cm.pk and stored["0"].tags == ["money"]
    assert stored["reply"].parent_id == stored["0"].pk


def test_a_rule_on_tracked_terms_sees_the_terms_of_a_page_routed_before_it_is_stored(
    team, django_capture_on_commit_callbacks
) -> None:
    from listening.ingest import ingest_items
    from listening.models import TrackedTerm
    from tests.factories import TrackedTermFactory

    TrackedTermFactory(brand=team.brand, kind=TrackedTerm.Kind.COMPETITOR, text="Globex")
    RoutingRuleFactory(
        brand=team.brand, name="Rivals", conditions=[{"field": "term_kind", "op": "any", "value": ["competitor"]}],
        actions=[{"type": "tag", "tag": "rival"}],
    )  # fmt: skip
    channel = ChannelFactory(brand=team.brand, platform=Platform.X)
    with django_capture_on_commit_callbacks():
        ingest_items(channel=channel, items=_said(["Globex is cheaper", "nothing to see"]))

    stored = {m.text: m for m in Mention.objects.filter(channel=channel)}
    assert stored["Globex is cheaper"].tags == ["rival"] and stored["nothing to see"].tags == []
    assert [t.text for t in stored["Globex is cheaper"].terms.all()] == ["Globex"]


def test_a_page_routed_before_it_is_stored_does_not_look_for_tickets_of_its_new_mentions(
    team, django_capture_on_commit_callbacks
) -> None:
    from listening.ingest import ingest_items

    _rules(team)
    channel = ChannelFactory(brand=team.brand, platform=Platform.X)
    with django_capture_on_commit_callbacks(), CaptureQueriesContext(connection) as queries:
        ingest_items(channel=channel, items=_said(["refund now", "late again", "hello"]))

    # A mention not stored yet has no ticket: only the repeat-complaint check reads tickets.
    reads = [q["sql"] for q in queries if q["sql"].startswith('SELECT "responses_ticket"."id"')]
    assert reads == []
    tickets = Ticket.objects.filter(mention__channel=channel).order_by("id")
    assert len(tickets) == 2 and all(t.events.get().kind == "created" for t in tickets)
    for ticket in tickets:
        assert f"ticket #{ticket.pk} " in str(ticket.mention.routing_log)


def test_a_pages_new_tickets_are_written_without_a_statement_apart_for_their_ids(
    team, django_capture_on_commit_callbacks
) -> None:
    from listening.ingest import ingest_items

    _rules(team)
    channel = ChannelFactory(brand=team.brand, platform=Platform.X)
    with django_capture_on_commit_callbacks(execute=True), CaptureQueriesContext(connection) as queries:
        ingest_items(channel=channel, items=_said(["broken again", "refund now", "late and broken", "hello"]))

    # The ids come back from the INSERT (PostgreSQL's sequence, SQLite's counter are not asked first).
    taken = [q["sql"] for q in queries if "responses_ticket'" in q["sql"] or "responses_ticket\"'" in q["sql"]]
    assert taken == []
    tickets = Ticket.objects.filter(mention__channel=channel).select_related("department", "mention")
    # Each ticket its own number wherever it is told: its mention's log, its event, its notification.
    assert len(tickets) == 5
    for ticket in tickets:
        assert f"ticket #{ticket.pk} {ticket.department.name}" in str(ticket.mention.routing_log)
        assert ticket.events.get().kind == "created"
        told = Notification.objects.filter(verb="ticket_opened", url__endswith=f"/{ticket.pk}/")
        members = set(ticket.department.members.values_list("pk", flat=True))
        assert {n.user_id for n in told} == members
        assert all(n.message.startswith(f"New ticket #{ticket.pk} for {ticket.department.name}:") for n in told)
    assert {t.department for t in tickets} == {team.billing, team.support}


def _said(texts: list[str]) -> list:
    """A page of items as a poll fetches them, one author each."""
    from listening.connectors import FetchedAuthor, FetchedItem

    return [
        FetchedItem(
            external_id=str(n),
            text=text,
            author=FetchedAuthor(external_id=f"a{n}", handle=f"h{n}"),
            published_at=timezone.now(),
        )
        for n, text in enumerate(texts)
    ]


def test_a_page_reads_no_department_when_no_active_rule_opens_a_ticket(
    team, django_capture_on_commit_callbacks
) -> None:
    from listening.ingest import ingest_items

    RoutingRuleFactory(
        brand=team.brand, name="Greeting", conditions=[{"field": "text", "op": "any", "value": ["hello"]}],
        actions=[{"type": "tag", "tag": "hi"}],
    )  # fmt: skip
    RoutingRuleFactory(
        brand=team.brand, name="Off", is_active=False, conditions=[{"field": "text", "op": "any", "value": ["hello"]}],
        actions=[{"type": "ticket", "department": team.billing.pk}],
    )  # fmt: skip
    channel = ChannelFactory(brand=team.brand, platform=Platform.X)
    with django_capture_on_commit_callbacks(), CaptureQueriesContext(connection) as queries:
        ingest_items(channel=channel, items=_said(["hello there", "refund now"]))

    assert not [q for q in queries if q["sql"].startswith('SELECT "responses_department"')]
    assert Mention.objects.get(channel=channel, text="hello there").tags == ["hi"]
    assert not Ticket.objects.filter(mention__channel=channel).exists()

    # Once a rule opens tickets, its department is found, by id or by name in any case.
    RoutingRuleFactory(
        brand=team.brand, name="Refunds", conditions=[{"field": "text", "op": "any", "value": ["refund"]}],
        actions=[{"type": "ticket", "department": "billing"}],
    )  # fmt: skip
    with django_capture_on_commit_callbacks():
        (refund,) = ingest_items(channel=channel, items=_said(["x", "y", "refund again"])[2:]).created
    assert Ticket.objects.get(mention=refund).department == team.billing


def test_the_columns_a_batch_of_tickets_leaves_out_are_empty_on_a_new_ticket(team) -> None:
    from responses.tickets import TICKET_FIELDS, TicketBatch

    mention = MentionFactory(channel=ChannelFactory(brand=team.brand))
    batch = TicketBatch(mentions=[mention], departments=[team.billing])
    ticket, created = batch.open(mention=mention, department=team.billing, priority="high", actor=team.cm)
    assert created
    left_out = [f.attname for f in Ticket._meta.concrete_fields if not f.primary_key and f.attname not in TICKET_FIELDS]
    # Written NULL by leaving them out: a value opening a ticket gave one of them would be lost.
    assert left_out and all(getattr(ticket, name) is None for name in left_out)
    batch.save()
    stored = Ticket.objects.get(pk=ticket.pk)
    assert all(getattr(stored, name) == getattr(ticket, name) for name in TICKET_FIELDS if name != "updated_at")
    assert stored.created_by_id == team.cm.pk and stored.resolution == "" and stored.status == Ticket.Status.OPEN


def test_a_page_reads_its_departments_sla_policies_with_them(team, django_capture_on_commit_callbacks) -> None:
    from listening.ingest import ingest_items

    _rules(team)
    SlaPolicy.objects.create(department=team.billing, priority="high", acknowledge_minutes=60, resolve_minutes=240)
    SlaPolicy.objects.create(department=team.billing, priority="normal", acknowledge_minutes=90, resolve_minutes=600)
    channel = ChannelFactory(brand=team.brand, platform=Platform.X)
    with django_capture_on_commit_callbacks(), CaptureQueriesContext(connection) as queries:
        ingest_items(channel=channel, items=_said(["refund now", "broken again"]))

    # Joined into the departments' read: no statement of their own.
    assert not [q for q in queries if q["sql"].startswith('SELECT "responses_slapolicy"')]
    due = {
        (t.mention.text, t.department.name, t.priority): (
            t.acknowledge_due_at and t.acknowledge_due_at - t.created_at,
            t.resolve_due_at and t.resolve_due_at - t.created_at,
        )
        for t in Ticket.objects.filter(mention__channel=channel).select_related("mention", "department")
    }
    assert due == {
        ("refund now", "Billing", "high"): (timedelta(minutes=60), timedelta(minutes=240)),
        ("broken again", "Support", "normal"): (None, None),  # Support has no policy
        ("broken again", "Billing", "normal"): (timedelta(minutes=90), timedelta(minutes=600)),
    }


def test_routing_builds_no_read_of_users_when_no_rule_assigns_or_notifies(
    team, monkeypatch, django_capture_on_commit_callbacks
) -> None:
    from django.contrib.auth import get_user_model

    from listening.ingest import ingest_items

    RoutingRuleFactory(
        brand=team.brand, name="Refunds", conditions=[{"field": "text", "op": "any", "value": ["refund"]}],
        actions=[{"type": "ticket", "department": team.billing.pk}, {"type": "tag", "tag": "money"}],
    )  # fmt: skip

    def refused(*args, **kwargs):
        raise AssertionError("built a read of the rules' users")

    monkeypatch.setattr(get_user_model().objects, "filter", refused)
    channel = ChannelFactory(brand=team.brand, platform=Platform.X)
    with django_capture_on_commit_callbacks():
        ingest_items(channel=channel, items=_said(["refund now", "hello"]))
    monkeypatch.undo()
    assert Mention.objects.get(channel=channel, text="refund now").tags == ["money"]


def test_a_batchs_tickets_of_one_kind_are_each_their_own(team) -> None:
    """The tickets a batch opens for one department, priority, rule and actor are made from its
    first one: each holds its own mention, subject and deadlines, is stored as such, and whoever
    listens to the model's init signals still hears of each."""
    from django.db.models.signals import post_init

    from responses.tickets import TicketBatch

    SlaPolicy.objects.create(department=team.billing, priority="high", acknowledge_minutes=60, resolve_minutes=240)
    channel = ChannelFactory(brand=team.brand)
    said = [MentionFactory(channel=channel, text=f"refund number {n}") for n in range(3)]
    batch = TicketBatch(mentions=said, departments=[team.billing, team.support])
    tickets = [batch.open(mention=m, department=team.billing, priority="high", actor=team.cm)[0] for m in said]

    assert [(t.mention, t.mention_id, t.subject, t.department, t.created_by) for t in tickets] == [
        (m, m.pk, m.text, team.billing, team.cm) for m in said
    ]
    assert {(t.acknowledge_due_at - t.created_at, t.resolve_due_at - t.created_at) for t in tickets} == {
        (timedelta(minutes=60), timedelta(minutes=240))
    }
    batch.save()
    stored = Ticket.objects.filter(department=team.billing).order_by("pk")
    assert [(t.pk, t.mention_id, t.subject, t.created_at) for t in stored] == [
        (t.pk, t.mention_id, t.subject, t.created_at) for t in tickets
    ]

    heard: list[Ticket] = []

    def listening(sender: type[Ticket], instance: Ticket, **kwargs: Any) -> None:
        heard.append(instance)

    post_init.connect(listening, sender=Ticket)
    try:
        opened = [batch.open(mention=m, department=team.support, actor=team.cm)[0] for m in said]
    finally:
        post_init.disconnect(listening, sender=Ticket)
    assert [id(ticket) for ticket in heard] == [id(ticket) for ticket in opened]
