"""The bell's list: a person's notifications, and marking them read."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_POST

from config import params
from responses.models import Notification
from responses.selectors import unread_notifications


def notification_list(request: HttpRequest) -> HttpResponse:
    notifications = Notification.objects.filter(user=request.user).order_by("-created_at", "-id")[:100]
    return render(request, "responses/notification_list.html", {"notifications": notifications})


@require_POST
def notification_read(request: HttpRequest) -> HttpResponse:
    """Mark one notification (``id``) or all of them read, then follow its link or come back."""
    unread = unread_notifications(request.user)
    ref = request.POST.get("id", "")
    if ref:
        unread = unread.filter(pk=params.id_or_none(ref) or 0)
    unread.update(read_at=timezone.now())
    target = request.POST.get("next", "")
    # Only a path of this site ("next=0" or "next=inbox" is no URL name to look up: the list).
    if target.startswith("/") and url_has_allowed_host_and_scheme(target, allowed_hosts={request.get_host()}):
        return HttpResponseRedirect(target)
    return redirect("responses:notification_list")
