"""In-app notifications with an e-mail copy (and a Slack or Teams post for a department), and who
gets told about a ticket."""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable, Mapping, Sequence
from contextlib import nullcontext
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

from django.conf import settings
from django.contrib.auth.models import AbstractBaseUser
from django.db import router
from django.db.models import Q, QuerySet
from django.utils import timezone, translation
from django.utils.functional import Promise

from config.backoff import backoff_seconds
from config.bulk import insert_rows
from config.celery import batched, queue_all_after_commit
from config.mail import email_message
from config.roles import COMMUNITY_MANAGER
from listening.selectors import brand_members
from responses.chat import chat_deliveries
from responses.models import Department, Notification
from responses.preferences import user_languages
from responses.webhooks import deliveries_queue

log = logging.getLogger(__name__)

# Longer than the e-mail task's hard time limit: a claim this old belonged to a worker that died.
EMAIL_CLAIM_SECONDS = 300
EMAIL_RETRY_BASE_SECONDS = 60
EMAIL_RETRY_CAP_SECONDS = 3600
EMAIL_MAX_RETRIES = 8  # two to three hours of trying, then the failure stays in the worker's log


@dataclass
class Notice:
    """One ``notify()`` call, kept to be sent with others (``notify_all``).

    ``url`` and ``params`` may be functions, read when the batch is sent: a notice about a ticket
    opened in the same batch knows the ticket's number only once the ticket is stored.
    """

    users: Iterable[AbstractBaseUser]
    verb: str
    message: str | Promise
    url: str | Callable[[], str]
    emails: Iterable[str] = ()
    subject: str | Promise = ""
    body: str | Promise = ""
    params: Mapping[str, Any] | Callable[[], Mapping[str, Any]] | None = None
    departments: Iterable[Department] = field(default_factory=tuple)


def notify(
    *,
    users: Iterable[AbstractBaseUser],
    verb: str,
    message: str | Promise,
    url: str,
    emails: Iterable[str] = (),
    subject: str | Promise = "",
    body: str | Promise = "",
    params: Mapping[str, Any] | None = None,
    departments: Iterable[Department] = (),
) -> list[Notification]:
    """Tell ``users`` in the app and by e-mail; ``emails`` are extra addresses (a department's inbox);
    ``departments`` get it in their Slack and Teams channels, if they have them.

    ``message``, ``subject`` and ``body`` may be translatable texts (``gettext_lazy``) to fill with
    ``params``: each user's notification and e-mail are then written in that user's language (their
    profile's), each department's post in the department's language, the extra addresses in the
    current one. The e-mail's subject is the message's start and its text the message, unless
    ``subject`` or ``body`` say otherwise (a longer text than fits in the app); the link follows
    either way.
    E-mails and posts are queued after the surrounding transaction commits, so a rolled-back
    change never announces itself.
    """
    notice = Notice(
        users=users, verb=verb, message=message, url=url, emails=emails, subject=subject, body=body,
        params=params, departments=departments,
    )  # fmt: skip
    return notify_all([notice])


def notify_all(notices: Sequence[Notice]) -> list[Notification]:
    """``notify()`` for many notices at once, each meaning what it would alone: the recipients'
    languages in one query, the notifications in one INSERT, the Slack and Teams posts in another,
    and the e-mails queued by one hook after the surrounding transaction commits, a few task
    messages for all of them (``config.celery.batched``), in the order of the notices."""
    prepared = []
    everyone: dict[int, AbstractBaseUser] = {}
    for notice in notices:
        params = notice.params() if callable(notice.params) else notice.params
        url = notice.url() if callable(notice.url) else notice.url
        recipients: dict[int, AbstractBaseUser] = {}
        for user in notice.users:
            if user is not None and user.is_active:
                recipients.setdefault(user.pk, user)
        everyone.update(recipients)
        prepared.append((notice, params, url, list(recipients.values())))
    languages = user_languages(everyone.values())

    rows: list[tuple[Any, ...]] = []  # the stored columns (NOTIFICATION_COLUMNS) of each notification
    users: list[AbstractBaseUser] = []
    now = timezone.now()
    mails: list[dict[str, Any]] = []  # the e-mail task's keyword arguments, the row's index for its id
    addressed: list[dict[str, Any]] = []
    posts = []
    writer = _Writer(translation.get_language())
    for notice, params, url, recipients in prepared:
        # Written once per language among the recipients (and the addresses'), not once per recipient.
        in_language: dict[str | None, tuple[str, dict[str, str]]] = {}
        for user in recipients:
            language = languages[user.pk]
            if language not in in_language:
                in_language[language] = writer.written(notice, params, language)
            message, email = in_language[language]
            rows.append((user.pk, notice.verb, message, url[:500], now))
            users.append(user)
            # The notification's id is known once stored: filled in below.
            mails.append({"notification_id": len(rows) - 1, **email})
        addresses = sorted({address for address in notice.emails if address})
        if addresses:
            # An address has no language of its own: the current one.
            if writer.current not in in_language:
                in_language[writer.current] = writer.written(notice, params, writer.current)
            text, email = in_language[writer.current]
            for address in addresses:
                addressed.append({"address": address, "message": text, "url": url[:500], **email})
        for department in notice.departments:
            # Written in the department's language, which ``chat_deliveries`` switches to.
            posts += chat_deliveries(
                department=department,
                verb=notice.verb,
                text=lambda n=notice, p=params: _render(n.message, p)[:500],
                url=url,
            )
    created = _notifications_create(rows, users)
    for mail in mails:
        mail["notification_id"] = created[mail["notification_id"]].pk
    queue_all_after_commit(
        batched("responses.notify_email", "responses.notify_emails", mails)
        + batched("responses.notify_email_address", "responses.notify_email_addresses", addressed)
    )
    deliveries_queue(posts)
    return created


def _render(text: str | Promise, params: Mapping[str, Any] | None) -> str:
    """``text`` filled with ``params``, in the active language."""
    return str(text) % params if params is not None and text else str(text)


# Values whose text is the same in every language: params holding only these fill a translated
# text without switching to its language.
_PLAIN_PARAMS = frozenset({str, int})


class _Writer:
    """A batch's notices written in their recipients' languages.

    Each translatable text is translated once per language for the whole batch, not once per
    notice: a page of tickets tells its departments with one text, filled with each ticket's
    number. A notice whose params would read differently in another language (a translatable
    label, a date…) is written as ``notify`` always wrote it, in its language throughout.
    """

    def __init__(self, current: str | None) -> None:
        self.current = current
        # By the text's id: a lazy text hashes by its translation. The texts are kept, so that no
        # id is reused by another text while the batch is written.
        self._translated: dict[tuple[int, str | None], str] = {}
        self._texts: list[str | Promise] = []

    def _in(self, language: str | None) -> Any:
        # The current language needs no switching to (and back from).
        return nullcontext() if language == self.current else translation.override(language)

    def _translation(self, text: str | Promise, language: str | None) -> str:
        if not isinstance(text, Promise):
            return str(text)
        key = (id(text), language)
        if key not in self._translated:
            with self._in(language):
                self._translated[key] = str(text)
            self._texts.append(text)
        return self._translated[key]

    def written(
        self, notice: Notice, params: Mapping[str, Any] | None, language: str | None
    ) -> tuple[str, dict[str, str]]:
        """The notice's message in ``language`` and its e-mail's texts (``email_texts``)."""
        if params is not None and not _PLAIN_PARAMS.issuperset(map(type, params.values())):
            with self._in(language):
                return _render(notice.message, params)[:500], _email_texts(notice, lambda text: _render(text, params))

        def render(text: str | Promise) -> str:
            translated = self._translation(text, language)
            return translated % params if params is not None and translated else translated

        return render(notice.message)[:500], _email_texts(notice, render)


def _email_texts(notice: Notice, render: Callable[[str | Promise], str]) -> dict[str, str]:
    # Passed only when given: every other notification queues the task message it always did,
    # which a worker still running the previous code (mid-deploy) can run.
    return {key: render(value) for key, value in (("subject", notice.subject), ("body", notice.body)) if value}


# What ``notify_all`` writes of a notification; the other columns start empty.
NOTIFICATION_COLUMNS = ("user_id", "verb", "message", "url", "created_at")


def _notifications_create(rows: list[tuple[Any, ...]], users: list[AbstractBaseUser]) -> list[Notification]:
    """Store ``rows`` (values of ``NOTIFICATION_COLUMNS``, each for the user at its place in
    ``users``) in one INSERT, and return them as notifications, their ids and users filled in.

    What ``bulk_create`` did, without its per-instance and per-value work (a page of routed
    mentions tells dozens of people). Like ``bulk_create``, it pairs the new ids with the rows in
    the order they were given: PostgreSQL and SQLite return an INSERT's rows in its VALUES' order.
    """
    ids = [pk for (pk,) in insert_rows(Notification, NOTIFICATION_COLUMNS, rows, returning=("id",))]
    database = router.db_for_write(Notification)
    created = []
    for pk, (user_id, verb, message, url, created_at), user in zip(ids, rows, users, strict=True):
        # Positional values, in the order of the model's fields: Django's fast way to build one.
        notification = Notification(pk, user_id, verb, message, url, created_at, None, None, None)
        notification._state.adding = False
        notification._state.db = database
        Notification.user.field.set_cached_value(notification, user)
        created.append(notification)
    return created


def community_managers(brand_id: int) -> QuerySet:
    """The brand's community managers: they hear about resolutions and SLA breaches."""
    return brand_members([brand_id]).filter(groups__name=COMMUNITY_MANAGER, is_active=True)


def department_members(department: Department) -> QuerySet:
    return department.members.filter(is_active=True)


# --- the e-mail copy ---------------------------------------------------------------------------
@dataclass(frozen=True)
class EmailDelivery:
    """What one attempt did: "sent", "done" (sent before, or nothing to send), "failed" (the mail
    server refused or could not be reached) or "busy" (another worker holds the claim); the last
    two come back after ``retry_in`` seconds."""

    outcome: str
    retry_in: float = 0.0


def _absolute(url: str) -> str:
    if url.startswith(("http://", "https://")):
        return url
    return f"{settings.SITE_URL}{url}"


def _failed(attempt: int, error: Exception, to: str) -> EmailDelivery:
    log.warning("E-mail to %s failed (attempt %s): %s", to, attempt + 1, error)
    return EmailDelivery(
        "failed", backoff_seconds(attempt + 1, base=EMAIL_RETRY_BASE_SECONDS, cap=EMAIL_RETRY_CAP_SECONDS)
    )


def notification_email_send(
    *, notification_id: int, subject: str = "", body: str = "", attempt: int = 0
) -> EmailDelivery:
    """E-mail one notification to its user, once, and stamp it e-mailed only when the mail server took it.

    The row is claimed with a conditional UPDATE, so of two workers running the same task only
    one sends. A failed send releases the claim, for the retry. A claim older than
    ``EMAIL_CLAIM_SECONDS`` died with its worker and is taken again: the one case that can send
    twice is a worker killed between the mail server's answer and the stamp.
    ``subject`` and ``body`` replace the ones drawn from the message (see ``notify``).
    """
    now = timezone.now()
    stale = now - timedelta(seconds=EMAIL_CLAIM_SECONDS)
    unsent = Notification.objects.filter(pk=notification_id, emailed_at__isnull=True)
    claimed = unsent.filter(Q(email_claimed_at__isnull=True) | Q(email_claimed_at__lt=stale)).update(
        email_claimed_at=now
    )
    if not claimed:
        held = list(unsent.values_list("email_claimed_at", flat=True)[:1])
        if not held:
            return EmailDelivery("done")
        # Another worker is sending it, or died doing so (its redelivered task lands here): look
        # again when that claim would have gone stale.
        return EmailDelivery("busy", max((held[0] - stale).total_seconds(), 1.0) if held[0] else 1.0)
    mine = Notification.objects.filter(pk=notification_id, email_claimed_at=now)
    notification = Notification.objects.select_related("user").get(pk=notification_id)
    address = notification.user.email
    if not address:
        mine.update(email_claimed_at=None)
        return EmailDelivery("done")
    text = body or notification.message
    text = f"{text}\n\n{_absolute(notification.url)}" if notification.url else text
    try:
        email_message(subject=subject or f"[Escucha] {notification.message}", body=text, to=[address]).send()
    except OSError as error:  # smtplib's errors, refused connections and timeouts
        mine.update(email_claimed_at=None)
        return _failed(attempt, error, address)
    except BaseException:
        mine.update(email_claimed_at=None)
        raise
    mine.update(emailed_at=timezone.now())
    return EmailDelivery("sent")


def address_email_send(
    *, address: str, message: str, url: str, subject: str = "", body: str = "", attempt: int = 0
) -> EmailDelivery:
    """E-mail a shared address (a department's inbox) that has no user, and so no row, behind it."""
    text = f"{body or message}\n\n{_absolute(url)}"
    try:
        email_message(subject=subject or f"[Escucha] {message}", body=text, to=[address]).send()
    except OSError as error:
        return _failed(attempt, error, address)
    return EmailDelivery("sent")
