"""One job at a time: a lock in the shared cache, for periodic tasks that must never overlap."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from django.core.cache import cache


@contextmanager
def cache_lock(key: str, seconds: float) -> Iterator[bool]:
    """Whether this process holds ``key`` now (False: another holds it; skip the work).

    ``cache.add`` is atomic in Redis and the file cache. The lock expires after ``seconds``, so
    one whose holder died is free again; the holder releases it when done.
    """
    held = cache.add(key, "1", timeout=seconds)
    try:
        yield held
    finally:
        if held:
            cache.delete(key)
