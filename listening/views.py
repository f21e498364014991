"""Configuration screens of the listening app: where a brand listens (channels) and what for (terms)."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import permission_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from config import params
from listening.forms import ChannelForm, TermForm
from listening.models import Brand, Channel, Platform
from listening.polling import channel_resume
from listening.selectors import brands_for_user, channels_for_user
from listening.services import tracked_term_toggle


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
