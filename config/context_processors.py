from __future__ import annotations

from typing import Any

from django.http import HttpRequest
from django.urls import reverse
from django.utils.translation import gettext_lazy as _

# (url name, label, permission needed or None for department membership)
NAVIGATION = [
    ("responses:inbox", _("Inbox"), "listening.work_inbox"),
    ("responses:ticket_list", _("Tickets"), "responses.view_ticket"),
    ("responses:follow_up", _("Follow-up"), "listening.work_inbox"),
    ("publishing:post_list", _("Posts"), "publishing.view_post"),
    ("reports:report", _("Reports"), "listening.view_reports"),
    ("responses:rule_list", _("Routing"), "listening.configure_brand"),
    ("listening:channel_list", _("Channels"), "listening.configure_brand"),
    ("listening:privacy", _("Privacy"), "listening.handle_personal_data"),
]


def navigation(request: HttpRequest) -> dict[str, Any]:
    """The main navigation, holding only what the signed-in user's role can open."""
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {"nav_items": []}
    current = request.resolver_match.view_name if request.resolver_match else ""
    items = [
        {
            "url": reverse(name),
            "label": label,
            "active": current.split(":")[0] == name.split(":")[0] and current == name,
        }
        for name, label, perm in NAVIGATION
        if user.has_perm(perm)
    ]
    return {"nav_items": items}
