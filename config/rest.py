"""The conventions every endpoint of /api/v1/ keeps: one keyset pagination for every list, one error
shape, strict query parameters and request bodies. The schema's side of them is ``config.schema``.

Three modules because DRF imports its settings' classes while it defines its own views: the
throttles (``config.api``) before ``rest_framework.views`` exists, the pagination (here) while
``rest_framework.generics`` is half-defined, which drf-spectacular (``config.schema``) imports.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from django.db.models import QuerySet
from django.utils.translation import gettext as _
from rest_framework import exceptions
from rest_framework.pagination import BasePagination
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.settings import api_settings
from rest_framework.views import exception_handler as drf_exception_handler

from config import params
from config.pagination import BadCursor, keyset_page

# --- Pages ----------------------------------------------------------------------------------------
DEFAULT_PAGE_SIZE = 50
MAX_PAGE_SIZE = 500


class KeysetPagination(BasePagination):
    """Every list of the API: newest first on (``view.keyset_field``, id), ``page_size`` rows a page
    (1 to 500, default 50), ``{"results", "next", "page_size"}``; ``next`` is the URL of the next
    page, or null on the last. A keyset cursor, not an offset: the last page costs what the first
    costs, and rows arriving meanwhile neither repeat nor get skipped."""

    def paginate_queryset(self, queryset: QuerySet, request: Request, view: Any = None) -> list[Any]:
        self.size = query_int(request, "page_size", default=DEFAULT_PAGE_SIZE, minimum=1, maximum=MAX_PAGE_SIZE)
        field = getattr(view, "keyset_field", "created_at")
        try:
            page = keyset_page(queryset, after=request.query_params.get("cursor", ""), size=self.size, field=field)
        except BadCursor as error:
            raise exceptions.ValidationError({"cursor": [str(error)]}) from None
        self.next_url = None
        if page.next_cursor:
            query = request.query_params.copy()
            query["cursor"] = page.next_cursor
            self.next_url = request.build_absolute_uri(f"{request.path}?{query.urlencode()}")
        return page.rows

    def get_paginated_response(self, data: Any) -> Response:
        return Response({"results": data, "next": self.next_url, "page_size": self.size})

    def get_paginated_response_schema(self, schema: dict[str, Any]) -> dict[str, Any]:
        return {
            "type": "object",
            "required": ["results", "next", "page_size"],
            "properties": {
                "results": schema,
                "next": {"type": "string", "format": "uri", "nullable": True},
                "page_size": {"type": "integer", "minimum": 1, "maximum": MAX_PAGE_SIZE},
            },
        }

    def get_schema_operation_parameters(self, view: Any) -> list[dict[str, Any]]:
        return [
            {
                "name": "cursor",
                "in": "query",
                "required": False,
                "description": "The position after which this page starts; follow `next` rather than building it.",
                "schema": {"type": "string"},
            },
            {
                "name": "page_size",
                "in": "query",
                "required": False,
                "description": f"Rows per page, 1 to {MAX_PAGE_SIZE} (default {DEFAULT_PAGE_SIZE}).",
                "schema": {"type": "integer", "minimum": 1, "maximum": MAX_PAGE_SIZE},
            },
        ]


# --- Query parameters -----------------------------------------------------------------------------
def _bad(name: str, message: str) -> exceptions.ValidationError:
    return exceptions.ValidationError({name: [message]})


def query_text(request: Request, name: str) -> str:
    return params.without_nul(request.query_params.get(name, "")).strip()


def query_int(request: Request, name: str, *, default: int, minimum: int, maximum: int) -> int:
    """A whole number from the query string; a missing one is ``default``, a bad one a 400 naming it."""
    value = query_text(request, name)
    if not value:
        return default
    try:
        return params.parse_int(value, minimum=minimum, maximum=maximum)
    except params.BadParam as error:
        raise _bad(name, str(error)) from None


def query_id(request: Request, name: str) -> int | None:
    """An id from the query string, or None when not given; anything else is a 400 naming it."""
    value = query_text(request, name)
    if not value:
        return None
    try:
        return params.parse_id(value)
    except params.BadParam as error:
        raise _bad(name, str(error)) from None


def query_choice(request: Request, name: str, choices: Sequence[str]) -> str:
    """One of ``choices`` from the query string, or "" when not given; anything else is a 400."""
    value = query_text(request, name)
    if value and value not in choices:
        raise _bad(name, _("Choose one of: %(choices)s.") % {"choices": ", ".join(choices)})
    return value


def query_bool(request: Request, name: str) -> bool | None:
    """``true``/``false`` from the query string, or None when not given; anything else is a 400."""
    value = query_text(request, name).lower()
    if not value:
        return None
    if value not in ("true", "false"):
        raise _bad(name, _("Use true or false."))
    return value == "true"


# --- Request bodies -------------------------------------------------------------------------------
# What Django's own form posts (the browsable API) add to a body beside the fields.
FORM_KEYS = frozenset({"csrfmiddlewaretoken"})


class KnownFieldsOnly:
    """Serializer mixin: a body key that names a read-only field, or no field at all, is a 400 naming
    it, instead of an answer 200 that silently ignored it."""

    fields: Mapping[str, Any]

    def to_internal_value(self, data: Any) -> Any:
        errors: dict[str, list[str]] = {}
        if isinstance(data, Mapping):
            for key in data:
                field = self.fields.get(key)
                if field is None and key not in FORM_KEYS:
                    errors[key] = [_("Unknown field.")]
                elif field is not None and field.read_only:
                    errors[key] = [_("This field is read-only.")]
        try:
            value = super().to_internal_value(data)  # type: ignore[misc]
        except exceptions.ValidationError as invalid:
            if errors and isinstance(invalid.detail, dict):
                raise exceptions.ValidationError({**invalid.detail, **errors}) from None
            raise
        if errors:
            raise exceptions.ValidationError(errors)
        return value


# --- Errors -----------------------------------------------------------------------------------------
def error_body(detail: Any, path: str = "") -> dict[str, list[str]]:
    """DRF's error detail as one flat shape: a field's path (dotted for nested fields, as in
    ``conditions.0.value``) → its messages; ``non_field_errors`` for what concerns no one field."""
    if isinstance(detail, Mapping):
        flat: dict[str, list[str]] = {}
        for key, value in detail.items():
            inner = "" if key == api_settings.NON_FIELD_ERRORS_KEY else str(key)
            for name, messages in error_body(value, f"{path}.{inner}" if path and inner else path or inner).items():
                flat.setdefault(name, []).extend(messages)
        return flat
    if isinstance(detail, list) and any(isinstance(item, Mapping | list) for item in detail):
        flat = {}
        for index, item in enumerate(detail):
            for name, messages in error_body(item, f"{path}.{index}" if path else str(index)).items():
                flat.setdefault(name, []).extend(messages)
        return flat
    messages = [str(item) for item in detail] if isinstance(detail, list) else [str(detail)]
    return {path or api_settings.NON_FIELD_ERRORS_KEY: messages} if messages else {}


def exception_handler(exc: Exception, context: dict[str, Any]) -> Response | None:
    """DRF's handler with one body for every error: ``{field or non_field_errors: [messages]}``."""
    response = drf_exception_handler(exc, context)
    if response is None:
        return None
    if isinstance(exc, exceptions.ValidationError):
        response.data = error_body(exc.detail) or {api_settings.NON_FIELD_ERRORS_KEY: [_("Invalid input.")]}
    else:
        detail = response.data.get("detail", "") if isinstance(response.data, Mapping) else response.data
        response.data = error_body(detail)
    return response
