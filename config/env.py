"""Reading settings from the environment, strictly.

A typo in a variable must stop the process with a message that names the variable, not turn
into a silent default: ``DEBUG=flase`` is an error, not ``False``.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from urllib.parse import urlsplit

import environ
from django.core.exceptions import ImproperlyConfigured

TRUE_WORDS = frozenset({"1", "true", "yes", "on"})
FALSE_WORDS = frozenset({"0", "false", "no", "off"})


def host_port(url: str) -> str:
    """``host:port`` of ``url``, the port filled in from the scheme, e.g. ``127.0.0.1:8000``."""
    parts = urlsplit(url)
    host = (parts.hostname or "").lower()
    port = parts.port or {"http": 80, "https": 443}.get(parts.scheme.lower(), 0)
    return f"[{host}]:{port}" if ":" in host else f"{host}:{port}"


class Env:
    """Typed access to a mapping of environment variables (``os.environ`` by default)."""

    def __init__(self, source: Mapping[str, str] | None = None) -> None:
        self.source = os.environ if source is None else source

    def raw(self, name: str) -> str | None:
        value = self.source.get(name)
        if value is None or value.strip() == "":
            return None
        return value.strip()

    def str(self, name: str, default: str | None = None) -> str | None:
        value = self.raw(name)
        return default if value is None else value

    def bool(self, name: str, default: bool) -> bool:
        value = self.raw(name)
        if value is None:
            return default
        word = value.lower()
        if word in TRUE_WORDS:
            return True
        if word in FALSE_WORDS:
            return False
        raise ImproperlyConfigured(
            f"{name}={value!r} is not a boolean; use one of: {', '.join(sorted(TRUE_WORDS | FALSE_WORDS))}."
        )

    def int(self, name: str, default: int, *, minimum: int | None = None) -> int:
        value = self.raw(name)
        if value is None:
            return default
        try:
            number = int(value)
        except ValueError:
            raise ImproperlyConfigured(f"{name}={value!r} is not a whole number.") from None
        if minimum is not None and number < minimum:
            raise ImproperlyConfigured(f"{name}={number} must be at least {minimum}.")
        return number

    def float(self, name: str, default: float, *, minimum: float | None = None) -> float:
        value = self.raw(name)
        if value is None:
            return default
        try:
            number = float(value)
        except ValueError:
            raise ImproperlyConfigured(f"{name}={value!r} is not a number.") from None
        if number != number or (minimum is not None and number < minimum):  # NaN, or too small
            raise ImproperlyConfigured(f"{name}={value} must be a number of at least {minimum}.")
        return number

    def list(self, name: str, default: list[str] | None = None) -> list[str]:
        value = self.raw(name)
        if value is None:
            return list(default or [])
        return [item.strip() for item in value.split(",") if item.strip()]

    def host_ports(self, name: str, default: list[str] | None = None) -> list[str]:
        """Comma-separated ``host:port`` values (``[::1]:8000`` for IPv6), normalized to lower case."""
        value = self.raw(name)
        if value is None:
            return list(default or [])
        entries = []
        for item in (item.strip() for item in value.split(",")):
            if not item:
                continue
            try:
                parts = urlsplit(f"//{item}")
                valid = bool(parts.hostname and parts.port) and parts.netloc == item and parts.username is None
            except ValueError:  # a port that is not a number from 0 to 65535
                valid = False
            if not valid or parts.geturl() != f"//{item}":
                raise ImproperlyConfigured(f"{name}: {item!r} is not host:port (e.g. 10.0.0.5:8080 or [::1]:8000).")
            entries.append(host_port(f"http://{item}"))
        return entries

    def choice(self, name: str, default: str, choices: tuple[str, ...]) -> str:
        value = self.raw(name)
        if value is None:
            return default
        if value not in choices:
            raise ImproperlyConfigured(f"{name}={value!r} is not one of: {', '.join(choices)}.")
        return value

    def database(self, name: str, default: str) -> dict:
        value = self.raw(name) or default
        try:
            config = environ.Env.db_url_config(value)
        except (ValueError, KeyError, ImproperlyConfigured) as error:
            raise ImproperlyConfigured(f"{name} is not a usable database URL: {error}") from None
        if config.get("ENGINE") not in ("django.db.backends.postgresql", "django.db.backends.sqlite3"):
            raise ImproperlyConfigured(f"{name}={value!r} names no known database; use postgres://… or sqlite:///…")
        return config

    def url(self, name: str, default: str | None = None, *, schemes: tuple[str, ...]) -> str | None:
        value = self.raw(name)
        if value is None:
            return default
        scheme = value.split("://", 1)[0] if "://" in value else ""
        if scheme not in schemes:
            raise ImproperlyConfigured(
                f"{name}={value!r} must be a URL starting with one of: {', '.join(s + '://' for s in schemes)}."
            )
        return value
