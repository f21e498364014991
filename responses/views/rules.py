"""Routing rules: the ordered list, the builder with its preview, and move, pause and delete."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import permission_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from config import params
from listening.models import Mention
from listening.selectors import brand_members, brands_for_user
from responses import rules
from responses.forms import RuleBuilder
from responses.models import Department, Priority, RoutingRule
from responses.selectors import rule_preview, rules_for_user
from responses.services import routing_rule_delete, routing_rule_move, routing_rule_toggle


def _builder_context(request: HttpRequest, builder: RuleBuilder) -> dict[str, Any]:
    rule = builder.rule
    brands = brands_for_user(request.user)
    brand_ids = [rule.brand_id] if rule.pk else list(brands.values_list("pk", flat=True))
    return {
        "rule": rule,
        "brands": brands,
        "condition_rows": builder.condition_rows(),
        "action_rows": builder.action_rows(),
        "errors": builder.errors,
        "fields": [(f, rules.CONDITION_LABELS[f]) for f in rules.CONDITION_OPS],
        "field_ops": {f: list(ops) for f, ops in rules.CONDITION_OPS.items()},
        "ops": list(rules.OP_LABELS.items()),
        "action_types": list(rules.ACTION_LABELS.items()),
        "departments": Department.objects.filter(brand_id__in=brand_ids).select_related("brand"),
        "priorities": Priority.choices,
        "statuses": Mention.Status.choices,
        "users": brand_members(brand_ids).filter(is_active=True),
    }


@permission_required("listening.configure_brand", raise_exception=True)
def rule_list(request: HttpRequest) -> HttpResponse:
    rule_rows = list(rules_for_user(request.user).select_related("brand").order_by("brand__name", "position", "id"))
    departments = dict(Department.objects.filter(brand__in={r.brand_id for r in rule_rows}).values_list("pk", "name"))
    for rule in rule_rows:
        rule.described = rules.describe_rule(rule, departments)
    return render(request, "responses/rule_list.html", {"rules": rule_rows})


@permission_required("listening.configure_brand", raise_exception=True)
def rule_edit(request: HttpRequest, pk: int | None = None) -> HttpResponse:
    """Create or edit a rule in the builder; "Preview" shows what it would have matched, unsaved."""
    rule = get_object_or_404(rules_for_user(request.user), pk=pk) if pk else RoutingRule(stop_processing=True)
    builder = RuleBuilder(user=request.user, rule=rule, data=request.POST if request.method == "POST" else None)
    preview = None
    if request.method == "POST" and builder.is_valid():
        if request.POST.get("preview"):
            preview = rule_preview(rule=rule)
        else:
            saved = builder.save()
            messages.success(request, _("Rule “%(name)s” saved.") % {"name": saved.name})
            return redirect("responses:rule_list")
    context = {**_builder_context(request, builder), "preview": preview}
    return render(request, "responses/rule_edit.html", context, status=400 if builder.errors else 200)


@require_POST
@permission_required("listening.configure_brand", raise_exception=True)
def rule_preview_view(request: HttpRequest) -> HttpResponse:
    """The builder's preview button (htmx): count and examples, or the errors, as a fragment."""
    ref = request.POST.get("rule", "")
    rule = get_object_or_404(rules_for_user(request.user), pk=params.id_or_none(ref) or 0) if ref else RoutingRule()
    builder = RuleBuilder(user=request.user, rule=rule, data=request.POST)
    preview = rule_preview(rule=rule) if builder.is_valid() else None
    return render(request, "responses/_rule_preview.html", {"preview": preview, "errors": builder.errors})


@require_POST
@permission_required("listening.configure_brand", raise_exception=True)
def rule_move(request: HttpRequest, pk: int) -> HttpResponse:
    """Swap a rule with its neighbour."""
    routing_rule_move(
        rule=get_object_or_404(rules_for_user(request.user), pk=pk), direction=request.POST.get("direction", "")
    )
    return redirect("responses:rule_list")


@require_POST
@permission_required("listening.configure_brand", raise_exception=True)
def rule_toggle(request: HttpRequest, pk: int) -> HttpResponse:
    routing_rule_toggle(rule=get_object_or_404(rules_for_user(request.user), pk=pk))
    return redirect("responses:rule_list")


@require_POST
@permission_required("listening.configure_brand", raise_exception=True)
def rule_delete(request: HttpRequest, pk: int) -> HttpResponse:
    rule = get_object_or_404(rules_for_user(request.user), pk=pk)
    name = rule.name
    routing_rule_delete(rule=rule)
    messages.success(request, _("Rule “%(name)s” deleted.") % {"name": name})
    return redirect("responses:rule_list")
