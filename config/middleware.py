from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.contrib.auth.middleware import LoginRequiredMiddleware as DjangoLoginRequiredMiddleware
from django.http import HttpRequest, HttpResponseBase
from django.utils import translation

from config.params import query_without_nul, without_nul

FORM_TYPES = ("application/x-www-form-urlencoded", "multipart/form-data")


class NulFreeInputMiddleware:
    """Drop NUL characters from the query string, form fields and cookies before anything reads them.

    Nobody types a NUL, and PostgreSQL text cannot hold one: a NUL in a search box, a note or the
    session cookie would otherwise fail the request with a 500. The API's bodies (JSON and forms)
    are cleaned the same way by ``config.parsers``.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponseBase]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponseBase:
        request.GET = query_without_nul(request.GET)
        if request.method == "POST" and request.content_type in FORM_TYPES:
            request.POST = query_without_nul(request.POST)
        if any("\x00" in value for value in request.COOKIES.values()):
            request.COOKIES = {without_nul(name): without_nul(value) for name, value in request.COOKIES.items()}
        return self.get_response(request)


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


class UserLanguageMiddleware:
    """A signed-in person sees Escucha in the language kept on their profile, on any browser: the
    sign-in puts it in the session (``responses.preferences``), which overrides the cookie and the
    browser's Accept-Language that Django's LocaleMiddleware went by."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponseBase]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponseBase:
        from responses.preferences import SESSION_KEY

        session = getattr(request, "session", None)
        language = session.get(SESSION_KEY) if session is not None else None
        if language and language != translation.get_language():
            translation.activate(language)
            request.LANGUAGE_CODE = language
        return self.get_response(request)
