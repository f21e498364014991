"""In-app notifications with an e-mail copy, and who gets told about a ticket."""

from __future__ import annotations

from collections.abc import Iterable

from django.contrib.auth.models import AbstractBaseUser
from django.db.models import QuerySet

from config.celery import queue_after_commit
from config.roles import COMMUNITY_MANAGER
from listening.selectors import brand_members
from responses.models import Department, Notification


def notify(
    *,
    users: Iterable[AbstractBaseUser],
    verb: str,
    message: str,
    url: str,
    emails: Iterable[str] = (),
    subject: str = "",
    body: str = "",
) -> list[Notification]:
    """Tell ``users`` in the app and by e-mail; ``emails`` are extra addresses (a department's inbox).

    The e-mail's subject is the message's start and its text the message, unless ``subject`` or
    ``body`` say otherwise (a longer text than fits in the app); the link follows either way.
    The e-mails are queued after the surrounding transaction commits, so a rolled-back change
    never announces itself.
    """
    seen: set[int] = set()
    rows = []
    for user in users:
        if user is None or user.pk in seen or not user.is_active:
            continue
        seen.add(user.pk)
        rows.append(Notification(user=user, verb=verb, message=message[:500], url=url[:500]))
    created = Notification.objects.bulk_create(rows)
    ids = [n.pk for n in created]  # PostgreSQL and SQLite ≥ 3.35 return the new ids
    addresses = sorted({address for address in emails if address})
    # Passed only when given: every other notification queues the task message it always did, which
    # a worker still running the previous code (mid-deploy) can run.
    email = {key: value for key, value in (("subject", subject), ("body", body)) if value}
    for pk in ids:
        queue_after_commit("responses.notify_email", pk, **email)
    for address in addresses:
        queue_after_commit("responses.notify_email_address", address, message[:500], url[:500], **email)
    return created


def community_managers(brand_id: int) -> QuerySet:
    """The brand's community managers: they hear about resolutions and SLA breaches."""
    return brand_members([brand_id]).filter(groups__name=COMMUNITY_MANAGER, is_active=True)


def department_members(department: Department) -> QuerySet:
    return department.members.filter(is_active=True)
