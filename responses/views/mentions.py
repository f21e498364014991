"""One mention and one author: the mention page (thread, history, author panel, who else is here,
status, assignee, sentiment and intent with why the analyzer said so), its replies and composer,
and the author page."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import permission_required
from django.contrib.auth.models import AbstractBaseUser
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse, HttpResponseBadRequest
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.timesince import timesince
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_GET, require_POST

from config import params
from config.params import id_or_none
from config.people import person_name
from listening.connectors import item_link
from listening.intent import explain
from listening.models import Intent, Mention, MentionEvent, Sentiment
from listening.selectors import brand_members, brands_for_user, mention_thread
from listening.services import mention_assign, mention_correct_intent, mention_correct_sentiment, mention_set_status
from publishing.selectors import commented_post
from responses.models import Department, Priority, Reply, Ticket
from responses.moderation import PERMISSION as MODERATE
from responses.moderation import mention_moderate, mention_moderation_actions
from responses.replies import (
    reply_approve,
    reply_create,
    reply_max_length,
    reply_reject,
    reply_retry,
    saved_reply_render,
)
from responses.selectors import (
    author_mentions_page,
    author_summary,
    authors_visible_to,
    mention_case,
    mention_live_version,
    mentions_visible_to,
    saved_replies_for_mention,
    tickets_for_user,
)
from responses.services import mention_presence_touch, mentions_bulk_update


def _visible_mention(request: HttpRequest, pk: int) -> Mention:
    # Another brand's mention is a 404, not a 403: its existence is not the outsider's business.
    return get_object_or_404(
        mentions_visible_to(request.user).select_related(
            "author",
            "channel",
            "brand",
            "assignee",
            "sentiment_corrected_by",
            "intent_corrected_by",
        ),
        pk=pk,
    )


def _mention_context(request: HttpRequest, mention: Mention) -> dict[str, Any]:
    """What the mention page shows, and the live update redraws from."""
    parent, others = mention_thread(mention)
    members = list(brand_members([mention.brand_id]))
    return {
        "mention": mention,
        "parent": parent,
        "others": others,
        "parent_link": "" if parent else item_link(mention.channel.platform, mention.parent_external_id),
        "our_post": commented_post(mention),
        "events": _history(mention, members),
        "author_summary": author_summary(user=request.user, author=mention.author, exclude=mention),
        "case": mention_case(user=request.user, mention=mention),
        "departments": Department.objects.filter(brand_id=mention.brand_id).only("name").order_by("name"),
        "priorities": Priority.choices,
        "default_priority": Priority.NORMAL,
        "can_route": request.user.has_perm("responses.add_ticket") and request.user.has_perm("listening.work_inbox"),
        "statuses": Mention.Status.choices,
        "sentiments": [(value, label) for value, label in Sentiment.choices if value != Sentiment.UNSCORED],
        "intents": [(value, label) for value, label in Intent.choices if value != Intent.UNCLASSIFIED],
        "why": explain(mention.analysis or {}),
        "members": members,
        "can_change": request.user.has_perm("listening.change_mention"),
        "moderation_actions": mention_moderation_actions(mention) if request.user.has_perm(MODERATE) else [],
        "live_version": mention_live_version(mention),
        **replies_context(request, mention),
    }


def _history(mention: Mention, members: list[AbstractBaseUser]) -> list[MentionEvent]:
    """The mention's events, assignments naming people as every page does. Events keep the
    username (the API's history shows it); the page shows the name, for people still on the team."""
    names = {member.get_username(): person_name(member) for member in members}
    events = list(mention.events.select_related("actor"))
    for event in events:
        if event.kind == MentionEvent.Kind.ASSIGNED:
            event.old_value = names.get(event.old_value, event.old_value)
            event.new_value = names.get(event.new_value, event.new_value)
    return events


def mention_detail(request: HttpRequest, pk: int) -> HttpResponse:
    mention = _visible_mention(request, pk)
    context = {
        **_mention_context(request, mention),
        "viewers": mention_presence_touch(mention_id=mention.pk, user=request.user),
        **composer_context(request, mention, ticket=_follow_up_ticket(request, mention, request.GET.get("ticket"))),
    }
    return render(request, "responses/mention_detail.html", context)


@require_GET
def mention_live(request: HttpRequest, pk: int) -> HttpResponse:
    """Polled by the mention page with the version it shows: 204 while nothing changed (four
    small reads), else its live parts (conversation, replies, case, status, history, author) out
    of band. The composer is never redrawn, so nothing being typed is lost."""
    mention = _visible_mention(request, pk)
    if mention_live_version(mention) == request.GET.get("v"):
        return HttpResponse(status=204)
    return render(request, "responses/_mention_live.html", _mention_context(request, mention))


@require_POST
@permission_required("responses.add_ticket", raise_exception=True)
@permission_required("listening.work_inbox", raise_exception=True)
def mention_open_ticket(request: HttpRequest, pk: int) -> HttpResponse:
    """The case panel's "Open a ticket": the inbox's "send to a department", for one mention."""
    mention = _visible_mention(request, pk)
    try:
        mentions_bulk_update(
            user=request.user,
            ids=[mention.pk],
            action="department",
            department_id=params.id_or_none(request.POST.get("department", "")),
            priority=request.POST.get("priority", ""),
            note=request.POST.get("note", "")[:1000],
        )
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
    return redirect(reverse("responses:mention_detail", args=[mention.pk]) + "#case")


# What the page says once the platform made the change.
MODERATED = {
    "hide": gettext_lazy("Hidden on the platform."),
    "unhide": gettext_lazy("Visible on the platform again."),
    "delete": gettext_lazy("Deleted on the platform."),
}


@require_POST
@permission_required(MODERATE, raise_exception=True)
def mention_moderate_view(request: HttpRequest, pk: int) -> HttpResponse:
    """Hide, show again or delete the comment on its platform, from the mention page."""
    mention = _visible_mention(request, pk)
    action = request.POST.get("action", "")
    try:
        if mention_moderate(mention=mention, action=action, actor=request.user):
            messages.success(request, MODERATED[action])
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
    return redirect(reverse("responses:mention_detail", args=[mention.pk]) + "#moderation")


@require_POST
def mention_presence(request: HttpRequest, pk: int) -> HttpResponse:
    mention = _visible_mention(request, pk)
    return render(
        request,
        "responses/_presence.html",
        {"viewers": mention_presence_touch(mention_id=mention.pk, user=request.user)},
    )


@require_POST
@permission_required("listening.change_mention", raise_exception=True)
def mention_update(request: HttpRequest, pk: int) -> HttpResponse:
    """Status, assignee, sentiment or intent from the mention page; each change is recorded by the actions."""
    mention = _visible_mention(request, pk)
    field, value = request.POST.get("field", ""), request.POST.get("value", "")
    if field == "status" and value in Mention.Status.values:
        mention_set_status(mention=mention, status=value, actor=request.user)
    elif field == "sentiment" and value in Sentiment.values:
        mention_correct_sentiment(mention=mention, label=value, actor=request.user)
    elif field == "intent" and value in Intent.values and value != Intent.UNCLASSIFIED:
        mention_correct_intent(mention=mention, intent=value, actor=request.user)
    elif field == "assignee" and value in ("", "none"):
        mention_assign(mention=mention, assignee=None, actor=request.user)
    elif field == "assignee" and (assignee_id := params.id_or_none(value)):
        assignee = get_object_or_404(brand_members([mention.brand_id]), pk=assignee_id)
        mention_assign(mention=mention, assignee=assignee, actor=request.user)
    else:
        return HttpResponseBadRequest(_("Unknown change."))
    return redirect("responses:mention_detail", pk=mention.pk)


def author_detail(request: HttpRequest, pk: int) -> HttpResponse:
    """Everything an author said to the user's brands, newest first, keyset-paginated."""
    author = get_object_or_404(authors_visible_to(request.user), pk=pk)
    page = author_mentions_page(user=request.user, author=author, after=request.GET.get("before", ""))
    context = {
        "author": author,
        "mentions": page.rows,
        "next_cursor": page.next_cursor,
        "summary": author_summary(user=request.user, author=author),
    }
    return render(request, "responses/author_detail.html", context)


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


def _follow_up_ticket(request: HttpRequest, mention: Mention, ref: object) -> Ticket | None:
    """The ticket a public reply follows up (``?ticket=`` from the follow-up list): one of this
    mention's tickets that the user may see, else None."""
    ticket_id = id_or_none(ref)
    if ticket_id is None:
        return None
    return tickets_for_user(request.user).filter(pk=ticket_id, mention=mention).select_related("department").first()


def composer_context(
    request: HttpRequest,
    mention: Mention,
    *,
    text: str = "",
    error: str = "",
    warning: str = "",
    ticket: Ticket | None = None,
) -> dict[str, Any]:
    saved = [
        (s, saved_reply_render(saved_reply=s, mention=mention, agent=request.user))
        for s in saved_replies_for_mention(mention)
    ]
    platform_limit = reply_max_length(mention)
    return {
        "mention": mention,
        "saved_replies": saved,
        "max_length": platform_limit,
        "can_answer": platform_limit > 0,
        "can_reply": request.user.has_perm("responses.add_reply"),
        "loaded_at": timezone.now().isoformat(),
        # The public follow-up of a resolved ticket starts from what the department wrote.
        "text": text or (ticket.resolution if ticket is not None and ticket.status == Ticket.Status.RESOLVED else ""),
        "ticket": ticket,
        "error": error,
        "warning": warning,
    }


def _reply_mention(request: HttpRequest, pk: int) -> Mention:
    return get_object_or_404(mentions_visible_to(request.user).select_related("author", "channel", "brand"), pk=pk)


def _replies_response(request: HttpRequest, mention: Mention) -> HttpResponse:
    if request.htmx:
        return render(request, "responses/_replies.html", replies_context(request, mention))
    return redirect(reverse("responses:mention_detail", args=[mention.pk]) + "#replies")


def reply_list(request: HttpRequest, pk: int) -> HttpResponse:
    mention = _reply_mention(request, pk)
    return render(request, "responses/_replies.html", replies_context(request, mention))


def _colleague_reply(mention: Mention, user: AbstractBaseUser, loaded_at: str) -> Reply | None:
    """A reply someone else wrote after this page was loaded, or None."""
    try:
        since = params.parse_moment(loaded_at)
    except params.BadParam:  # a form without the hidden field, or one tampered with
        return None
    return (
        mention.replies.filter(created_at__gt=since)
        .exclude(author=user)
        .exclude(status=Reply.Status.REJECTED)
        .select_related("author")
        .order_by("-created_at")
        .first()
    )


def _collision_warning(other: Reply | None) -> str:
    """The colleague's reply worded as a question, or ""."""
    if other is None:
        return ""
    name = person_name(other.author) or _("Someone")
    return _("%(name)s replied %(ago)s ago — send anyway?") % {"name": name, "ago": timesince(other.created_at)}


@require_POST
@permission_required("responses.add_reply", raise_exception=True)
def reply_send(request: HttpRequest, pk: int) -> HttpResponse:
    mention = _reply_mention(request, pk)
    text = request.POST.get("text", "")
    ticket = _follow_up_ticket(request, mention, request.POST.get("ticket"))
    colleague = (
        None
        if request.POST.get("confirm")
        else _colleague_reply(mention, request.user, request.POST.get("loaded_at", ""))
    )
    warning = _collision_warning(colleague)
    error = ""
    if not warning:
        try:
            reply_create(mention=mention, author=request.user, text=text, ticket=ticket)
        except ValidationError as exc:
            error = " ".join(exc.messages)
    if warning or error:
        context = composer_context(request, mention, text=text, error=error, warning=warning, ticket=ticket)
        context["colleague_reply"] = colleague
        if request.htmx:
            response = render(request, "responses/_composer.html", context)
            response["HX-Retarget"] = "#composer"
            response["HX-Reswap"] = "outerHTML"
            return response
        messages.error(request, warning or error)
        return redirect(reverse("responses:mention_detail", args=[mention.pk]) + "#reply")
    if request.htmx:
        # The new reply in the list, and a fresh composer swapped in beside it.
        # The page's live poll goes on from here, every 2 s while the reply is on its way.
        # The page's live parts are redrawn with it, as they stand now (read again: the reply may
        # have gone out and moved the mention and its ticket already).
        mention = _visible_mention(request, mention.pk)
        context = {**_mention_context(request, mention), **composer_context(request, mention), "oob": True}
        return render(request, "responses/_reply_sent.html", context)
    messages.success(request, _("Reply queued."))
    return redirect(reverse("responses:mention_detail", args=[mention.pk]) + "#replies")


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
