"""The inbox as a queue that empties: tabs with capped counts, filters as chips, and every action
answered with what it did and an Undo that puts things back through the services."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
import time_machine
from django.db import connection
from django.test import Client
from django.utils import timezone
from django.utils.translation import override

from config.roles import COMMUNITY_MANAGER
from listening.models import Mention, MentionEvent, Sentiment
from listening.selectors import MentionFilters
from responses import selectors
from responses.models import Notification, Ticket, TicketEvent
from responses.selectors import inbox_mentions, inbox_tab, inbox_tab_counts
from responses.services import mentions_bulk_act
from responses.tickets import ticket_transition
from responses.views import inbox as inbox_views
from tests.factories import ChannelFactory, MentionFactory, UserFactory

pytestmark = pytest.mark.django_db
HTMX = {"HX-Request": "true", "HX-Target": "bulk-result"}


@pytest.fixture
def channel(team):
    return ChannelFactory(brand=team.brand, name="Acme on X")


@pytest.fixture
def queue(team, channel):
    """One mention in each state that matters to the tabs."""
    now = timezone.now()
    return {
        "new": MentionFactory(channel=channel, text="brand new", published_at=now),
        "open_mine": MentionFactory(
            channel=channel, text="open and mine", status="open", assignee=team.cm, published_at=now - timedelta(1)
        ),
        "open_theirs": MentionFactory(
            channel=channel, text="open for marta", status="open", assignee=team.manager, published_at=now
        ),
        "replied": MentionFactory(channel=channel, text="answered already", status="replied"),
        "routed": MentionFactory(channel=channel, text="with billing", status="routed"),
        "closed": MentionFactory(channel=channel, text="all done", status="closed"),
        "spam": MentionFactory(channel=channel, text="buy followers", status="spam"),
    }


def texts(response) -> set[str]:
    return set(re.findall(r'<p class="text">([^<]*)</p>', response.content.decode()))


def undo_token(html: str) -> str:
    return re.search(r'name="token" value="([^"]+)"', html).group(1)


# --- Tabs -----------------------------------------------------------------------------------------
def test_the_inbox_opens_on_the_open_queue_without_handled_mentions(client: Client, team, queue) -> None:
    client.force_login(team.cm)
    response = client.get("/inbox/")
    assert texts(response) == {"brand new", "open and mine", "open for marta"}
    assert (
        'data-tab="open"\n       hx-get="/inbox/" hx-target="#inbox-results" hx-push-url="true" aria-current="page"'
        in (response.content.decode())
    )


@pytest.mark.parametrize(
    ("tab", "expected"),
    [
        ("unassigned", {"brand new"}),
        ("mine", {"open and mine"}),
        (
            "all",
            {
                "brand new",
                "open and mine",
                "open for marta",
                "answered already",
                "with billing",
                "all done",
                "buy followers",
            },
        ),
    ],
)
def test_each_tab_is_its_part_of_the_queue_and_part_of_the_address(client: Client, team, queue, tab, expected) -> None:
    client.force_login(team.cm)
    response = client.get(f"/inbox/?tab={tab}&sentiment=", headers={"HX-Request": "true", "HX-Target": "inbox-results"})
    assert texts(response) == expected
    assert response["HX-Push-Url"] == f"/inbox/?tab={tab}"
    # The filter form and the saved-view form follow the tab.
    html = response.content.decode()
    assert f'name="tab" value="{tab}" id="filter-tab"' in html
    assert 'id="save-view-query" hx-swap-oob="true"' in html and f'value="tab={tab}"' in html


def test_a_status_filter_without_a_tab_shows_every_mention_of_that_status(client: Client, team, queue) -> None:
    """A saved view made before the tabs ("status=closed") still shows what it showed."""
    client.force_login(team.cm)
    assert texts(client.get("/inbox/?status=closed")) == {"all done"}
    assert inbox_tab({"status": "closed"}) == "all" and inbox_tab({}) == "open"
    assert inbox_tab({"tab": "nonsense"}) == "open"


def test_tab_counts_are_the_queue_sizes(client: Client, team, queue) -> None:
    assert inbox_tab_counts(user=team.cm) == {"open": 3, "unassigned": 1, "mine": 1, "all": 7}
    assert inbox_tab_counts(user=team.outsider) == {"open": 0, "unassigned": 0, "mine": 0, "all": 0}
    newcomer = UserFactory(username="nadia", roles=[COMMUNITY_MANAGER])  # no brand yet
    assert inbox_tab_counts(user=newcomer) == {"open": 0, "unassigned": 0, "mine": 0, "all": 0}
    client.force_login(team.cm)
    html = client.get("/inbox/").content.decode()
    counts = dict(re.findall(r'data-tab="(\w+)".*?<span class="count">([^<]+)</span>', html, re.S))
    assert counts == {"open": "3", "unassigned": "1", "mine": "1", "all": "7"}


def test_a_count_stops_at_the_cap(client: Client, team, queue, monkeypatch) -> None:
    monkeypatch.setattr(selectors, "TAB_COUNT_CAP", 3)
    monkeypatch.setattr(inbox_views, "TAB_COUNT_CAP", 3)
    assert inbox_tab_counts(user=team.cm)["all"] == 3
    client.force_login(team.cm)
    html = client.get("/inbox/").content.decode()
    assert re.search(r'data-tab="all".*?<span class="count">2\+</span>', html, re.S)


@pytest.mark.postgres
@pytest.mark.parametrize(
    ("tab", "index"),
    [("open", "mention_open_queue_idx"), ("unassigned", "mention_unassigned_queue_idx")],
)
def test_the_queue_tabs_read_their_partial_index(team, queue, channel, tab, index) -> None:
    """A page of the Open or Unassigned queue, and its count, walk the queue's own index: the
    handled mentions of a large brand are never read."""
    # A brand whose mentions are mostly handled, as a real one's are: the plan is the one it gets.
    handled = MentionFactory.build_batch(3000, channel=channel, status="closed")
    for n, mention in enumerate(handled):
        mention.brand_id, mention.author_id = channel.brand_id, queue["closed"].author_id
        mention.external_id = f"handled-{n}"
    Mention.objects.bulk_create(handled, batch_size=1000)
    page = inbox_mentions(user=team.cm, filters=MentionFilters(), tab=tab)[:50]
    count = inbox_mentions(user=team.cm, filters=MentionFilters(), tab=tab).order_by()[:1000]
    with connection.cursor() as cursor:
        # Statistics of this test's rows, not of what earlier tests left: the plan is the one a
        # large brand gets, whatever ran before.
        cursor.execute("ANALYZE listening_mention")
        cursor.execute("SET enable_seqscan = off")
        plans = [page.explain(), count.explain()]
        cursor.execute("SET enable_seqscan = on")
    # The queue's own index, or (on a table this small the planner may prefer it) the status
    # index with the queue's statuses as its condition: either way no handled mention is read.
    assert all(index in plan or re.search(r"Index Cond: .*status", plan) for plan in plans), plans
    assert not any("Seq Scan" in plan for plan in plans), plans


# --- Chips ----------------------------------------------------------------------------------------
def test_filters_show_as_chips_that_remove_one_filter_each(client: Client, team, queue) -> None:
    client.force_login(team.cm)
    html = client.get("/inbox/?tab=all&sentiment=negative&assignee=me&q=%3Cb%3Erefund").content.decode()
    chips = re.findall(r'<li class="chip">.*?href="([^"]*)" data-clear="(\w+)"', html, re.S)
    assert chips == [
        ("/inbox/?tab=all&amp;assignee=me&amp;q=%3Cb%3Erefund", "sentiment"),
        ("/inbox/?tab=all&amp;sentiment=negative&amp;q=%3Cb%3Erefund", "assignee"),
        ("/inbox/?tab=all&amp;sentiment=negative&amp;assignee=me", "q"),
    ]
    assert "Sentiment: <strong>Negative</strong>" in html and "Assignee: <strong>Me</strong>" in html
    # What a stranger typed into the search is shown as text.
    assert "Search: <strong>&lt;b&gt;refund</strong>" in html


# --- Answers and undo -----------------------------------------------------------------------------
def test_closing_answers_with_what_it_did_takes_the_rows_out_and_offers_undo(client: Client, team, queue) -> None:
    client.force_login(team.cm)
    first, second = queue["new"], queue["open_mine"]
    response = client.post(
        "/inbox/bulk/", {"ids": [first.pk, second.pk], "action": "close", "next": "/inbox/"}, headers=HTMX
    )
    html = response.content.decode()
    assert "2 mentions closed." in html
    assert f'<li id="mention-{first.pk}" hx-swap-oob="delete"></li>' in html
    assert re.search(r'data-tab="open".*?<span class="count">1</span>', html, re.S)  # the tabs follow

    response = client.post("/inbox/undo/", {"token": undo_token(html), "next": "/inbox/"}, headers=HTMX)
    assert "Undone: 2 mentions are back as they were." in response.content.decode()
    assert response["HX-Trigger"] == "inbox-refresh"
    first.refresh_from_db()
    second.refresh_from_db()
    assert (first.status, second.status) == ("new", "open")
    undo = first.events.order_by("pk").last()
    assert (undo.actor, undo.old_value, undo.new_value, undo.note) == (
        team.cm,
        "closed",
        "new",
        "Undone from the inbox",
    )


def test_a_row_still_in_the_view_is_redrawn_in_place(client: Client, team, queue) -> None:
    client.force_login(team.cm)
    mention = queue["new"]
    html = client.post(
        "/inbox/bulk/", {"ids": [mention.pk], "action": "close", "next": "/inbox/?tab=all"}, headers=HTMX
    ).content.decode()
    assert f'id="mention-{mention.pk}" class="mention' in html and "delete" not in html


def test_assigning_says_to_whom_and_undo_puts_back_the_assignee_and_status(client: Client, team, queue) -> None:
    client.force_login(team.cm)
    mention = queue["new"]
    html = client.post(
        "/inbox/bulk/", {"ids": [mention.pk], "action": "assign", "assignee": str(team.manager.pk)}, headers=HTMX
    ).content.decode()
    assert f"1 mention assigned to {team.manager.get_full_name() or team.manager.username}." in html
    mention.refresh_from_db()
    assert (mention.assignee, mention.status) == (team.manager, "open")
    client.post("/inbox/undo/", {"token": undo_token(html)}, headers=HTMX)
    mention.refresh_from_db()
    assert (mention.assignee, mention.status) == (None, "new")
    assigned = mention.events.filter(kind=MentionEvent.Kind.ASSIGNED).order_by("pk").last()
    assert (assigned.old_value, assigned.new_value, assigned.note) == ("marta", "", "Undone from the inbox")


def test_sending_to_a_department_names_the_tickets_and_undo_withdraws_them(client: Client, team, queue) -> None:
    client.force_login(team.cm)
    first, second = queue["new"], queue["open_mine"]
    html = client.post(
        "/inbox/bulk/",
        {"ids": [first.pk, second.pk], "action": "department", "department": team.billing.pk},
        headers=HTMX,
    ).content.decode()
    tickets = list(Ticket.objects.filter(mention__in=[first, second]).order_by("pk"))
    assert f"2 mentions sent to Billing as #{tickets[0].pk}\N{EN DASH}#{tickets[1].pk}." in html

    response = client.post("/inbox/undo/", {"token": undo_token(html)}, headers=HTMX)
    message = response.content.decode()
    assert f"Tickets #{tickets[0].pk}\N{EN DASH}#{tickets[1].pk} withdrawn" in message
    for ticket in tickets:
        ticket.refresh_from_db()
        assert ticket.status == Ticket.Status.CLOSED and ticket.closed_at is not None
        withdrawal = ticket.events.get(kind=TicketEvent.Kind.STATUS)
        assert (withdrawal.actor, withdrawal.from_status, withdrawal.to_status) == (team.cm, "open", "closed")
    first.refresh_from_db()
    second.refresh_from_db()
    assert (first.status, second.status) == ("new", "open")
    # The department was told of the ticket; it is told it was withdrawn.
    assert Notification.objects.filter(user=team.billing_member, verb="ticket_withdrawn").count() == 2


def test_undo_leaves_a_ticket_its_department_took_up(client: Client, team, queue) -> None:
    client.force_login(team.cm)
    mention = queue["new"]
    html = client.post(
        "/inbox/bulk/", {"ids": [mention.pk], "action": "department", "department": team.billing.pk}, headers=HTMX
    ).content.decode()
    ticket = Ticket.objects.get(mention=mention)
    ticket_transition(ticket=ticket, to_status=Ticket.Status.ACKNOWLEDGED, actor=team.billing_member)
    message = client.post("/inbox/undo/", {"token": undo_token(html)}, headers=HTMX).content.decode()
    assert "1 mention was changed since (or its ticket taken up) and is left as it is." in message
    ticket.refresh_from_db()
    mention.refresh_from_db()
    assert (ticket.status, mention.status) == (Ticket.Status.ACKNOWLEDGED, "routed")


def test_undo_never_overwrites_a_colleagues_later_change(client: Client, team, queue) -> None:
    client.force_login(team.cm)
    mine, theirs = queue["new"], queue["open_mine"]
    outcome_html = client.post(
        "/inbox/bulk/", {"ids": [mine.pk, theirs.pk], "action": "close"}, headers=HTMX
    ).content.decode()
    # Meanwhile a colleague reopened one and took it.
    Mention.objects.filter(pk=theirs.pk).update(status="open", assignee=team.manager)
    message = client.post("/inbox/undo/", {"token": undo_token(outcome_html)}, headers=HTMX).content.decode()
    assert "Undone: 1 mention is back as it was." in message
    assert "1 mention was changed since" in message
    theirs.refresh_from_db()
    assert theirs.assignee == team.manager


def test_undo_of_a_sentiment_correction_gives_back_the_analyzers_label(team, queue) -> None:
    mention = queue["new"]
    Mention.objects.filter(pk=mention.pk).update(sentiment="neutral", analyzer_sentiment="neutral")
    outcome = mentions_bulk_act(user=team.cm, ids=[mention.pk], action="sentiment", sentiment=Sentiment.NEGATIVE)
    from responses.services import mentions_bulk_undo

    mentions_bulk_undo(user=team.cm, action="sentiment", before=outcome.before, after=outcome.after)
    mention.refresh_from_db()
    assert (mention.sentiment, mention.sentiment_corrected_by) == ("neutral", None)


def test_an_undo_is_the_users_own_and_short_lived(client: Client, team, queue) -> None:
    client.force_login(team.cm)
    mention = queue["new"]
    html = client.post("/inbox/bulk/", {"ids": [mention.pk], "action": "spam"}, headers=HTMX).content.decode()
    token = undo_token(html)
    # Another community manager of the brand cannot play it, nor can a tampered token.
    client.force_login(team.outsider)
    assert client.post("/inbox/undo/", {"token": token}, headers=HTMX).status_code == 422
    client.force_login(team.cm)
    assert client.post("/inbox/undo/", {"token": token[:-2] + "xx"}, headers=HTMX).status_code == 422
    with time_machine.travel(timezone.now() + timedelta(seconds=inbox_views.UNDO_ACCEPTED_SECONDS + 5)):
        response = client.post("/inbox/undo/", {"token": token}, headers=HTMX)
    assert response.status_code == 422 and "Too late to undo" in response.content.decode()
    mention.refresh_from_db()
    assert mention.status == "spam"


def test_without_javascript_the_action_and_its_answer_still_work(client: Client, team, queue) -> None:
    client.force_login(team.cm)
    response = client.post(
        "/inbox/bulk/", {"ids": [queue["new"].pk], "action": "close", "next": "/inbox/"}, follow=True
    )
    assert "1 mention closed." in response.content.decode()


def test_without_javascript_the_answer_offers_an_undo_that_is_a_plain_form(client: Client, team, queue) -> None:
    client.force_login(team.cm)
    mention = queue["new"]
    response = client.post(
        "/inbox/bulk/",
        {"ids": [mention.pk], "action": "department", "department": team.billing.pk, "next": "/inbox/?tab=all"},
        follow=True,
    )
    html = response.content.decode()
    ticket = Ticket.objects.get(mention=mention)
    answer = html[html.index('id="bulk-result"') :]
    answer = answer[: answer.index("</div>")]
    assert f"1 mention sent to Billing as #{ticket.pk}." in answer
    form = re.search(r'<form method="post" action="/inbox/undo/"(.*?)</form>', answer, re.S).group(1)
    assert 'name="csrfmiddlewaretoken"' in form and 'name="next" value="/inbox/?tab=all"' in form
    # The button is a plain submit: the same POST without htmx headers undoes through the service.
    response = client.post("/inbox/undo/", {"token": undo_token(answer), "next": "/inbox/?tab=all"}, follow=True)
    assert response.redirect_chain[-1][0] == "/inbox/?tab=all"
    assert f"Ticket #{ticket.pk} withdrawn" in response.content.decode()
    ticket.refresh_from_db()
    mention.refresh_from_db()
    assert (ticket.status, mention.status) == (Ticket.Status.CLOSED, "new")
    # The answer is shown once: the next visit has no stale Undo.
    assert 'name="token"' not in client.get("/inbox/").content.decode()


def test_without_javascript_an_undo_is_refused_after_the_same_60_seconds(client: Client, team, queue) -> None:
    client.force_login(team.cm)
    mention = queue["new"]
    html = client.post("/inbox/bulk/", {"ids": [mention.pk], "action": "close"}, follow=True).content.decode()
    with time_machine.travel(timezone.now() + timedelta(seconds=inbox_views.UNDO_ACCEPTED_SECONDS + 5)):
        response = client.post("/inbox/undo/", {"token": undo_token(html)}, follow=True)
    assert "Too late to undo" in response.content.decode()
    mention.refresh_from_db()
    assert mention.status == "closed"


def test_nothing_changed_says_so_and_offers_no_undo(client: Client, team, queue) -> None:
    client.force_login(team.cm)
    html = client.post("/inbox/bulk/", {"ids": [queue["closed"].pk], "action": "close"}, headers=HTMX).content.decode()
    assert "Nothing changed" in html and 'name="token"' not in html


# --- The keyboard's "r" ---------------------------------------------------------------------------
def test_the_r_key_is_labelled_with_the_verb(client: Client, team) -> None:
    client.force_login(team.cm)
    with override("es"):
        html = client.get("/inbox/", headers={"Accept-Language": "es"}).content.decode()
    assert "<dt><kbd>r</kbd></dt><dd>Responder</dd>" in html
