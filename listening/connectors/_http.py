"""HTTP plumbing shared by the connectors: a timeout on every request and host rewriting.

Client libraries that hard-code their platform's host (tweepy, facebook-sdk) are pointed at a
channel's ``api_base_url`` (an API gateway, or the local sandbox) by a transport adapter mounted on
their ``requests.Session``: it swaps the official scheme and host for the base URL and keeps the path
and query as the library built them.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any
from urllib.parse import urlsplit

import requests
from django.conf import settings
from requests.adapters import HTTPAdapter


def http_timeout() -> float:
    return float(settings.HTTP_TIMEOUT_SECONDS)


def safe_url(url: str | None) -> str:
    """``url`` if it is an http(s) link, else "" (no javascript:, data: … links ever reach a page)."""
    url = (url or "").strip()
    try:
        scheme = urlsplit(url).scheme.lower() if url else ""
    except ValueError:  # e.g. "http://[": a stranger's URL that does not even parse
        return ""
    return url if scheme in ("http", "https") else ""


class RewriteHostAdapter(HTTPAdapter):
    """Sends requests for ``official_hosts`` to ``base_url`` instead, always with a timeout."""

    def __init__(self, base_url: str, official_hosts: Iterable[str], timeout: float, **kwargs: Any):
        super().__init__(**kwargs)
        self.base_url = base_url.rstrip("/")
        self.official_hosts = tuple(host.rstrip("/") for host in official_hosts)
        self.timeout = timeout

    def send(self, request: requests.PreparedRequest, *args: Any, **kwargs: Any) -> requests.Response:
        url = request.url or ""
        if self.base_url:
            for host in self.official_hosts:
                if url.startswith(host + "/") or url == host:
                    request.url = self.base_url + url[len(host) :]
                    break
        if kwargs.get("timeout") is None:
            kwargs["timeout"] = self.timeout
        return super().send(request, *args, **kwargs)


def mount_rewrite(session: requests.Session, base_url: str, official_hosts: Iterable[str]) -> None:
    """Route ``session``'s requests for the official hosts (and any other URL) through one adapter."""
    adapter = RewriteHostAdapter(base_url, official_hosts, http_timeout())
    session.mount("https://", adapter)
    session.mount("http://", adapter)


def unique_items(items: list[Any]) -> list[Any]:
    """Items in order, each platform id once (endpoints and edges overlap)."""
    seen: set[str] = set()
    kept = []
    for item in items:
        if item.external_id not in seen:
            seen.add(item.external_id)
            kept.append(item)
    return kept
