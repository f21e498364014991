"""Reads for the responses app."""

from __future__ import annotations

from django.contrib.auth.models import AbstractBaseUser
from django.db.models import QuerySet

from listening.selectors import brands_for_user
from responses.models import RoutingRule, Ticket


def tickets_for_user(user: AbstractBaseUser) -> QuerySet[Ticket]:
    """Department staff see their departments' tickets; roles with manage_all_tickets see their brands'."""
    if not user.is_authenticated:
        return Ticket.objects.none()
    if user.has_perm("responses.manage_all_tickets"):
        return Ticket.objects.filter(brand__in=brands_for_user(user))
    return Ticket.objects.filter(department__members=user)


def rules_for_user(user: AbstractBaseUser) -> QuerySet[RoutingRule]:
    return RoutingRule.objects.filter(brand__in=brands_for_user(user))
