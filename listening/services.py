"""Writes of the listening app that people make: a mention's state, brands, tracked terms, channels.

Every writer of a mention's status, assignee, sentiment, intent or tags goes through the ``mention_*``
functions, which record a MentionEvent, so the history ("who changed it, and when") is complete
whatever screen, API call or rule made the change. Forms, the API and commands save brands, terms
and channels through the functions here, so each write has one meaning wherever it comes from.
Ingestion is in ``listening.ingest``, polling in ``listening.polling``.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any
from urllib.parse import urlsplit

from django.contrib.auth.models import AbstractBaseUser
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.text import slugify
from django.utils.translation import gettext as _

from config.bulk import bulk_set, insert_rows
from listening import pipeline
from listening.connectors import connector_class, destination_refusal
from listening.models import Brand, BrandMembership, Channel, Intent, Mention, MentionEvent, Sentiment, TrackedTerm
from listening.polling import channel_resume

# --- A mention's state ----------------------------------------------------------------------------
STATUSES = frozenset(Mention.Status.values)  # read once: Django builds the list anew at every read
EVENT_FIELDS = ("mention_id", "actor_id", "kind", "old_value", "new_value", "note", "created_at")


def _record(mention: Mention, actor: AbstractBaseUser | None, kind: str, old: str, new: str, note: str = "") -> None:
    MentionEvent.objects.create(mention=mention, actor=actor, kind=kind, old_value=old, new_value=new, note=note)


class MentionChanges:
    """Changes to mentions' state, made in memory at once and written together by ``save()``.

    Each change follows the rules of its ``mention_*`` function (a mention assigned while new
    becomes open, a tag is added once…) and records its MentionEvent in the order it happened.
    ``save()`` writes the changed mentions with one UPDATE per set of changed fields and the
    events with one INSERT: routing records a whole batch's changes this way, and each
    ``mention_*`` function is a batch of one.
    """

    def __init__(self) -> None:
        self._changed: dict[int, tuple[Mention, set[str]]] = {}
        # The MentionEvents' rows, in ``EVENT_FIELDS`` order: written, never read back, so no
        # instance is built for them (a routed page records one or two per mention).
        self._events: list[tuple[Any, ...]] = []
        # The status each relabelled mention had before this batch, for the change steps.
        self._before: dict[int, tuple[Mention, dict[str, Any]]] = {}

    def _record(
        self, mention: Mention, fields: Iterable[str], actor: AbstractBaseUser | None, kind: str, old: str, new: str,
        note: str = "",
    ) -> None:  # fmt: skip
        # The change and its event happen at one instant: the clock is read once for both.
        mention.updated_at = now = timezone.now()
        self._changed.setdefault(id(mention), (mention, set()))[1].update(fields)
        self._events.append((mention.pk, actor.pk if actor is not None else None, kind, old, new, note, now))

    def set_status(self, mention: Mention, status: str, actor: AbstractBaseUser | None = None, note: str = "") -> bool:
        if status not in STATUSES:
            raise ValueError(f"unknown mention status {status!r}")
        old = mention.status
        if old == status:
            return False
        self._before.setdefault(id(mention), (mention, {}))[1].setdefault("status", old)
        mention.status = status
        self._record(mention, ["status"], actor, MentionEvent.Kind.STATUS, old, status, note)
        return True

    def assign(
        self, mention: Mention, assignee: AbstractBaseUser | None, actor: AbstractBaseUser | None = None,
        note: str = "",
    ) -> bool:  # fmt: skip
        if mention.assignee_id == (assignee.pk if assignee else None):
            return False
        old = mention.assignee.get_username() if mention.assignee else ""
        mention.assignee = assignee
        fields = ["assignee"]
        if assignee is not None and mention.status == Mention.Status.NEW:
            self._before.setdefault(id(mention), (mention, {}))[1].setdefault("status", mention.status)
            mention.status = Mention.Status.OPEN
            fields.append("status")
        self._record(
            mention, fields, actor, MentionEvent.Kind.ASSIGNED, old, assignee.get_username() if assignee else "", note
        )
        return True

    def add_tag(self, mention: Mention, tag: str, actor: AbstractBaseUser | None = None) -> bool:
        tag = tag.strip()
        if not tag or tag in mention.tags:
            return False
        mention.tags = [*mention.tags, tag]
        self._record(mention, ["tags"], actor, MentionEvent.Kind.TAGGED, "", tag)
        return True

    def remove_tag(self, mention: Mention, tag: str, actor: AbstractBaseUser | None = None) -> bool:
        if tag not in mention.tags:
            return False
        mention.tags = [kept for kept in mention.tags if kept != tag]
        self._record(mention, ["tags"], actor, MentionEvent.Kind.TAGGED, tag, "")
        return True

    def save(self, *, also: Iterable[str] = (), of: Iterable[Mention] = ()) -> None:
        """Write what was recorded; the recorder is empty afterwards.

        ``also``: fields of the mentions ``of`` written as they are in memory, in the same
        statements (routing's log of each mention it routed, changed or not).

        A mention not stored yet (ingestion routes new mentions before inserting them,
        ``listening.pipeline``) is not written here, and the change steps do not hear of it: its
        row is inserted with the values it holds, and counted with them. Its events are written.
        """
        events = self._events
        changed = [(m, fields) for m, fields in self._changed.values() if not m._state.adding]
        before = [
            (mention, values)
            for mention, values in self._before.values()
            if values["status"] != mention.status and not mention._state.adding
        ]
        self._changed, self._events, self._before = {}, [], {}
        also = set(also)
        of = [mention for mention in of if not mention._state.adding]
        if len(changed) == 1 and not also:
            mention, fields = changed[0]
            mention.save(update_fields=[*sorted(fields), "updated_at"])
        else:
            # Grouped by the fields each mention changed: a mention whose tags changed never writes
            # back a status it did not touch.
            groups: dict[tuple[str, ...], list[Mention]] = {}
            for mention, fields in changed:
                groups.setdefault(tuple(sorted(fields | also | {"updated_at"})), []).append(mention)
            if also:
                written = {id(mention) for mention, _fields in changed}
                for mention in of:
                    if id(mention) not in written:
                        groups.setdefault(tuple(sorted(also)), []).append(mention)
            for fields, mentions in groups.items():
                bulk_set(Mention, mentions, list(fields))
        insert_rows(MentionEvent, EVENT_FIELDS, events)
        pipeline.changed_many(before)


def _one(change: str, mention: Mention, *args: Any, **kwargs: Any) -> bool:
    changes = MentionChanges()
    changed = getattr(changes, change)(mention, *args, **kwargs)
    changes.save()
    return changed


@transaction.atomic
def mention_set_status(*, mention: Mention, status: str, actor: AbstractBaseUser | None = None, note: str = "") -> bool:
    """Move a mention to ``status``; returns False (and records nothing) when it already is there."""
    return _one("set_status", mention, status, actor=actor, note=note)


@transaction.atomic
def mention_set_moderation(*, mention: Mention, moderation: str, actor: AbstractBaseUser | None) -> bool:
    """Record that the item was hidden, shown again or deleted on its platform (the platform call is
    ``responses.moderation``'s); returns False (and records nothing) when it already was."""
    if moderation not in Mention.Moderation.values:
        raise ValueError(f"unknown moderation {moderation!r}")
    old = mention.moderation
    if old == moderation:
        return False
    mention.moderation = moderation
    mention.save(update_fields=["moderation", "updated_at"])
    _record(mention, actor, MentionEvent.Kind.MODERATED, old, moderation)
    return True


@transaction.atomic
def mention_assign(
    *, mention: Mention, assignee: AbstractBaseUser | None, actor: AbstractBaseUser | None = None, note: str = ""
) -> bool:
    """Give a mention to ``assignee`` (None to unassign). A new mention becomes open when assigned."""
    return _one("assign", mention, assignee, actor=actor, note=note)


def _relabel_sentiment(
    mention: Mention, label: str, corrected_by: AbstractBaseUser | None, actor: AbstractBaseUser | None, note: str = ""
) -> None:
    """Write a sentiment and who corrected it (None: the analyzer's), tell the change steps, record it."""
    old = mention.sentiment
    before = {"sentiment": old, "sentiment_corrected_by_id": mention.sentiment_corrected_by_id}
    mention.sentiment = label
    mention.sentiment_corrected_by = corrected_by
    mention.sentiment_corrected_at = timezone.now() if corrected_by is not None else None
    mention.save(update_fields=["sentiment", "sentiment_corrected_by", "sentiment_corrected_at", "updated_at"])
    pipeline.changed(mention, before)
    _record(mention, actor, MentionEvent.Kind.SENTIMENT, old, label, note)


@transaction.atomic
def mention_correct_sentiment(*, mention: Mention, label: str, actor: AbstractBaseUser) -> bool:
    """An agent relabels the sentiment. The analyzer's label is kept beside it for agreement reports."""
    if label not in Sentiment.values:
        raise ValueError(f"unknown sentiment {label!r}")
    if mention.sentiment == label and mention.sentiment_corrected_by_id:
        return False
    _relabel_sentiment(mention, label, corrected_by=actor, actor=actor)
    return True


@transaction.atomic
def mention_withdraw_sentiment_correction(*, mention: Mention, actor: AbstractBaseUser | None, note: str = "") -> bool:
    """Take an agent's correction back (an undo): the analyzer's label again, and no longer counted
    as a correction by the agreement reports or the learned models."""
    if mention.sentiment_corrected_by_id is None and mention.sentiment == mention.analyzer_sentiment:
        return False
    _relabel_sentiment(mention, mention.analyzer_sentiment, corrected_by=None, actor=actor, note=note)
    return True


@transaction.atomic
def mention_correct_intent(*, mention: Mention, intent: str, actor: AbstractBaseUser) -> bool:
    """An agent relabels the intent (complaint, question, praise, other). The analyzer's intent is
    kept beside it, for the agreement the report shows and for the brand's learned model."""
    if intent not in Intent.values or intent == Intent.UNCLASSIFIED:
        raise ValueError(f"unknown intent {intent!r}")
    old = mention.intent
    if old == intent and mention.intent_corrected_by_id:
        return False
    before = {"intent": old, "intent_corrected_by_id": mention.intent_corrected_by_id}
    mention.intent = intent
    mention.intent_corrected_by = actor
    mention.intent_corrected_at = timezone.now()
    mention.save(update_fields=["intent", "intent_corrected_by", "intent_corrected_at", "updated_at"])
    pipeline.changed(mention, before)
    _record(mention, actor, MentionEvent.Kind.INTENT, old, intent)
    return True


@transaction.atomic
def mention_add_tag(*, mention: Mention, tag: str, actor: AbstractBaseUser | None = None) -> bool:
    return _one("add_tag", mention, tag, actor=actor)


@transaction.atomic
def mention_remove_tag(*, mention: Mention, tag: str, actor: AbstractBaseUser | None = None) -> bool:
    """Take ``tag`` off; recorded as a tag event from the tag to nothing."""
    return _one("remove_tag", mention, tag, actor=actor)


@transaction.atomic
def mention_set_tags(*, mention: Mention, tags: Iterable[str], actor: AbstractBaseUser | None = None) -> bool:
    """Make ``tags`` the mention's tags, one ``mention_add_tag`` / ``mention_remove_tag`` (and so one
    recorded event) per change; False when nothing changed."""
    wanted = list(dict.fromkeys(tag.strip() for tag in tags if tag.strip()))
    removed = [mention_remove_tag(mention=mention, tag=tag, actor=actor) for tag in mention.tags if tag not in wanted]
    added = [mention_add_tag(mention=mention, tag=tag, actor=actor) for tag in wanted]
    return any(removed) or any(added)


# --- Brands and what they track ---------------------------------------------------------------------
@transaction.atomic
def tracked_term_save(
    *,
    brand: Brand,
    kind: str,
    text: str,
    group: str = "",
    exclusions: Iterable[str] = (),
    term: TrackedTerm | None = None,
) -> TrackedTerm:
    """Track ``text`` for ``brand`` (or change ``term``); the term is active afterwards.

    A term retired earlier and given again comes back with its history (the mentions it matched,
    its rollups) instead of a second row.
    """
    if term is None:
        term = TrackedTerm.objects.filter(brand=brand, kind=kind, text=text).first() or TrackedTerm(brand=brand)
    term.kind, term.text, term.group = kind, text, group
    term.exclusions = [phrase.strip() for phrase in exclusions if phrase.strip()]
    term.is_active = True
    term.save()
    return term


def tracked_term_toggle(*, term: TrackedTerm) -> TrackedTerm:
    """Retire an active term or bring back a retired one; its mentions and reports keep it either way."""
    term.is_active = not term.is_active
    term.save(update_fields=["is_active"])
    return term


@transaction.atomic
def brand_terms_set(*, brand: Brand, terms: Iterable[Mapping[str, Any]]) -> list[TrackedTerm]:
    """The list given is the brand's terms from now on; a term left out is retired, not deleted,
    so the mentions it matched and the reports keep it, and giving it again brings it back."""
    kept = [
        tracked_term_save(
            brand=brand,
            kind=term.get("kind", TrackedTerm.Kind.KEYWORD),
            text=term["text"],
            group=term.get("group", ""),
            exclusions=term.get("exclusions", []),
        )
        for term in terms
    ]
    brand.terms.exclude(pk__in=[term.pk for term in kept]).update(is_active=False)
    return kept


def brand_slug_for(name: str) -> str:
    """A free slug made from ``name``: "Acme Café" → "acme-cafe", then "acme-cafe-2" if taken."""
    base = slugify(name)[:100] or "brand"
    slug, n = base, 1
    while Brand.objects.filter(slug=slug).exists():
        n += 1
        slug = f"{base}-{n}"
    return slug


@transaction.atomic
def brand_create(*, creator: AbstractBaseUser, terms: Iterable[Mapping[str, Any]] = (), **fields: Any) -> Brand:
    """A new brand, with its creator as its first member and the terms it tracks. Without a
    ``slug``, one is made from the name."""
    if not fields.get("slug"):
        fields["slug"] = brand_slug_for(fields.get("name", ""))
    brand = Brand.objects.create(**fields)
    BrandMembership.objects.get_or_create(brand=brand, user=creator)
    brand_terms_set(brand=brand, terms=terms)
    return brand


@transaction.atomic
def brand_update(*, brand: Brand, terms: Iterable[Mapping[str, Any]] | None = None, **fields: Any) -> Brand:
    """Change a brand's fields; ``terms``, when given, replace its tracked terms (``brand_terms_set``)."""
    for name, value in fields.items():
        setattr(brand, name, value)
    if fields:
        brand.save(update_fields=list(fields))
    if terms is not None:
        brand_terms_set(brand=brand, terms=terms)
    return brand


# --- Channels -----------------------------------------------------------------------------------
def _same_address(old: str, new: str) -> bool:
    def normal(url: str) -> str:
        parts = urlsplit(url.strip())
        return f"{parts.scheme.lower()}://{parts.netloc.lower()}{parts.path.rstrip('/')}" if url.strip() else ""

    return normal(old) == normal(new)


def _renew_message(missing: list[str]) -> str:
    return _(
        "The address changed: give the stored credentials again in the same request (%(keys)s). "
        "A credential is only ever sent to the address it was entered for."
    ) % {"keys": ", ".join(missing)}


def channel_credentials_to_renew(
    *,
    channel: Channel,
    api_base_url: str,
    settings: Mapping[str, Any],
    credentials: Mapping[str, Any] | None,
) -> list[str]:
    """The stored credentials that must be given again because the channel would connect elsewhere.

    A stored secret goes only to the address it was entered for: when the API base URL (or a feed's
    address) changes, every stored credential comes with the change, or the change is refused.
    """
    connector = connector_class(channel.platform)
    old = connector.address(channel.settings or {}, channel.api_base_url)[1]
    new = connector.address(dict(settings), api_base_url)[1]
    if _same_address(old, new):
        return []
    issued = set(connector.issued_credential_keys)
    return sorted(key for key in channel.credentials or {} if key not in (credentials or {}) and key not in issued)


def channel_address_errors(
    *,
    platform: str,
    api_base_url: str,
    settings: Mapping[str, Any],
    credentials: Mapping[str, Any] | None = None,
    channel: Channel | None = None,
) -> dict[str, str]:
    """What is wrong with where a channel would connect, by field (``api_base_url``, or a feed's ``url``
    setting): an address on a private network the policy refuses (``PRIVATE_NETWORK_ALLOWLIST``), or
    a new address without the stored credentials given again. The form and the API show these."""
    field, url = connector_class(platform).address(dict(settings), api_base_url)
    errors: dict[str, str] = {}
    refusal = destination_refusal(url) if url else ""
    if refusal:
        errors[field] = refusal
    if channel is not None:
        missing = channel_credentials_to_renew(
            channel=channel, api_base_url=api_base_url, settings=settings, credentials=credentials
        )
        if missing:
            errors.setdefault(field, _renew_message(missing))
    return errors


@transaction.atomic
def channel_create(
    *, brand: Brand, platform: str, credentials: Mapping[str, Any] | None = None, **fields: Any
) -> Channel:
    """A new channel; it is due at once, so its first poll starts with the next dispatch."""
    return Channel.objects.create(brand=brand, platform=platform, credentials=dict(credentials or {}), **fields)


@transaction.atomic
def channel_update(*, channel: Channel, credentials: Mapping[str, Any] | None = None, **fields: Any) -> Channel:
    """Change a channel's fields; ``credentials`` replace the stored ones key by key (a key not
    given keeps its stored value, since a secret is never shown again to be sent back).

    A new address (API base URL, a feed's url) needs every stored credential given again
    (``channel_credentials_to_renew``); without them the change is refused with a ValidationError.
    """
    missing = channel_credentials_to_renew(
        channel=channel,
        api_base_url=fields.get("api_base_url", channel.api_base_url),
        settings=fields.get("settings", channel.settings or {}),
        credentials=credentials,
    )
    if missing:
        raise ValidationError(_renew_message(missing))
    for name, value in fields.items():
        setattr(channel, name, value)
    changed = list(fields)
    if credentials:
        # What the connector learned with the tokens it renewed says nothing of the ones given now.
        issued = set(connector_class(channel.platform).issued_credential_keys)
        kept = {key: value for key, value in (channel.credentials or {}).items() if key not in issued}
        channel.credentials = {**kept, **credentials}
        changed.append("credentials")
    # Only the fields given: the cursor and health a poll wrote meanwhile are not put back.
    if changed:
        channel.save(update_fields=changed)
    if credentials and channel.state == Channel.State.RECONNECT:
        # New credentials are the fix "reconnect needed" asks for: poll again now.
        channel_resume(channel=channel)
    return channel


def channel_tokens_renewed(*, channel: Channel, used: Mapping[str, str], tokens: Mapping[str, str]) -> bool:
    """Store the tokens a connector renewed by itself (an OAuth refresh) in place of ``used``, the
    credentials it renewed them with; False, storing nothing, when a person saved other credentials
    meanwhile (theirs win). ``channel.credentials`` is brought up to date either way."""
    with transaction.atomic():
        row = Channel.objects.select_for_update().only("credentials").get(pk=channel.pk)
        stored = dict(row.credentials or {})
        if any(stored.get(key) != value for key, value in used.items()):
            channel.credentials = stored
            return False
        stored.update(tokens)
        Channel.objects.filter(pk=channel.pk).update(credentials=stored)
    channel.credentials = stored
    return True


def channel_retire(*, channel: Channel) -> Channel:
    """Stop listening on a channel: it is no longer polled and what its webhook delivers is not stored,
    while its mentions, their history and the reports keep it. ``is_active`` brings it back."""
    if channel.is_active:
        channel.is_active = False
        channel.save(update_fields=["is_active"])
    return channel
