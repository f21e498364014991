"""The shared cache (Redis, or files for `make run`) is an optimisation, never a dependency of a page."""

from __future__ import annotations

from redis.exceptions import RedisError

# What the cache raises when it cannot be reached: Redis down or hung (its client's errors, timeouts
# included), or the file cache's directory gone. A request that meets one carries on without the
# cached bit and logs it; the operator sees the cause on /healthz.
CACHE_UNREACHABLE: tuple[type[Exception], ...] = (RedisError, OSError)
