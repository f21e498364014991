"""Screens of the listening app: where a brand listens (channels), what for (terms), and people's data
(privacy: access and erasure requests, the audit log)."""

from __future__ import annotations

import json
from datetime import timedelta

from django.contrib import messages
from django.contrib.auth.decorators import permission_required
from django.db.models import Count
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from config import params
from listening import hashtags
from listening.forms import BrandRetentionForm, ChannelForm, PersonEraseForm, TermForm
from listening.models import (
    ANONYMOUS_EXTERNAL_ID,
    Author,
    Brand,
    Channel,
    Mention,
    Platform,
    PrivacyAuditEntry,
)
from listening.polling import channel_resume
from listening.privacy import (
    authors_search,
    person_archive,
    person_counts,
    person_data,
    person_erase,
    person_export,
    retention_cutoff,
    retention_due,
)
from listening.selectors import brands_for_user, channels_for_user
from listening.services import tracked_term_toggle

AUDIT_RECENT = 20  # entries under the search
AUDIT_PAGE = 500  # entries on the log's page


@permission_required("listening.configure_brand", raise_exception=True)
def channel_list(request: HttpRequest) -> HttpResponse:
    channels = list(channels_for_user(request.user).select_related("brand"))
    budgets: dict[str, hashtags.HashtagBudget] = {}
    for channel in channels:
        # The hashtag budget is the Instagram account's, shown on each channel that follows hashtags.
        ig_user_id = str((channel.settings or {}).get("ig_user_id") or "")
        if channel.platform == Platform.INSTAGRAM and ig_user_id and (channel.settings or {}).get("hashtags"):
            if ig_user_id not in budgets:
                budgets[ig_user_id] = hashtags.hashtag_budget(ig_user_id=ig_user_id)
            channel.hashtag_budget = budgets[ig_user_id]
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
    hashtag_budget = None
    if channel.platform == Platform.INSTAGRAM and (channel.settings or {}).get("ig_user_id"):
        hashtag_budget = hashtags.hashtag_budget(ig_user_id=str(channel.settings["ig_user_id"]))
    return render(
        request,
        "listening/channel_form.html",
        {
            "form": form,
            "brand": channel.brand,
            "platform_label": channel.get_platform_display(),
            "channel": channel,
            "hashtag_budget": hashtag_budget,
        },
    )


@permission_required("listening.configure_brand", raise_exception=True)
def term_list(request: HttpRequest, slug: str) -> HttpResponse:
    """A brand's tracked terms: add one, edit one, retire or bring back one."""
    brand = _configurable_brand(request, slug)
    editing = None
    if request.GET.get("edit", ""):
        editing = get_object_or_404(brand.terms, pk=params.id_or_none(request.GET["edit"]) or 0)
    form = TermForm(request.POST or None, brand=brand, instance=editing)
    if request.method == "POST":
        if "toggle" in request.POST:
            toggle = params.id_or_none(request.POST.get("toggle", ""))
            tracked_term_toggle(term=get_object_or_404(brand.terms, pk=toggle or 0))
            return redirect("listening:term_list", slug=brand.slug)
        if form.is_valid():
            term = form.save()
            messages.success(request, _("Now tracking %(term)s.") % {"term": term.text})
            return redirect("listening:term_list", slug=brand.slug)
    terms = brand.terms.order_by("-is_active", "kind", "text")
    return render(
        request, "listening/term_list.html", {"brand": brand, "terms": terms, "form": form, "editing": editing}
    )


# --- Privacy: a person's data and the audit log ------------------------------------------------
def _person(pk: int) -> Author:
    return get_object_or_404(Author.objects.exclude(external_id=ANONYMOUS_EXTERNAL_ID), pk=pk)


@permission_required("listening.handle_personal_data", raise_exception=True)
def privacy(request: HttpRequest) -> HttpResponse:
    """Find a person (an access or erasure request names them by handle, name or platform id)."""
    query = params.without_nul(request.GET.get("q", "")).strip()[:255]
    found = authors_search(query=query)
    counts = dict(
        Mention.objects.filter(author__in=found)
        .values("author_id")
        .annotate(n=Count("id"))
        .values_list("author_id", "n")
    )
    people = [(author, counts.get(author.pk, 0)) for author in found]
    entries = PrivacyAuditEntry.objects.select_related("actor")[:AUDIT_RECENT]
    return render(request, "listening/privacy.html", {"query": query, "people": people, "entries": entries})


@permission_required("listening.handle_personal_data", raise_exception=True)
def privacy_person(request: HttpRequest, pk: int) -> HttpResponse:
    """What is held about one person, with their export and their erasure."""
    author = _person(pk)
    form = PersonEraseForm(request.POST or None, author=author)
    if request.method == "POST" and form.is_valid():
        erasure = person_erase(
            author=author, actor=request.user, mode=form.cleaned_data["mode"], suppress=form.cleaned_data["suppress"]
        )
        messages.success(
            request,
            _("Erased: %(rows)s rows changed (audit entry #%(entry)s).")
            % {"rows": sum(erasure.counts.values()), "entry": erasure.entry.pk},
        )
        return redirect("listening:privacy")
    counts = person_counts(person_data(author=author))
    return render(request, "listening/privacy_person.html", {"author": author, "counts": counts, "form": form})


@require_POST
@permission_required("listening.handle_personal_data", raise_exception=True)
def privacy_person_export(request: HttpRequest, pk: int) -> HttpResponse:
    """A download of everything held about the person: JSON, or a zip of JSON and CSV files."""
    data = person_export(author=_person(pk), actor=request.user)
    if request.POST.get("format") == "json":
        response = HttpResponse(
            json.dumps(data, ensure_ascii=False, indent=2), content_type="application/json; charset=utf-8"
        )
        response["Content-Disposition"] = f'attachment; filename="person-{pk}.json"'
    else:
        response = HttpResponse(person_archive(data), content_type="application/zip")
        response["Content-Disposition"] = f'attachment; filename="person-{pk}.zip"'
    response["Cache-Control"] = "no-store"
    return response


@permission_required("listening.handle_personal_data", raise_exception=True)
def privacy_log(request: HttpRequest) -> HttpResponse:
    """Every export, erasure, retention run and platform deletion, newest first."""
    entries = PrivacyAuditEntry.objects.select_related("actor")[:AUDIT_PAGE]
    return render(request, "listening/privacy_log.html", {"entries": entries, "limit": AUDIT_PAGE})


@permission_required("listening.handle_personal_data", raise_exception=True)
def privacy_retention(request: HttpRequest) -> HttpResponse:
    """Each brand's retention period, what it erases next and what it erased."""
    brands = list(brands_for_user(request.user).order_by("name"))
    if request.method == "POST":
        brand = get_object_or_404(brands_for_user(request.user), pk=params.id_or_none(request.POST.get("brand")))
        form = BrandRetentionForm(request.POST, instance=brand, prefix=f"b{brand.pk}")
        if form.is_valid():
            form.save()
            messages.success(request, _("Retention of %(brand)s saved.") % {"brand": brand.name})
            return redirect("listening:privacy_retention")
    else:
        form = None
    now = timezone.now()
    rows = []
    for brand in brands:
        cutoff = retention_cutoff(brand, now)
        rows.append(
            {
                "brand": brand,
                "cutoff": cutoff,
                "due": retention_due(brand=brand, before=cutoff).count(),
                "next_week": retention_due(brand=brand, before=cutoff + timedelta(days=7))
                .filter(published_at__gte=cutoff)
                .count(),
                "form": form
                if form is not None and form.instance.pk == brand.pk
                else BrandRetentionForm(instance=brand, prefix=f"b{brand.pk}"),
            }
        )
    runs = PrivacyAuditEntry.objects.filter(action=PrivacyAuditEntry.Action.RETENTION).select_related("brand")
    return render(request, "listening/privacy_retention.html", {"rows": rows, "runs": runs[:AUDIT_RECENT]})
