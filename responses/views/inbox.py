"""The triage inbox: filters in the URL, keyset pages, the "N new mentions" counter, bulk actions
and saved views. One view returns the full page, or for htmx the fragment named after the element
it replaces."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

from django.contrib import messages
from django.contrib.auth.decorators import permission_required
from django.contrib.auth.models import AbstractBaseUser
from django.core import signing
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect, QueryDict
from django.shortcuts import render
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.text import Truncator
from django.utils.translation import gettext as _
from django.utils.translation import ngettext, pgettext
from django.views.decorators.http import require_GET, require_POST

from config import params
from config.pagination import encode_cursor
from config.people import person_name
from listening.models import Intent, Mention, Platform, Sentiment, TrackedTerm
from listening.selectors import MentionFilters, brand_members, brands_for_user, channels_for_user, visible_brands
from publishing.models import Post
from responses.models import Department
from responses.selectors import (
    INBOX_TABS,
    TAB_COUNT_CAP,
    inbox_mentions,
    inbox_new_count,
    inbox_newer_rows,
    inbox_page,
    inbox_rows,
    inbox_tab,
    inbox_tab_counts,
    saved_views_for_user,
)
from responses.services import (
    BulkOutcome,
    MentionState,
    UndoOutcome,
    mentions_bulk_act,
    mentions_bulk_undo,
    saved_view_create,
)

# The query-string keys that are filters (kept in links, saved views and the "new" poll).
FILTER_KEYS = (
    "tab",
    "brand",
    "platform",
    "channel",
    "post",
    "sentiment",
    "intent",
    "status",
    "assignee",
    "language",
    "term",
    "since",
    "until",
    "q",
)
LANGUAGES = ("en", "es", "pt", "fr", "de", "it", "ca")


def _filter_query(params: QueryDict) -> str:
    """The filters of a request as a clean query string: no cursor, no empty values."""
    return urlencode([(key, params[key]) for key in FILTER_KEYS if params.get(key)])


def _tab_labels() -> dict[str, str]:
    return {
        "open": pgettext("inbox tab: mentions that still need someone", "Open"),
        "unassigned": pgettext("inbox tab", "Unassigned"),
        "mine": pgettext("inbox tab: mentions assigned to me", "Mine"),
        "all": pgettext("inbox tab", "All"),
    }


def _tabs(user: AbstractBaseUser, query: QueryDict) -> list[dict[str, Any]]:
    """The tab links over the current filters, each with its queue's capped count ("999+")."""
    current = inbox_tab(query)
    rest = query.copy()
    rest.pop("tab", None)
    counts = inbox_tab_counts(user=user, brand=MentionFilters.from_params(query).brand)
    labels = _tab_labels()
    tabs = []
    for tab in INBOX_TABS:
        link = rest.copy()
        if tab != inbox_tab(rest):  # the default tab of these filters needs no "tab=" in its address
            link["tab"] = tab
        count = counts[tab]
        tabs.append(
            {
                "tab": tab,
                "label": labels[tab],
                "query": _filter_query(link),
                "current": tab == current,
                "count": f"{TAB_COUNT_CAP - 1}+" if count >= TAB_COUNT_CAP else str(count),
            }
        )
    return tabs


def _chips(user: AbstractBaseUser, query: QueryDict, filters: MentionFilters) -> list[dict[str, str]]:
    """The filters in use, each as a chip that removes it: its name, its value in words, and the
    address of the inbox without it (the link works without JavaScript; inbox.js clears the
    form's field instead, so the form and the list stay the same)."""
    names = {
        "q": _("Search"),
        "brand": _("Brand"),
        "platform": _("Platform"),
        "channel": _("Channel"),
        "post": _("Comments on our post"),
        "sentiment": _("Sentiment"),
        "intent": _("Intent"),
        "status": _("Status"),
        "assignee": _("Assignee"),
        "language": _("Language"),
        "term": _("Term"),
        "since": _("From"),
        "until": _("To"),
    }
    values: dict[str, str] = {}
    if filters.q:
        values["q"] = filters.q
    if filters.brand and (brand := brands_for_user(user).filter(pk=filters.brand).first()):
        values["brand"] = brand.name
    if filters.platform:
        values["platform"] = str(Platform(filters.platform).label)
    if filters.channel and (channel := channels_for_user(user).filter(pk=filters.channel).first()):
        values["channel"] = channel.name
    if filters.post and (post := Post.objects.filter(pk=filters.post, brand__in=brands_for_user(user)).first()):
        values["post"] = Truncator(post.text).chars(60)
    if filters.sentiment:
        values["sentiment"] = str(Sentiment(filters.sentiment).label)
    if filters.intent:
        values["intent"] = str(Intent(filters.intent).label)
    if filters.status:
        values["status"] = str(Mention.Status(filters.status).label)
    if filters.assignee == "me":
        values["assignee"] = _("Me")
    elif filters.assignee == "none":
        values["assignee"] = _("Unassigned")
    elif assignee_id := params.id_or_none(filters.assignee):
        person = brand_members(brands_for_user(user).values_list("pk", flat=True)).filter(pk=assignee_id).first()
        if person is not None:
            values["assignee"] = person_name(person)
    if filters.language:
        values["language"] = filters.language
    if filters.term in TrackedTerm.Kind.values:
        values["term"] = str(TrackedTerm.Kind(filters.term).label)
    elif term_id := params.id_or_none(filters.term):
        term = TrackedTerm.objects.filter(pk=term_id, brand__in=brands_for_user(user)).first()
        if term is not None:
            values["term"] = term.text
    if filters.since:
        values["since"] = query.get("since", "")
    if filters.until:
        values["until"] = query.get("until", "")
    chips = []
    for key in FILTER_KEYS:
        if key not in values:
            continue
        rest = query.copy()
        rest.pop(key, None)
        chips.append({"key": key, "name": names[key], "value": values[key], "query": _filter_query(rest)})
    return chips


def _results_context(request: HttpRequest, query: QueryDict) -> dict[str, Any]:
    """What the results fragment shows above the list: the tabs with their counts and the chips."""
    filters = MentionFilters.from_params(query)
    return {
        "tabs": _tabs(request.user, query),
        "chips": _chips(request.user, query, filters),
        "tab": inbox_tab(query),
        "tab_param": query.get("tab", "") if query.get("tab", "") in INBOX_TABS else "",
    }


def _inbox_context(request: HttpRequest, filters: MentionFilters) -> dict[str, Any]:
    user = request.user
    brands = visible_brands(user)
    brand_ids = [b.pk for b in brands]
    return {
        "filters": filters,
        "params": request.GET,
        "filter_query": _filter_query(request.GET),
        "brands": brands,
        "platforms": Platform.choices,
        "channels": channels_for_user(user).only("id", "name", "platform"),
        "sentiments": Sentiment.choices,
        "intents": Intent.choices,
        "statuses": Mention.Status.choices,
        "mention_languages": LANGUAGES,
        "term_kinds": TrackedTerm.Kind.choices,
        "terms": TrackedTerm.objects.filter(brand_id__in=brand_ids, is_active=True).only("id", "kind", "text"),
        "saved_views": saved_views_for_user(user),
        "teammates": brand_members(brand_ids),
        # Their names only: the webhook URLs are encrypted, and each one read is decrypted.
        "departments": Department.objects.filter(brand_id__in=brand_ids)
        .select_related("brand")
        .only("name", "brand__name"),
    }


@require_GET
@permission_required("listening.work_inbox", raise_exception=True)
def inbox(request: HttpRequest) -> HttpResponse:
    """The triage inbox. Full page; or, for htmx, the fragment named after the element it replaces."""
    filters = MentionFilters.from_params(request.GET)
    tab = inbox_tab(request.GET)
    if "newer" in request.GET and request.htmx:
        # "N new mentions" clicked: the rows above the top one go on top of the list, and the
        # counter starts again from the new top row.
        top = request.GET["newer"]
        rows = inbox_newer_rows(user=request.user, filters=filters, top=top, tab=tab)
        return render(
            request,
            "responses/mention-list.html",
            {
                "mentions": rows,
                "filter_query": _filter_query(request.GET),
                "top_cursor": encode_cursor(rows[0]) if rows else top,
            },
        )
    page = inbox_page(user=request.user, filters=filters, tab=tab, after=request.GET.get("after", ""))
    context = {
        "page": page,
        "mentions": page.mentions,
        "filter_query": _filter_query(request.GET),
    }
    if request.htmx and request.htmx.target == "load-more":
        return render(request, "responses/load-more.html", context)
    context.update(_results_context(request, request.GET))
    if request.htmx and request.htmx.target == "inbox-results":
        response = render(request, "responses/inbox-results.html", {**context, "fragment": True})
        # The address bar gets the filters only (a GET form sends every empty field too).
        response["HX-Push-Url"] = f"/inbox/?{context['filter_query']}" if context["filter_query"] else "/inbox/"
        return response
    # A plain form's action (no JavaScript) answers here, after its redirect: what it did, and Undo.
    context["result"] = request.session.pop(UNDO_SESSION_KEY, None)
    return render(request, "responses/inbox.html", {**_inbox_context(request, filters), **context})


@require_GET
@permission_required("listening.work_inbox", raise_exception=True)
def inbox_new(request: HttpRequest) -> HttpResponse:
    """Polled every few seconds: how many mentions arrived above the top row, with the same filters."""
    top = request.GET.get("top", "")
    filters = MentionFilters.from_params(request.GET)
    count = inbox_new_count(user=request.user, filters=filters, top=top, tab=inbox_tab(request.GET))
    return render(
        request,
        "responses/new-mentions.html",
        {"count": count, "top_cursor": top, "filter_query": _filter_query(request.GET)},
    )


# How long the Undo button stays on screen (inbox.js removes it), and how long the server still
# honours it: a little longer, so a click in the last second is not refused on a slow network.
UNDO_SHOWN_SECONDS = 10
UNDO_ACCEPTED_SECONDS = 60
UNDO_SALT = "responses.inbox.undo"
UNDO_SESSION_KEY = "inbox_result"


def _ticket_numbers(ids: list[int]) -> str:
    """Ticket numbers for a sentence: "#41", "#41-#43", "#41-#43, #47" (an en dash)."""
    runs: list[list[int]] = []
    for pk in sorted(ids):
        if runs and pk == runs[-1][-1] + 1:
            runs[-1].append(pk)
        else:
            runs.append([pk])
    return ", ".join(f"#{run[0]}" if len(run) == 1 else f"#{run[0]}\N{EN DASH}#{run[-1]}" for run in runs)


def _outcome_message(outcome: BulkOutcome, user: AbstractBaseUser) -> str:
    """What the action did, in one sentence: "3 mentions sent to Billing as #41-#43"."""
    count = len(outcome.changed)
    if not count:
        return _("Nothing changed: the mentions already were that way.")
    if outcome.action == "assign":
        if outcome.assignee is None:
            return ngettext("%(count)d mention unassigned.", "%(count)d mentions unassigned.", count) % {"count": count}
        if outcome.assignee.pk == user.pk:
            return ngettext("%(count)d mention assigned to you.", "%(count)d mentions assigned to you.", count) % {
                "count": count
            }
        return ngettext(
            "%(count)d mention assigned to %(name)s.", "%(count)d mentions assigned to %(name)s.", count
        ) % {
            "count": count,
            "name": person_name(outcome.assignee),
        }
    if outcome.action == "close":
        return ngettext("%(count)d mention closed.", "%(count)d mentions closed.", count) % {"count": count}
    if outcome.action == "spam":
        return ngettext("%(count)d mention marked as spam.", "%(count)d mentions marked as spam.", count) % {
            "count": count
        }
    if outcome.action == "sentiment":
        return ngettext(
            "%(count)d mention marked %(sentiment)s.", "%(count)d mentions marked %(sentiment)s.", count
        ) % {"count": count, "sentiment": str(Sentiment(outcome.sentiment).label).lower()}
    return ngettext(
        "%(count)d mention sent to %(department)s as %(tickets)s.",
        "%(count)d mentions sent to %(department)s as %(tickets)s.",
        count,
    ) % {
        "count": count,
        "department": outcome.department.name if outcome.department else "",
        "tickets": _ticket_numbers([ticket.pk for ticket in outcome.tickets]),
    }


def _undo_token(outcome: BulkOutcome, user: AbstractBaseUser) -> str:
    """Signed and dated, so the undo cannot be forged or replayed late: who, what, and each changed
    mention's state before and after the action."""

    def state(s: MentionState) -> list[Any]:
        return [s.status, s.assignee_id, s.sentiment, s.sentiment_corrected]

    return signing.dumps(
        {
            "user": user.pk,
            "action": outcome.action,
            "mentions": [[pk, state(outcome.before[pk]), state(outcome.after[pk])] for pk in outcome.before],
            "tickets": [ticket.pk for ticket in outcome.tickets],
        },
        salt=UNDO_SALT,
        compress=True,
    )


def _visible_after(request: HttpRequest, mentions: list[Mention]) -> tuple[list[Mention], list[Mention]]:
    """Of the mentions an action touched, the ones still in the current tab and filters (their rows
    are redrawn in place) and the ones that left it (their rows go: the queue empties)."""
    query = _next_params(request)
    ids = [m.pk for m in mentions]
    kept = inbox_rows(
        inbox_mentions(user=request.user, filters=MentionFilters.from_params(query), tab=inbox_tab(query)).filter(
            pk__in=ids
        )
    )
    rows = {m.pk: m for m in kept}
    return [rows[pk] for pk in ids if pk in rows], [m for m in mentions if m.pk not in rows]


def _result(request: HttpRequest, context: dict[str, Any], status: int = 200) -> HttpResponse:
    query = _next_params(request)
    return render(
        request,
        "responses/bulk-result.html",
        {
            **context,
            "filter_query": _filter_query(query),
            "tabs": _tabs(request.user, query),
            "next": _next_url(request),
        },
        status=status,
    )


@require_POST
@permission_required("listening.work_inbox", raise_exception=True)
def inbox_bulk(request: HttpRequest) -> HttpResponse:
    """One action on the selected mentions (or one row's quick action): the same service either way.
    The answer says what was done and offers to undo it for a few seconds."""
    try:
        outcome = mentions_bulk_act(
            user=request.user,
            ids=params.ids(request.POST.getlist("ids")),
            action=request.POST.get("action", ""),
            assignee=request.POST.get("assignee", ""),
            sentiment=request.POST.get("sentiment", ""),
            department_id=params.id_or_none(request.POST.get("department", "")),
            note=request.POST.get("note", "")[:1000],
        )
    except ValidationError as error:
        if request.htmx:
            return render(request, "responses/bulk-result.html", {"error": " ".join(error.messages)}, status=422)
        messages.error(request, " ".join(error.messages))
        return _back_to_inbox(request)
    message = _outcome_message(outcome, request.user)
    undo = _undo_token(outcome, request.user) if outcome.changed else ""
    if not request.htmx:
        # The inbox page the browser is sent back to shows the answer with its Undo, a plain form.
        request.session[UNDO_SESSION_KEY] = {"message": message, "undo": undo, "undo_seconds": UNDO_SHOWN_SECONDS}
        return _back_to_inbox(request)
    # Rows still in the view are redrawn in place (out of band), so nothing moves under the reader;
    # rows that left it (closed in the Open tab…) are taken out.
    shown, gone = _visible_after(request, outcome.changed)
    return _result(
        request,
        {
            "message": message,
            "undo": undo,
            "undo_seconds": UNDO_SHOWN_SECONDS,
            "changed": shown,
            "gone": gone,
        },
    )


def _undo_message(outcome: UndoOutcome) -> str:
    parts = []
    if outcome.restored:
        count = len(outcome.restored)
        parts.append(
            ngettext(
                "Undone: %(count)d mention is back as it was.",
                "Undone: %(count)d mentions are back as they were.",
                count,
            )
            % {"count": count}
        )
    if outcome.withdrawn:
        tickets = [ticket.pk for ticket in outcome.withdrawn]
        parts.append(
            ngettext(
                "Ticket %(tickets)s withdrawn (closed, its department told).",
                "Tickets %(tickets)s withdrawn (closed, their department told).",
                len(tickets),
            )
            % {"tickets": _ticket_numbers(tickets)}
        )
    if outcome.kept:
        count = len(outcome.kept)
        parts.append(
            ngettext(
                "%(count)d mention was changed since (or its ticket taken up) and is left as it is.",
                "%(count)d mentions were changed since (or their tickets taken up) and are left as they are.",
                count,
            )
            % {"count": count}
        )
    return " ".join(parts) or _("Nothing to undo.")


@require_POST
@permission_required("listening.work_inbox", raise_exception=True)
def inbox_undo(request: HttpRequest) -> HttpResponse:
    """Undo the inbox action the signed token describes, if it is recent and the user's own."""
    error = ""
    try:
        data = signing.loads(request.POST.get("token", ""), salt=UNDO_SALT, max_age=UNDO_ACCEPTED_SECONDS)
        if data.get("user") != request.user.pk:
            raise signing.BadSignature("another user's undo")
    except signing.SignatureExpired:
        error = _("Too late to undo: change the mentions again instead.")
    except signing.BadSignature:
        error = _("This undo is not valid.")
    if error:
        if request.htmx:
            return _result(request, {"error": error}, status=422)
        messages.error(request, error)
        return _back_to_inbox(request)
    outcome = mentions_bulk_undo(
        user=request.user,
        action=data["action"],
        before={pk: MentionState(*was) for pk, was, _left in data["mentions"]},
        after={pk: MentionState(*left) for pk, _was, left in data["mentions"]},
        ticket_ids=data["tickets"],
    )
    message = _undo_message(outcome)
    if not request.htmx:
        messages.success(request, message)
        return _back_to_inbox(request)
    response = _result(request, {"message": message})
    # The list is drawn again: the mentions put back may belong in it again.
    response["HX-Trigger"] = "inbox-refresh"
    return response


def _next_params(request: HttpRequest) -> QueryDict:
    """The inbox filters the action was taken under (from the form's ``next``)."""
    return QueryDict(request.POST.get("next", "").partition("?")[2])


def _next_url(request: HttpRequest) -> str:
    target = request.POST.get("next", "")
    if not target.startswith("/inbox/") or not url_has_allowed_host_and_scheme(target, allowed_hosts=None):
        target = "/inbox/"
    return target


def _back_to_inbox(request: HttpRequest) -> HttpResponseRedirect:
    return HttpResponseRedirect(_next_url(request))


@require_POST
@permission_required("listening.work_inbox", raise_exception=True)
def saved_view_save(request: HttpRequest) -> HttpResponse:
    """Save the current filters under a name, for oneself or shared with the brand."""
    query = _filter_query(QueryDict(request.POST.get("query", "")))
    name = request.POST.get("name", "")
    if name.strip():
        try:
            saved_view_create(user=request.user, name=name, query=query, shared=bool(request.POST.get("shared")))
        except ValidationError as error:
            messages.error(request, " ".join(error.messages))
    return HttpResponseRedirect(f"/inbox/?{query}" if query else "/inbox/")
