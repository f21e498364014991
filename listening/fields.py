"""Model fields that keep secrets encrypted at rest: channel credentials, webhook secrets, bearer URLs."""

from __future__ import annotations

import base64
import hashlib
import json
from typing import Any

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from django.conf import settings
from django.db import models


def _key(secret: str) -> Fernet:
    # Fernet wants 32 url-safe base64 bytes; derive them so any configured secret works.
    return Fernet(base64.urlsafe_b64encode(hashlib.sha256(("escucha-credentials:" + secret).encode()).digest()))


def _fernet() -> MultiFernet:
    """Encrypts with the current key; decrypts with it or any earlier one still configured.

    The current key is CREDENTIALS_KEY, or SECRET_KEY when unset. The earlier ones are
    CREDENTIALS_KEY_FALLBACKS, SECRET_KEY_FALLBACKS (credentials derived from a SECRET_KEY being
    rotated) and SECRET_KEY itself once CREDENTIALS_KEY is set (secrets stored before it was).
    """
    current = settings.CREDENTIALS_KEY or settings.SECRET_KEY
    earlier = [*settings.CREDENTIALS_KEY_FALLBACKS, *settings.SECRET_KEY_FALLBACKS, settings.SECRET_KEY]
    return MultiFernet([_key(secret) for secret in dict.fromkeys([current, *earlier]) if secret])


def encrypted_fields() -> list[tuple[type[models.Model], models.Field]]:
    """Every (model, field) of the project that holds a secret encrypted with ``_fernet``."""
    from django.apps import apps

    return [
        (model, field)
        for model in apps.get_models()
        for field in model._meta.concrete_fields
        if isinstance(field, EncryptedJSONField | EncryptedTextField)
    ]


def reencrypt(token: str) -> str:
    """``token`` encrypted again with the current key; InvalidToken when no configured key reads it."""
    return _fernet().rotate(token.encode()).decode()


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


class EncryptedTextField(models.TextField):
    """Stores a string as a Fernet token; reads it back as the string ("" when unset).

    For one secret on its own (a webhook's signing secret, a Slack or Teams incoming-webhook URL,
    which carries its own token). A token that cannot be decrypted reads as "", like an unset one.
    """

    def from_db_value(self, value: str | None, expression: Any, connection: Any) -> str:
        return self.decrypt(value)

    def to_python(self, value: Any) -> str:
        return "" if value is None else str(value)

    def get_prep_value(self, value: Any) -> str:
        if not value:
            return ""
        return _fernet().encrypt(str(value).encode()).decode()

    @staticmethod
    def decrypt(value: str | None) -> str:
        if not value:
            return ""
        try:
            return _fernet().decrypt(value.encode()).decode()
        except (InvalidToken, ValueError):
            return ""

    def value_to_string(self, obj: models.Model) -> str:
        return ""
