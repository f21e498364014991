"""REST API v1 for this app: viewsets registered on the project router by ``register``."""

from __future__ import annotations

from rest_framework.routers import BaseRouter

from responses import reply_api


def register(router: BaseRouter) -> None:
    """Add this app's viewsets to /api/v1/."""
    reply_api.register(router)
