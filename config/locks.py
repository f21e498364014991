"""One job at a time: a lock in the shared cache, for periodic tasks that must never overlap."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager

from django.core.cache import cache

from config.cache import CACHE_UNREACHABLE

log = logging.getLogger(__name__)


@contextmanager
def cache_lock(key: str, seconds: float) -> Iterator[bool]:
    """Whether this process holds ``key`` now (False: another holds it; skip the work).

    ``cache.add`` is atomic in Redis and the file cache. The lock expires after ``seconds``, so
    one whose holder died is free again; the holder releases it when done (or, when the cache is
    unreachable by then, lets it expire: the work done is not undone for it).
    """
    held = cache.add(key, "1", timeout=seconds)
    try:
        yield held
    finally:
        if held:
            try:
                cache.delete(key)
            except CACHE_UNREACHABLE as error:  # the cache (Redis, or files) went away meanwhile
                log.warning("Could not release the lock %s (%s); it expires in %s s", key, error, seconds)
