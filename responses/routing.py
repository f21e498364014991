"""Routing rules: what happens to a new mention. The ingestion pipeline calls ``route_mentions``."""

from __future__ import annotations

from collections.abc import Sequence

from listening.models import Mention


def route_mentions(mentions: Sequence[Mention]) -> None:
    """Run each new mention through its brand's active rules, once, in order."""
