"""How a person of the team is named on every page, export and message: one rule, one place."""

from __future__ import annotations

from django.contrib.auth.models import AbstractBaseUser


def person_name(user: AbstractBaseUser | None) -> str:
    """The full name, or the username when the account has no name; "" for nobody."""
    if user is None:
        return ""
    full = user.get_full_name().strip() if hasattr(user, "get_full_name") else ""
    return full or user.get_username()
