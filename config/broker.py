"""Celery's Redis transport, made to survive a Redis restart.

kombu 5.7's Redis transport (the latest release) can end a worker when Redis goes away while a
message it delivered is still unacknowledged: the worker's first attempt to close its broker
connection fails on the dead socket and closes the transport; the second attempt, on reconnecting,
tries again to give the unacknowledged message back through that closed transport, meets
``AttributeError: 'NoneType' object has no attribute 'hostname'``, which is not a connection error,
and the worker exits with "Unrecoverable error". Raising a connection error there instead lets the
worker reconnect as it does for any other broker failure. The message is not lost: it is still in
Redis's unacknowledged set, and Redis hands it out again after the visibility timeout.
tests/config/test_broker_restart.py restarts a real Redis under a real worker.
"""

from __future__ import annotations

from typing import Any

from kombu.transport import redis as kombu_redis
from redis.exceptions import ConnectionError as RedisConnectionError


class Channel(kombu_redis.Channel):
    def _connparams(self, asynchronous: bool = False) -> dict[str, Any]:
        if self.connection.client is None:  # the transport was closed under this channel
            raise RedisConnectionError("the broker connection is closed")
        return super()._connparams(asynchronous=asynchronous)


class Transport(kombu_redis.Transport):
    Channel = Channel
