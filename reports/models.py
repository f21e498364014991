"""How we are doing: rollups that keep reports fast on millions of mentions."""

from __future__ import annotations
