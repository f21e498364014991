"""A model field that keeps a JSON object encrypted at rest (channel credentials)."""

from __future__ import annotations

import base64
import hashlib
import json
from typing import Any

from cryptography.fernet import Fernet, InvalidToken
from django.conf import settings
from django.db import models


def _fernet() -> Fernet:
    secret = settings.CREDENTIALS_KEY or settings.SECRET_KEY
    # Fernet wants 32 url-safe base64 bytes; derive them so any configured secret works.
    key = base64.urlsafe_b64encode(hashlib.sha256(("escucha-credentials:" + secret).encode()).digest())
    return Fernet(key)


class EncryptedJSONField(models.TextField):
    """Stores a dict as a Fernet token; reads it back as a dict.

    A token that cannot be decrypted (the key changed) reads as an empty dict so the channel
    shows "reconnect needed" instead of crashing every page that touches it.
    """

    def from_db_value(self, value: str | None, expression: Any, connection: Any) -> dict:
        return self.decrypt(value)

    def to_python(self, value: Any) -> dict:
        if isinstance(value, dict):
            return value
        return self.decrypt(value)

    def get_prep_value(self, value: Any) -> str:
        value = value or {}
        if not isinstance(value, dict):
            raise TypeError("EncryptedJSONField holds a dict")
        return _fernet().encrypt(json.dumps(value, sort_keys=True).encode()).decode()

    @staticmethod
    def decrypt(value: str | None) -> dict:
        if not value:
            return {}
        try:
            return json.loads(_fernet().decrypt(value.encode()))
        except (InvalidToken, ValueError):
            return {}

    def value_to_string(self, obj: models.Model) -> str:
        # Fixtures and dumpdata never carry secrets in clear.
        return ""
