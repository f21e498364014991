"""What routing a page does once for the page, not once per mention, ticket or notification, and
that what it writes stays what was written one by one."""

from __future__ import annotations

from collections import Counter
from typing import Any

import pytest
from django.urls import clear_script_prefix, reverse, set_script_prefix
from django.utils import translation
from django.utils.translation import gettext_lazy

from responses import tickets
from responses.models import Notification, Ticket
from responses.notifications import Notice, notify_all
from responses.preferences import user_language_set
from responses.tickets import TicketBatch
from tests.factories import ChannelFactory, MentionFactory, UserFactory

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
