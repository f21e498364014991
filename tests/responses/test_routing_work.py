"""What routing a page does once for the page, not once per mention, ticket or notification, and
that what it writes stays what was written one by one."""

from __future__ import annotations

from collections import Counter
from typing import Any

import pytest
from django.urls import clear_script_prefix, reverse, set_script_prefix
from django.utils import translation
from django.utils.translation import gettext_lazy

from listening.models import Mention
from responses import routing, tickets
from responses.models import Notification, Ticket
from responses.notifications import Notice, notify_all
from responses.preferences import user_language_set
from responses.routing import route_mentions
from responses.tickets import TicketBatch
from tests.factories import ChannelFactory, MentionFactory, RoutingRuleFactory, UserFactory

pytestmark = pytest.mark.django_db


def _open(team, texts: list[str]) -> list[Ticket]:
    channel = ChannelFactory(brand=team.brand)
    mentions = [MentionFactory(channel=channel, text=text) for text in texts]
    batch = TicketBatch(mentions=mentions, departments=[team.billing])
    for mention in mentions:
        batch.open(mention=mention, department=team.billing)
    return batch.save()


def test_a_batch_of_tickets_translates_its_notice_once_per_language(team, monkeypatch) -> None:
    user_language_set(user=team.billing_member, language="es")
    team.billing.members.add(UserFactory(username="erik"))  # the site's language, English
    switched: Counter[str | None] = Counter()
    override = translation.override

    def counting(language: str | None, deactivate: bool = False) -> Any:
        switched[language] += 1
        return override(language, deactivate)

    monkeypatch.setattr(translation, "override", counting)
    opened = _open(team, ["refund one", "refund two", "refund three"])

    assert switched["es"] == 1
    written = {(n.user.username, n.url): n.message for n in Notification.objects.select_related("user")}
    assert written == {
        **{("bruno", f"/tickets/{t.pk}/"): f"Nuevo ticket #{t.pk} para Billing: {t.subject}" for t in opened},
        **{("erik", f"/tickets/{t.pk}/"): f"New ticket #{t.pk} for Billing: {t.subject}" for t in opened},
    }


def test_params_that_read_otherwise_in_another_language_are_written_in_each_recipients(team) -> None:
    user_language_set(user=team.billing_member, language="es")
    message = gettext_lazy("New ticket #%(id)s for %(department)s: %(subject)s")
    notices = [
        Notice(users=[team.billing_member, team.cm], verb="v", message=message, url="/a/", params=params)
        for params in (
            {"id": 7, "department": gettext_lazy("Spanish"), "subject": "s"},
            {"id": 8, "department": "Billing", "subject": "t"},
        )
    ]
    created = notify_all(notices)

    assert [(n.user.username, n.message) for n in created] == [
        ("bruno", "Nuevo ticket #7 para Español: s"),
        ("carla", "New ticket #7 for Spanish: s"),
        ("bruno", "Nuevo ticket #8 para Billing: t"),
        ("carla", "New ticket #8 for Billing: t"),
    ]


def test_a_batch_of_tickets_reverses_their_link_once(team, monkeypatch) -> None:
    reversed_for: list[int] = []
    ticket_url = tickets.ticket_url

    def counting(ticket: Ticket) -> str:
        reversed_for.append(ticket.pk)
        return ticket_url(ticket)

    monkeypatch.setattr(tickets, "ticket_url", counting)
    opened = _open(team, ["refund one", "refund two", "refund three"])

    assert len(reversed_for) == 1
    urls = sorted(Notification.objects.values_list("url", flat=True))
    assert urls == sorted(reverse("responses:ticket_detail", args=[t.pk]) for t in opened)


@pytest.mark.parametrize("prefix", ["/1/", "/12/", "/escucha/"])
def test_the_tickets_links_are_those_reversed_one_by_one_under_any_script_prefix(team, prefix) -> None:
    set_script_prefix(prefix)
    try:
        opened = _open(team, [f"refund {n}" for n in range(12)])
        expected = {reverse("responses:ticket_detail", args=[t.pk]) for t in opened}
    finally:
        clear_script_prefix()
    assert all(url.startswith(prefix) for url in expected)
    assert set(Notification.objects.values_list("url", flat=True)) == expected


def _rule(team, conditions: list[dict[str, Any]]) -> None:
    RoutingRuleFactory(
        brand=team.brand, name="Refunds", position=0, conditions=conditions, actions=[{"type": "tag", "tag": "money"}]
    )


def test_a_page_read_with_its_authors_channels_and_brands_prefetches_nothing(team, monkeypatch) -> None:
    _rule(team, [{"field": "followers", "op": "above", "value": -1}])
    channel = ChannelFactory(brand=team.brand)
    pks = [MentionFactory(channel=channel, text="refund").pk for _ in range(3)]
    prefetched: list[tuple[int, tuple[str, ...]]] = []
    prefetch = routing.prefetch_related_objects

    def recording(instances: list[Mention], *lookups: str) -> None:
        prefetched.append((len(instances), lookups))
        prefetch(instances, *lookups)

    monkeypatch.setattr(routing, "prefetch_related_objects", recording)
    read = list(Mention.objects.filter(pk__in=pks).select_related("author", "channel__brand", "brand"))
    route_mentions(read)
    assert prefetched == []

    # Read without them, each is read for the mentions that lack it.
    MentionFactory(channel=channel, text="refund")
    unread = [m for m in Mention.objects.filter(routing_log=[])]
    route_mentions(unread)
    assert prefetched == [(1, ("author",)), (1, ("channel",)), (1, ("brand",))]
    assert all("money" in m.tags for m in [*read, *unread])


@pytest.mark.parametrize("op", ["any", "none"])
def test_a_text_condition_reads_the_mentions_folded_text_once_for_all_its_phrases(team, monkeypatch, op) -> None:
    _rule(team, [{"field": "text", "op": op, "value": ["alpha", "beta", "gamma", "delta"]}])
    mention = MentionFactory(channel=ChannelFactory(brand=team.brand), text="nothing here")
    read: list[int] = []
    folded_of = routing.folded_of

    def counting(m: Mention) -> str:
        read.append(m.pk)
        return folded_of(m)

    monkeypatch.setattr(routing, "folded_of", counting)
    route_mentions([mention])
    assert read == [mention.pk]
    assert ("money" in mention.tags) is (op == "none")


def test_a_recorded_change_and_its_event_read_the_clock_once(team, monkeypatch) -> None:
    from django.utils import timezone

    from listening.models import MentionEvent
    from listening.services import MentionChanges

    mention = MentionFactory(channel=ChannelFactory(brand=team.brand), text="refund", status=Mention.Status.NEW)
    read: list[object] = []
    now = timezone.now

    def counting() -> object:
        read.append(now())
        return read[-1]

    changes = MentionChanges()
    monkeypatch.setattr(timezone, "now", counting)
    changes.add_tag(mention, "money")
    changes.assign(mention, team.cm)
    changes.set_status(mention, Mention.Status.CLOSED)
    monkeypatch.undo()

    assert mention.updated_at == read[-1]
    changes.save()
    events = MentionEvent.objects.filter(mention=mention).order_by("pk")
    assert [(e.kind, e.created_at) for e in events] == list(zip(["tagged", "assigned", "status"], read, strict=True))
