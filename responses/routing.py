"""Routing rules: what happens to a new mention. The ingestion pipeline calls ``route_mentions``.

A rule is stored as JSON (``RoutingRule.conditions`` / ``.actions``); this module owns its
vocabulary: ``clean_rule`` validates and normalises it (per-field errors for the form and the API),
``compile_rule`` turns it into predicates once per batch, ``route_mentions`` applies it to new
mentions and ``rule_preview`` replays it over the last days' mentions.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

from django.contrib.auth import get_user_model
from django.db.models import Prefetch, Q, QuerySet, prefetch_related_objects
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from listening import actions as mention_actions
from listening.models import Channel, Mention, Platform, Sentiment, TrackedTerm
from listening.terms import fold, phrase_pattern
from responses.models import Department, Priority, RoutingRule, Ticket

# --- Vocabulary ---------------------------------------------------------------------------------

LIST_OPS = ("in", "not_in")
NUMBER_OPS = ("above", "below")

# field -> the operators it accepts. Order is the order the rule builder offers them in.
CONDITION_OPS: dict[str, tuple[str, ...]] = {
    "text": ("any", "all", "none"),
    "term_kind": ("any", "none"),
    "sentiment": NUMBER_OPS,
    "platform": LIST_OPS,
    "channel": LIST_OPS,
    "language": LIST_OPS,
    "followers": NUMBER_OPS,
    "verified": ("is",),
    "kind": LIST_OPS,
}
ACTION_TYPES = ("ticket", "assign", "status", "spam", "tag", "notify")

CONDITION_LABELS = {
    "text": gettext_lazy("Words or phrases"),
    "term_kind": gettext_lazy("Tracked term kind"),
    "sentiment": gettext_lazy("Sentiment score"),
    "platform": gettext_lazy("Platform"),
    "channel": gettext_lazy("Channel"),
    "language": gettext_lazy("Language"),
    "followers": gettext_lazy("Author followers"),
    "verified": gettext_lazy("Verified author"),
    "kind": gettext_lazy("Mention kind"),
}
OP_LABELS = {
    "any": gettext_lazy("any of"),
    "all": gettext_lazy("all of"),
    "none": gettext_lazy("none of"),
    "in": gettext_lazy("is one of"),
    "not_in": gettext_lazy("is not one of"),
    "above": gettext_lazy("above"),
    "below": gettext_lazy("below"),
    "is": gettext_lazy("is"),
}
ACTION_LABELS = {
    "ticket": gettext_lazy("Open a ticket"),
    "assign": gettext_lazy("Assign to"),
    "status": gettext_lazy("Set status"),
    "spam": gettext_lazy("Mark as spam"),
    "tag": gettext_lazy("Add tag"),
    "notify": gettext_lazy("Notify"),
}

# A new negative mention by an author whose ticket closed this recently is a repeat complaint.
REPEAT_WINDOW = timedelta(days=30)
REPEAT_TAG = "repeat"


class RuleInvalid(Exception):
    """A rule that cannot be saved; ``errors`` maps "conditions.0.value"-style keys to messages."""

    def __init__(self, errors: dict[str, str]) -> None:
        super().__init__("; ".join(f"{key}: {message}" for key, message in errors.items()))
        self.errors = errors


def _as_list(value: Any) -> list[Any]:
    if value is None:
        return []
    if isinstance(value, str):
        return [part.strip() for part in value.split(",") if part.strip()]
    if isinstance(value, list | tuple):
        return [part.strip() if isinstance(part, str) else part for part in value if part not in ("", None)]
    return [value]


def _as_bool(value: Any) -> bool | None:
    if isinstance(value, bool):
        return value
    if isinstance(value, str) and value.strip().lower() in ("true", "yes", "1", "on"):
        return True
    if isinstance(value, str) and value.strip().lower() in ("false", "no", "0", "off"):
        return False
    return None


def _clean_condition(brand_id: int, index: int, raw: Any, errors: dict[str, str]) -> dict[str, Any] | None:
    key = f"conditions.{index}"
    if not isinstance(raw, dict):
        errors[key] = _("Each condition needs a field, an operator and a value.")
        return None
    field_name = raw.get("field")
    op = raw.get("op")
    value = raw.get("value")
    if field_name not in CONDITION_OPS:
        errors[f"{key}.field"] = _("Choose a field: %(fields)s.") % {"fields": ", ".join(CONDITION_OPS)}
        return None
    if op not in CONDITION_OPS[field_name]:
        errors[f"{key}.op"] = _("For %(field)s the operator must be one of: %(ops)s.") % {
            "field": field_name,
            "ops": ", ".join(CONDITION_OPS[field_name]),
        }
        return None
    if field_name == "sentiment":
        try:
            number = float(value)
        except (TypeError, ValueError):
            errors[f"{key}.value"] = _("Enter a number between -1 and 1.")
            return None
        if not -1 <= number <= 1:
            errors[f"{key}.value"] = _("Enter a number between -1 and 1.")
            return None
        return {"field": field_name, "op": op, "value": number}
    if field_name == "followers":
        try:
            count = int(str(value).strip())
        except (TypeError, ValueError):
            errors[f"{key}.value"] = _("Enter a whole number of followers.")
            return None
        if count < 0:
            errors[f"{key}.value"] = _("Enter a whole number of followers.")
            return None
        return {"field": field_name, "op": op, "value": count}
    if field_name == "verified":
        flag = _as_bool(value)
        if flag is None:
            errors[f"{key}.value"] = _("Answer yes or no.")
            return None
        return {"field": field_name, "op": op, "value": flag}
    values = _as_list(value)
    if not values:
        errors[f"{key}.value"] = _("Enter at least one value.")
        return None
    allowed: Iterable[str] | None = {
        "term_kind": TrackedTerm.Kind.values,
        "platform": Platform.values,
        "kind": Mention.Kind.values,
    }.get(field_name)
    if allowed is not None:
        values = [str(v).lower() for v in values]
        unknown = [v for v in values if v not in allowed]
        if unknown:
            errors[f"{key}.value"] = _("Unknown value %(values)s; use: %(allowed)s.") % {
                "values": ", ".join(unknown),
                "allowed": ", ".join(allowed),
            }
            return None
    elif field_name == "channel":
        try:
            ids = sorted({int(v) for v in values})
        except (TypeError, ValueError):
            errors[f"{key}.value"] = _("Choose channels of this brand.")
            return None
        if Channel.objects.filter(brand_id=brand_id, pk__in=ids).count() != len(ids):
            errors[f"{key}.value"] = _("Choose channels of this brand.")
            return None
        values = ids
    elif field_name == "language":
        values = [str(v).lower() for v in values]
    elif field_name == "text":
        values = [str(v) for v in values if fold(str(v))]
        if not values:
            errors[f"{key}.value"] = _("Enter at least one word or phrase.")
            return None
    return {"field": field_name, "op": op, "value": values}


def _find_user(brand_id: int, ref: Any) -> Any:
    """A brand member by id or username, or None."""
    User = get_user_model()
    members = User.objects.filter(brand_memberships__brand_id=brand_id, is_active=True)
    if isinstance(ref, int) or (isinstance(ref, str) and ref.strip().isdigit()):
        return members.filter(pk=int(ref)).first()
    if isinstance(ref, str) and ref.strip():
        return members.filter(username=ref.strip()).first()
    return None


def _find_department(brand_id: int, ref: Any) -> Department | None:
    departments = Department.objects.filter(brand_id=brand_id)
    if isinstance(ref, int) or (isinstance(ref, str) and ref.strip().isdigit()):
        return departments.filter(pk=int(ref)).first()
    if isinstance(ref, str) and ref.strip():
        return departments.filter(name__iexact=ref.strip()).first()
    return None


def _clean_action(brand_id: int, index: int, raw: Any, errors: dict[str, str]) -> dict[str, Any] | None:
    key = f"actions.{index}"
    if not isinstance(raw, dict) or raw.get("type") not in ACTION_TYPES:
        errors[f"{key}.type"] = _("Choose an action: %(types)s.") % {"types": ", ".join(ACTION_TYPES)}
        return None
    kind = raw["type"]
    if kind == "ticket":
        department = _find_department(brand_id, raw.get("department"))
        priority = raw.get("priority") or Priority.NORMAL
        if department is None:
            errors[f"{key}.department"] = _("Choose a department of this brand.")
        if priority not in Priority.values:
            errors[f"{key}.priority"] = _("Choose a priority: %(values)s.") % {"values": ", ".join(Priority.values)}
        if department is None or priority not in Priority.values:
            return None
        # Stored by id so renaming a department does not break the rule.
        return {"type": kind, "department": department.pk, "priority": priority}
    if kind in ("assign", "notify"):
        user = _find_user(brand_id, raw.get("user"))
        if user is None:
            errors[f"{key}.user"] = _("Choose a person who works on this brand.")
            return None
        return {"type": kind, "user": user.pk}
    if kind == "status":
        status = raw.get("status")
        if status not in Mention.Status.values:
            errors[f"{key}.status"] = _("Choose a status: %(values)s.") % {"values": ", ".join(Mention.Status.values)}
            return None
        return {"type": kind, "status": status}
    if kind == "tag":
        tag = str(raw.get("tag") or "").strip()[:60]
        if not tag:
            errors[f"{key}.tag"] = _("Enter a tag.")
            return None
        return {"type": kind, "tag": tag}
    return {"type": "spam"}


@dataclass
class CleanRule:
    conditions: list[dict[str, Any]]
    actions: list[dict[str, Any]]


def clean_rule(*, brand_id: int, match: str, conditions: Any, actions: Any) -> CleanRule:
    """Validate a rule's JSON; raises ``RuleInvalid`` with one message per faulty field."""
    errors: dict[str, str] = {}
    if match not in RoutingRule.Match.values:
        errors["match"] = _("Choose all or any.")
    if not isinstance(conditions, list) or not conditions:
        errors["conditions"] = _("Add at least one condition.")
        conditions = conditions if isinstance(conditions, list) else []
    if not isinstance(actions, list) or not actions:
        errors["actions"] = _("Add at least one action.")
        actions = actions if isinstance(actions, list) else []
    clean_conditions = [_clean_condition(brand_id, i, c, errors) for i, c in enumerate(conditions)]
    clean_actions = [_clean_action(brand_id, i, a, errors) for i, a in enumerate(actions)]
    if errors:
        raise RuleInvalid(errors)
    return CleanRule(conditions=clean_conditions, actions=clean_actions)  # type: ignore[arg-type]


# --- Evaluation ---------------------------------------------------------------------------------

Predicate = Callable[[Mention], bool]


def _text_of(mention: Mention) -> str:
    cached = getattr(mention, "_routing_text", None)
    if cached is None:
        cached = fold(f"{mention.title}\n{mention.text}")
        mention._routing_text = cached  # type: ignore[attr-defined]
    return cached


def _compile_condition(condition: dict[str, Any]) -> Predicate:
    field_name, op, value = condition["field"], condition["op"], condition["value"]
    if field_name == "text":
        patterns = [pattern for pattern in (phrase_pattern(p) for p in value) if pattern is not None]
        if op == "any":
            return lambda m: any(p.search(_text_of(m)) for p in patterns)
        if op == "all":
            return lambda m: all(p.search(_text_of(m)) for p in patterns)
        return lambda m: not any(p.search(_text_of(m)) for p in patterns)
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
        "platform": lambda m: m.channel.platform,
        "channel": lambda m: m.channel_id,
        "language": lambda m: (m.language or "").lower(),
        "kind": lambda m: m.kind,
    }
    getter, wanted = getters[field_name], set(value)
    if op == "in":
        return lambda m: getter(m) in wanted
    return lambda m: getter(m) not in wanted


@dataclass
class CompiledRule:
    rule: RoutingRule
    predicates: list[Predicate]

    def matches(self, mention: Mention) -> bool:
        results = (predicate(mention) for predicate in self.predicates)
        if self.rule.match == RoutingRule.Match.ANY:
            return any(results)
        return all(results)


def compile_rule(rule: RoutingRule) -> CompiledRule:
    return CompiledRule(rule=rule, predicates=[_compile_condition(c) for c in rule.conditions])


@dataclass
class _BrandContext:
    """What a batch needs to apply actions: loaded once per brand, not once per mention."""

    rules: list[CompiledRule]
    departments: dict[int, Department] = field(default_factory=dict)
    users: dict[int, Any] = field(default_factory=dict)


def _brand_contexts(brand_ids: set[int]) -> dict[int, _BrandContext]:
    rules = RoutingRule.objects.filter(brand_id__in=brand_ids, is_active=True).order_by("brand_id", "position", "id")
    contexts = {brand_id: _BrandContext(rules=[]) for brand_id in brand_ids}
    user_ids: set[int] = set()
    for rule in rules:
        try:
            contexts[rule.brand_id].rules.append(compile_rule(rule))
        except (KeyError, TypeError, ValueError, re.error):
            # A rule saved around the validator (admin, shell) must not stop ingestion.
            continue
        user_ids.update(a["user"] for a in rule.actions if a.get("type") in ("assign", "notify") and "user" in a)
    for department in Department.objects.filter(brand_id__in=brand_ids).prefetch_related("members"):
        contexts[department.brand_id].departments[department.pk] = department
        contexts[department.brand_id].departments.setdefault(department.name.lower(), department)  # type: ignore[index]
    users = get_user_model().objects.filter(pk__in=user_ids, is_active=True)
    for context in contexts.values():
        context.users = {user.pk: user for user in users} if user_ids else {}
    return contexts


def _apply_action(action: dict[str, Any], mention: Mention, rule: RoutingRule, context: _BrandContext) -> str:
    """Do one action; returns a short record for the mention's routing log."""
    from responses.notifications import notify
    from responses.tickets import open_ticket

    kind = action.get("type")
    if kind == "ticket":
        ref = action.get("department")
        # Validated rules hold the id; rules written by hand (the demo) may name the department.
        key = int(ref) if isinstance(ref, int) or str(ref).isdigit() else str(ref).lower()
        department = context.departments.get(key)
        if department is None:
            return "ticket: department missing"
        ticket, created = open_ticket(mention, department, priority=action.get("priority", Priority.NORMAL), rule=rule)
        return f"ticket #{ticket.pk} {department.name}" + ("" if created else " (already open)")
    if kind == "assign":
        user = context.users.get(action.get("user"))
        if user is None:
            return "assign: user missing"
        mention_actions.assign(mention, user)
        return f"assign {user.get_username()}"
    if kind == "status":
        mention_actions.set_status(mention, action["status"], note=rule.name)
        return f"status {action['status']}"
    if kind == "spam":
        mention_actions.set_status(mention, Mention.Status.SPAM, note=rule.name)
        return "spam"
    if kind == "tag":
        mention_actions.add_tag(mention, action["tag"])
        return f"tag {action['tag']}"
    if kind == "notify":
        user = context.users.get(action.get("user"))
        if user is None:
            return "notify: user missing"
        notify(
            users=[user],
            verb="rule",
            message=_("Rule “%(rule)s” matched a mention by %(author)s.")
            % {"rule": rule.name, "author": mention.author},
            url=f"/mentions/{mention.pk}/",
        )
        return f"notify {user.get_username()}"
    return f"unknown action {kind}"


def _repeat_authors(mentions: Sequence[Mention]) -> set[int]:
    """Authors of new negative mentions whose ticket closed in the last 30 days."""
    negative_authors = {m.author_id for m in mentions if m.sentiment == Sentiment.NEGATIVE}
    if not negative_authors:
        return set()
    since = timezone.now() - REPEAT_WINDOW
    return set(
        Ticket.objects.filter(
            mention__author_id__in=negative_authors, status=Ticket.Status.CLOSED, closed_at__gte=since
        ).values_list("mention__author_id", flat=True)
    )


def route_mentions(mentions: Sequence[Mention]) -> None:
    """Run each new mention through its brand's active rules, once, in order.

    Called by ingestion inside its transaction. Rules, departments and users are loaded once per
    batch; authors, channels and terms are prefetched. What each matching rule did is appended to
    ``mention.routing_log``; a mention that already has a log was routed before and is skipped.
    """
    mentions = [m for m in mentions if not m.routing_log]
    if not mentions:
        return
    prefetch_related_objects(mentions, "author", "channel", "terms")
    contexts = _brand_contexts({m.brand_id for m in mentions})
    repeat_authors = _repeat_authors(mentions)
    now = timezone.now().isoformat()
    for mention in mentions:
        log: list[dict[str, Any]] = []
        if mention.author_id in repeat_authors and mention.sentiment == Sentiment.NEGATIVE:
            mention_actions.add_tag(mention, REPEAT_TAG)
            log.append({"at": now, "repeat": True, "did": [f"tag {REPEAT_TAG}"]})
        for compiled in contexts[mention.brand_id].rules:
            if not compiled.matches(mention):
                continue
            rule = compiled.rule
            did = [_apply_action(action, mention, rule, contexts[mention.brand_id]) for action in rule.actions]
            log.append({"at": now, "rule": rule.pk, "name": rule.name, "did": did, "stop": rule.stop_processing})
            if rule.stop_processing:
                break
        if not log:
            log.append({"at": now, "did": []})  # routed, nothing matched: never routed again
        mention.routing_log = log
    # One UPDATE for the batch: the actions above saved only the fields they change.
    Mention.objects.bulk_update(mentions, ["routing_log"], batch_size=500)


# --- Preview ------------------------------------------------------------------------------------


@dataclass
class Preview:
    count: int
    scanned: int
    examples: list[Mention]


def _prefilter(qs: QuerySet[Mention], rule: RoutingRule) -> QuerySet[Mention]:
    """Narrow in SQL what ``match=all`` makes certain; the predicates still decide."""
    if rule.match != RoutingRule.Match.ALL:
        return qs
    for condition in rule.conditions:
        field_name, op, value = condition["field"], condition["op"], condition["value"]
        if field_name == "platform" and op == "in":
            qs = qs.filter(channel__platform__in=value)
        elif field_name == "channel" and op == "in":
            qs = qs.filter(channel_id__in=value)
        elif field_name == "language" and op == "in":
            qs = qs.filter(language__in=value)
        elif field_name == "sentiment":
            lookup = "sentiment_score__gt" if op == "above" else "sentiment_score__lt"
            qs = qs.filter(**{lookup: value})
        elif field_name == "kind" and op == "in":
            qs = qs.filter(kind__in=value)
    return qs


def rule_preview(*, rule: RoutingRule, days: int = 30, examples: int = 5, batch_size: int = 1000) -> Preview:
    """How many of the brand's mentions of the last ``days`` the rule would have matched.

    ``rule`` may be unsaved (the form's preview). Walks the mentions newest first in keyset
    batches, so memory stays flat on a large brand; the examples are the newest matches.
    """
    compiled = compile_rule(rule)
    since = timezone.now() - timedelta(days=days)
    base = _prefilter(Mention.objects.filter(brand_id=rule.brand_id, published_at__gte=since), rule)
    base = base.select_related("author", "channel").prefetch_related(
        Prefetch("terms", queryset=TrackedTerm.objects.only("id", "kind"))
    )
    count = scanned = 0
    found: list[Mention] = []
    cursor: tuple[Any, int] | None = None
    while True:
        # Keyset on (published_at, id), the order of the brand's inbox index.
        qs = base.order_by("-published_at", "-id")
        if cursor is not None:
            qs = qs.filter(Q(published_at__lt=cursor[0]) | Q(published_at=cursor[0], id__lt=cursor[1]))
        batch = list(qs[:batch_size])
        if not batch:
            break
        for mention in batch:
            if compiled.matches(mention):
                count += 1
                if len(found) < examples:
                    found.append(mention)
        scanned += len(batch)
        cursor = (batch[-1].published_at, batch[-1].pk)
    return Preview(count=count, scanned=scanned, examples=found)


def describe_rule(rule: RoutingRule, departments: dict[int, str]) -> dict[str, list[str]]:
    """Plain-language lines for the rule list; ``departments`` maps the brand's ids to names."""
    conditions = []
    for c in rule.conditions:
        value = c.get("value")
        shown = ", ".join(map(str, value)) if isinstance(value, list) else str(value)
        conditions.append(
            f"{CONDITION_LABELS.get(c.get('field'), c.get('field'))} {OP_LABELS.get(c.get('op'), '')} {shown}"
        )
    did = []
    for a in rule.actions:
        label = ACTION_LABELS.get(a.get("type"), a.get("type"))
        if a.get("type") == "ticket":
            did.append(
                f"{label}: {departments.get(a.get('department'), a.get('department'))} ({Priority(a['priority']).label if a.get('priority') in Priority.values else a.get('priority')})"
            )
        else:
            details = [str(v) for k, v in a.items() if k != "type"]
            did.append(f"{label} {' '.join(details)}".strip())
    return {"conditions": conditions, "actions": did}
