from __future__ import annotations

# --- Tickets ------------------------------------------------------------------------------------
from collections.abc import Callable
from typing import Any

from django.contrib import messages
from django.contrib.auth import get_user_model
from django.contrib.auth.decorators import permission_required
from django.contrib.auth.models import AbstractBaseUser
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Max
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.dateparse import parse_datetime
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.timesince import timesince
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from listening.models import Mention
from listening.selectors import brands_for_user, mentions_visible_to
from responses import routing
from responses.models import Department, Notification, Priority, Reply, RoutingRule, SavedReply, Ticket
from responses.replies import (
    reply_approve,
    reply_create,
    reply_max_length,
    reply_reject,
    reply_retry,
    saved_reply_render,
)
from responses.selectors import (
    QUEUE_TABS,
    departments_for_user,
    ready_for_follow_up,
    rules_for_user,
    ticket_queue,
    ticket_timeline,
    tickets_for_user,
    unread_notifications,
)
from responses.tickets import TRANSITIONS, TicketError, ticket_add_note, ticket_assign, ticket_transition


@permission_required("responses.view_ticket", raise_exception=True)
def ticket_list(request: HttpRequest) -> HttpResponse:
    tab = request.GET.get("tab") if request.GET.get("tab") in QUEUE_TABS else "all"
    department = request.GET.get("department", "")
    status = request.GET.get("status", "")
    tickets, cursor = ticket_queue(
        user=request.user,
        tab=tab,
        department=int(department) if department.isdigit() else None,
        status=status,
        after=request.GET.get("after", ""),
    )
    context = {
        "tickets": tickets,
        "cursor": cursor,
        "tab": tab,
        "tabs": [("unassigned", _("Unassigned")), ("mine", _("Mine")), ("all", _("All"))],
        "departments": departments_for_user(request.user).select_related("brand"),
        "department": department,
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


def _ticket_page(request: HttpRequest, ticket: Ticket, *, error: str = "", status: int = 200) -> HttpResponse:
    context = {
        "ticket": ticket,
        "timeline": ticket_timeline(ticket),
        "transitions": [(s, Ticket.Status(s).label) for s in TRANSITIONS[ticket.status]],
        "members": ticket.department.members.filter(is_active=True).order_by("username"),
        "can_change": request.user.has_perm("responses.change_ticket"),
        "error": error,
        "form": request.POST if request.method == "POST" else {},
    }
    template = "responses/_ticket_body.html" if request.htmx else "responses/ticket_detail.html"
    return render(request, template, context, status=status)


@permission_required("responses.view_ticket", raise_exception=True)
def ticket_detail(request: HttpRequest, pk: int) -> HttpResponse:
    return _ticket_page(request, _visible_ticket(request, pk))


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
    if ref == "me":
        assignee = request.user
    else:
        assignee = get_user_model().objects.filter(pk=int(ref)).first() if ref.isdigit() else None
    return _ticket_action(
        request, pk, lambda ticket: ticket_assign(ticket=ticket, assignee=assignee, actor=request.user)
    )


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


# --- Notifications ------------------------------------------------------------------------------


def notification_list(request: HttpRequest) -> HttpResponse:
    notifications = Notification.objects.filter(user=request.user).order_by("-created_at", "-id")[:100]
    return render(request, "responses/notification_list.html", {"notifications": notifications})


@require_POST
def notification_read(request: HttpRequest) -> HttpResponse:
    """Mark one notification (``id``) or all of them read, then follow its link or come back."""
    unread = unread_notifications(request.user)
    ref = request.POST.get("id", "")
    if ref.isdigit():
        unread = unread.filter(pk=int(ref))
    unread.update(read_at=timezone.now())
    target = request.POST.get("next", "")
    if not url_has_allowed_host_and_scheme(target, allowed_hosts={request.get_host()}):
        target = ""
    return redirect(target or "responses:notification_list")


# --- Routing rules ------------------------------------------------------------------------------

MAX_ROWS = 20
EXTRA_ROWS = 2
ACTION_PARAMS = ("department", "priority", "user", "status", "tag")


def _configurable_brands(request: HttpRequest):
    return brands_for_user(request.user)


def _value_text(value: Any) -> str:
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, list):
        return ", ".join(str(v) for v in value)
    return "" if value is None else str(value)


def _rows_from_post(post: Any) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """The builder's rows as submitted (raw strings), with empty rows dropped."""
    conditions, actions = [], []
    for i in range(MAX_ROWS):
        field = post.get(f"cond-{i}-field", "")
        if field:
            conditions.append(
                {"field": field, "op": post.get(f"cond-{i}-op", ""), "value": post.get(f"cond-{i}-value", "")}
            )
        kind = post.get(f"act-{i}-type", "")
        if kind:
            actions.append({"type": kind, **{p: post.get(f"act-{i}-{p}", "") for p in ACTION_PARAMS}})
    return conditions, actions


def _rows_from_rule(rule: RoutingRule) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    conditions = [{**c, "value": _value_text(c.get("value"))} for c in rule.conditions]
    actions = [{p: "" for p in ACTION_PARAMS} | {k: str(v) for k, v in a.items()} for a in rule.actions]
    return conditions, actions


def _condition_for_clean(row: dict[str, Any]) -> dict[str, Any]:
    # The builder sends text; lists are comma-separated, and clean_rule parses numbers and yes/no.
    return {"field": row["field"], "op": row["op"], "value": row["value"]}


def _action_for_clean(row: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in row.items() if v != ""}


def _builder_context(
    request: HttpRequest,
    rule: RoutingRule,
    conditions: list[dict[str, Any]],
    actions: list[dict[str, Any]],
    errors: dict[str, str],
) -> dict[str, Any]:
    condition_rows = [
        {**row, "index": i, "errors": {k: errors.get(f"conditions.{i}.{k}") for k in ("field", "op", "value")}}
        for i, row in enumerate(conditions)
    ]
    condition_rows += [
        {"field": "", "op": "", "value": "", "index": i, "errors": {}}
        for i in range(len(conditions), min(MAX_ROWS, len(conditions) + EXTRA_ROWS))
    ]
    action_rows = [
        {**row, "index": i, "errors": {k: errors.get(f"actions.{i}.{k}") for k in ("type", *ACTION_PARAMS)}}
        for i, row in enumerate(actions)
    ]
    action_rows += [
        {"type": "", "index": i, "errors": {}} for i in range(len(actions), min(MAX_ROWS, len(actions) + EXTRA_ROWS))
    ]
    brands = _configurable_brands(request)
    brand_ids = [rule.brand_id] if rule.pk else list(brands.values_list("pk", flat=True))
    return {
        "rule": rule,
        "brands": brands,
        "condition_rows": condition_rows,
        "action_rows": action_rows,
        "errors": errors,
        "fields": [(f, routing.CONDITION_LABELS[f]) for f in routing.CONDITION_OPS],
        "field_ops": {f: list(ops) for f, ops in routing.CONDITION_OPS.items()},
        "ops": list(routing.OP_LABELS.items()),
        "action_types": list(routing.ACTION_LABELS.items()),
        "departments": Department.objects.filter(brand_id__in=brand_ids).select_related("brand"),
        "priorities": Priority.choices,
        "statuses": Mention.Status.choices,
        "users": get_user_model()
        .objects.filter(brand_memberships__brand_id__in=brand_ids, is_active=True)
        .distinct()
        .order_by("username"),
    }


def _rule_from_post(request: HttpRequest, rule: RoutingRule) -> tuple[list, list, dict[str, str]]:
    """Fill ``rule`` from the builder's POST; returns the raw rows and the per-field errors."""
    post = request.POST
    errors: dict[str, str] = {}
    rule.name = post.get("name", "").strip()[:200]
    rule.match = post.get("match", RoutingRule.Match.ALL)
    rule.stop_processing = post.get("stop_processing") == "on"
    rule.is_active = post.get("is_active") == "on"
    if not rule.name:
        errors["name"] = _("Give the rule a name.")
    if not rule.pk:
        brand_ref = post.get("brand", "")
        brand = _configurable_brands(request).filter(pk=int(brand_ref)).first() if brand_ref.isdigit() else None
        if brand is None:
            errors["brand"] = _("Choose one of your brands.")
            return *_rows_from_post(post), errors
        rule.brand = brand
    conditions, actions = _rows_from_post(post)
    try:
        clean = routing.clean_rule(
            brand_id=rule.brand_id,
            match=rule.match,
            conditions=[_condition_for_clean(c) for c in conditions],
            actions=[_action_for_clean(a) for a in actions],
        )
    except routing.RuleInvalid as invalid:
        errors.update(invalid.errors)
    else:
        rule.conditions, rule.actions = clean.conditions, clean.actions
    return conditions, actions, errors


@permission_required("listening.configure_brand", raise_exception=True)
def rule_list(request: HttpRequest) -> HttpResponse:
    rules = list(rules_for_user(request.user).select_related("brand").order_by("brand__name", "position", "id"))
    departments = dict(Department.objects.filter(brand__in={r.brand_id for r in rules}).values_list("pk", "name"))
    for rule in rules:
        rule.described = routing.describe_rule(rule, departments)
    return render(request, "responses/rule_list.html", {"rules": rules})


@permission_required("listening.configure_brand", raise_exception=True)
def rule_edit(request: HttpRequest, pk: int | None = None) -> HttpResponse:
    """Create or edit a rule in the builder; "Preview" shows what it would have matched, unsaved."""
    rule = get_object_or_404(rules_for_user(request.user), pk=pk) if pk else RoutingRule(stop_processing=True)
    preview = None
    if request.method == "POST":
        conditions, actions, errors = _rule_from_post(request, rule)
        if not errors and request.POST.get("preview"):
            preview = routing.rule_preview(rule=rule)
        elif not errors:
            with transaction.atomic():
                if not rule.pk:
                    last = RoutingRule.objects.filter(brand=rule.brand).aggregate(m=Max("position"))["m"]
                    rule.position = 0 if last is None else last + 1
                    rule.created_by = request.user
                rule.save()
            messages.success(request, _("Rule “%(name)s” saved.") % {"name": rule.name})
            return redirect("responses:rule_list")
    else:
        conditions, actions = _rows_from_rule(rule) if rule.pk else ([], [])
        errors = {}
    context = _builder_context(request, rule, conditions, actions, errors)
    context["preview"] = preview
    return render(request, "responses/rule_edit.html", context, status=400 if errors else 200)


@require_POST
@permission_required("listening.configure_brand", raise_exception=True)
def rule_preview_view(request: HttpRequest) -> HttpResponse:
    """The builder's preview button (htmx): count and examples, or the errors, as a fragment."""
    ref = request.POST.get("rule", "")
    rule = get_object_or_404(rules_for_user(request.user), pk=int(ref)) if ref.isdigit() else RoutingRule()
    _conditions, _actions, errors = _rule_from_post(request, rule)
    preview = None if errors else routing.rule_preview(rule=rule)
    return render(request, "responses/_rule_preview.html", {"preview": preview, "errors": errors})


@require_POST
@permission_required("listening.configure_brand", raise_exception=True)
def rule_move(request: HttpRequest, pk: int) -> HttpResponse:
    """Swap a rule with its neighbour; positions are renumbered so gaps and ties disappear."""
    rule = get_object_or_404(rules_for_user(request.user), pk=pk)
    with transaction.atomic():
        ordered = list(
            RoutingRule.objects.select_for_update().filter(brand_id=rule.brand_id).order_by("position", "id")
        )
        index = next(i for i, r in enumerate(ordered) if r.pk == rule.pk)
        other = index - 1 if request.POST.get("direction") == "up" else index + 1
        if 0 <= other < len(ordered):
            ordered[index], ordered[other] = ordered[other], ordered[index]
        for position, item in enumerate(ordered):
            if item.position != position:
                RoutingRule.objects.filter(pk=item.pk).update(position=position)
    return redirect("responses:rule_list")


@require_POST
@permission_required("listening.configure_brand", raise_exception=True)
def rule_toggle(request: HttpRequest, pk: int) -> HttpResponse:
    rule = get_object_or_404(rules_for_user(request.user), pk=pk)
    rule.is_active = not rule.is_active
    rule.save(update_fields=["is_active", "updated_at"])
    return redirect("responses:rule_list")


@require_POST
@permission_required("listening.configure_brand", raise_exception=True)
def rule_delete(request: HttpRequest, pk: int) -> HttpResponse:
    rule = get_object_or_404(rules_for_user(request.user), pk=pk)
    name = rule.name
    rule.delete()
    messages.success(request, _("Rule “%(name)s” deleted.") % {"name": name})
    return redirect("responses:rule_list")


# --- Replies on the mention page ------------------------------------------------------------------
def replies_context(request: HttpRequest, mention: Mention) -> dict[str, Any]:
    """The reply list of a mention; it polls while a reply is on its way."""
    replies = list(mention.replies.select_related("author", "approved_by"))
    in_flight = any(r.status in (Reply.Status.QUEUED, Reply.Status.SENDING) for r in replies)
    return {
        "mention": mention,
        "replies": replies,
        "polling": in_flight,
        "can_reply": request.user.has_perm("responses.add_reply"),
        "can_publish": request.user.has_perm("responses.publish_reply"),
    }


def composer_context(
    request: HttpRequest, mention: Mention, *, text: str = "", error: str = "", warning: str = ""
) -> dict[str, Any]:
    saved = [
        (s, saved_reply_render(saved_reply=s, mention=mention, agent=request.user))
        for s in SavedReply.objects.filter(brand_id=mention.brand_id).order_by("shortcut")
    ]
    platform_limit = reply_max_length(mention)
    return {
        "mention": mention,
        "saved_replies": saved,
        "max_length": platform_limit,
        "can_answer": platform_limit > 0,
        "can_reply": request.user.has_perm("responses.add_reply"),
        "loaded_at": timezone.now().isoformat(),
        "text": text,
        "error": error,
        "warning": warning,
    }


def _reply_mention(request: HttpRequest, pk: int) -> Mention:
    return get_object_or_404(mentions_visible_to(request.user).select_related("author", "channel", "brand"), pk=pk)


def _replies_response(request: HttpRequest, mention: Mention) -> HttpResponse:
    if request.htmx:
        return render(request, "listening/_replies.html", replies_context(request, mention))
    return redirect(reverse("listening:mention_detail", args=[mention.pk]) + "#replies")


def reply_list(request: HttpRequest, pk: int) -> HttpResponse:
    mention = _reply_mention(request, pk)
    return render(request, "listening/_replies.html", replies_context(request, mention))


def _collision_warning(mention: Mention, user: AbstractBaseUser, loaded_at: str) -> str:
    """A reply someone else wrote after this page was loaded, worded as a question, or ""."""
    since = parse_datetime(loaded_at)
    if since is None:
        return ""
    other = (
        mention.replies.filter(created_at__gt=since)
        .exclude(author=user)
        .exclude(status=Reply.Status.REJECTED)
        .select_related("author")
        .order_by("-created_at")
        .first()
    )
    if other is None:
        return ""
    name = (other.author.get_short_name() or other.author.get_username()) if other.author else _("Someone")
    return _("%(name)s replied %(ago)s ago — send anyway?") % {"name": name, "ago": timesince(other.created_at)}


@require_POST
@permission_required("responses.add_reply", raise_exception=True)
def reply_send(request: HttpRequest, pk: int) -> HttpResponse:
    mention = _reply_mention(request, pk)
    text = request.POST.get("text", "")
    warning = (
        ""
        if request.POST.get("confirm")
        else _collision_warning(mention, request.user, request.POST.get("loaded_at", ""))
    )
    error = ""
    if not warning:
        try:
            reply_create(mention=mention, author=request.user, text=text)
        except ValidationError as exc:
            error = " ".join(exc.messages)
    if warning or error:
        context = composer_context(request, mention, text=text, error=error, warning=warning)
        if request.htmx:
            response = render(request, "listening/_composer.html", context)
            response["HX-Retarget"] = "#composer"
            response["HX-Reswap"] = "outerHTML"
            return response
        messages.error(request, warning or error)
        return redirect(reverse("listening:mention_detail", args=[mention.pk]) + "#reply")
    if request.htmx:
        # The new reply in the list, and a fresh composer swapped in beside it.
        context = {**replies_context(request, mention), **composer_context(request, mention), "oob": True}
        return render(request, "listening/_reply_sent.html", context)
    messages.success(request, _("Reply queued."))
    return redirect(reverse("listening:mention_detail", args=[mention.pk]) + "#replies")


def _reply_action(request: HttpRequest, pk: int, action: Callable[..., Reply]) -> HttpResponse:
    reply = get_object_or_404(
        Reply.objects.filter(mention__in=mentions_visible_to(request.user)).select_related("mention"), pk=pk
    )
    try:
        action(reply=reply, user=request.user)
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
    if request.POST.get("next") == "pending":
        return redirect("responses:pending_replies")
    return _replies_response(request, _reply_mention(request, reply.mention_id))


@require_POST
@permission_required("responses.publish_reply", raise_exception=True)
def reply_approve_view(request: HttpRequest, pk: int) -> HttpResponse:
    return _reply_action(request, pk, reply_approve)


@require_POST
@permission_required("responses.publish_reply", raise_exception=True)
def reply_reject_view(request: HttpRequest, pk: int) -> HttpResponse:
    return _reply_action(request, pk, reply_reject)


@require_POST
@permission_required("responses.add_reply", raise_exception=True)
def reply_retry_view(request: HttpRequest, pk: int) -> HttpResponse:
    return _reply_action(request, pk, reply_retry)


@permission_required("responses.publish_reply", raise_exception=True)
def pending_replies(request: HttpRequest) -> HttpResponse:
    replies = (
        Reply.objects.filter(status=Reply.Status.PENDING_APPROVAL, mention__brand__in=brands_for_user(request.user))
        .select_related("author", "mention__author", "mention__channel")
        .order_by("created_at", "id")[:200]
    )
    return render(request, "responses/pending_replies.html", {"replies": replies})
