"""Exponential backoff with jitter: one rule for every retry against a platform (polls, replies)."""

from __future__ import annotations

import random


def backoff_seconds(failures: int, *, base: float, cap: float) -> float:
    """base, 2 x base, 4 x base … up to cap, each times 0.5 to 1, so calls that failed together do
    not all retry together."""
    ceiling = min(cap, base * 2 ** max(failures - 1, 0))
    return random.uniform(ceiling / 2, ceiling)
