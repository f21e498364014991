"""A person's language: chosen in the header's switcher, kept on their profile, used for their pages
and for everything Escucha sends them (``notify()`` writes each recipient's copy in their language)."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from django.conf import settings
from django.contrib.auth.models import AbstractBaseUser
from django.http import HttpRequest

from responses.models import Profile

# Where a signed-in person's language rides along with their session (config.middleware reads it),
# so no page pays a query for it.
SESSION_KEY = "escucha_language"


def _supported(language: str | None) -> str:
    code = (language or "").split("-")[0].lower()
    return code if code in dict(settings.LANGUAGES) else ""


# A user's side of their profile (``user.profile``), read with them by ``select_related("profile")``.
_PROFILE = Profile._meta.get_field("user").remote_field


def user_languages(users: Iterable[AbstractBaseUser]) -> dict[int, str]:
    """Each user's language (their profile's, else the site's), by user id, in one query at most.

    A user read with their profile (``select_related("profile")``, or ``"user__profile"`` from a
    row that names them) costs no query: routing reads the members of a page's departments with
    their profiles, so telling them of the page's tickets reads no profile apart.
    """
    users = list(users)
    chosen: dict[int, str] = {}
    unread = []
    for user in users:
        if _PROFILE.is_cached(user):
            profile = _PROFILE.get_cached_value(user)  # None: read, and the user has none
            if profile is not None and profile.language:
                chosen[user.pk] = profile.language
        else:
            unread.append(user.pk)
    if unread:
        profiles = Profile.objects.filter(user_id__in=unread).exclude(language="")
        chosen.update(profiles.values_list("user_id", "language"))
    return {user.pk: chosen.get(user.pk) or settings.LANGUAGE_CODE for user in users}


def user_language_set(*, user: AbstractBaseUser, language: str, request: HttpRequest | None = None) -> bool:
    """Keep ``language`` as the person's choice (and for the rest of this session); False if unknown."""
    language = _supported(language)
    if not language:
        return False
    Profile.objects.update_or_create(user=user, defaults={"language": language})
    if request is not None and hasattr(request, "session"):
        request.session[SESSION_KEY] = language
    return True


def language_on_login(sender: Any, request: HttpRequest | None, user: AbstractBaseUser, **kwargs: Any) -> None:
    """At sign-in the person's chosen language takes over, on any browser. Someone who never chose
    keeps the browser's (or the switcher's cookie) on screen, and is written to in the site's."""
    if request is None or not hasattr(request, "session"):
        return
    chosen = Profile.objects.filter(user=user).values_list("language", flat=True).first()
    if chosen:
        request.session[SESSION_KEY] = chosen
