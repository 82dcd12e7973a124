"""The Redis cache, failing soft: a Redis outage never turns into an error page.

The cache holds nothing the site cannot do without: django-allauth's rate
limits (sign-in, sign-up, password reset) and its record of used two-factor
codes. Sessions live in the database (settings.base), never here. So while
Redis cannot be reached:

- every read is a miss and every write is skipped, instead of raising;
- ``add`` answers "stored", so allauth's rate-limit lock is taken and the rate
  limits fail open: sign-in keeps working, without the brake on guessing
  passwords until Redis is back. The same holds for the replay check of
  two-factor codes: a code stays valid for its own 30 seconds only, but could
  be used twice in them. Failing closed instead would lock every person out of
  the site for as long as Redis is away;
- after a failure the cache does not ask Redis again for ``RETRY_AFTER_SECONDS``,
  so a Redis that hangs costs a request at most one short socket timeout
  (``OPTIONS`` in settings.base), not one per cache call;
- the outage is logged at WARNING at most once per ``WARNING_INTERVAL_SECONDS``
  per process, and its end once at INFO.

``/healthz`` asks Redis directly (``FailSoftRedisCache.reachable``), past the pause.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from functools import partial
from typing import Any, TypeVar

from django.core.cache.backends.base import DEFAULT_TIMEOUT
from django.core.cache.backends.redis import RedisCache
from redis.exceptions import RedisError

logger = logging.getLogger(__name__)

RETRY_AFTER_SECONDS = 5.0
WARNING_INTERVAL_SECONDS = 60.0

Result = TypeVar("Result")


class FailSoftRedisCache(RedisCache):
    """Django's Redis cache, where an unreachable or failing Redis reads as a miss
    and swallows writes (see the module's docstring for what that means)."""

    def __init__(self, server: str | list[str], params: dict[str, Any]) -> None:
        super().__init__(server, params)
        self._paused_until = 0.0
        self._warned_at: float | None = None
        self._failing = False

    def _soft(self, operation: Callable[[], Result], fallback: Result) -> Result:
        if time.monotonic() < self._paused_until:
            return fallback
        try:
            result = operation()
        except RedisError as error:
            self._failed(error)
            return fallback
        if self._failing:
            self._recovered()
        return result

    def _failed(self, error: RedisError) -> None:
        now = time.monotonic()
        self._failing = True
        self._paused_until = now + RETRY_AFTER_SECONDS
        if self._warned_at is None or now - self._warned_at >= WARNING_INTERVAL_SECONDS:
            self._warned_at = now
            logger.warning(
                "The cache (Redis) cannot be reached: reads are misses, writes are "
                "skipped and rate limits are open until it answers again (%s).",
                type(error).__name__,
            )

    def _recovered(self) -> None:
        self._failing = False
        self._paused_until = 0.0
        logger.info("The cache (Redis) answers again.")

    def reachable(self) -> bool:
        """Ask Redis now, even during a pause after a failure; a good answer ends the pause."""
        try:
            self._cache.get_client(write=True).ping()
        except RedisError as error:
            self._failed(error)
            return False
        if self._failing:
            self._recovered()
        return True

    # Reads: a miss.

    def get(self, key, default=None, version=None):
        return self._soft(partial(super().get, key, default, version), default)

    def get_many(self, keys, version=None):
        return self._soft(partial(super().get_many, keys, version), {})

    def has_key(self, key, version=None):
        return self._soft(partial(super().has_key, key, version), False)

    def incr(self, key, delta=1, version=None):
        missing = object()
        value = self._soft(partial(super().incr, key, delta, version), missing)
        if value is missing:
            raise ValueError(f"Key '{key}' not found.")  # what a miss means to incr
        return value

    # Writes: skipped.

    def add(self, key, value, timeout=DEFAULT_TIMEOUT, version=None):
        # "Stored": allauth's rate-limit lock is then taken and the limits fail open.
        return self._soft(partial(super().add, key, value, timeout, version), True)

    def set(self, key, value, timeout=DEFAULT_TIMEOUT, version=None):
        self._soft(partial(super().set, key, value, timeout, version), None)

    def touch(self, key, timeout=DEFAULT_TIMEOUT, version=None):
        return self._soft(partial(super().touch, key, timeout, version), False)

    def delete(self, key, version=None):
        return self._soft(partial(super().delete, key, version), False)

    def set_many(self, data, timeout=DEFAULT_TIMEOUT, version=None):
        # Django's contract: the keys that were not stored.
        return self._soft(partial(super().set_many, data, timeout, version), list(data))

    def delete_many(self, keys, version=None):
        self._soft(partial(super().delete_many, keys, version), None)

    def clear(self):
        return self._soft(partial(super().clear), False)
