"""Routing: what happens to a new mention. ``route_mentions`` runs each new mention through its
brand's active rules once, in order. Ingestion routes a page before storing it (``mentions_route``,
a ``before_store`` step of ``listening.pipeline`` registered by ``ResponsesConfig.ready()``), so
each mention's row is inserted once, routed; once stored, ``mentions_announce_routed`` announces
the page to the brands' webhooks.

The rules' vocabulary and validation are in ``responses.rules``; ``compile_rule`` here turns a
rule into predicates once per batch.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import timedelta
from operator import attrgetter
from typing import Any

from django.contrib.auth import get_user_model
from django.db.models import prefetch_related_objects
from django.utils import timezone
from django.utils.translation import gettext_lazy

from config.links import reverse_id
from listening.configuration import brand_configurations
from listening.models import Channel, Mention, Sentiment
from listening.services import MentionChanges
from listening.terms import folded_of, phrase_pattern
from responses.models import Department, Priority, RoutingRule, Ticket, WebhookEndpoint
from responses.notifications import Notice, notify_all
from responses.tickets import TicketBatch, departments_with_policies
from responses.webhooks import endpoints_by_brand, mentions_announce

# A new negative mention by an author whose ticket closed this recently is a repeat complaint.
REPEAT_WINDOW = timedelta(days=30)
REPEAT_TAG = "repeat"

# What a rule's "notify" action tells its user: one text for the batch (``notify_all`` translates
# it once per language).
RULE_MATCHED_MESSAGE = gettext_lazy("Rule “%(rule)s” matched a mention by %(author)s.")

# Not a column: the tickets routing opened for a mention not stored yet, announced once it is.
_OPENED = "_routing_opened_tickets"


Predicate = Callable[[Mention], bool]


def _compile_condition(condition: dict[str, Any]) -> Predicate:
    field_name, op, value = condition["field"], condition["op"], condition["value"]
    if field_name == "text":
        patterns = [pattern for pattern in (phrase_pattern(p) for p in value) if pattern is not None]
        if not patterns:  # nothing to look for: the mention's text is not read
            return lambda m: op != "any"
        searches = [pattern.search for pattern in patterns]
        if op == "all":
            return lambda m: _found_all(searches, folded_of(m))
        if op == "any":
            return lambda m: _found_any(searches, folded_of(m))
        return lambda m: not _found_any(searches, folded_of(m))
    if field_name == "term_kind":
        kinds = set(value)
        if op == "any":
            return lambda m: any(t.kind in kinds for t in m.terms.all())
        return lambda m: not any(t.kind in kinds for t in m.terms.all())
    if field_name == "sentiment":
        # An unscored mention has no number to compare: it never meets a numeric condition.
        if op == "above":
            return lambda m: m.sentiment_score is not None and m.sentiment_score > value
        return lambda m: m.sentiment_score is not None and m.sentiment_score < value
    if field_name == "followers":
        if op == "above":
            return lambda m: m.author.followers > value
        return lambda m: m.author.followers < value
    if field_name == "verified":
        return lambda m: m.author.verified is value
    getters: dict[str, Callable[[Mention], Any]] = {
        "platform": attrgetter("channel.platform"),
        "channel": attrgetter("channel_id"),
        "language": lambda m: (m.language or "").lower(),
        "kind": attrgetter("kind"),
        "intent": attrgetter("intent"),
    }
    getter, wanted = getters[field_name], set(value)
    if op == "in":
        return lambda m: getter(m) in wanted
    return lambda m: getter(m) not in wanted


def _found_any(searches: list[Callable[[str], Any]], text: str) -> bool:
    for search in searches:
        if search(text):
            return True
    return False


def _found_all(searches: list[Callable[[str], Any]], text: str) -> bool:
    for search in searches:
        if not search(text):
            return False
    return True


@dataclass
class CompiledRule:
    rule: RoutingRule
    predicates: list[Predicate]
    matches_any: bool = field(init=False)

    def __post_init__(self) -> None:
        # Read once: every mention of a batch is matched against the rule.
        self.matches_any = self.rule.match == RoutingRule.Match.ANY

    def matches(self, mention: Mention) -> bool:
        # The predicates in order, stopping at the first that decides, as ``any``/``all`` would.
        if self.matches_any:
            for predicate in self.predicates:
                if predicate(mention):
                    return True
            return False
        for predicate in self.predicates:
            if not predicate(mention):
                return False
        return True


def compile_rule(rule: RoutingRule) -> CompiledRule:
    return CompiledRule(rule=rule, predicates=[_compile_condition(c) for c in rule.conditions])


@dataclass
class _BrandContext:
    """What a batch needs to apply actions: loaded once per brand, not once per mention."""

    rules: list[CompiledRule]
    departments: dict[int, Department] = field(default_factory=dict)
    users: dict[int, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class _BrandRouting:
    """A brand's rules and the departments they open tickets in (with their SLA policies), kept by
    a worker until the brand's configuration changes (``listening.configuration``): never changed
    once read, each batch is given lists and dicts of its own."""

    rules: tuple[CompiledRule, ...]
    departments: Mapping[int | str, Department]
    user_ids: frozenset[int]  # the users its rules assign to or notify, read for each batch


def _brand_contexts(brand_ids: set[int]) -> dict[int, _BrandContext]:
    routing = brand_configurations(brand_ids, "routing", _brand_routing)
    contexts = {
        brand_id: _BrandContext(rules=list(kept.rules), departments=dict(kept.departments))
        for brand_id, kept in routing.items()
    }
    # The users the rules assign to or notify, with their profiles (a rule's notification is written
    # in its user's language); no query built when no rule names one. Read for each batch: a person
    # is shared by brands, and one made inactive is no longer assigned from the next page on.
    user_ids = {user_id for kept in routing.values() for user_id in kept.user_ids}
    users: dict[int, Any] = {}
    if user_ids:
        read = get_user_model().objects.filter(pk__in=user_ids, is_active=True).select_related("profile")
        users = {user.pk: user for user in read}
    for context in contexts.values():
        context.users = users
    return contexts


def _brand_routing(brand_ids: set[int]) -> dict[int, _BrandRouting]:
    rules = RoutingRule.objects.filter(brand_id__in=brand_ids, is_active=True).order_by("brand_id", "position", "id")
    compiled: dict[int, list[CompiledRule]] = {brand_id: [] for brand_id in brand_ids}
    user_ids: dict[int, set[int]] = {brand_id: set() for brand_id in brand_ids}
    for rule in rules:
        try:
            compiled[rule.brand_id].append(compile_rule(rule))
        except (KeyError, TypeError, ValueError, re.error):
            # A rule saved around the validator (admin, shell) must not stop ingestion.
            continue
        user_ids[rule.brand_id].update(
            a["user"] for a in rule.actions if a.get("type") in ("assign", "notify") and "user" in a
        )
    # Only a rule that opens a ticket names a department: without one, none is read. Read with
    # their SLA policies; their members are read by the batch of tickets. In each brand's order (by
    # name, which decides the department two names differing in case stand for), not joined to
    # the brands.
    departments: dict[int, dict[int | str, Department]] = {brand_id: {} for brand_id in brand_ids}
    opening = {brand_id for brand_id, brand_rules in compiled.items() if _open_tickets(brand_rules)}
    if opening:
        read = Department.objects.filter(brand_id__in=opening).order_by("brand_id", "name")
        for department in departments_with_policies(read):
            departments[department.brand_id][department.pk] = department
            departments[department.brand_id].setdefault(department.name.lower(), department)
    return {
        brand_id: _BrandRouting(tuple(compiled[brand_id]), departments[brand_id], frozenset(user_ids[brand_id]))
        for brand_id in brand_ids
    }


@dataclass
class _Batch:
    """What routing a batch does, recorded in memory first and written together at the end."""

    changes: MentionChanges = field(default_factory=MentionChanges)
    notices: list[Notice] = field(default_factory=list)
    tickets: TicketBatch | None = None


def _apply_action(
    action: dict[str, Any], mention: Mention, rule: RoutingRule, context: _BrandContext, batch: _Batch
) -> str | Callable[[], str]:
    """Do one action (in ``batch``); returns a short record for the mention's routing log, or a
    function that writes it once the batch is stored (a new ticket's number)."""
    kind = action.get("type")
    if kind == "ticket":
        ref = action.get("department")
        # Validated rules hold the id; rules written by hand (the demo) may name the department.
        key = int(ref) if isinstance(ref, int) or str(ref).isdigit() else str(ref).lower()
        department = context.departments.get(key)
        if department is None:
            return "ticket: department missing"
        assert batch.tickets is not None
        ticket, created = batch.tickets.open(
            mention=mention, department=department, priority=action.get("priority", Priority.NORMAL), rule=rule
        )
        return lambda: f"ticket #{ticket.pk} {department.name}" + ("" if created else " (already open)")
    if kind == "assign":
        user = context.users.get(action.get("user"))
        if user is None:
            return "assign: user missing"
        batch.changes.assign(mention, user)
        return f"assign {user.get_username()}"
    if kind == "status":
        batch.changes.set_status(mention, action["status"], note=rule.name)
        return f"status {action['status']}"
    if kind == "spam":
        batch.changes.set_status(mention, Mention.Status.SPAM, note=rule.name)
        return "spam"
    if kind == "tag":
        batch.changes.add_tag(mention, action["tag"])
        return f"tag {action['tag']}"
    if kind == "notify":
        user = context.users.get(action.get("user"))
        if user is None:
            return "notify: user missing"
        batch.notices.append(
            Notice(
                users=[user],
                verb="rule",
                message=RULE_MATCHED_MESSAGE,
                params={"rule": rule.name, "author": str(mention.author)},
                url=reverse_id("responses:mention_detail", mention.pk),
            )
        )
        return f"notify {user.get_username()}"
    return f"unknown action {kind}"


def _repeat_authors(mentions: Sequence[Mention]) -> set[int]:
    """Authors of new negative mentions whose ticket closed in the last 30 days."""
    negative_authors = {m.author_id for m in mentions if m.sentiment == Sentiment.NEGATIVE}
    if not negative_authors:
        return set()
    since = timezone.now() - REPEAT_WINDOW
    # A set of authors: unsorted, where the tickets' default order had the database sort them (and
    # Django work the ordering out) for every page.
    closed = Ticket.objects.filter(
        mention__author_id__in=negative_authors, status=Ticket.Status.CLOSED, closed_at__gte=since
    ).order_by()
    return set(closed.values_list("mention__author_id", flat=True))


def mentions_route(mentions: Sequence[Mention]) -> None:
    """The ingestion pipeline's ``before_store`` step: route a page of new mentions before their
    rows are written, which are then inserted routed."""
    route_mentions(mentions)


def mentions_announce_routed(mentions: Sequence[Mention]) -> None:
    """The ingestion pipeline's step once the routed page is stored: the tickets routing opened
    (``ticket.opened``), then the mentions, routed already (what routing did is part of the
    announcement), to the brands' webhooks; the endpoints read once for both."""
    endpoints = endpoints_by_brand({m.brand_id for m in mentions})
    tickets = [ticket for mention in mentions for ticket in mention.__dict__.pop(_OPENED, ())]
    TicketBatch().announce(tickets, endpoints=endpoints)
    mentions_announce(mentions, endpoints=endpoints)


def route_mentions(
    mentions: Sequence[Mention],
    *,
    endpoints: Mapping[int, list[WebhookEndpoint]] | None = None,
) -> None:
    """Run each new mention through its brand's active rules, once, in order.

    Ingestion calls it inside its transaction, before the mentions are stored (the pipeline's
    ``mentions_route``); the rule tools call it on stored mentions.
    Set-based: rules, departments, users, SLA policies and the mentions' live tickets are read
    once per batch; each mention's actions are decided in memory in rule order, as if it were
    routed alone, then written together: the tickets and their events, the mentions' changes and
    their events, the notifications (e-mails queued by one hook after commit) and the webhook
    events, each kind in one statement or a few. What each matching rule did is appended to ``mention.routing_log``;
    a mention that already has a log was routed before and is skipped. ``endpoints``: the brands'
    webhook endpoints (``endpoints_by_brand``), when the caller read them already.

    A mention not stored yet (``_state.adding``, its id reserved) is routed in memory: its row is
    then inserted with what routing did, and the tickets opened for it are announced by
    ``mentions_announce_routed`` once it is stored.
    """
    mentions = [m for m in mentions if not m.routing_log]
    if not mentions:
        return
    contexts = _brand_contexts({m.brand_id for m in mentions})
    _brand_from_channel(mentions)
    # What the rules and the actions read; a page's terms only when a rule asks for their kind.
    related = ["author", "channel", "brand"]
    if any(c.get("field") == "term_kind" for x in contexts.values() for r in x.rules for c in r.rule.conditions):
        _terms_of_unstored(mentions)
        related.append("terms")
    for name in related:
        # A page of new mentions comes with its authors, channels and brands (and its terms), which
        # ``prefetch_related_objects`` would walk every mention for again, to find nothing to read.
        unread = _unread(mentions, name)
        if unread:
            prefetch_related_objects(unread, name)
    repeat_authors = _repeat_authors(mentions)
    now = timezone.now().isoformat()
    batch = _Batch()
    opens = _opens_tickets(contexts)
    batch.tickets = TicketBatch(
        mentions=mentions if opens else (),
        departments={d.pk: d for c in contexts.values() for d in c.departments.values()}.values() if opens else (),
        changes=batch.changes,
        notices=batch.notices,
    )
    logs: list[tuple[Mention, list[dict[str, Any]]]] = []
    for mention in mentions:
        log: list[dict[str, Any]] = []
        if mention.author_id in repeat_authors and mention.sentiment == Sentiment.NEGATIVE:
            batch.changes.add_tag(mention, REPEAT_TAG)
            log.append({"at": now, "repeat": True, "did": [f"tag {REPEAT_TAG}"]})
        for compiled in contexts[mention.brand_id].rules:
            if not compiled.matches(mention):
                continue
            rule = compiled.rule
            did = [_apply_action(action, mention, rule, contexts[mention.brand_id], batch) for action in rule.actions]
            log.append({"at": now, "rule": rule.pk, "name": rule.name, "did": did, "stop": rule.stop_processing})
            if rule.stop_processing:
                break
        if not log:
            log.append({"at": now, "did": []})  # routed, nothing matched: never routed again
        logs.append((mention, log))
    tickets = batch.tickets.store()
    for mention, log in logs:
        for entry in log:
            entry["did"] = [record() if callable(record) else record for record in entry["did"]]
        mention.routing_log = log
    # Each stored mention written once: its log with the fields its actions changed (one not
    # stored yet is inserted as it is in memory).
    batch.changes.save(also=("routing_log",), of=mentions)
    notify_all(batch.notices)
    stored: list[Ticket] = []
    for ticket in tickets:
        if ticket.mention._state.adding:
            ticket.mention.__dict__.setdefault(_OPENED, []).append(ticket)
        else:
            stored.append(ticket)
    batch.tickets.announce(stored, endpoints=endpoints)


def _terms_of_unstored(mentions: Sequence[Mention]) -> None:
    """A mention not stored yet has no term links to read: its terms are those ingestion matched in
    it (``tracked_terms``, ``listening.pipeline``), cached as ``prefetch_related`` caches them."""
    for mention in mentions:
        if mention._state.adding:
            cached = mention.terms.get_queryset()  # the manager's queryset: a filter on it still queries
            cached._result_cache = list(mention.tracked_terms)
            cached._prefetch_done = True
            mention._prefetched_objects_cache = {"terms": cached}


def _unread(mentions: Sequence[Mention], name: str) -> list[Mention]:
    """The mentions whose relation ``name`` is not read yet, as ``prefetch_related_objects`` tells
    them apart: a related object cached, or a list of them prefetched."""
    if name == "terms":
        return [m for m in mentions if name not in getattr(m, "_prefetched_objects_cache", ())]
    is_cached = Mention._meta.get_field(name).is_cached
    return [m for m in mentions if not is_cached(m)]


def _brand_from_channel(mentions: Sequence[Mention]) -> None:
    """Give each mention the brand its channel holds already, if it does (a channel read with its
    brand): a mention's brand is its channel's, copied, and need not be read again."""
    brand_field, channel_field = Mention._meta.get_field("brand"), Mention._meta.get_field("channel")
    channel_brand = Channel._meta.get_field("brand")
    for mention in mentions:
        channel = channel_field.get_cached_value(mention, None)
        brand = channel_brand.get_cached_value(channel, None) if channel is not None else None
        if brand is not None and brand.pk == mention.brand_id and not brand_field.is_cached(mention):
            brand_field.set_cached_value(mention, brand)


def _opens_tickets(contexts: dict[int, _BrandContext]) -> bool:
    return any(_open_tickets(c.rules) for c in contexts.values())


def _open_tickets(rules: Iterable[CompiledRule]) -> bool:
    """Whether any of ``rules`` opens a ticket."""
    return any(a.get("type") == "ticket" for r in rules for a in r.rule.actions)
