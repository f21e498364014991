"""Reading settings from the environment, strictly.

A typo in a variable must stop the process with a message that names the variable, not turn
into a silent default: ``DEBUG=flase`` is an error, not ``False``.
"""

from __future__ import annotations

import os
import sys
import zoneinfo
from collections.abc import Mapping
from typing import Any
from urllib.parse import parse_qsl, unquote, urlsplit

import environ
from django.core.exceptions import ImproperlyConfigured

TRUE_WORDS = frozenset({"1", "true", "yes", "on"})
FALSE_WORDS = frozenset({"0", "false", "no", "off"})

# EMAIL_URL schemes, and the encryption each means: STARTTLS upgrades a plain connection (port
# 587), SSL speaks TLS from the first byte (port 465). "smtps" is SSL, as in every mail client.
EMAIL_SCHEMES = {
    "smtp": ("", 25),
    "smtp+tls": ("tls", 587),
    "smtps": ("ssl", 465),
    "smtp+ssl": ("ssl", 465),
}
EMAIL_BACKENDS = {
    "consolemail": "django.core.mail.backends.console.EmailBackend",
    "dummymail": "django.core.mail.backends.dummy.EmailBackend",
}
EMAIL_EXAMPLE = "EMAIL_URL=smtp+tls://user:password@smtp.example.org:587"


class SettingError(ImproperlyConfigured):
    """A variable of the environment that cannot be used; the message is the whole explanation."""


def settings_or_exit() -> None:
    """Read the settings now: a refused value ends the process with its one-line reason, not a traceback."""
    from django.conf import settings

    try:
        settings.INSTALLED_APPS  # noqa: B018 - reading one setting loads them all
    except SettingError as error:
        sys.stderr.write(f"Escucha cannot start: {error}\n")
        raise SystemExit(2) from None


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
        raise SettingError(
            f"{name}={value!r} is not a boolean; use one of: {', '.join(sorted(TRUE_WORDS | FALSE_WORDS))} "
            f"(example: {name}=true)."
        )

    def int(self, name: str, default: int, *, minimum: int | None = None) -> int:
        value = self.raw(name)
        if value is None:
            return default
        try:
            number = int(value)
        except ValueError:
            raise SettingError(f"{name}={value!r} is not a whole number (example: {name}={default}).") from None
        if minimum is not None and number < minimum:
            raise SettingError(f"{name}={number} must be at least {minimum} (example: {name}={max(default, minimum)}).")
        return number

    def float(self, name: str, default: float, *, minimum: float | None = None) -> float:
        value = self.raw(name)
        if value is None:
            return default
        try:
            number = float(value)
        except ValueError:
            raise SettingError(f"{name}={value!r} is not a number (example: {name}={default}).") from None
        if number != number or (minimum is not None and number < minimum):  # NaN, or too small
            raise SettingError(f"{name}={value} must be a number of at least {minimum} (example: {name}={default}).")
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
                raise SettingError(f"{name}: {item!r} is not host:port (example: {name}=10.0.0.5:8080,[::1]:8000).")
            entries.append(host_port(f"http://{item}"))
        return entries

    def choice(self, name: str, default: str, choices: tuple[str, ...], *, ignore_case: bool = False) -> str:
        value = self.raw(name)
        if value is None:
            return default
        if ignore_case:
            value = next((choice for choice in choices if choice.lower() == value.lower()), value)
        if value not in choices:
            raise SettingError(f"{name}={value!r} is not one of: {', '.join(choices)} (example: {name}={default}).")
        return value

    def rate(self, name: str, default: str) -> str:
        """A request rate as DRF reads it, checked now: DRF would fail only at the first request."""
        value = self.raw(name) or default
        number, _slash, period = value.partition("/")
        if not (number.isascii() and number.isdigit() and period in ("second", "minute", "hour", "day")):
            raise SettingError(
                f"{name}={value!r} is not a rate: a number, a slash and second, minute, hour or day "
                f"(example: {name}={default})."
            )
        return value

    def time_zone(self, name: str, default: str) -> str:
        value = self.raw(name) or default
        try:
            zoneinfo.ZoneInfo(value)
        except (zoneinfo.ZoneInfoNotFoundError, ValueError):
            raise SettingError(f"{name}={value!r} is not a time zone (example: {name}=Europe/Madrid).") from None
        return value

    def database(self, name: str, default: str) -> dict:
        value = self.raw(name) or default
        try:
            config = environ.Env.db_url_config(value)
        except (ValueError, KeyError, ImproperlyConfigured) as error:
            raise SettingError(
                f"{name} is not a usable database URL: {error} (example: {name}=postgres://user:password@host:5432/escucha)."
            ) from None
        if config.get("ENGINE") not in ("django.db.backends.postgresql", "django.db.backends.sqlite3"):
            raise SettingError(
                f"{name}={value!r} names no known database; use postgres://… or sqlite:///… "
                f"(example: {name}=postgres://user:password@host:5432/escucha)."
            )
        return config

    def url(self, name: str, default: str | None = None, *, schemes: tuple[str, ...], example: str = "") -> str | None:
        value = self.raw(name)
        if value is None:
            return default
        scheme = value.split("://", 1)[0] if "://" in value else ""
        example = example or f"{schemes[0]}://host"
        if scheme not in schemes:
            raise SettingError(
                f"{name}={value!r} must be a URL starting with one of: {', '.join(s + '://' for s in schemes)} "
                f"(example: {name}={example})."
            )
        if scheme in ("http", "https") and not urlsplit(value).hostname:
            raise SettingError(f"{name}={value!r} has no host name (example: {name}={example}).")
        return value

    def email(self, name: str) -> dict[str, Any] | None:
        """Django's e-mail settings from one URL, or None when the variable is not set.

        ``smtp://`` sends plain (add ``?tls=true`` for STARTTLS or ``?ssl=true`` for SSL),
        ``smtp+tls://`` STARTTLS, ``smtps://`` and ``smtp+ssl://`` SSL; ``consolemail://`` prints
        every e-mail, ``dummymail://`` drops it. User and password are percent-encoded.
        """
        value = self.raw(name)
        if value is None:
            return None
        parts = urlsplit(value)
        if parts.scheme in EMAIL_BACKENDS:
            return {"EMAIL_BACKEND": EMAIL_BACKENDS[parts.scheme]}
        if parts.scheme not in EMAIL_SCHEMES:
            known = ", ".join(f"{scheme}://" for scheme in (*EMAIL_SCHEMES, *EMAIL_BACKENDS))
            raise SettingError(f"{name} must start with one of: {known} (example: {EMAIL_EXAMPLE}).")
        encryption, port = EMAIL_SCHEMES[parts.scheme]
        for option, flag in parse_qsl(parts.query, keep_blank_values=True):
            if option not in ("tls", "ssl") or flag.lower() not in TRUE_WORDS | FALSE_WORDS:
                raise SettingError(
                    f"{name} has an unknown option {option}={flag}; the options are tls=true and ssl=true "
                    f"(example: {EMAIL_EXAMPLE})."
                )
            if flag.lower() in TRUE_WORDS:
                if encryption and encryption != option:
                    raise SettingError(f"{name} asks for both TLS and SSL; choose one (example: {EMAIL_EXAMPLE}).")
                encryption = option
        try:
            given_port = parts.port
        except ValueError:
            raise SettingError(f"{name} has a port that is not a number (example: {EMAIL_EXAMPLE}).") from None
        if not parts.hostname:
            raise SettingError(f"{name} has no host name (example: {EMAIL_EXAMPLE}).")
        return {
            "EMAIL_BACKEND": "django.core.mail.backends.smtp.EmailBackend",
            "EMAIL_HOST": parts.hostname,
            "EMAIL_PORT": given_port or (port if encryption else 25),
            "EMAIL_HOST_USER": unquote(parts.username or ""),
            "EMAIL_HOST_PASSWORD": unquote(parts.password or ""),
            "EMAIL_USE_TLS": encryption == "tls",
            "EMAIL_USE_SSL": encryption == "ssl",
        }
