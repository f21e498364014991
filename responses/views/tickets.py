"""Tickets: a department's queue, one ticket's page and its actions, and the community manager's
follow-up list (resolved cases waiting for their public answer)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.contrib.auth import get_user_model
from django.contrib.auth.decorators import permission_required
from django.contrib.auth.models import AbstractBaseUser
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from config import params
from config.people import person_name
from listening.connectors import item_link
from listening.selectors import mention_thread
from responses.models import Ticket, TicketEvent
from responses.selectors import (
    QUEUE_TABS,
    TimelineItem,
    departments_for_user,
    ready_for_follow_up,
    ticket_live_version,
    ticket_queue,
    ticket_timeline,
    tickets_for_user,
)
from responses.tickets import TRANSITIONS, TicketError, ticket_add_note, ticket_assign, ticket_transition


@permission_required("responses.view_ticket", raise_exception=True)
def ticket_list(request: HttpRequest) -> HttpResponse:
    tab = request.GET.get("tab") if request.GET.get("tab") in QUEUE_TABS else "all"
    department = params.id_or_none(request.GET.get("department", ""))
    status = request.GET.get("status", "")
    tickets, cursor = ticket_queue(
        user=request.user,
        tab=tab,
        department=department,
        status=status,
        after=request.GET.get("after", ""),
    )
    context = {
        "tickets": tickets,
        "cursor": cursor,
        "tab": tab,
        "tabs": [("unassigned", _("Unassigned")), ("mine", _("Mine")), ("all", _("All"))],
        "departments": departments_for_user(request.user).select_related("brand"),
        "department": str(department or ""),
        "status": status,
        "statuses": Ticket.Status.choices,
        "see_all": request.user.has_perm("responses.manage_all_tickets"),
    }
    template = "responses/_ticket_rows.html" if request.htmx else "responses/ticket_list.html"
    return render(request, template, context)


def _visible_ticket(request: HttpRequest, pk: int) -> Ticket:
    return get_object_or_404(
        tickets_for_user(request.user).select_related(
            "department", "assignee", "mention__author", "mention__channel", "brand", "rule"
        ),
        pk=pk,
    )


def _ticket_context(request: HttpRequest, ticket: Ticket, *, error: str = "") -> dict[str, Any]:
    """What the ticket page shows, and the live update redraws from."""
    parent, others = mention_thread(ticket.mention)
    members = list(ticket.department.members.filter(is_active=True).order_by("username"))
    return {
        "ticket": ticket,
        "mention": ticket.mention,
        "parent": parent,
        "others": others,
        "parent_link": "" if parent else item_link(ticket.mention.channel.platform, ticket.mention.parent_external_id),
        "live_version": ticket_live_version(ticket),
        "timeline": _named(ticket_timeline(ticket), members),
        "transitions": [(s, Ticket.Status(s).label) for s in TRANSITIONS[ticket.status]],
        "members": members,
        "can_change": request.user.has_perm("responses.change_ticket"),
        "error": error,
        "form": request.POST if request.method == "POST" else {},
    }


def _named(timeline: list[TimelineItem], members: list[AbstractBaseUser]) -> list[TimelineItem]:
    """An assignment's event records the username (as the API shows it); the page shows the name."""
    names = {member.get_username(): person_name(member) for member in members}
    for item in timeline:
        if item.kind == TicketEvent.Kind.ASSIGNED:
            item.obj.body = names.get(item.obj.body, item.obj.body)
    return timeline


def _ticket_page(request: HttpRequest, ticket: Ticket, *, error: str = "", status: int = 200) -> HttpResponse:
    template = "responses/_ticket_body.html" if request.htmx else "responses/ticket_detail.html"
    return render(request, template, _ticket_context(request, ticket, error=error), status=status)


@permission_required("responses.view_ticket", raise_exception=True)
def ticket_detail(request: HttpRequest, pk: int) -> HttpResponse:
    return _ticket_page(request, _visible_ticket(request, pk))


@require_GET
@permission_required("responses.view_ticket", raise_exception=True)
def ticket_live(request: HttpRequest, pk: int) -> HttpResponse:
    """Polled by the ticket page with the version it shows: 204 while nothing changed, else the
    ticket's header, actions, conversation and timeline out of band; text being typed in the
    resolution or note is kept (hx-preserve)."""
    ticket = _visible_ticket(request, pk)
    if ticket_live_version(ticket) == request.GET.get("v"):
        return HttpResponse(status=204)
    return render(request, "responses/_ticket_live.html", {**_ticket_context(request, ticket), "live": True})


def _ticket_action(request: HttpRequest, pk: int, change: Callable[[Ticket], object]) -> HttpResponse:
    """Apply ``change`` to a visible ticket; a refused change is shown on the ticket page with
    its reason (400 without htmx), a done one swaps the page in place or redirects to it."""
    ticket = _visible_ticket(request, pk)
    try:
        change(ticket)
    except TicketError as error:
        return _ticket_page(request, ticket, error=str(error), status=400 if not request.htmx else 200)
    if request.htmx:
        return _ticket_page(request, _visible_ticket(request, pk))
    return redirect("responses:ticket_detail", pk=pk)


@require_POST
@permission_required("responses.change_ticket", raise_exception=True)
def ticket_status(request: HttpRequest, pk: int) -> HttpResponse:
    return _ticket_action(
        request,
        pk,
        lambda ticket: ticket_transition(
            ticket=ticket,
            to_status=request.POST.get("status", ""),
            actor=request.user,
            resolution=request.POST.get("resolution", ""),
        ),
    )


@require_POST
@permission_required("responses.change_ticket", raise_exception=True)
def ticket_assign_view(request: HttpRequest, pk: int) -> HttpResponse:
    ref = request.POST.get("assignee", "")

    def assign(ticket: Ticket) -> None:
        assignee = request.user if ref == "me" else None
        if ref not in ("", "none", "me"):
            assignee = get_user_model().objects.filter(pk=params.id_or_none(ref) or 0).first()
            if assignee is None:
                # Refused like someone outside the department: the form tells nobody which ids are people.
                raise TicketError(
                    _("Only a member of %(department)s can take this ticket.") % {"department": ticket.department}
                )
        ticket_assign(ticket=ticket, assignee=assignee, actor=request.user)

    return _ticket_action(request, pk, assign)


@require_POST
@permission_required("responses.add_ticketevent", raise_exception=True)
def ticket_note(request: HttpRequest, pk: int) -> HttpResponse:
    return _ticket_action(
        request,
        pk,
        lambda ticket: ticket_add_note(ticket=ticket, body=request.POST.get("body", ""), actor=request.user),
    )


@permission_required("listening.work_inbox", raise_exception=True)
def follow_up(request: HttpRequest) -> HttpResponse:
    """Resolved tickets waiting for the community manager's public answer."""
    tickets = ready_for_follow_up(request.user)[:100]
    return render(request, "responses/follow_up.html", {"tickets": tickets})
