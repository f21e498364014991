"""Writes of the listening app: ingesting what a platform said, and polling a channel.

``ingest_items`` is the pipeline every item goes through, whether a poll fetched it, a webhook
pushed it or a file was imported: normalize → skip known → language → sentiment → tracked terms →
authors → bulk insert → threads → routing, with the channel's cursor advanced in the same
transaction. ``channel_poll`` fetches a channel through its connector and keeps its health.
"""

from __future__ import annotations

import logging
import random
import re
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import cache
from typing import Any

from django.contrib.auth import get_user_model
from django.contrib.auth.models import AbstractBaseUser
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Max
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from lingua import Language, LanguageDetector, LanguageDetectorBuilder

from listening import actions
from listening.connectors import ConnectorError, FetchedAuthor, FetchedItem, RateBudget, RateLimited, get_connector
from listening.models import Author, Channel, Mention, Sentiment
from listening.selectors import brands_for_user, mentions_for_user
from listening.sentiment import analyze
from listening.terms import compile_terms, matching_term_ids

log = logging.getLogger(__name__)

# --- Language -----------------------------------------------------------------------------------
# The languages a brand's audience writes in, as far as we detect them. Fewer candidates make the
# detector both faster and surer; Catalan and Galician are left out because short Spanish posts
# ("Me encanta Acme") are read as Catalan, which would leave Spanish complaints unscored.
DETECTED_LANGUAGES = (
    Language.ENGLISH,
    Language.SPANISH,
    Language.PORTUGUESE,
    Language.FRENCH,
    Language.GERMAN,
    Language.ITALIAN,
)
NOISE = re.compile(r"https?://\S+|www\.\S+|[@#][\w.]+|\s+")


@cache
def language_detector() -> LanguageDetector:
    return (
        LanguageDetectorBuilder.from_languages(*DETECTED_LANGUAGES)
        .with_minimum_relative_distance(0.05)  # unsure → no language rather than a guess
        .build()
    )


def detect_language(text: str, hint: str = "") -> str:
    """ISO 639-1 code of ``text``, or "" when unsure; the platform's own tag breaks a tie."""
    words = NOISE.sub(" ", text).strip()
    hint = (hint or "").split("-")[0].lower()
    known = {language.iso_code_639_1.name.lower() for language in DETECTED_LANGUAGES}
    if len(words) >= 3:
        language = language_detector().detect_language_of(words)
        if language is not None:
            return language.iso_code_639_1.name.lower()
    return hint if hint in known else ""


# --- Ingestion ----------------------------------------------------------------------------------
@dataclass
class IngestResult:
    created: list[Mention]
    skipped: int  # already stored, or repeated within the batch


def _upsert_authors(platform: str, people: Iterable[FetchedAuthor]) -> dict[str, Author]:
    """One Author per (platform, external id): created when new, refreshed when their profile changed."""
    # One profile per person: the last one seen in the batch.
    wanted: dict[str, FetchedAuthor] = {person.external_id: person for person in people}
    if not wanted:
        return {}
    existing = {a.external_id: a for a in Author.objects.filter(platform=platform, external_id__in=list(wanted))}
    fields = ("handle", "name", "followers", "verified", "profile_url", "avatar_url")
    changed = []
    for external_id, author in existing.items():
        person = wanted[external_id]
        fresh = {
            "handle": person.handle[:255],
            "name": person.name[:255],
            "followers": max(person.followers or 0, 0),
            "verified": bool(person.verified),
            "profile_url": person.profile_url[:1000],
            "avatar_url": person.avatar_url[:1000],
        }
        # A source that does not know a value (a webhook carries no follower count) never wipes
        # out one we know.
        fresh = {field: value for field, value in fresh.items() if value or field == "verified"}
        if not person.followers and not person.handle:
            fresh.pop("verified", None)
        if any(getattr(author, field) != value for field, value in fresh.items()):
            for field, value in fresh.items():
                setattr(author, field, value)
            changed.append(author)
    missing = [
        Author(
            platform=platform,
            external_id=external_id,
            handle=person.handle[:255],
            name=person.name[:255],
            followers=max(person.followers or 0, 0),
            verified=bool(person.verified),
            profile_url=person.profile_url[:1000],
            avatar_url=person.avatar_url[:1000],
        )
        for external_id, person in wanted.items()
        if external_id not in existing
    ]
    # New and changed people in one INSERT … ON CONFLICT DO UPDATE: cheaper than an UPDATE per
    # row, and a person another channel creates at the same moment is updated, not duplicated.
    # Rows go in without their id, so the conflict is on (platform, external id).
    rows = missing + [
        Author(platform=platform, external_id=a.external_id, **{field: getattr(a, field) for field in fields})
        for a in changed
    ]
    if rows:
        Author.objects.bulk_create(
            rows,
            update_conflicts=True,
            unique_fields=["platform", "external_id"],
            update_fields=[*fields, "updated_at"],
            batch_size=500,
        )
        if any(row.pk is None for row in rows):  # a database that does not return ids
            rows = list(Author.objects.filter(platform=platform, external_id__in=[r.external_id for r in rows]))
        existing |= {row.external_id: row for row in rows}
    return existing


def _channel_state_fields(cursor: dict[str, Any] | None, budget: RateBudget | None) -> dict[str, Any]:
    fields: dict[str, Any] = {}
    if cursor is not None:
        fields["cursor"] = cursor
    if budget is not None and (budget.remaining is not None or budget.reset_at is not None):
        fields["rate_limit_remaining"] = budget.remaining
        fields["rate_limit_reset_at"] = budget.reset_at
    return fields


def ingest_items(
    *,
    channel: Channel,
    items: Sequence[FetchedItem],
    cursor: dict[str, Any] | None = None,
    budget: RateBudget | None = None,
    route: bool = True,
) -> IngestResult:
    """Store each item as exactly one Mention of ``channel``; return the new ones.

    Idempotent: an item already stored (same channel and platform id) is skipped, so a page
    fetched twice, a webhook redelivered or a worker killed and its task run again stores
    nothing twice. The channel row is locked for the transaction, so a poll and a webhook of
    the same channel take turns. ``cursor`` and ``budget``, when given, are saved in the same
    transaction as the mentions they cover. New mentions go through routing before commit,
    unless ``route`` is False (a historical import should not open tickets for old complaints).
    """
    from responses.routing import route_mentions  # responses builds on listening: import at use

    unique: dict[str, FetchedItem] = {}
    for item in items:
        if item.external_id:
            unique.setdefault(item.external_id, item)
    skipped = len(items) - len(unique)
    now = timezone.now()

    with transaction.atomic():
        locked = Channel.objects.select_for_update().only("pk", "brand_id", "platform").get(pk=channel.pk)
        known = set(
            Mention.objects.filter(channel=locked, external_id__in=list(unique)).values_list("external_id", flat=True)
        )
        fresh = [item for item in unique.values() if item.external_id not in known]
        skipped += len(known)
        created: list[Mention] = []
        if fresh:
            created = _insert(locked, fresh, now)
            if route:
                route_mentions(created)
        state = _channel_state_fields(cursor, budget)
        if created:
            newest = max(m.published_at for m in created)
            current = Channel.objects.filter(pk=locked.pk).aggregate(newest=Max("newest_item_at"))["newest"]
            if current is None or newest > current:
                state["newest_item_at"] = newest
        if state:
            Channel.objects.filter(pk=locked.pk).update(**state)
            for field, value in state.items():
                setattr(channel, field, value)
    return IngestResult(created=created, skipped=skipped)


def _insert(channel: Channel, items: list[FetchedItem], now: datetime) -> list[Mention]:
    brand_terms = compile_terms(channel.brand.terms.filter(is_active=True))
    authors = _upsert_authors(channel.platform, (item.author for item in items))
    parents = dict(
        Mention.objects.filter(
            channel=channel, external_id__in={item.parent_external_id for item in items if item.parent_external_id}
        ).values_list("external_id", "pk")
    )
    mentions: list[Mention] = []
    term_ids: list[list[int]] = []
    for item in items:
        text = item.text or ""
        language = detect_language(f"{item.title}\n{text}", item.raw_language)
        scored = analyze(text or item.title, language)
        mentions.append(
            Mention(
                brand_id=channel.brand_id,
                channel=channel,
                external_id=item.external_id[:255],
                author=authors[item.author.external_id],
                text=text,
                title=(item.title or "")[:500],
                url=(item.url or "")[:2000],
                language=language,
                kind=item.kind if item.kind in Mention.Kind.values else Mention.Kind.MENTION,
                parent_id=parents.get(item.parent_external_id),
                parent_external_id=(item.parent_external_id or "")[:255],
                source=(item.source or "")[:255],
                analyzer_sentiment=scored.label,
                sentiment=scored.label,
                sentiment_score=scored.compound,
                metrics=dict(item.metrics or {}),
                published_at=item.published_at,
                fetched_at=now,
            )
        )
        term_ids.append(matching_term_ids(brand_terms, item.title, text))
    Mention.objects.bulk_create(mentions, batch_size=500)

    through = Mention.terms.through
    through.objects.bulk_create(
        [through(mention_id=m.pk, trackedterm_id=t) for m, ids in zip(mentions, term_ids, strict=True) for t in ids],
        batch_size=1000,
    )
    _link_threads(channel, mentions)
    return mentions


def _link_threads(channel: Channel, mentions: list[Mention]) -> None:
    """Parent and child may arrive in either order, in one batch or in different polls."""
    by_external_id = {m.external_id: m for m in mentions}
    linked = []
    for mention in mentions:
        parent = by_external_id.get(mention.parent_external_id)
        if mention.parent_id is None and parent is not None and parent is not mention:
            mention.parent_id = parent.pk
            linked.append(mention)
    if linked:
        Mention.objects.bulk_update(linked, ["parent"])
    orphans = list(
        Mention.objects.filter(channel=channel, parent__isnull=True, parent_external_id__in=list(by_external_id))
        .exclude(pk__in=[m.pk for m in mentions])
        .only("pk", "parent_external_id")
    )
    for orphan in orphans:
        orphan.parent_id = by_external_id[orphan.parent_external_id].pk
    if orphans:
        Mention.objects.bulk_update(orphans, ["parent"])


# --- Polling ------------------------------------------------------------------------------------
BACKOFF_BASE_SECONDS = 30
BACKOFF_CAP_SECONDS = 3600
MORE_PAGES_DELAY_SECONDS = 2  # the platform has more waiting: come back almost at once
POLL_TIME_BUDGET_SECONDS = 60  # then let other channels have the worker
POLL_MAX_PAGES = 10
LEASE_SECONDS = 600  # a claimed channel whose task was lost is claimed again after this


def backoff_seconds(failures: int, *, base: float = BACKOFF_BASE_SECONDS, cap: float = BACKOFF_CAP_SECONDS) -> float:
    """Exponential backoff with jitter: base, 2 x base, 4 x base … up to cap, each times 0.5 to 1,
    so calls that failed together do not all retry together."""
    ceiling = min(cap, base * 2 ** max(failures - 1, 0))
    return random.uniform(ceiling / 2, ceiling)


def channels_claim_due(*, limit: int = 200) -> list[int]:
    """Ids of channels due for a poll, each claimed with a lease so no other dispatcher queues it.

    The claim is a conditional UPDATE on the ``next_poll_at`` we read: of two dispatchers that
    read the same row, only the one whose UPDATE still finds the old value wins it.
    """
    now = timezone.now()
    due = (
        Channel.objects.filter(is_active=True, next_poll_at__lte=now)
        .exclude(state__in=[Channel.State.RECONNECT, Channel.State.PAUSED])
        .order_by("next_poll_at")
        .values_list("pk", "next_poll_at")[:limit]
    )
    lease_until = now + timedelta(seconds=LEASE_SECONDS)
    return [
        pk
        for pk, due_at in due
        if Channel.objects.filter(pk=pk, next_poll_at=due_at).update(next_poll_at=lease_until) == 1
    ]


@dataclass
class PollOutcome:
    created: int = 0
    skipped: int = 0
    pages: int = 0
    error: str = ""


def channel_poll(*, channel: Channel) -> PollOutcome:
    """Fetch ``channel`` from its cursor on, page by page within a time budget, and record health.

    Never raises for a platform failure: it is stored on the channel and decides the next poll.
    A rate limit waits for the reset; a revoked credential stops polling until someone fixes it.
    """
    outcome = PollOutcome()
    started = time.monotonic()
    now = timezone.now()
    Channel.objects.filter(pk=channel.pk).update(last_polled_at=now)
    more = False
    try:
        connector = get_connector(channel)
        while True:
            result = connector.fetch(dict(channel.cursor or {}))
            ingested = ingest_items(channel=channel, items=result.items, cursor=result.cursor, budget=result.budget)
            outcome.created += len(ingested.created)
            outcome.skipped += ingested.skipped
            outcome.pages += 1
            more = result.has_more
            if not more or outcome.pages >= POLL_MAX_PAGES or time.monotonic() - started > POLL_TIME_BUDGET_SECONDS:
                break
    except RateLimited as error:
        outcome.error = str(error)
        wait = max(float(error.retry_after or 0), 1.0)
        _record_health(
            channel,
            state=Channel.State.RATE_LIMITED,
            last_error=str(error),
            last_error_at=timezone.now(),
            rate_limit_remaining=error.remaining,
            rate_limit_reset_at=timezone.now() + timedelta(seconds=wait),
            next_poll_at=timezone.now() + timedelta(seconds=wait),
        )
        return outcome
    except ConnectorError as error:
        outcome.error = str(error)
        _record_failure(channel, str(error), stop=error.permanent or error.reconnect)
        return outcome
    except Exception as error:
        log.exception("Polling channel %s failed unexpectedly", channel.pk)
        outcome.error = f"{type(error).__name__}: {error}"
        _record_failure(channel, outcome.error, stop=False)
        return outcome
    delay = MORE_PAGES_DELAY_SECONDS if more else channel.poll_interval_seconds
    _record_health(
        channel,
        state=Channel.State.OK,
        consecutive_failures=0,
        last_success_at=timezone.now(),
        next_poll_at=timezone.now() + timedelta(seconds=delay),
    )
    return outcome


def _record_failure(channel: Channel, message: str, *, stop: bool) -> None:
    failures = Channel.objects.filter(pk=channel.pk).values_list("consecutive_failures", flat=True).first() or 0
    failures += 1
    if stop:
        # Retrying with the same credentials or settings cannot help: wait for a person.
        state, next_poll = Channel.State.RECONNECT, timezone.now() + timedelta(days=3650)
    else:
        state, next_poll = Channel.State.BACKING_OFF, timezone.now() + timedelta(seconds=backoff_seconds(failures))
    _record_health(
        channel,
        state=state,
        consecutive_failures=failures,
        last_error=message[:2000],
        last_error_at=timezone.now(),
        next_poll_at=next_poll,
    )


def _record_health(channel: Channel, **fields: Any) -> None:
    # An UPDATE of these fields only: the cursor saved by ingestion is never overwritten.
    Channel.objects.filter(pk=channel.pk).update(**fields)
    for name, value in fields.items():
        setattr(channel, name, value)


def channel_resume(*, channel: Channel, now: datetime | None = None) -> None:
    """Poll a channel now: after new credentials, a pause, or a person asking for it."""
    _record_health(channel, state=Channel.State.OK, consecutive_failures=0, next_poll_at=now or timezone.now())


# --- Inbox actions on many mentions ------------------------------------------------------------
BULK_ACTIONS = ("assign", "close", "spam", "sentiment", "department")
BULK_LIMIT = 500


@transaction.atomic
def mentions_bulk_update(
    *,
    user: AbstractBaseUser,
    ids: Iterable[int],
    action: str,
    assignee: str = "",
    sentiment: str = "",
    department_id: int | None = None,
    note: str = "",
) -> list[Mention]:
    """Apply one inbox action to the user's mentions among ``ids``; returns the mentions changed.

    Ids of mentions in brands the user does not belong to are ignored, so a forged form cannot
    touch another brand. Every change goes through ``listening.actions`` (or ``open_ticket``),
    which records who did it and when. ``assignee`` is "me", "none" or a user id of the brand.
    """
    if action not in BULK_ACTIONS:
        raise ValidationError(_("Unknown action."))
    wanted = {int(pk) for pk in ids}
    if not wanted:
        return []
    if len(wanted) > BULK_LIMIT:
        raise ValidationError(_("Select at most %(limit)s mentions at once."), params={"limit": BULK_LIMIT})
    # Row locks: two agents closing and assigning the same rows at once each see the other's result.
    mentions = list(
        mentions_for_user(user).filter(pk__in=wanted).select_related("assignee").select_for_update(of=("self",))
    )
    changed: list[Mention] = []
    if action == "assign":
        changed = _assign(user, mentions, assignee)
    elif action in ("close", "spam"):
        status = Mention.Status.CLOSED if action == "close" else Mention.Status.SPAM
        changed = [m for m in mentions if actions.set_status(m, status, user, note=note)]
    elif action == "sentiment":
        if sentiment not in Sentiment.values:
            raise ValidationError(_("Choose a sentiment."))
        changed = [m for m in mentions if actions.correct_sentiment(m, sentiment, user)]
    elif action == "department":
        changed = _send_to_department(user, mentions, department_id, note)
    return changed


def _assign(user: AbstractBaseUser, mentions: list[Mention], assignee: str) -> list[Mention]:
    if assignee in ("", "me"):
        target: AbstractBaseUser | None = user
    elif assignee == "none":
        target = None
    elif assignee.isdigit():
        target = get_user_model().objects.filter(pk=int(assignee)).first()
        if target is None:
            raise ValidationError(_("That person does not exist."))
    else:
        raise ValidationError(_("Choose who to assign to."))
    changed = []
    for mention in mentions:
        # Only someone who works the mention's brand can be given it.
        if target is not None and not brands_for_user(target).filter(pk=mention.brand_id).exists():
            raise ValidationError(_("%(user)s does not work on this brand."), params={"user": target})
        if actions.assign(mention, target, user):
            changed.append(mention)
    return changed


def _send_to_department(
    user: AbstractBaseUser, mentions: list[Mention], department_id: int | None, note: str
) -> list[Mention]:
    from responses.models import Department
    from responses.tickets import open_ticket

    department = Department.objects.filter(pk=department_id).first() if department_id else None
    if department is None:
        raise ValidationError(_("Choose a department."))
    changed = []
    for mention in mentions:
        if mention.brand_id != department.brand_id:
            raise ValidationError(_("%(department)s belongs to another brand."), params={"department": department})
        _ticket, created = open_ticket(mention, department, actor=user, note=note)
        if created:
            changed.append(mention)
    return changed
