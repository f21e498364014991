"""The API's request parsers: DRF's own, with NUL removed from every text and a bound on nesting.

A NUL (``\\u0000`` in JSON) is nothing a person types, and PostgreSQL refuses the whole statement
that carries one; a body nested thousands of levels deep makes Python's JSON reader raise
RecursionError. Both are answered here, once, for every endpoint: NUL is dropped, too deep is a 400.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from django.utils.translation import gettext as _
from rest_framework import parsers
from rest_framework.exceptions import ParseError

from config.params import query_without_nul, without_nul

# Escucha's deepest legitimate body (a routing rule: rule → conditions → condition → value list) is
# four levels; this leaves room without letting a body walk down Python's stack.
MAX_JSON_DEPTH = 32


def _clean(value: Any, depth: int) -> Any:
    if depth > MAX_JSON_DEPTH:
        raise ParseError(_("JSON nested more than %(depth)d levels deep.") % {"depth": MAX_JSON_DEPTH})
    if isinstance(value, str):
        return without_nul(value)
    if isinstance(value, list):
        return [_clean(item, depth + 1) for item in value]
    if isinstance(value, dict):
        return {without_nul(key): _clean(item, depth + 1) for key, item in value.items()}
    return value


class JSONParser(parsers.JSONParser):
    def parse(self, stream: Any, media_type: str | None = None, parser_context: Mapping[str, Any] | None = None) -> Any:
        try:
            data = super().parse(stream, media_type, parser_context)
        except RecursionError:
            raise ParseError(_("JSON nested more than %(depth)d levels deep.") % {"depth": MAX_JSON_DEPTH}) from None
        return _clean(data, 0)


class FormParser(parsers.FormParser):
    def parse(self, stream: Any, media_type: str | None = None, parser_context: Mapping[str, Any] | None = None) -> Any:
        return query_without_nul(super().parse(stream, media_type, parser_context))


class MultiPartParser(parsers.MultiPartParser):
    def parse(self, stream: Any, media_type: str | None = None, parser_context: Mapping[str, Any] | None = None) -> Any:
        parsed = super().parse(stream, media_type, parser_context)
        return parsers.DataAndFiles(query_without_nul(parsed.data), parsed.files)
