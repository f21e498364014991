"""Reads for the listening app. Every read that crosses brands goes through ``brands_for_user``."""

from __future__ import annotations

from django.contrib.auth.models import AbstractBaseUser, AnonymousUser
from django.db.models import QuerySet

from listening.models import Brand, Channel, Mention
from listening.roles import ADMIN


def user_sees_all_brands(user: AbstractBaseUser | AnonymousUser) -> bool:
    """Superusers and members of the Admin role see every brand."""
    if not user.is_authenticated:
        return False
    return user.is_superuser or user.groups.filter(name=ADMIN).exists()


def brands_for_user(user: AbstractBaseUser | AnonymousUser) -> QuerySet[Brand]:
    """The brands a user may see: the ones they are a member of, or all for admins."""
    if not user.is_authenticated:
        return Brand.objects.none()
    if user_sees_all_brands(user):
        return Brand.objects.all()
    return Brand.objects.filter(memberships__user=user)


def channels_for_user(user: AbstractBaseUser | AnonymousUser) -> QuerySet[Channel]:
    return Channel.objects.filter(brand__in=brands_for_user(user))


def mentions_for_user(user: AbstractBaseUser | AnonymousUser) -> QuerySet[Mention]:
    return Mention.objects.filter(brand__in=brands_for_user(user))
