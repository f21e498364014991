"""A person's data: find it, export it, erase it, keep them out, and log each of these.

Erasing a mention keeps its row as a husk that names no one: text, title, URL, platform id,
analysis and author are removed (the author becomes the platform's anonymous placeholder), while
what the reports count — brand, channel, day, sentiment, intent, language, status, terms, source,
engagement — stays, so a report's totals are the same before and after, and a recount of the day
finds the same numbers. The row also keeps the tickets that cite the mention, which say why the
original is gone. The words, hashtags and questions of the text leave the rollups with the text:
they are what the person wrote, and a rare word or a verbatim question can point back to them.

- ``anonymise`` (the default): the husk keeps the team's work on it — its history, tags and
  routing log — and stays in the inbox as an anonymous mention.
- ``delete``: its history, tags and routing log go too; only the counts are left.

Higher apps remove what they hold about the mentions (replies' texts, ticket subjects,
notifications, outgoing webhook bodies, the reports' per-author rows) in an erase step
(``listening.pipeline.register_erase``), and add what they hold to an export in an export step.
Mentions are erased in bounded batches, each in its own transaction, so a person with a hundred
thousand mentions, or a retention run over millions, never holds one long transaction.

A mention deleted on its platform (``platform_deletions_apply``) is erased the ``anonymise`` way,
with the reason "deleted on the platform", after leaving the inbox's queue. The connectors only
say which ids are gone (``Connector.check_deleted``; Facebook's webhook ``remove`` changes);
``platform_deletions_check`` asks them on a schedule, within each platform's budget.
"""

from __future__ import annotations

import csv
import functools
import hashlib
import hmac
import io
import json
import logging
import re
import time
import zipfile
from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.contrib.admin.models import LogEntry
from django.contrib.auth.models import AbstractBaseUser
from django.contrib.contenttypes.models import ContentType
from django.db import transaction
from django.db.models import Exists, OuterRef, Q, QuerySet
from django.db.models.functions import Coalesce
from django.utils import timezone
from django.utils.encoding import force_bytes
from django.utils.translation import gettext

from config.backoff import backoff_seconds
from config.bulk import bulk_set
from listening import pipeline
from listening.connectors import ConnectorError, RateLimited, get_connector, scrub_error
from listening.models import (
    ANONYMOUS_EXTERNAL_ID,
    Author,
    Brand,
    Channel,
    ErasureReason,
    Mention,
    MentionEvent,
    PrivacyAuditEntry,
    SuppressedAuthor,
)

log = logging.getLogger(__name__)

ERASE_BATCH = 500
SEARCH_LIMIT = 50
ANONYMISE = PrivacyAuditEntry.Mode.ANONYMISE
DELETE = PrivacyAuditEntry.Mode.DELETE
# An erased mention's platform id becomes this prefix and a salted hash of the original: the same
# item fetched again (a backfill, a redelivered webhook) is recognised as already stored, and the
# hash names nothing.
ERASED_ID_PREFIX = "erased:"
# What a person's handle, name or platform id becomes in the team's notes, which are kept.
REDACTED = "[…]"


def _digest(purpose: str, value: str) -> str:
    """Django's ``salted_hmac`` (SHA-256) of ``value``, keyed by the purpose and PRIVACY_HASH_KEY,
    with the key it derives from them worked out once: a page of items hashes each item's and
    author's id, and deriving the key was half the work of each."""
    return hmac.digest(_hmac_key(purpose, settings.PRIVACY_HASH_KEY), value.encode(), "sha256").hex()


@functools.lru_cache(maxsize=8)
def _hmac_key(purpose: str, secret: str | bytes) -> bytes:
    # What ``salted_hmac`` derives: a hash of the salt and the secret (``_digest``).
    return hashlib.sha256(force_bytes(f"escucha.privacy.{purpose}") + force_bytes(secret)).digest()


def subject_digest(platform: str, external_id: str) -> str:
    """The salted hash that names a person (platform and platform id) in the suppression list and
    the audit log: the same person always gives the same hash, and the hash gives no one back."""
    return _digest("subject", f"{platform}\x00{external_id}")


def erased_external_id(platform: str, external_id: str) -> str:
    """What an erased mention's platform id becomes (``ERASED_ID_PREFIX``)."""
    return ERASED_ID_PREFIX + _digest("mention", f"{platform}\x00{external_id}")[:48]


def anonymous_author(platform: str) -> Author:
    """The platform's placeholder author, created the first time a mention of it is erased."""
    author, _created = Author.objects.get_or_create(platform=platform, external_id=ANONYMOUS_EXTERNAL_ID)
    return author


def redactor(authors: Iterable[Author]) -> Callable[[str], str]:
    """A function that replaces these people's handles (with or without @), names and platform ids,
    as whole words and in any case, by ``REDACTED``: the team's notes about an erased mention stay,
    without naming who wrote it."""
    needles: set[str] = set()
    for author in authors:
        if not author.is_anonymous:
            needles |= {author.external_id, author.handle, f"@{author.handle}", author.name}
    needles = {needle for needle in needles if len(needle.strip("@")) >= 2}
    if not needles:
        return lambda text: text
    alternatives = "|".join(re.escape(needle) for needle in sorted(needles, key=len, reverse=True))
    pattern = re.compile(rf"(?<!\w)(?:{alternatives})(?!\w)", re.IGNORECASE)
    return lambda text: pattern.sub(REDACTED, text) if text else text


# --- Ingestion ----------------------------------------------------------------------------------
def suppressed_author_ids(platform: str, external_ids: Iterable[str]) -> set[str]:
    """Which of these authors asked to be left out: one query for a page, whatever its size."""
    by_digest = {subject_digest(platform, external_id): external_id for external_id in set(external_ids)}
    if not by_digest:
        return set()
    found = SuppressedAuthor.objects.filter(digest__in=list(by_digest)).values_list("digest", flat=True)
    return {by_digest[digest] for digest in found}


# --- Erasing mentions ---------------------------------------------------------------------------
def mentions_erase(
    *,
    mentions: QuerySet[Mention],
    mode: str = ANONYMISE,
    reason: str,
    batch_size: int = ERASE_BATCH,
    limit: int | None = None,
    forget_authors: bool = False,
) -> dict[str, int]:
    """Erase ``mentions`` (see the module's docstring) in batches of ``batch_size``, each batch in
    its own transaction with its rows locked; returns the rows changed per table.

    Oldest first, at most ``limit`` mentions when given. With ``forget_authors``, the profiles of
    their authors left without any mention are deleted too. Idempotent: mentions already erased
    are skipped, so a run stopped halfway is finished by running it again.
    """
    if mode not in PrivacyAuditEntry.Mode.values:
        raise ValueError(f"unknown erasure mode {mode!r}")
    if reason not in ErasureReason.values:
        raise ValueError(f"unknown erasure reason {reason!r}")
    counts: Counter[str] = Counter()
    pending = mentions.filter(erased_at__isnull=True)
    left = limit
    while left is None or left > 0:
        size = batch_size if left is None else min(batch_size, left)
        with transaction.atomic():
            batch = list(
                pending.select_for_update(of=("self",))
                .select_related("channel", "author")
                .order_by("published_at", "pk")[:size]
            )
            if not batch:
                break
            # Ingestion looks for an item under its erased id only on a channel marked as having
            # erased mentions (``Channel.has_erased_mentions``), read in the same statement as the
            # batch: a channel not marked yet is marked first, in a transaction of its own, and the
            # batch taken again. Its mentions are never renamed before the mark is there for a page
            # to see, and (called outside a transaction, as its callers are) the mark is never
            # written while their rows are locked, which would wait on a page that holds the
            # channel's lock and may wait on them.
            unmarked = {mention.channel_id for mention in batch if not mention.channel.has_erased_mentions}
            if not unmarked:
                people = {mention.author for mention in batch}  # before they point to the placeholder
                counts.update(_erase_batch(batch, mode, reason))
                if forget_authors:
                    counts.update(_forget_authors(people))
        if unmarked:
            Channel.objects.filter(pk__in=unmarked).update(has_erased_mentions=True)
            continue
        if left is not None:
            left -= len(batch)
    return dict(counts)


def _erase_batch(batch: Sequence[Mention], mode: str, reason: str) -> dict[str, int]:
    # The higher apps first, while the mentions still read as stored (their text, their author).
    counts = Counter(pipeline.erasing(batch, mode, reason))
    placeholders: dict[str, int] = {}
    authors = {mention.author_id: mention.author for mention in batch}
    now = timezone.now()
    renamed: dict[tuple[int, str], str] = {}
    for mention in batch:
        platform = mention.channel.platform
        if platform not in placeholders:
            placeholders[platform] = anonymous_author(platform).pk
        renamed[(mention.channel_id, mention.external_id)] = erased_external_id(platform, mention.external_id)
        mention.external_id = renamed[(mention.channel_id, mention.external_id)]
        mention.author_id = placeholders[platform]
        mention.text = mention.title = mention.url = mention.parent_external_id = ""
        mention.analysis = {}
        mention.erased_at, mention.erased_reason = now, reason
        if mode == DELETE:
            mention.tags, mention.routing_log = [], []
    fields = [
        "external_id",
        "author",
        "text",
        "title",
        "url",
        "parent_external_id",
        "analysis",
        "erased_at",
        "erased_reason",
    ]
    if mode == DELETE:
        fields += ["tags", "routing_log"]
        counts["listening.MentionEvent"] += MentionEvent.objects.filter(mention__in=batch).delete()[0]
    else:
        counts["listening.MentionEvent"] += _redact_notes(batch, authors)
    bulk_set(Mention, batch, fields)
    counts["listening.Mention"] += len(batch)
    history = LogEntry.objects.filter(
        content_type=ContentType.objects.get_for_model(Mention), object_id__in=[str(m.pk) for m in batch]
    ).delete()[0]
    if history:
        counts["admin.LogEntry"] += history
    # Replies to an erased mention name its platform id as their parent's: they get its new one.
    by_channel: dict[int, list[str]] = {}
    for channel_id, external_id in renamed:
        by_channel.setdefault(channel_id, []).append(external_id)
    children = Q()
    for channel_id, external_ids in by_channel.items():
        children |= Q(channel_id=channel_id, parent_external_id__in=external_ids)
    for child in Mention.objects.filter(children).only("pk", "channel_id", "parent_external_id"):
        Mention.objects.filter(pk=child.pk).update(
            parent_external_id=renamed[(child.channel_id, child.parent_external_id)]
        )
    return dict(counts)


def _forget_authors(authors: Iterable[Author]) -> dict[str, int]:
    """Delete the profiles among ``authors`` that no mention points to any more."""
    ids = [author.pk for author in authors if not author.is_anonymous]
    idle = Author.objects.filter(pk__in=ids).exclude(Exists(Mention.objects.filter(author_id=OuterRef("pk"))))
    gone = list(idle.values_list("pk", flat=True))
    if not gone:
        return {}
    counts = Counter(Author.objects.filter(pk__in=gone).delete()[1])
    history = LogEntry.objects.filter(
        content_type=ContentType.objects.get_for_model(Author), object_id__in=[str(pk) for pk in gone]
    ).delete()[0]
    if history:
        counts["admin.LogEntry"] += history
    return dict(counts)


def _redact_notes(batch: Sequence[Mention], authors: dict[int, Author]) -> int:
    """The mentions' history notes, kept for the team, with their authors' names taken out."""
    redact = redactor(authors.values())
    changed = []
    for event in MentionEvent.objects.filter(mention__in=batch).exclude(note="").only("pk", "note"):
        note = redact(event.note)
        if note != event.note:
            event.note = note
            changed.append(event)
    bulk_set(MentionEvent, changed, ["note"])
    return len(changed)


# --- A person -----------------------------------------------------------------------------------
def authors_matching(query: str) -> QuerySet[Author]:
    """People on every platform whose handle, name or platform id matches ``query``: the handle
    with or without its @ (whole or in part), a part of the name, or the exact id. Placeholders
    are never found; nothing is, for an empty query."""
    query = query.strip()
    if not query:
        return Author.objects.none()
    handle = query.removeprefix("@")
    return Author.objects.filter(Q(handle__icontains=handle) | Q(name__icontains=query) | Q(external_id=query)).exclude(
        external_id=ANONYMOUS_EXTERNAL_ID
    )


def authors_search(*, query: str, limit: int = SEARCH_LIMIT) -> list[Author]:
    """``authors_matching``, the first ``limit`` by platform and handle."""
    return list(authors_matching(query).order_by("platform", "handle", "pk")[:limit])


def _when(value: Any) -> str | None:
    return value.isoformat() if value is not None else None


def _mention_row(mention: Mention) -> dict[str, Any]:
    return {
        "id": mention.pk,
        "brand": mention.brand.name,
        "channel": mention.channel.name,
        "platform": mention.channel.platform,
        "platform_id": mention.external_id,
        "kind": mention.kind,
        "url": mention.url,
        "title": mention.title,
        "text": mention.text,
        "language": mention.language,
        "published_at": _when(mention.published_at),
        "fetched_at": _when(mention.fetched_at),
        "sentiment": mention.sentiment,
        "intent": mention.intent,
        "status": mention.status,
        "tags": list(mention.tags or []),
        "history": [
            {
                "at": _when(event.created_at),
                "kind": event.kind,
                "from": event.old_value,
                "to": event.new_value,
                "note": event.note,
            }
            for event in mention.events.all()
        ],
    }


def person_data(*, author: Author) -> dict[str, Any]:
    """Everything Escucha holds about one person (GDPR art. 15), JSON-ready: their profile, their
    mentions with each one's history, and what higher apps hold about those (tickets, replies)."""
    mentions = list(
        Mention.objects.filter(author=author)
        .select_related("brand", "channel")
        .prefetch_related("events")
        .order_by("published_at", "pk")
    )
    data: dict[str, Any] = {
        "profile": {
            "platform": author.platform,
            "platform_id": author.external_id,
            "handle": author.handle,
            "name": author.name,
            "followers": author.followers,
            "verified": author.verified,
            "profile_url": author.profile_url,
            "avatar_url": author.avatar_url,
            "internal": author.is_internal,
            "first_seen": _when(author.created_at),
            "updated": _when(author.updated_at),
        },
        "mentions": [_mention_row(mention) for mention in mentions],
    }
    data.update(pipeline.exporting(mentions))
    return data


def person_counts(data: dict[str, Any]) -> dict[str, int]:
    """How many rows of each kind ``person_data`` found: what an erasure would change (``--dry-run``)."""
    return {"profile": 1, **{name: len(rows) for name, rows in data.items() if isinstance(rows, list)}}


def _csv(rows: Sequence[dict[str, Any]]) -> str:
    out = io.StringIO()
    columns: list[str] = []
    for row in rows:
        columns += [key for key in row if key not in columns]
    writer = csv.DictWriter(out, fieldnames=columns or ["id"])
    writer.writeheader()
    for row in rows:
        cells = {k: json.dumps(v, ensure_ascii=False) if isinstance(v, list | dict) else v for k, v in row.items()}
        # A cell a spreadsheet would run as a formula ("=HYPERLINK(…)") is read as text.
        writer.writerow(
            {k: f"'{v}" if isinstance(v, str) and v[:1] in ("=", "+", "-", "@") else v for k, v in cells.items()}
        )
    return out.getvalue()


def person_archive(data: dict[str, Any]) -> bytes:
    """``data`` as a zip: person.json (everything) and one CSV per section (profile, mentions, …)."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("person.json", json.dumps(data, ensure_ascii=False, indent=2))
        archive.writestr("profile.csv", _csv([data["profile"]]))
        for name, rows in data.items():
            if isinstance(rows, list):
                archive.writestr(f"{name}.csv", _csv(rows))
    return buffer.getvalue()


def _audit(
    *,
    action: str,
    actor: AbstractBaseUser | None,
    subject: str,
    brand: Brand | None = None,
    counts: dict[str, int],
    mode: str = "",
    suppressed: bool = False,
) -> PrivacyAuditEntry:
    return PrivacyAuditEntry.objects.create(
        action=action,
        brand=brand,
        actor=actor if actor is not None and actor.is_authenticated else None,
        subject=subject,
        counts=counts,
        mode=mode,
        suppressed=suppressed,
    )


def person_export(*, author: Author, actor: AbstractBaseUser | None) -> dict[str, Any]:
    """``person_data``, recorded in the audit log (who, when, how many rows of each kind)."""
    data = person_data(author=author)
    _audit(
        action=PrivacyAuditEntry.Action.EXPORT,
        actor=actor,
        subject=subject_digest(author.platform, author.external_id),
        counts=person_counts(data),
    )
    return data


@dataclass(frozen=True)
class Erasure:
    counts: dict[str, int]
    entry: PrivacyAuditEntry


def person_erase(
    *, author: Author, actor: AbstractBaseUser | None, mode: str = ANONYMISE, suppress: bool = False
) -> Erasure:
    """Erase one person (GDPR art. 17): their mentions (``mentions_erase``), then their profile;
    with ``suppress``, their future mentions are dropped at ingestion. Recorded in the audit log."""
    if author.is_anonymous:
        raise ValueError("the anonymous placeholder is nobody to erase")
    subject = subject_digest(author.platform, author.external_id)
    counts = Counter(
        mentions_erase(mentions=Mention.objects.filter(author=author), mode=mode, reason=ErasureReason.REQUEST)
    )
    with transaction.atomic():
        if suppress:
            SuppressedAuthor.objects.get_or_create(digest=subject)
        # Anything left pointing at the profile (the reports' per-author rows) goes with it.
        _deleted, by_model = Author.objects.filter(pk=author.pk).delete()
        for label, n in by_model.items():
            counts[label] += n
        # The Django admin's history names what it changed ("@handle"): its lines about them go.
        history = LogEntry.objects.filter(
            content_type=ContentType.objects.get_for_model(Author), object_id=str(author.pk)
        ).delete()[0]
        if history:
            counts["admin.LogEntry"] += history
        entry = _audit(
            action=PrivacyAuditEntry.Action.ERASURE,
            actor=actor,
            subject=subject,
            counts=dict(counts),
            mode=mode,
            suppressed=suppress,
        )
    return Erasure(counts=dict(counts), entry=entry)


# --- Retention ----------------------------------------------------------------------------------
RETENTION_NIGHTLY_LIMIT = 200_000  # mentions erased per brand per night, so a run always ends


def retention_cutoff(brand: Brand, now: datetime | None = None) -> datetime:
    """Mentions published before this are past the brand's retention period."""
    return (now or timezone.now()) - timedelta(days=brand.retention_days)


def retention_due(*, brand: Brand, before: datetime) -> QuerySet[Mention]:
    """The brand's mentions published before ``before`` and not erased yet (mention_retention_idx)."""
    return Mention.objects.filter(brand=brand, published_at__lt=before, erased_at__isnull=True)


def retention_run(
    *, brand: Brand, now: datetime | None = None, batch_size: int = ERASE_BATCH, limit: int | None = None
) -> dict[str, int]:
    """Erase the brand's mentions past its retention period, oldest first, in batches (at most
    ``limit``; the rest the next time), the brand's way (``retention_mode``), and the profiles of
    the people left with no mention. Recorded in the audit log when anything was erased."""
    counts = mentions_erase(
        mentions=retention_due(brand=brand, before=retention_cutoff(brand, now)),
        mode=brand.retention_mode,
        reason=ErasureReason.RETENTION,
        batch_size=batch_size,
        limit=limit,
        forget_authors=True,
    )
    if counts.get("listening.Mention"):
        _audit(
            action=PrivacyAuditEntry.Action.RETENTION,
            brand=brand,
            actor=None,
            subject="",
            counts=counts,
            mode=brand.retention_mode,
        )
    return counts


def retention_run_all(*, now: datetime | None = None, limit: int = RETENTION_NIGHTLY_LIMIT) -> int:
    """Every brand's retention run (the nightly task); returns how many mentions were erased."""
    erased = 0
    for brand in Brand.objects.order_by("pk"):
        erased += retention_run(brand=brand, now=now, limit=limit).get("listening.Mention", 0)
    return erased


# --- Deletions on the platforms ------------------------------------------------------------------
# A channel's deletion check runs at most this often; a background check (an X compliance job) is
# asked about again after DELETION_JOB_WAIT; failures back off from DELETION_BACKOFF_BASE to the cap.
DELETION_INTERVAL = timedelta(hours=1)
DELETION_JOB_WAIT = timedelta(minutes=10)
DELETION_BACKOFF_BASE = 5 * 60
DELETION_BACKOFF_CAP = 24 * 3600
# The inbox's queue (responses' Open tab): a mention there when its original goes leaves it closed.
QUEUED = (Mention.Status.NEW, Mention.Status.OPEN)


def platform_deletions_apply(*, channel: Channel, external_ids: Iterable[str]) -> int:
    """Erase the mentions of ``channel`` whose platform ids its platform says were deleted; returns
    how many. Idempotent: ids unknown or already erased change nothing.

    A mention still in the inbox's queue is closed first, with a history note, through the same
    change as an agent's (the reports' rollups move it as they would); then it is erased the
    ``anonymise`` way (the module's docstring): its tickets keep their notes and say the original
    was deleted. One audit-log entry for the channel's brand records how many rows went.
    """
    from listening.services import MentionChanges  # services imports polling, which imports this

    ids = sorted({str(external_id) for external_id in external_ids if external_id})
    if not ids:
        return 0
    gone = Mention.objects.filter(channel=channel, external_id__in=ids, erased_at__isnull=True)
    note = gettext("Deleted on %(platform)s.") % {"platform": channel.get_platform_display()}
    with transaction.atomic():
        queued = list(gone.filter(status__in=list(QUEUED)).select_for_update(of=("self",)))
        changes = MentionChanges()
        for mention in queued:
            changes.set_status(mention, Mention.Status.CLOSED, note=note)
        changes.save()
    pks = list(gone.values_list("pk", flat=True))
    if not pks:
        return 0
    counts = mentions_erase(mentions=Mention.objects.filter(pk__in=pks), mode=ANONYMISE, reason=ErasureReason.PLATFORM)
    erased = counts.get("listening.Mention", 0)
    if erased:
        _audit(
            action=PrivacyAuditEntry.Action.PLATFORM_DELETION,
            brand=channel.brand,
            actor=None,
            subject="",
            counts=counts,
            mode=ANONYMISE,
        )
        log.info("Channel %s: %s mentions deleted on the platform were erased", channel.pk, erased)
    return erased


def deletion_candidates(*, channel: Channel, recheck_hours: int, window_days: int | None, limit: int,
                        now: datetime | None = None) -> list[str]:  # fmt: skip
    """The platform ids of ``channel``'s mentions due for a deletion check, the longest unchecked
    first: not erased, stored or last checked ``recheck_hours`` ago or more, and published in the
    last ``window_days`` (all when None)."""
    now = now or timezone.now()
    due = now - timedelta(hours=recheck_hours)
    # The expression of mention_deletion_check_idx, so a run reads only the index range that is due.
    mentions = Mention.objects.annotate(last_seen=Coalesce("checked_at", "fetched_at")).filter(
        channel=channel, erased_at__isnull=True, last_seen__lt=due
    )
    if window_days is not None:
        mentions = mentions.filter(published_at__gte=now - timedelta(days=window_days))
    return list(mentions.order_by("last_seen").values_list("external_id", flat=True)[:limit])


@dataclass(frozen=True)
class DeletionRun:
    asked: int = 0  # ids sent to the platform
    erased: int = 0
    pending: bool = False  # the platform is still working on it (an X compliance job)
    error: str = ""


def _deletion_state(channel: Channel, now: datetime, **state: Any) -> None:
    channel.deletion_check = {key: value for key, value in state.items() if value not in (None, "", {}, 0)}
    channel.deletion_check["next_at"] = state["next_at"].isoformat()
    channel.deletion_check["last_at"] = now.isoformat()
    Channel.objects.filter(pk=channel.pk).update(deletion_check=channel.deletion_check)


def deletion_due(channel: Channel, now: datetime | None = None) -> bool:
    """Whether ``channel``'s deletion check is due (never run, or its next time has come)."""
    next_at = (channel.deletion_check or {}).get("next_at")
    if not next_at:
        return True
    try:
        return datetime.fromisoformat(next_at) <= (now or timezone.now())
    except ValueError:
        return True


def platform_deletions_check(*, channel: Channel, now: datetime | None = None) -> DeletionRun:
    """Ask ``channel``'s platform which of its stored mentions were deleted there, and erase those.

    At most the connector's ``deletion_batch`` ids a run, the ones due longest first; a background
    check (an X compliance job) is resumed on the following runs until its result comes. Never
    raises for a platform failure: the error is kept in ``channel.deletion_check`` and the next
    check waits (the rate limit's reset, or a backoff doubling from 5 minutes to a day).
    """
    now = now or timezone.now()
    connector = get_connector(channel)
    if not connector.deletion_batch:
        return DeletionRun()
    previous = dict(channel.deletion_check or {})
    job = previous.get("job") or {}
    ids: list[str] = []
    if not job:
        ids = deletion_candidates(
            channel=channel,
            recheck_hours=connector.deletion_recheck_hours,
            window_days=connector.deletion_window_days(),
            limit=connector.deletion_batch,
            now=now,
        )
        if not ids:
            _deletion_state(channel, now, next_at=now + DELETION_INTERVAL)
            return DeletionRun()
    try:
        result = connector.check_deleted(ids, job)
    except RateLimited as exc:
        error = scrub_error(exc, channel=channel)
        _deletion_state(
            channel, now, job=job, failures=previous.get("failures", 0), error=error,
            next_at=now + timedelta(seconds=exc.retry_after),
        )  # fmt: skip
        return DeletionRun(asked=len(ids), error=error)
    except ConnectorError as exc:
        failures = int(previous.get("failures") or 0) + 1
        error = scrub_error(exc, channel=channel)
        wait = backoff_seconds(failures, base=DELETION_BACKOFF_BASE, cap=DELETION_BACKOFF_CAP)
        # A job that failed for good (expired, refused) is dropped: its ids go in the next one.
        _deletion_state(
            channel, now, job={} if exc.permanent else job, failures=failures, error=error,
            next_at=now + timedelta(seconds=wait),
        )  # fmt: skip
        log.warning("Channel %s: deletion check failed: %s", channel.pk, error)
        return DeletionRun(asked=len(ids), error=error)
    if result.checked:
        # Before the erasure renames the ids of the ones gone.
        for start in range(0, len(ids := sorted(result.checked)), 10_000):
            Mention.objects.filter(channel=channel, external_id__in=ids[start : start + 10_000]).update(checked_at=now)
    erased = platform_deletions_apply(channel=channel, external_ids=result.gone)
    if result.state:
        next_at = now + DELETION_JOB_WAIT
    elif len(ids) >= connector.deletion_batch:
        next_at = now  # more are due: the next run goes on with them
    else:
        next_at = now + DELETION_INTERVAL
    _deletion_state(channel, now, job=result.state, next_at=next_at)
    return DeletionRun(asked=len(ids), erased=erased, pending=bool(result.state))


DELETION_RUN_SECONDS = 180  # then the task ends; the channels not reached are due on the next run


def platform_deletions_check_all(*, now: datetime | None = None, seconds: float = DELETION_RUN_SECONDS) -> int:
    """Every active channel's deletion check that is due, for at most ``seconds``; how many mentions
    were erased. Channels waiting for a reconnect or paused are left alone."""
    started = time.monotonic()
    erased = 0
    channels = Channel.objects.filter(is_active=True).exclude(state__in=[Channel.State.RECONNECT, Channel.State.PAUSED])
    for channel in channels.select_related("brand").order_by("pk"):
        if time.monotonic() - started > seconds:
            break
        if deletion_due(channel, now):
            erased += platform_deletions_check(channel=channel, now=now).erased
    return erased
