"""Tickets: opening one from a mention, and what a public reply does to it."""

from __future__ import annotations

from django.contrib.auth.models import AbstractBaseUser
from django.db import transaction

from listening import actions
from listening.models import Mention
from responses.models import Department, Priority, Reply, RoutingRule, Ticket, TicketEvent


@transaction.atomic
def open_ticket(
    mention: Mention,
    department: Department,
    *,
    priority: str = Priority.NORMAL,
    actor: AbstractBaseUser | None = None,
    rule: RoutingRule | None = None,
    note: str = "",
) -> tuple[Ticket, bool]:
    """Open a ticket for ``department`` about ``mention``; returns (ticket, created).

    A mention has at most one live ticket per department: asking again returns the live one.
    """
    live = Ticket.objects.filter(mention=mention, department=department).exclude(status=Ticket.Status.CLOSED).first()
    if live is not None:
        return live, False
    ticket = Ticket.objects.create(
        brand_id=mention.brand_id,
        department=department,
        mention=mention,
        rule=rule,
        subject=(mention.title or mention.text)[:120],
        priority=priority,
        created_by=actor,
    )
    TicketEvent.objects.create(
        ticket=ticket, actor=actor, kind=TicketEvent.Kind.CREATED, to_status=ticket.status, body=note
    )
    actions.set_status(mention, Mention.Status.ROUTED, actor, note=department.name)
    return ticket, True


def on_reply_sent(reply: Reply) -> None:
    """A public reply went out: the delivery code calls this once per sent reply."""
