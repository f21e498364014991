"""The API's OpenAPI schema: drf-spectacular's, with the error responses every endpoint may give in
their one shape (``config.rest.exception_handler``)."""

from __future__ import annotations

from typing import Any

from drf_spectacular.openapi import AutoSchema
from drf_spectacular.plumbing import ResolvedComponent
from rest_framework import serializers

ERROR_SCHEMA = {
    "type": "object",
    "description": (
        "Messages by field: a nested field's path is dotted (`conditions.0.value`); what concerns no "
        "one field (a missing token, a missing object, too many requests) is under `non_field_errors`."
    ),
    "additionalProperties": {"type": "array", "items": {"type": "string"}},
}
ERROR_RESPONSES = {
    "400": "Invalid input: a body field or a query parameter, named in the body.",
    "401": "No token or session, or a token that is not valid (`WWW-Authenticate: Token`).",
    "403": "The user's role does not allow this.",
    "404": "No such object among the user's brands.",
    "415": "A body in a media type the API does not read (JSON, or a form), or a malformed multipart body.",
    "429": "Too many requests; `Retry-After` says in how many seconds to try again.",
}


class Schema(AutoSchema):
    """drf-spectacular's schema, with the error responses every endpoint may give in their one shape,
    and an empty string allowed beside the format of an address that may be blank."""

    def _insert_field_validators(self, field: Any, schema: dict[str, Any]) -> None:
        super()._insert_field_validators(field, schema)
        # A model's blank URL or e-mail is "" in answers (read-only fields lose allow_blank in DRF,
        # so they count as possibly blank), and "" is no "uri" or "email".
        may_be_blank = getattr(field, "allow_blank", False) or field.read_only
        if isinstance(field, serializers.URLField | serializers.EmailField) and may_be_blank and "format" in schema:
            schema["anyOf"] = [{"format": schema.pop("format")}, {"maxLength": 0}]

    def _get_response_bodies(self, direction: Any = "response") -> dict[str, Any]:
        responses = super()._get_response_bodies(direction)
        component = ResolvedComponent(name="Error", type=ResolvedComponent.SCHEMA, object="Error", schema=ERROR_SCHEMA)
        self.registry.register_on_missing(component)
        for code, description in ERROR_RESPONSES.items():
            if code == "404" and "{" not in self.path:
                continue
            if code == "415" and self.method not in ("POST", "PUT", "PATCH"):
                continue
            responses.setdefault(
                code, {"content": {"application/json": {"schema": component.ref}}, "description": description}
            )
        return responses
