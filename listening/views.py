from __future__ import annotations

import time
from datetime import datetime
from typing import Any
from urllib.parse import urlencode

from django.contrib import messages
from django.contrib.auth import get_user_model
from django.contrib.auth.decorators import permission_required
from django.contrib.auth.models import AbstractBaseUser
from django.core.cache import cache
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models import Exists, OuterRef, Q
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseBadRequest, HttpResponseRedirect, QueryDict
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.dateparse import parse_datetime
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.utils.translation import pgettext
from django.views.decorators.http import require_GET, require_POST

from listening import actions
from listening.forms import ChannelForm, TermForm
from listening.models import Author, Brand, Channel, Mention, Platform, SavedView, Sentiment, TrackedTerm
from listening.selectors import (
    MentionFilters,
    author_summary,
    brands_for_user,
    channels_for_user,
    encode_cursor,
    inbox_new_count,
    inbox_newer_rows,
    inbox_page,
    inbox_rows,
    mention_thread,
    mentions_for_user,
    mentions_visible_to,
    saved_views_for_user,
)
from listening.services import channel_resume, mentions_bulk_update

# The query-string keys that are filters (kept in links, saved views and the "new" poll).
FILTER_KEYS = (
    "brand",
    "platform",
    "channel",
    "sentiment",
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
    User = get_user_model()
    from responses.models import Department

    return {
        "filters": filters,
        "params": request.GET,
        "filter_query": _filter_query(request.GET),
        "brands": brands,
        "platforms": Platform.choices,
        "channels": channels_for_user(user).only("id", "name", "platform"),
        "sentiments": Sentiment.choices,
        "statuses": Mention.Status.choices,
        "languages": LANGUAGES,
        "term_kinds": TrackedTerm.Kind.choices,
        "terms": TrackedTerm.objects.filter(brand_id__in=brand_ids, is_active=True).only("id", "kind", "text"),
        "saved_views": saved_views_for_user(user),
        "teammates": User.objects.filter(brand_memberships__brand_id__in=brand_ids).distinct().order_by("username"),
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
            "listening/mention-list.html",
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
        return render(request, "listening/load-more.html", context)
    if request.htmx and request.htmx.target == "inbox-results":
        response = render(request, "listening/inbox-results.html", {**context, "fragment": True})
        # The address bar gets the filters only (a GET form sends every empty field too).
        response["HX-Push-Url"] = f"/inbox/?{context['filter_query']}" if context["filter_query"] else "/inbox/"
        return response
    return render(request, "listening/inbox.html", {**_inbox_context(request, filters), **context})


@require_GET
@permission_required("listening.work_inbox", raise_exception=True)
def inbox_new(request: HttpRequest) -> HttpResponse:
    """Polled every few seconds: how many mentions arrived above the top row, with the same filters."""
    top = request.GET.get("top", "")
    filters = MentionFilters.from_params(request.GET)
    count = inbox_new_count(user=request.user, filters=filters, top=top)
    return render(
        request,
        "listening/new-mentions.html",
        {"count": count, "top_cursor": top, "filter_query": _filter_query(request.GET)},
    )


@require_POST
@permission_required("listening.work_inbox", raise_exception=True)
def inbox_bulk(request: HttpRequest) -> HttpResponse:
    """One action on the selected mentions (or one row's quick action): the same service either way."""
    ids = [int(pk) for pk in request.POST.getlist("ids") if pk.isdigit()]
    department = request.POST.get("department", "")
    try:
        changed = mentions_bulk_update(
            user=request.user,
            ids=ids,
            action=request.POST.get("action", ""),
            assignee=request.POST.get("assignee", ""),
            sentiment=request.POST.get("sentiment", ""),
            department_id=int(department) if department.isdigit() else None,
            note=request.POST.get("note", "")[:1000],
        )
    except ValidationError as error:
        if request.htmx:
            return render(request, "listening/bulk-result.html", {"error": " ".join(error.messages)}, status=422)
        messages.error(request, " ".join(error.messages))
        return _back_to_inbox(request)
    if request.htmx:
        # The changed rows come back and replace themselves in place (out of band): nothing moves.
        rows = list(inbox_rows(mentions_for_user(request.user).filter(pk__in=[m.pk for m in changed])))
        return render(
            request,
            "listening/bulk-result.html",
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
def saved_view_create(request: HttpRequest) -> HttpResponse:
    """Save the current filters under a name, for oneself or shared with the brand."""
    query = _filter_query(QueryDict(request.POST.get("query", "")))
    name = request.POST.get("name", "").strip()[:120]
    brands = brands_for_user(request.user)
    brand_id = MentionFilters.from_params(QueryDict(query)).brand
    # A view belongs to the brand it filters on, or to the user's only brand.
    brand = brands.filter(pk=brand_id).first() if brand_id else (brands.first() if brands.count() == 1 else None)
    if name:
        try:
            with transaction.atomic():
                SavedView.objects.create(
                    user=request.user,
                    brand=brand,
                    name=name,
                    query=query,
                    shared=bool(request.POST.get("shared")) and brand is not None,
                )
        except IntegrityError:
            messages.error(request, _("You already have a view with that name."))
    return HttpResponseRedirect(f"/inbox/?{query}" if query else "/inbox/")


@permission_required("listening.configure_brand", raise_exception=True)
def channel_list(request: HttpRequest) -> HttpResponse:
    channels = channels_for_user(request.user).select_related("brand")
    return render(
        request,
        "listening/channel_list.html",
        {"channels": channels, "brands": brands_for_user(request.user), "platforms": Platform.choices},
    )


# --- Configuration: channels and tracked terms ------------------------------------------------
def _configurable_brand(request: HttpRequest, slug: str) -> Brand:
    return get_object_or_404(brands_for_user(request.user), slug=slug)


@permission_required("listening.configure_brand", raise_exception=True)
def channel_create(request: HttpRequest, slug: str, platform: str) -> HttpResponse:
    brand = _configurable_brand(request, slug)
    if platform not in Platform.values:
        raise Http404
    form = ChannelForm(request.POST or None, platform=platform, instance=Channel(brand=brand, platform=platform))
    if request.method == "POST" and form.is_valid():
        channel = form.save()
        messages.success(request, _("Channel %(name)s added; its first poll starts now.") % {"name": channel.name})
        return redirect("listening:channel_list")
    return render(
        request,
        "listening/channel_form.html",
        {"form": form, "brand": brand, "platform_label": Platform(platform).label, "channel": None},
    )


@require_POST
@permission_required("listening.configure_brand", raise_exception=True)
def channel_poll_now(request: HttpRequest, pk: int) -> HttpResponse:
    """Poll a channel at the next dispatch, also one waiting for a reconnect or a rate limit."""
    channel = get_object_or_404(channels_for_user(request.user), pk=pk)
    channel_resume(channel=channel)
    messages.success(request, _("%(name)s will be polled within a few seconds.") % {"name": channel.name})
    return redirect("listening:channel_list")


@permission_required("listening.configure_brand", raise_exception=True)
def channel_edit(request: HttpRequest, pk: int) -> HttpResponse:
    channel = get_object_or_404(channels_for_user(request.user).select_related("brand"), pk=pk)
    form = ChannelForm(request.POST or None, platform=channel.platform, instance=channel)
    if request.method == "POST" and form.is_valid():
        form.save()
        messages.success(request, _("Channel %(name)s saved.") % {"name": channel.name})
        return redirect("listening:channel_list")
    return render(
        request,
        "listening/channel_form.html",
        {"form": form, "brand": channel.brand, "platform_label": channel.get_platform_display(), "channel": channel},
    )


@permission_required("listening.configure_brand", raise_exception=True)
def term_list(request: HttpRequest, slug: str) -> HttpResponse:
    """A brand's tracked terms: add one, edit one, retire or bring back one."""
    brand = _configurable_brand(request, slug)
    editing = None
    if term_id := request.GET.get("edit", ""):
        editing = get_object_or_404(brand.terms, pk=int(term_id)) if term_id.isdigit() else None
    form = TermForm(request.POST or None, brand=brand, instance=editing)
    if request.method == "POST":
        if "toggle" in request.POST:
            term = get_object_or_404(brand.terms, pk=request.POST.get("toggle", "0") or 0)
            term.is_active = not term.is_active
            term.save(update_fields=["is_active"])
            return redirect("listening:term_list", slug=brand.slug)
        if form.is_valid():
            term = form.save()
            messages.success(request, _("Now tracking %(term)s.") % {"term": term.text})
            return redirect("listening:term_list", slug=brand.slug)
    terms = brand.terms.order_by("-is_active", "kind", "text")
    return render(
        request, "listening/term_list.html", {"brand": brand, "terms": terms, "form": form, "editing": editing}
    )


# --- One mention, and one author ------------------------------------------------------------------
PRESENCE_SECONDS = 30  # a viewer who stopped pinging (every ~10 s) disappears after this
AUTHOR_PAGE_SIZE = 25


def _visible_mention(request: HttpRequest, pk: int) -> Mention:
    # Another brand's mention is a 404, not a 403: its existence is not the outsider's business.
    return get_object_or_404(
        mentions_visible_to(request.user).select_related(
            "author", "channel", "brand", "assignee", "sentiment_corrected_by", "parent__author"
        ),
        pk=pk,
    )


def presence_touch(mention_id: int, user: AbstractBaseUser) -> list[str]:
    """Record that ``user`` has the mention open; the names of the others who have it open."""
    # One cache entry per mention: two pings at the same instant may drop one viewer until their
    # next ping (10 s), which is good enough for "who else is here" and needs no lock.
    key = f"presence:mention:{mention_id}"
    now = time.time()
    viewers = {uid: seen for uid, seen in (cache.get(key) or {}).items() if now - seen[1] < PRESENCE_SECONDS}
    viewers[user.pk] = (user.get_short_name() or user.get_username(), now)
    cache.set(key, viewers, PRESENCE_SECONDS)
    return sorted(name for uid, (name, _) in viewers.items() if uid != user.pk)


def mention_detail(request: HttpRequest, pk: int) -> HttpResponse:
    from responses.views import composer_context, replies_context

    mention = _visible_mention(request, pk)
    parent, others = mention_thread(mention)
    context = {
        "mention": mention,
        "parent": parent,
        "others": others,
        "terms": mention.term_labels,
        "events": mention.events.select_related("actor"),
        "author_summary": author_summary(user=request.user, author=mention.author, exclude=mention),
        "viewers": presence_touch(mention.pk, request.user),
        "statuses": Mention.Status.choices,
        "sentiments": Sentiment.choices,
        "members": get_user_model().objects.filter(brand_memberships__brand_id=mention.brand_id).order_by("username"),
        "can_change": request.user.has_perm("listening.change_mention"),
        **replies_context(request, mention),
        **composer_context(request, mention),
    }
    return render(request, "listening/mention_detail.html", context)


@require_POST
def mention_presence(request: HttpRequest, pk: int) -> HttpResponse:
    mention = _visible_mention(request, pk)
    return render(request, "listening/_presence.html", {"viewers": presence_touch(mention.pk, request.user)})


@require_POST
@permission_required("listening.change_mention", raise_exception=True)
def mention_update(request: HttpRequest, pk: int) -> HttpResponse:
    """Status, assignee or sentiment from the mention page; each change is recorded by the actions."""
    mention = _visible_mention(request, pk)
    field, value = request.POST.get("field", ""), request.POST.get("value", "")
    if field == "status" and value in Mention.Status.values:
        actions.set_status(mention, value, request.user)
    elif field == "sentiment" and value in Sentiment.values:
        actions.correct_sentiment(mention, value, request.user)
    elif field == "assignee":
        members = get_user_model().objects.filter(brand_memberships__brand_id=mention.brand_id)
        assignee = get_object_or_404(members, pk=value) if value.isdigit() else None
        actions.assign(mention, assignee, request.user)
    else:
        return HttpResponseBadRequest(_("Unknown change."))
    return redirect("listening:mention_detail", pk=mention.pk)


def author_detail(request: HttpRequest, pk: int) -> HttpResponse:
    """Everything an author said to the user's brands, newest first, keyset-paginated."""
    visible = mentions_visible_to(request.user)
    author = get_object_or_404(Author.objects.filter(Exists(visible.filter(author_id=OuterRef("pk")))), pk=pk)
    mentions = visible.filter(author=author).select_related("channel", "brand").order_by("-published_at", "-id")
    before = _parse_cursor(request.GET.get("before", ""))
    if before:
        at, last_id = before
        mentions = mentions.filter(Q(published_at__lt=at) | Q(published_at=at, id__lt=last_id))
    page = list(mentions[: AUTHOR_PAGE_SIZE + 1])
    more = len(page) > AUTHOR_PAGE_SIZE
    page = page[:AUTHOR_PAGE_SIZE]
    next_cursor = f"{page[-1].published_at.isoformat()}|{page[-1].pk}" if more else ""
    context = {
        "author": author,
        "mentions": page,
        "next_cursor": next_cursor,
        "summary": author_summary(user=request.user, author=author),
    }
    return render(request, "listening/author_detail.html", context)


def _parse_cursor(value: str) -> tuple[datetime, int] | None:
    at, _, last_id = value.partition("|")
    parsed = parse_datetime(at) if at else None
    if parsed is None or not last_id.isdigit():
        return None
    return parsed, int(last_id)
