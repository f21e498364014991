"""The case's clock on every page that shows a ticket: ``{% sla ticket %}``."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from django import template
from django.utils.translation import gettext as _

from responses.models import Ticket
from responses.tickets import ticket_sla_clock

register = template.Library()


def duration_text(span: timedelta) -> str:
    """A span as people read a countdown: "3 d 4 h", "2 h 10 min", "45 min" (minutes rounded up)."""
    minutes = max(int(-(-abs(span).total_seconds() // 60)), 0)
    days, rest = divmod(minutes, 24 * 60)
    hours, minutes = divmod(rest, 60)
    if days:
        return _("%(days)d d %(hours)d h") % {"days": days, "hours": hours}
    if hours:
        return _("%(hours)d h %(minutes)d min") % {"hours": hours, "minutes": minutes}
    return _("%(minutes)d min") % {"minutes": max(minutes, 1)}


@register.inclusion_tag("responses/_sla.html")
def sla(ticket: Ticket | None) -> dict[str, Any]:
    """The ticket's SLA: a countdown, "due soon" or "overdue", in words as well as colour."""
    if ticket is None:
        return {"clock": None}
    clock = ticket_sla_clock(ticket)
    if clock is None:
        # A finished case keeps saying that it missed a deadline; one that met them says nothing.
        missed = ticket.acknowledge_breached_at or ticket.resolve_breached_at
        return {"clock": None, "missed": bool(missed)}
    time = duration_text(clock.remaining)
    acknowledge = clock.deadline == "acknowledge"
    if clock.state == "overdue":
        state = _("Overdue")
        detail = (
            _("acknowledgement was due %(time)s ago") if acknowledge else _("resolution was due %(time)s ago")
        ) % {"time": time}
    else:
        state = _("Due soon") if clock.state == "soon" else ""
        detail = (_("acknowledge within %(time)s") if acknowledge else _("resolve within %(time)s")) % {"time": time}
    return {"clock": clock, "state": state, "detail": detail}
