"""Routing rules' vocabulary: the fields, operators and actions a rule may use, their validation
(``clean_rule``, one message per faulty field for the builder and the API) and their description
in plain words (``describe_rule``, the rule list).

A rule is stored as JSON (``RoutingRule.conditions`` / ``.actions``); ``responses.routing``
compiles and runs it, ``responses.selectors.rule_preview`` replays it over past mentions.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from config import params
from listening.models import Channel, Intent, Mention, Platform, TrackedTerm
from listening.selectors import brand_members
from listening.terms import fold
from responses.models import Department, Priority, RoutingRule

LIST_OPS = ("in", "not_in")
NUMBER_OPS = ("above", "below")

# field -> the operators it accepts. Order is the order the rule builder offers them in.
CONDITION_OPS: dict[str, tuple[str, ...]] = {
    "text": ("any", "all", "none"),
    "term_kind": ("any", "none"),
    "sentiment": NUMBER_OPS,
    "intent": LIST_OPS,
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
    "intent": gettext_lazy("Intent"),
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
            number = params.parse_decimal(value, minimum=-1, maximum=1)
        except params.BadParam:
            errors[f"{key}.value"] = _("Enter a number between -1 and 1.")
            return None
        return {"field": field_name, "op": op, "value": number}
    if field_name == "followers":
        try:
            count = params.parse_int(value, maximum=params.INT_MAX)
        except params.BadParam:
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
        "intent": Intent.values,
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
            ids = sorted({params.parse_id(v) for v in values})
        except params.BadParam:
            errors[f"{key}.value"] = _("Choose channels of this brand.")
            return None
        if Channel.objects.filter(brand_id=brand_id, pk__in=ids).count() != len(ids):
            errors[f"{key}.value"] = _("Choose channels of this brand.")
            return None
        values = ids
    elif field_name == "language":
        values = [params.without_nul(str(v)).lower()[:8] for v in values]
    elif field_name == "text":
        values = [params.without_nul(str(v)) for v in values if fold(params.without_nul(str(v)))]
        if not values:
            errors[f"{key}.value"] = _("Enter at least one word or phrase.")
            return None
    return {"field": field_name, "op": op, "value": values}


def _find_user(brand_id: int, ref: Any) -> Any:
    """A brand member by id or username, or None (whoever else it may be)."""
    members = brand_members([brand_id]).filter(is_active=True)
    if (pk := params.id_or_none(ref)) is not None:
        return members.filter(pk=pk).first()
    if isinstance(ref, str) and params.without_nul(ref).strip():
        return members.filter(username=params.without_nul(ref).strip()).first()
    return None


def _find_department(brand_id: int, ref: Any) -> Department | None:
    """One of the brand's departments by id or name, or None (another brand's is not found either)."""
    departments = Department.objects.filter(brand_id=brand_id)
    if (pk := params.id_or_none(ref)) is not None:
        return departments.filter(pk=pk).first()
    if isinstance(ref, str) and params.without_nul(ref).strip():
        return departments.filter(name__iexact=params.without_nul(ref).strip()).first()
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
        tag = params.without_nul(str(raw.get("tag") or "")).strip()[:60]
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
