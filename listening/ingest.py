"""The way in: every item a platform gave us becomes exactly one Mention.

``ingest_items`` is the pipeline every item goes through, whether a poll fetched it, a webhook
pushed it or a file was imported: normalize → skip known → language → sentiment → tracked terms,
all before the channel is locked → lock, skip what another page stored meanwhile → authors → ids
reserved → threads → the steps that decide a new mention's state (``listening.pipeline``: routing)
→ bulk insert, each row once with its final values → the other steps (rollups, announcing), with
the channel's cursor advanced in the same transaction.

One bad item never blocks its page: when the database refuses the batch as data, each half is
stored on its own, and so on down to the items it refuses alone, which are skipped and recorded on
the channel (their platform id and the reason, shown with the channel's health) while the rest are
stored and the cursor moves on.
"""

from __future__ import annotations

import gc
import operator
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime
from itertools import compress
from typing import Any

from django.db import DataError, connection, transaction
from django.db.models import Model
from django.db.models.expressions import RawSQL
from django.utils import timezone

from config.bulk import (
    bulk_set,
    insert_new,
    insert_rows,
    instance_maker,
    reserve_ids,
    stamp_new,
    stored_instance_maker,
)
from listening import configuration, pipeline
from listening.connectors import FetchedAuthor, FetchedItem, RateBudget
from listening.connectors.base import RejectedItem, storable_text
from listening.language import detect_languages
from listening.learning import analyzer_for
from listening.models import WAITING_FOR_PARENT, Author, Brand, Channel, Mention, SourceTitle, TrackedTerm
from listening.privacy import erased_external_id, suppressed_author_ids
from listening.sentiment import Scored
from listening.terms import FOLDED, CompiledTerm, compile_terms, folded_said, matching_folded

# What one item can make the database or its driver refuse as data: a number out of the column's
# range, a date it cannot hold, a value it cannot encode. Anything else (a lost connection, a bug)
# still fails the whole page, which is then fetched again: nothing is dropped for it.
ITEM_ERRORS = (DataError, ValueError, OverflowError)

REJECTED_KEPT = 20  # the latest items a channel could not store, shown with its health
KINDS = frozenset(Mention.Kind.values)  # read once: Django builds the list anew at every read


@dataclass
class IngestResult:
    created: list[Mention]
    skipped: int  # already stored, repeated within the batch, or by a person who asked to be left out
    rejected: list[RejectedItem] = field(default_factory=list)  # could not be stored; recorded on the channel


AUTHOR_FIELDS = ("handle", "name", "followers", "verified", "profile_url", "avatar_url")
AUTHOR_COLUMNS = tuple(field.attname for field in Author._meta.concrete_fields)
# A person's row as ``_upsert_authors`` writes it: every column but the id, in the model's order.
AUTHOR_ROW = ("platform", "external_id", *AUTHOR_FIELDS, "is_internal", "created_at", "updated_at")
AUTHOR_UPDATED = (*AUTHOR_FIELDS, "updated_at")  # what a stored person's row is given again


def _profile(person: FetchedAuthor) -> tuple[Any, ...]:
    """A person's profile as stored, in ``AUTHOR_FIELDS`` order."""
    return (
        person.handle[:255],
        person.name[:255],
        max(person.followers or 0, 0),
        bool(person.verified),
        person.profile_url[:1000],
        person.avatar_url[:1000],
    )


def _known_profile(author: Author) -> tuple[Any, ...]:
    """A stored person's profile, in ``AUTHOR_FIELDS`` order."""
    return operator.attrgetter(*AUTHOR_FIELDS)(author)


def _kept_known(profile: tuple[Any, ...], known: tuple[Any, ...], person: FetchedAuthor) -> tuple[Any, ...]:
    """``profile`` with what its source does not know kept as ``known``: a source that does not know
    a value (a webhook carries no follower count) never wipes out one we know; one that knows
    neither followers nor handle does not know whether they are verified either."""
    handle, name, followers, verified, profile_url, avatar_url = profile
    old_handle, old_name, old_followers, old_verified, old_profile_url, old_avatar_url = known
    return (
        handle or old_handle,
        name or old_name,
        followers or old_followers,
        verified if person.followers or person.handle else old_verified,
        profile_url or old_profile_url,
        avatar_url or old_avatar_url,
    )


def _upsert_authors(platform: str, people: Iterable[FetchedAuthor]) -> dict[str, Author]:
    """One Author per (platform, external id): created when new, refreshed when their profile changed."""
    # One profile per person: the last one seen in the batch.
    wanted: dict[str, FetchedAuthor] = {person.external_id: person for person in people}
    if not wanted:
        return {}
    # Read as rows and made into the instances the query would make (``stored_instance_maker``), at
    # a fraction of its cost for a page of a thousand people.
    stored_author = stored_instance_maker(Author, Author.objects.db)
    existing: dict[str, Author] = {}
    for row in by_external_id(Author, wanted, AUTHOR_COLUMNS):
        author = stored_author(row)
        if author.platform != platform:  # the same id on another platform: another person
            continue
        existing[author.external_id] = author
    now = timezone.now()
    rows: list[tuple[Any, ...]] = []
    for external_id, person in wanted.items():
        profile = _profile(person)
        author = existing.get(external_id)
        if author is not None:
            known = _known_profile(author)
            if profile != known:
                profile = _kept_known(profile, known, person)
            if profile == known:
                continue
        rows.append((platform, external_id, *profile, False, now, now))
    # New and changed people in one INSERT … ON CONFLICT DO UPDATE: cheaper than an UPDATE per
    # row, and a person another channel creates at the same moment is updated, not duplicated.
    ids = dict(
        insert_rows(
            Author,
            AUTHOR_ROW,
            rows,
            returning=("external_id", "id"),
            conflict=("platform", "external_id"),
            update=AUTHOR_UPDATED,
        )
    )
    for row in rows:
        _platform, external_id, *profile, _is_internal, _created_at, updated_at = row
        author = existing.get(external_id)
        if author is None:
            existing[external_id] = stored_author((ids[external_id], *row))  # ``AUTHOR_ROW`` after the id
        else:
            # What setting each attribute does: none of these has a descriptor that does more.
            vars(author).update(zip(AUTHOR_UPDATED, (*profile, updated_at), strict=True))
    return existing


def _channel_state_fields(channel: Channel, cursor: dict[str, Any] | None, budget: RateBudget | None) -> dict[str, Any]:
    """What the page changes on ``channel``: its cursor where it moved from the one ``channel``
    holds (the one the page was fetched from), the platform's rate budget where it told one."""
    fields: dict[str, Any] = {}
    if cursor is not None and cursor != channel.cursor:
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
    unreadable: Sequence[RejectedItem] = (),
) -> IngestResult:
    """Store each item as exactly one Mention of ``channel``; return the new ones.

    Idempotent: an item already stored (same channel and platform id) is skipped, so a page
    fetched twice, a webhook redelivered or a worker killed and its task run again stores
    nothing twice. The items are read (language, sentiment, intent, terms) before the channel's
    row is locked; it is locked while they are stored, so a poll and a webhook of the same channel
    take turns at storing, and an item another page stored meanwhile is not stored again. A page
    with nothing new and nothing to save on the channel takes no lock at all. ``cursor`` and
    ``budget``, when given, are saved in the same
    transaction as the mentions they cover. New mentions go through the pipeline's steps before
    commit; with ``route`` False only through those that count them (a historical import is in the
    reports at once, but should not open tickets for old complaints nor announce them).
    An item the database refuses even on its own is left out, listed in ``rejected`` and on the
    channel, with the ``unreadable`` ones the connector set aside; the rest of the page is stored.
    """
    with _collector_paused(), configuration.page():
        return _ingest(channel, items, cursor, budget, route, unreadable)


@contextmanager
def _collector_paused() -> Iterator[None]:
    """Python's cyclic garbage collector held off while a page is ingested, then let be again.

    A page makes tens of thousands of short-lived objects (instances, rows, query parts), nearly
    all freed by their last reference as soon as the page is done; while it runs, their making set
    off collection after collection that walked them again and again, about a tenth of a page's
    CPU. What the page left in reference cycles goes at the first collection after it. Where the
    collector was already held off (another thread's page), it is left as it was.
    """
    if not gc.isenabled():
        yield
        return
    gc.disable()
    try:
        yield
    finally:
        gc.enable()


def _ingest(
    channel: Channel,
    items: Sequence[FetchedItem],
    cursor: dict[str, Any] | None,
    budget: RateBudget | None,
    route: bool,
    unreadable: Sequence[RejectedItem],
) -> IngestResult:
    unique: dict[str, FetchedItem] = {}
    for item in items:
        if item.external_id:
            unique.setdefault(item.external_id, item)
    skipped = len(items) - len(unique)
    state = _channel_state_fields(channel, cursor, budget)
    if not unique and not state and not unreadable:
        # A poll that found nothing (a feed "not modified", a quiet account): nothing is read,
        # locked or written, where such a poll, most polls of most channels, took four statements.
        return IngestResult(created=[], skipped=skipped, rejected=[])
    now = timezone.now()

    # Before the channel is locked: which items are new as far as the database knows now, and what
    # they say (``_read``: language, sentiment, intent, tracked terms), most of a page's CPU. Another
    # worker storing a page of the same channel (a burst of its webhooks) meanwhile does not wait
    # for this one, and this one reads while the other stores.
    source = _channel_read(channel.pk)
    configuration.stamped(source.brand)
    known = _known(source, unique, erased=source.has_erased_mentions)
    fresh = [item for item in unique.values() if item.external_id not in known]
    # People who asked to be left out: their items are dropped before anything is read or stored.
    suppressed = suppressed_author_ids(source.platform, (item.author.external_id for item in fresh))
    if suppressed:
        fresh = [item for item in fresh if item.author.external_id not in suppressed]
    if not fresh and not state and not unreadable:
        # Nothing to store nor to write on the channel (a redelivered webhook): no lock is taken.
        _keep_source_titles(source, unique.values())
        return IngestResult(created=[], skipped=len(items), rejected=[])
    readings = _read(source, fresh)

    with transaction.atomic():
        newest_stored, version, erased = _lock(source)
        if fresh and (version is None or version != source.row_version):
            # The channel's row changed since it was read: another page of it may have stored some
            # of these items meanwhile (each page that stores writes the row, below), or the first
            # of its mentions was about to be erased (the mark is written before, ``mentions_erase``)
            # and one of these may be stored under its erased id by now. A row version that did not
            # change says that neither happened, with no look-up.
            again = _known(source, [item.external_id for item in fresh], erased=erased)
            if again:
                kept = [item.external_id not in again for item in fresh]
                fresh, readings.items = list(compress(fresh, kept)), list(compress(readings.items, kept))
        skipped += len(unique) - len(fresh)
        created: list[Mention] = []
        rejected: list[RejectedItem] = list(unreadable)
        _keep_source_titles(source, unique.values())
        if fresh:
            created, refused = _store(source, fresh, readings, now, history=not route)
            rejected += refused
        if rejected:
            earlier = Channel.objects.filter(pk=source.pk).values_list("rejected_items", flat=True).get()
            state["rejected_items"] = _recorded(rejected, earlier, now)
        if created:
            # Written even where it does not move (a page of older items): a page that stored
            # mentions always writes the channel's row, so that the row's version tells a page read
            # before the lock whether one did meanwhile (above).
            newest = max(m.published_at for m in created)
            state["newest_item_at"] = newest if newest_stored is None or newest > newest_stored else newest_stored
        if state:
            Channel.objects.filter(pk=source.pk).update(**state)
            for field, value in state.items():
                setattr(channel, field, value)
    return IngestResult(created=created, skipped=skipped, rejected=rejected)


def _channel_read(pk: int) -> Channel:
    """The channel with what a page needs of it and of its brand, not locked, with its row's
    version as ``row_version`` (``_row_version``). Its name: the reports call a video or a post
    the platform names by id only after its channel (``reports.rollups.source_label``)."""
    return (
        Channel.objects.select_related("brand")
        .only("pk", "platform", "name", "has_erased_mentions", "brand__languages", "brand__configuration_stamp")
        .annotate(row_version=_row_version())
        .get(pk=pk)
    )


def _lock(channel: Channel) -> tuple[datetime | None, str | None, bool]:
    """Lock the channel's row for the transaction, so that its pages take turns at storing: its
    newest item's time as stored now, the row's version (``_row_version``), and whether any of its
    mentions were erased."""
    return (
        Channel.objects.select_for_update()
        .filter(pk=channel.pk)
        .annotate(row_version=_row_version())
        .values_list("newest_item_at", "row_version", "has_erased_mentions")
        .get()
    )


def _row_version() -> RawSQL:
    """The version of a channel's row: PostgreSQL's ``xmin``, a new one at each update of the row.
    Other databases have none to read: always NULL, and a page then looks again (``_ingest``)."""
    if connection.vendor != "postgresql":
        return RawSQL("NULL", ())
    return RawSQL(f"{connection.ops.quote_name(Channel._meta.db_table)}.xmin::text", ())  # noqa: S611 (no value in it)


def _known(channel: Channel, external_ids: Iterable[str], *, erased: bool) -> set[str]:
    """Which of these platform ids the channel has stored mentions of; with ``erased`` (the channel
    has erased mentions), also those stored and erased since, known by their erased id
    (``listening.privacy``)."""
    external_ids = list(external_ids)
    if not erased:
        return _stored_in(channel, external_ids)
    erased_ids = {erased_external_id(channel.platform, external_id): external_id for external_id in external_ids}
    found = _stored_in(channel, [*external_ids, *erased_ids])
    return {erased_ids.get(external_id, external_id) for external_id in found}


def _stored_in(channel: Channel, external_ids: Iterable[str]) -> set[str]:
    """Which of these platform ids the channel has stored mentions of."""
    return {external_id for external_id, channel_id in stored_ids(external_ids) if channel_id == channel.pk}


def _keep_source_titles(channel: Channel, items: Iterable[FetchedItem]) -> None:
    """Remember what the page's sources are called (one statement), before the pipeline's steps
    read it: the reports name a video by its title from its first comment on."""
    titles = {item.source[:255]: item.source_title[:500] for item in items if item.source and item.source_title}
    if titles:
        SourceTitle.objects.bulk_create(
            [SourceTitle(channel=channel, source=source, title=title) for source, title in titles.items()],
            update_conflicts=True,
            unique_fields=["channel", "source"],
            update_fields=["title", "updated_at"],
        )


def _store(
    channel: Channel, items: list[FetchedItem], readings: Readings, now: datetime, *, history: bool = False
) -> tuple[list[Mention], list[RejectedItem]]:
    """Insert ``items`` in one go and run the pipeline's steps on them; if the database refuses
    that as data, each half the same way, down to the items it refuses on their own, which are
    returned as rejected, in the items' order.

    The database does not say which row it refused. Halving finds one refused item of a page of
    ``n`` in about ``2·log2(n)`` attempts, most of them small, where trying every item on its own
    took ``n``: one out-of-range value made a page of 1,000 twenty times slower to store, holding
    its channel's lock all the while. Each attempt runs in a savepoint, the steps that follow the
    storing (the reports' counts) included: a refused item leaves nothing half-written behind it,
    not even what the steps wrote for it (its ticket), and a value a step cannot write (a count
    past a column's range) costs its item, never the page, which would otherwise be fetched again
    and refused again for good. An item is stored the way it would be in a page of its own.
    """
    try:
        with transaction.atomic():
            created = _insert(channel, items, readings, now, history=history)
            pipeline.run(created, history=history)
            return created, []
    except ITEM_ERRORS as error:
        if len(items) == 1:
            return [], [RejectedItem(external_id=items[0].external_id, reason=_reason(error))]
    created: list[Mention] = []
    rejected: list[RejectedItem] = []
    half = len(items) // 2
    for part in (slice(None, half), slice(half, None)):
        stored, refused = _store(channel, items[part], readings.of(readings.items[part]), now, history=history)
        created += stored
        rejected += refused
    return created, rejected


def _reason(error: Exception) -> str:
    # The first line of the driver's message names the problem ("bigint out of range"); the rest
    # may quote the row.
    message = (str(error).strip().splitlines() or [""])[0]
    return storable_text(f"{type(error).__name__}: {message}")[:300]


def _recorded(rejected: list[RejectedItem], earlier: Any, now: datetime) -> list[dict[str, str]]:
    """The channel's list of items not stored: the new ones first, each item once, the latest few."""
    fresh = [{"external_id": r.external_id[:255], "reason": r.reason, "at": now.isoformat()} for r in rejected]
    ids = {record["external_id"] for record in fresh}
    kept = [r for r in earlier or [] if isinstance(r, dict) and r.get("external_id") not in ids]
    return (fresh + kept)[:REJECTED_KEPT]


@dataclass
class Reading:
    """What one item says, read before its page locks the channel (``_read``)."""

    language: str
    scored: Scored
    folded: str  # its title and text folded, as the tracked terms were matched in them
    term_ids: list[int]  # the brand's active tracked terms it matched


@dataclass
class Readings:
    """A page's items' readings, in the items' order, with the active tracked terms they were
    matched against (the configuration they were read under)."""

    items: list[Reading]
    active_terms: tuple[TrackedTerm, ...]

    def of(self, items: list[Reading]) -> Readings:
        return Readings(items, self.active_terms)


def _read(channel: Channel, items: list[FetchedItem]) -> Readings:
    """What each item says: its language, its sentiment and intent (``analyzer_for``), the tracked
    terms in it. Needs no lock and reads nothing a page writes."""
    if not items:
        return Readings([], ())
    active_terms, brand_terms = configuration.brand_configuration(
        channel.brand_id, "tracked terms", lambda: _tracked_terms(channel.brand)
    )
    analyze = analyzer_for(channel.brand_id)
    # The page's languages in one call: lingua reads a batch far faster than text by text.
    languages = detect_languages(
        [f"{item.title}\n{item.text or ''}" for item in items],
        [item.raw_language for item in items],
        channel.brand.languages,
    )
    # A text the page holds more than once (a retweet, a complaint copied by many) is read once:
    # its reading depends on nothing but the text and its language.
    read: dict[tuple[str, str], Scored] = {}
    matched: dict[tuple[str, str], tuple[str, list[int]]] = {}
    readings: list[Reading] = []
    for item, language in zip(items, languages, strict=True):
        key = (item.text or item.title, language)
        scored = read.get(key)
        if scored is None:
            scored = read[key] = analyze(*key)
        said = (item.title or "", item.text or "")
        found = matched.get(said)
        if found is None:
            folded = folded_said(*said)
            found = matched[said] = (folded, matching_folded(brand_terms, folded))
        readings.append(Reading(language, scored, *found))
    return Readings(readings, active_terms)


def _insert(
    channel: Channel, items: list[FetchedItem], readings: Readings, now: datetime, *, history: bool = False
) -> list[Mention]:
    """Build the items' mentions from their readings, run the steps that decide their state
    (``before_store``) and insert each row once, with the values they gave it."""
    authors = _upsert_authors(channel.platform, (item.author for item in items))
    parents = {
        external_id: pk
        for external_id, channel_id, pk in stored_ids(
            {item.parent_external_id for item in items if item.parent_external_id}, "id"
        )
        if channel_id == channel.pk
    }
    mentions: list[Mention] = []
    new_mention = instance_maker(Mention)
    for item, reading in zip(items, readings.items, strict=True):
        scored = reading.scored
        mentions.append(
            new_mention(
                brand_id=channel.brand_id,
                channel=channel,
                external_id=item.external_id[:255],
                author=authors[item.author.external_id],
                text=item.text or "",
                title=(item.title or "")[:500],
                url=(item.url or "")[:2000],
                language=reading.language,
                kind=item.kind if item.kind in KINDS else Mention.Kind.MENTION,
                parent_id=parents.get(item.parent_external_id),
                parent_external_id=(item.parent_external_id or "")[:255],
                source=(item.source or "")[:255],
                reply_route=(item.reply_route or "")[:16],
                analyzer_sentiment=scored.label,
                sentiment=scored.label,
                sentiment_score=scored.compound,
                analyzer_intent=scored.intent,
                intent=scored.intent,
                analysis=scored.analysis(),
                metrics=dict(item.metrics or {}),
                published_at=item.published_at,
                fetched_at=now,
            )
        )
        # A title cut to its column's length is folded again by whoever reads it.
        if mentions[-1].title == (item.title or ""):
            setattr(mentions[-1], FOLDED, reading.folded)
    term_ids = [reading.term_ids for reading in readings.items]
    # Ids first: the steps run before storing write rows that refer to the mentions, and a child
    # of the page is stored with its parent in the page.
    for mention, pk in zip(mentions, reserve_ids(Mention, len(mentions)), strict=True):
        mention.pk = pk
    by_external_id = {m.external_id: m for m in mentions}
    for mention, item in zip(mentions, items, strict=True):
        parent = by_external_id.get(mention.parent_external_id)
        if mention.parent_id is None and parent is not None and parent is not mention:
            mention.parent_id = parent.pk
        # Not a column: what the pipeline's steps read of the conversation (``listening.pipeline``).
        mention.thread_root = (item.thread_root or "")[:255]
    _keep_tracked_terms(mentions, term_ids, readings.active_terms)
    stamp_new(Mention, mentions)  # stored when built: a routing event is not older than its mention
    pipeline.run_before_store(mentions, history=history)
    insert_new(Mention, mentions, stamp=False)
    for mention in mentions:
        mention._state.adding, mention._state.db = False, Mention.objects.db  # as bulk_create leaves them
    insert_rows(
        Mention.terms.through,
        ("mention_id", "trackedterm_id"),
        ((m.pk, t) for m, ids in zip(mentions, term_ids, strict=True) for t in ids),
    )
    _link_threads(channel, mentions)
    return mentions


def _tracked_terms(brand: Brand) -> tuple[tuple[TrackedTerm, ...], tuple[CompiledTerm, ...]]:
    """The brand's active terms, and compiled to be matched: kept by a worker until they change."""
    terms = tuple(brand.terms.filter(is_active=True))
    return terms, tuple(compile_terms(terms))


def _keep_tracked_terms(mentions: list[Mention], term_ids: list[list[int]], terms: Sequence[TrackedTerm]) -> None:
    """Give each mention ``tracked_terms``, not stored: the terms the page matched in it, in the
    terms' order, for the steps run before its term links are written (``listening.pipeline``)."""
    found: dict[tuple[int, ...], list[TrackedTerm]] = {}
    for mention, ids in zip(mentions, term_ids, strict=True):
        key = tuple(ids)
        if key not in found:
            wanted = set(key)
            found[key] = [term for term in terms if term.pk in wanted]
        mention.tracked_terms = found[key]


def stored_ids(external_ids: Iterable[str], *fields: str) -> list[tuple[Any, ...]]:
    """The stored mentions with these platform ids, of every channel: (external id, channel id,
    *``fields``) each (``by_external_id``). The caller keeps those of its channel."""
    return by_external_id(Mention, external_ids, ["external_id", "channel_id", *fields])


def by_external_id(model: type[Model], external_ids: Iterable[str], columns: Sequence[str]) -> list[tuple[Any, ...]]:
    """The ``columns`` of the rows of ``model`` (mentions, authors) with these platform ids, of
    every channel or platform: the caller keeps those of its own. Columns the driver gives as the
    ORM would (text, numbers, dates): no field's ``from_db_value`` is applied.

    Asked with the channel (``channel = … AND external_id IN (…)``), PostgreSQL read every mention
    of the channel instead of probing the unique index wherever its statistics were taken before
    the channel grew (a new channel, an import, a burst: autovacuum analyses a table again only
    after a tenth of it changed), and every page grew slower with its channel; the authors of a
    platform likewise. Asked by the ids alone, one id at a time (a LATERAL subquery its OFFSET
    keeps apart), only the unique index that leads with the platform id answers an id without
    reading the whole table, and it is probed once per id whatever the statistics say, or if the
    table has none yet. The same id elsewhere (one post seen by two brands) costs a row more."""
    external_ids = list(dict.fromkeys(external_ids))
    if not external_ids:
        return []
    if connection.vendor != "postgresql":
        return list(model._default_manager.filter(external_id__in=external_ids).values_list(*columns))
    quote = connection.ops.quote_name
    names = ", ".join(quote(model._meta.get_field(name).column) for name in columns)
    table, key = quote(model._meta.db_table), quote(model._meta.get_field("external_id").column)
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT r.* FROM unnest(%s::text[]) AS k(value) CROSS JOIN LATERAL "  # noqa: S608 (names from the model)
            f"(SELECT {names} FROM {table} WHERE {key} = k.value OFFSET 0) AS r",
            [external_ids],
        )
        return cursor.fetchall()


def _link_threads(channel: Channel, mentions: list[Mention]) -> None:
    """Parent and child may arrive in either order, in one batch or in different polls: every
    mention of the channel still waiting for a parent among ``mentions`` gets it (the page's own
    children were stored with their parent already).

    The replies waiting for a parent are few, and have an index of their own
    (``mention_waiting_idx``): they are read by it, of any channel, and those of this channel
    kept, as ``stored_ids`` reads and keeps. Nearly always there are none, and nothing is written."""
    by_external_id = {m.external_id: m for m in mentions}
    waiting = Mention.objects.filter(WAITING_FOR_PARENT, parent_external_id__in=list(by_external_id)).values_list(
        "id", "channel_id", "external_id", "parent_external_id"
    )
    children = [
        Mention(pk=pk, parent_id=by_external_id[parent_external_id].pk)
        for pk, channel_id, external_id, parent_external_id in waiting
        if channel_id == channel.pk and external_id != parent_external_id
    ]
    bulk_set(Mention, children, ["parent_id"])
