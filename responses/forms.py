"""Forms of the responses app: the routing rule builder, saved replies and saved views.

The builder posts numbered rows (``cond-0-field``, ``act-1-department`` …) rather than a fixed set
of fields, so it is not a Django form: ``RuleBuilder`` reads the rows, validates them with
``responses.rules.clean_rule`` (the API's validator too) and saves through the rule services.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from django import forms
from django.contrib.auth.models import AbstractBaseUser
from django.core.exceptions import ValidationError
from django.core.validators import validate_slug
from django.utils.translation import get_language_info
from django.utils.translation import gettext as _

from config import params
from listening.selectors import brands_for_user
from responses.models import RoutingRule, SavedReply
from responses.replies import SAVED_REPLY_VARIABLES
from responses.rules import RuleInvalid, clean_rule
from responses.services import routing_rule_create, routing_rule_update

MAX_ROWS = 20
EXTRA_ROWS = 2
ACTION_PARAMS = ("department", "priority", "user", "status", "tag")


def _value_text(value: Any) -> str:
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, list):
        return ", ".join(str(v) for v in value)
    return "" if value is None else str(value)


class RuleBuilder:
    """A rule as the builder shows and posts it: raw rows, per-field errors, and the rule they fill.

    ``rule`` is changed in memory by ``is_valid``; nothing is written before ``save`` (the
    preview runs an unsaved rule).
    """

    def __init__(self, *, user: AbstractBaseUser, rule: RoutingRule, data: Mapping[str, Any] | None = None) -> None:
        self.user = user
        self.rule = rule
        self.data = data
        self.errors: dict[str, str] = {}
        if data is None:
            self.conditions, self.actions = self._rows_from_rule() if rule.pk else ([], [])
        else:
            self.conditions, self.actions = self._rows_from_post(data)

    def _rows_from_post(self, post: Mapping[str, Any]) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
        """The builder's rows as submitted (raw strings), with empty rows dropped."""
        conditions, actions = [], []
        for i in range(MAX_ROWS):
            field = post.get(f"cond-{i}-field", "")
            if field:
                conditions.append(
                    {"field": field, "op": post.get(f"cond-{i}-op", ""), "value": post.get(f"cond-{i}-value", "")}
                )
            kind = post.get(f"act-{i}-type", "")
            if kind:
                actions.append({"type": kind, **{p: post.get(f"act-{i}-{p}", "") for p in ACTION_PARAMS}})
        return conditions, actions

    def _rows_from_rule(self) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
        conditions = [{**c, "value": _value_text(c.get("value"))} for c in self.rule.conditions]
        actions = [{p: "" for p in ACTION_PARAMS} | {k: str(v) for k, v in a.items()} for a in self.rule.actions]
        return conditions, actions

    def is_valid(self) -> bool:
        """Fill the rule from the posted rows; False with ``errors`` keyed like "conditions.0.value"."""
        if self.data is None:
            return False
        post, rule = self.data, self.rule
        self.errors = {}
        rule.name = post.get("name", "").strip()[:200]
        rule.match = post.get("match", RoutingRule.Match.ALL)
        rule.stop_processing = post.get("stop_processing") == "on"
        rule.is_active = post.get("is_active") == "on"
        if not rule.name:
            self.errors["name"] = _("Give the rule a name.")
        if not rule.pk:
            brand_id = params.id_or_none(post.get("brand", ""))
            brand = brands_for_user(self.user).filter(pk=brand_id).first() if brand_id else None
            if brand is None:
                self.errors["brand"] = _("Choose one of your brands.")
                return False
            rule.brand = brand
        try:
            # The builder sends text; lists are comma-separated, and clean_rule parses numbers and yes/no.
            clean = clean_rule(
                brand_id=rule.brand_id,
                match=rule.match,
                conditions=[{"field": c["field"], "op": c["op"], "value": c["value"]} for c in self.conditions],
                actions=[{k: v for k, v in a.items() if v != ""} for a in self.actions],
            )
        except RuleInvalid as invalid:
            self.errors.update(invalid.errors)
        else:
            rule.conditions, rule.actions = clean.conditions, clean.actions
        return not self.errors

    def save(self) -> RoutingRule:
        rule = self.rule
        fields = {
            "name": rule.name,
            "match": rule.match,
            "stop_processing": rule.stop_processing,
            "is_active": rule.is_active,
            "conditions": rule.conditions,
            "actions": rule.actions,
        }
        if rule.pk:
            return routing_rule_update(rule=rule, **fields)
        self.rule = routing_rule_create(brand=rule.brand, created_by=self.user, **fields)
        return self.rule

    def condition_rows(self) -> list[dict[str, Any]]:
        """The rows to show: the rule's, each with its errors, then a few empty ones to fill in."""
        rows = [
            {**row, "index": i, "errors": {k: self.errors.get(f"conditions.{i}.{k}") for k in ("field", "op", "value")}}
            for i, row in enumerate(self.conditions)
        ]
        return rows + [
            {"field": "", "op": "", "value": "", "index": i, "errors": {}}
            for i in range(len(rows), min(MAX_ROWS, len(rows) + EXTRA_ROWS))
        ]

    def action_rows(self) -> list[dict[str, Any]]:
        keys = ("type", *ACTION_PARAMS)
        rows = [
            {**row, "index": i, "errors": {k: self.errors.get(f"actions.{i}.{k}") for k in keys}}
            for i, row in enumerate(self.actions)
        ]
        return rows + [
            {"type": "", "index": i, "errors": {}} for i in range(len(rows), min(MAX_ROWS, len(rows) + EXTRA_ROWS))
        ]


# --- Saved replies and saved views, managed by the community managers ------------------------------
_ANY_VARIABLE = re.compile(r"\{\{(.*?)\}\}")


def _variables_text() -> str:
    return ", ".join("{{ " + name + " }}" for name in SAVED_REPLY_VARIABLES)


def _language_choices() -> list[tuple[str, str]]:
    from listening.language import DETECTABLE

    def label(code: str) -> str:
        try:
            return f"{code} · {get_language_info(code)['name_translated']}"
        except KeyError:
            return code

    return [("", _("Every language")), *((code, label(code)) for code in sorted(DETECTABLE))]


class SavedReplyForm(forms.ModelForm):
    """A saved reply: its brand (one of the user's), shortcut, title, language and text. A variable
    the composer would not fill ("{{ author.nme }}") is refused here rather than sent as written."""

    class Meta:
        model = SavedReply
        fields = ["brand", "shortcut", "title", "language", "body"]
        widgets = {"body": forms.Textarea(attrs={"rows": 6})}

    def __init__(self, *args: Any, user: AbstractBaseUser, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        brands = brands_for_user(user)
        self.fields["brand"].queryset = brands
        self.fields["brand"].empty_label = None
        self.fields["language"] = forms.ChoiceField(
            label=_("Language"),
            choices=_language_choices(),
            required=False,
            help_text=SavedReply._meta.get_field("language").help_text,
        )
        # Plain text here, checked as a slug once a leading "/" is taken off (clean_shortcut).
        self.fields["shortcut"] = forms.CharField(
            label=self.fields["shortcut"].label,
            max_length=41,
            help_text=_("Typed as /shortcut in the reply box: letters, digits, - and _."),
        )
        self.fields["body"].help_text = _("Variables: %(variables)s.") % {"variables": _variables_text()}

    def clean_shortcut(self) -> str:
        # "/thanks" is how it is typed in the composer; the slash is not part of the shortcut.
        shortcut = self.cleaned_data["shortcut"].strip().removeprefix("/")
        validate_slug(shortcut)
        if len(shortcut) > SavedReply._meta.get_field("shortcut").max_length:
            raise ValidationError(_("Keep the shortcut to 40 characters."))
        return shortcut

    def clean_body(self) -> str:
        body = self.cleaned_data["body"]
        unknown = [
            match.group(0)
            for match in _ANY_VARIABLE.finditer(body)
            if match.group(1).strip() not in SAVED_REPLY_VARIABLES
        ]
        if unknown:
            raise ValidationError(
                _("%(unknown)s is not a variable. Use: %(variables)s.")
                % {
                    "unknown": ", ".join(dict.fromkeys(unknown)),
                    "variables": _variables_text(),
                }
            )
        return body


class SavedViewForm(forms.Form):
    """Rename a saved view and share it with the brand, or stop sharing it."""

    name = forms.CharField(label=_("Name"), max_length=120)
    shared = forms.BooleanField(label=_("Share with the brand"), required=False)
