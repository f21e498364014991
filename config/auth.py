"""Login throttling with django-axes: which logins it checks, the client address it counts failures
by, and the page a locked-out login gets."""

from __future__ import annotations

import math
from datetime import timedelta
from typing import Any

from axes.backends import AxesStandaloneBackend
from django.conf import settings
from django.contrib.auth.base_user import AbstractBaseUser
from django.contrib.auth.forms import AuthenticationForm
from django.http import HttpRequest, HttpResponse
from django.template.response import TemplateResponse


class LoginThrottleBackend(AxesStandaloneBackend):
    """django-axes' lockout check for every login that comes with a request: the login page's and
    the admin's. A login without one (``Client.login`` in tests, a shell) has no address to count
    by; django-axes would refuse it with an error, this lets the next backend decide."""

    def authenticate(
        self, request: HttpRequest | None, username: str | None = None, password: str | None = None, **kwargs: Any
    ) -> AbstractBaseUser | None:
        if request is None:
            return None
        return super().authenticate(request, username, password, **kwargs)


def client_ip(request: HttpRequest) -> str:
    """The address the request came from.

    Behind ``TRUSTED_PROXY_COUNT`` proxies, each of which appends the address it saw to
    ``X-Forwarded-For``, the client is the entry that many places from the right; whatever stands
    further left was written by the client and proves nothing. Without proxies it is REMOTE_ADDR.
    """
    hops = settings.TRUSTED_PROXY_COUNT
    remote = request.META.get("REMOTE_ADDR", "")
    if not hops:
        return remote
    forwarded = [part.strip() for part in request.META.get("HTTP_X_FORWARDED_FOR", "").split(",") if part.strip()]
    if len(forwarded) < hops:
        return remote
    return forwarded[-hops]


def login_locked_out(
    request: HttpRequest, original_response: HttpResponse | None = None, credentials: dict | None = None
) -> HttpResponse:
    """The login page again, saying that this username is locked here for a while (429)."""
    cool_off: timedelta = settings.AXES_COOLOFF_TIME
    context = {
        "form": AuthenticationForm(request),
        "locked_out": True,
        "cooloff_minutes": max(1, math.ceil(cool_off.total_seconds() / 60)),
        "next": request.POST.get("next", "") if request.method == "POST" else "",
    }
    return TemplateResponse(request, "registration/login.html", context, status=429).render()
