"""What the platform modules share: opaque page tokens, page sizes from the query string, ETags."""

from __future__ import annotations

import base64
import hashlib
from typing import Any

from django.http import HttpRequest


def encode_token(value: int) -> str:
    return base64.urlsafe_b64encode(str(value).encode()).decode().rstrip("=")


def decode_token(token: str) -> int | None:
    try:
        return int(base64.urlsafe_b64decode(token + "=" * (-len(token) % 4)).decode())
    except (ValueError, UnicodeDecodeError):
        return None


def page_size(request: HttpRequest, name: str, default: int, maximum: int) -> int:
    try:
        return max(1, min(int(request.GET.get(name, default)), maximum))
    except ValueError:
        return default


def etag_for(*parts: Any) -> str:
    return hashlib.sha1("|".join(map(str, parts)).encode(), usedforsecurity=False).hexdigest()[:27]
