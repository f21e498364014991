from __future__ import annotations

from typing import Any

from django.http import HttpRequest

from responses.selectors import unread_notifications


def notifications(request: HttpRequest) -> dict[str, Any]:
    """The bell's unread count (one indexed count per page)."""
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {}
    return {"unread_notifications": unread_notifications(user).count()}
