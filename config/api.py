"""What every app's REST API shares: permissions named per method by each view, and throttling."""

from __future__ import annotations

import logging
from typing import Any

from rest_framework.permissions import BasePermission
from rest_framework.request import Request
from rest_framework.settings import api_settings
from rest_framework.throttling import AnonRateThrottle, UserRateThrottle

from config.auth import client_ip
from config.cache import CACHE_UNREACHABLE

log = logging.getLogger(__name__)


class RolePermission(BasePermission):
    """The permission a view names for the request's method (``view.permission_for``)."""

    def has_permission(self, request: Request, view: Any) -> bool:
        if request.method.lower() not in view.http_method_names:
            return True  # the view answers 405, whoever asks
        needed = view.permission_for.get(request.method, view.permission_for.get("*"))
        return bool(request.user and request.user.is_authenticated and needed and request.user.has_perm(needed))


READ = ("GET", "HEAD", "OPTIONS")


def read_write(read: str, write: str, create: str | None = None) -> dict[str, str]:
    perms = {method: read for method in READ} | {"PATCH": write, "PUT": write, "DELETE": write}
    perms["POST"] = create or write
    return perms


class _Throttle:
    """DRF binds its rates at import time; these read ``DEFAULT_THROTTLE_RATES`` per request, so a
    changed setting takes effect. A client is counted by the address login throttling uses too
    (DRF's own would believe any X-Forwarded-For a client sends)."""

    scope: str

    def get_rate(self) -> str | None:
        return api_settings.DEFAULT_THROTTLE_RATES.get(self.scope)

    def get_ident(self, request: Request) -> str:
        return client_ip(request)

    def allow_request(self, request: Request, view: Any) -> bool:
        # The counts live in the cache: while it is unreachable the API answers unthrottled rather
        # than not at all (login throttling keeps its counts in the database).
        try:
            return super().allow_request(request, view)
        except CACHE_UNREACHABLE as error:
            log.warning("API throttling skipped: the cache is unreachable (%s)", error)
            return True


class AnonThrottle(_Throttle, AnonRateThrottle):
    """Anonymous requests, counted by client address."""


class UserThrottle(_Throttle, UserRateThrottle):
    """Authenticated requests (session or token), counted by user."""
