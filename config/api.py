"""What every app's REST API shares: permissions named per method by each view."""

from __future__ import annotations

from typing import Any

from rest_framework.permissions import BasePermission
from rest_framework.request import Request


class RolePermission(BasePermission):
    """The permission a view names for the request's method (``view.permission_for``)."""

    def has_permission(self, request: Request, view: Any) -> bool:
        needed = view.permission_for.get(request.method, view.permission_for.get("*"))
        return bool(request.user and request.user.is_authenticated and needed and request.user.has_perm(needed))


READ = ("GET", "HEAD", "OPTIONS")


def read_write(read: str, write: str, create: str | None = None) -> dict[str, str]:
    perms = {method: read for method in READ} | {"PATCH": write, "PUT": write, "DELETE": write}
    perms["POST"] = create or write
    return perms
