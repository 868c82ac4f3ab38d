"""The Redis cache, failing open: when Redis is down, a read is a miss and a write is
dropped (logged), instead of an exception that would turn a resident's submission into a 500.

What the cache holds can be lost: rate-limit counters (django-ratelimit is told to let requests
through when its counter cannot be read: RATELIMIT_FAIL_OPEN), cached pages and look-ups.
Sessions, lockouts and the outbox live in the database, so logins and side effects are
unaffected; the rate limits pause until Redis is back.
"""

from __future__ import annotations

import logging
import time

from django.core.cache.backends.base import DEFAULT_TIMEOUT
from django.core.cache.backends.redis import RedisCache, RedisCacheClient

logger = logging.getLogger(__name__)
_last_warning = 0.0


def _down(operation: str, exc: Exception) -> None:
    global _last_warning
    now = time.monotonic()
    if now - _last_warning > 30:  # one line per half minute, not one per request
        _last_warning = now
        logger.warning("Redis cache unavailable (%s: %s); continuing without it", operation, exc)


def _redis_errors():
    import redis

    return (redis.exceptions.ConnectionError, redis.exceptions.TimeoutError, OSError)


class _ReusedClients(RedisCacheClient):
    """Django's client builds a new redis-py client object (and its table of reply parsers)
    for every cache call; a rate-limited public endpoint makes one such call per request. One
    client per connection pool serves them all: redis-py clients are safe to share between
    threads, the pool hands each command its own connection."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self._clients: dict[object, object] = {}

    def get_client(self, key=None, *, write=False):
        pool = self._get_connection_pool(write)
        client = self._clients.get(pool)
        if client is None:
            client = self._clients[pool] = self._client(connection_pool=pool)
        return client


class FailOpenRedisCache(RedisCache):
    def __init__(self, server, params):
        super().__init__(server, params)
        self._class = _ReusedClients

    def add(self, key, value, timeout=DEFAULT_TIMEOUT, version=None):
        try:
            return super().add(key, value, timeout, version)
        except _redis_errors() as exc:
            _down("add", exc)
            return False

    def get(self, key, default=None, version=None):
        try:
            return super().get(key, default, version)
        except _redis_errors() as exc:
            _down("get", exc)
            return default

    def set(self, key, value, timeout=DEFAULT_TIMEOUT, version=None):
        try:
            return super().set(key, value, timeout, version)
        except _redis_errors() as exc:
            _down("set", exc)

    def incr(self, key, delta=1, version=None):
        try:
            return super().incr(key, delta, version)
        except _redis_errors() as exc:
            _down("incr", exc)
            return None

    def get_many(self, keys, version=None):
        try:
            return super().get_many(keys, version)
        except _redis_errors() as exc:
            _down("get_many", exc)
            return {}

    def set_many(self, data, timeout=DEFAULT_TIMEOUT, version=None):
        try:
            return super().set_many(data, timeout, version)
        except _redis_errors() as exc:
            _down("set_many", exc)
            return list(data)

    def delete(self, key, version=None):
        try:
            return super().delete(key, version)
        except _redis_errors() as exc:
            _down("delete", exc)
            return False

    def touch(self, key, timeout=DEFAULT_TIMEOUT, version=None):
        try:
            return super().touch(key, timeout, version)
        except _redis_errors() as exc:
            _down("touch", exc)
            return False

    def has_key(self, key, version=None):
        try:
            return super().has_key(key, version)
        except _redis_errors() as exc:
            _down("has_key", exc)
            return False

    def count_hit(self, key, timeout):
        """Add one to a counter that lives `timeout` seconds from its first hit; the new count,
        or None when Redis cannot be reached. One round trip (SET NX with its expiry, then
        INCR, pipelined) where `add` then `incr` take two — it runs on every rate-limited request."""
        key = self.make_and_validate_key(key)
        try:
            with self._cache.get_client(key, write=True).pipeline(transaction=False) as pipe:
                pipe.set(key, 0, ex=int(timeout), nx=True)
                pipe.incr(key)
                return pipe.execute()[1]
        except _redis_errors() as exc:
            _down("count_hit", exc)
            return None
