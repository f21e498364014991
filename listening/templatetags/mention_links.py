"""Template filters for text that came from platforms."""

from __future__ import annotations

from django import template

from listening.connectors._http import safe_url

register = template.Library()


@register.filter
def http_only(url: str | None) -> str:
    """The URL when it is http(s), else "": the only links a stranger's URL may become."""
    return safe_url(url)
