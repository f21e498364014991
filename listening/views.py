from __future__ import annotations

from django.contrib.auth.decorators import permission_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from listening.selectors import channels_for_user, mentions_for_user


@permission_required("listening.work_inbox", raise_exception=True)
def inbox(request: HttpRequest) -> HttpResponse:
    mentions = (
        mentions_for_user(request.user)
        .select_related("author", "channel", "assignee")
        .order_by("-published_at", "-id")[:50]
    )
    return render(request, "listening/inbox.html", {"mentions": mentions})


@permission_required("listening.configure_brand", raise_exception=True)
def channel_list(request: HttpRequest) -> HttpResponse:
    channels = channels_for_user(request.user).select_related("brand")
    return render(request, "listening/channel_list.html", {"channels": channels})
