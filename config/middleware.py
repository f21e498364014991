from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.contrib.auth.middleware import LoginRequiredMiddleware as DjangoLoginRequiredMiddleware
from django.http import HttpRequest, HttpResponseBase


class LoginRequiredMiddleware(DjangoLoginRequiredMiddleware):
    """Every page is behind login, except what authenticates on its own.

    The API answers 401/403 with its own authentication (session or token), platform webhooks
    prove themselves with a signature, the health check is for load balancers, and the sandbox
    stands in for the outside platforms.
    """

    open_prefixes = ("/api/", "/healthz", "/hooks/", "/sandbox/")

    def process_view(
        self, request: HttpRequest, view_func: Callable, view_args: Any, view_kwargs: Any
    ) -> HttpResponseBase | None:
        if request.path.startswith(self.open_prefixes):
            return None
        return super().process_view(request, view_func, view_args, view_kwargs)
