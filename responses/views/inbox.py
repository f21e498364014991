"""The triage inbox: filters in the URL, keyset pages, the "N new mentions" counter, bulk actions
and saved views. One view returns the full page, or for htmx the fragment named after the element
it replaces."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

from django.contrib import messages
from django.contrib.auth.decorators import permission_required
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect, QueryDict
from django.shortcuts import render
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.utils.translation import pgettext
from django.views.decorators.http import require_GET, require_POST

from config import params
from config.pagination import encode_cursor
from listening.models import Intent, Mention, Platform, Sentiment, TrackedTerm
from listening.selectors import MentionFilters, brand_members, brands_for_user, channels_for_user, mentions_for_user
from responses.models import Department
from responses.selectors import inbox_new_count, inbox_newer_rows, inbox_page, inbox_rows, saved_views_for_user
from responses.services import mentions_bulk_update, saved_view_create

# The query-string keys that are filters (kept in links, saved views and the "new" poll).
FILTER_KEYS = (
    "brand",
    "platform",
    "channel",
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


def _row_labels() -> dict[str, str]:
    """Each row's fixed words, translated once per page rather than fifty times."""
    return {
        "select": _("Select"),
        "verified": _("Verified"),
        "unassigned": _("Unassigned"),
        "language": _("Language"),
        "open": pgettext("link that opens a mention", "Open"),
        "original": _("Original"),
        "assign": _("Assign to me"),
        "close": _("Close"),
        "spam": _("Spam"),
    }


def _filter_query(params: QueryDict) -> str:
    """The filters of a request as a clean query string: no cursor, no empty values."""
    return urlencode([(key, params[key]) for key in FILTER_KEYS if params.get(key)])


def _inbox_context(request: HttpRequest, filters: MentionFilters) -> dict[str, Any]:
    user = request.user
    brands = list(brands_for_user(user))
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
        "departments": Department.objects.filter(brand_id__in=brand_ids).select_related("brand"),
    }


@require_GET
@permission_required("listening.work_inbox", raise_exception=True)
def inbox(request: HttpRequest) -> HttpResponse:
    """The triage inbox. Full page; or, for htmx, the fragment named after the element it replaces."""
    filters = MentionFilters.from_params(request.GET)
    if "newer" in request.GET and request.htmx:
        # "N new mentions" clicked: the rows above the top one go on top of the list, and the
        # counter starts again from the new top row.
        top = request.GET["newer"]
        rows = inbox_newer_rows(user=request.user, filters=filters, top=top)
        return render(
            request,
            "responses/mention-list.html",
            {
                "mentions": rows,
                "labels": _row_labels(),
                "filter_query": _filter_query(request.GET),
                "top_cursor": encode_cursor(rows[0]) if rows else top,
            },
        )
    page = inbox_page(user=request.user, filters=filters, after=request.GET.get("after", ""))
    context = {
        "page": page,
        "mentions": page.mentions,
        "labels": _row_labels(),
        "filter_query": _filter_query(request.GET),
    }
    if request.htmx and request.htmx.target == "load-more":
        return render(request, "responses/load-more.html", context)
    if request.htmx and request.htmx.target == "inbox-results":
        response = render(request, "responses/inbox-results.html", {**context, "fragment": True})
        # The address bar gets the filters only (a GET form sends every empty field too).
        response["HX-Push-Url"] = f"/inbox/?{context['filter_query']}" if context["filter_query"] else "/inbox/"
        return response
    return render(request, "responses/inbox.html", {**_inbox_context(request, filters), **context})


@require_GET
@permission_required("listening.work_inbox", raise_exception=True)
def inbox_new(request: HttpRequest) -> HttpResponse:
    """Polled every few seconds: how many mentions arrived above the top row, with the same filters."""
    top = request.GET.get("top", "")
    filters = MentionFilters.from_params(request.GET)
    count = inbox_new_count(user=request.user, filters=filters, top=top)
    return render(
        request,
        "responses/new-mentions.html",
        {"count": count, "top_cursor": top, "filter_query": _filter_query(request.GET)},
    )


@require_POST
@permission_required("listening.work_inbox", raise_exception=True)
def inbox_bulk(request: HttpRequest) -> HttpResponse:
    """One action on the selected mentions (or one row's quick action): the same service either way."""
    try:
        changed = mentions_bulk_update(
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
    if request.htmx:
        # The changed rows come back and replace themselves in place (out of band): nothing moves.
        rows = list(inbox_rows(mentions_for_user(request.user).filter(pk__in=[m.pk for m in changed])))
        return render(
            request,
            "responses/bulk-result.html",
            {
                "changed": rows,
                "count": len(rows),
                "labels": _row_labels(),
                "filter_query": _filter_query(_next_params(request)),
            },
        )
    messages.success(request, _("%(count)d mentions changed.") % {"count": len(changed)})
    return _back_to_inbox(request)


def _next_params(request: HttpRequest) -> QueryDict:
    """The inbox filters the action was taken under (from the form's ``next``)."""
    return QueryDict(request.POST.get("next", "").partition("?")[2])


def _back_to_inbox(request: HttpRequest) -> HttpResponseRedirect:
    target = request.POST.get("next", "")
    if not target.startswith("/inbox/") or not url_has_allowed_host_and_scheme(target, allowed_hosts=None):
        target = "/inbox/"
    return HttpResponseRedirect(target)


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
