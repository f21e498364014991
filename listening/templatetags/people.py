"""Template filters that name people: the team's accounts and the authors of mentions."""

from __future__ import annotations

from django import template
from django.contrib.auth.models import AbstractBaseUser

from config.people import person_name

register = template.Library()


@register.filter
def person(user: AbstractBaseUser | None) -> str:
    """A member of the team as every page names them (see ``config.people.person_name``)."""
    return person_name(user)
