"""The cache on Redis, going on without it when Redis cannot be reached.

A cache is an optimisation: a page must not fail because Redis is stopped. Reads then
miss and writes are dropped (each logged); ``add``, ``incr`` and ``decr`` still raise
``RedisError``, because their answer decides something (a lock taken, a count within a
limit) and only the caller knows whether to go on without it (``portal.ratelimit`` and
``steering.dashboard_cache`` both do).
"""

import logging
import threading
import uuid
from functools import wraps

from django.core.cache.backends.base import DEFAULT_TIMEOUT
from django.core.cache.backends.redis import RedisCache, RedisCacheClient
from django.db import transaction
from redis.exceptions import RedisError

logger = logging.getLogger(__name__)


def _or(unavailable):
    def decorate(operation):
        @wraps(operation)
        def safely(*args, **kwargs):
            try:
                return operation(*args, **kwargs)
            except RedisError as error:
                logger.warning("The cache is unreachable (%s): going on without it: %s", operation.__name__, error)
                return unavailable(*args, **kwargs) if callable(unavailable) else unavailable

        return safely

    return decorate


def _default(cache, key, default=None, version=None):
    return default


class _OneClientPerPool(RedisCacheClient):
    """Django's Redis cache client, reusing one ``redis.Redis`` per connection pool.

    Django makes a new one for every operation, and making it takes longer than a round trip to a local
    Redis. A ``redis.Redis`` holds no connection of its own (its pool does, safely across threads and forks).
    """

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self._clients = {}

    def get_client(self, key=None, *, write=False):
        pool = self._get_connection_pool(write)
        if (client := self._clients.get(pool)) is None:
            client = self._clients.setdefault(pool, self._client(connection_pool=pool))
        return client


class FailSoftRedisCache(RedisCache):
    """Django's Redis cache, whose reads miss and writes are dropped while Redis is unreachable."""

    def __init__(self, server, params):
        super().__init__(server, params)
        self._class = _OneClientPerPool

    get = _or(_default)(RedisCache.get)
    get_many = _or({})(RedisCache.get_many)
    has_key = _or(False)(RedisCache.has_key)
    set = _or(None)(RedisCache.set)
    set_many = _or([])(RedisCache.set_many)
    touch = _or(False)(RedisCache.touch)
    delete = _or(False)(RedisCache.delete)
    delete_many = _or(None)(RedisCache.delete_many)

    def count(self, key, timeout: int, version=None) -> int:
        """Increment the counter at ``key``, made at 0 expiring in ``timeout`` seconds when there is none; return
        its new value. One round trip (SET NX and INCR in a transaction), where ``add()`` then ``incr()`` take
        three (Django's ``incr`` asks first whether the key exists). Raises ``RedisError`` as they do."""
        key = self.make_and_validate_key(key, version=version)
        pipeline = self._cache.get_client(key, write=True).pipeline()
        pipeline.set(key, 0, ex=timeout, nx=True)
        pipeline.incr(key)
        return pipeline.execute()[1]

    def get_or_set(self, key, default, timeout=DEFAULT_TIMEOUT, version=None):
        value = self.get(key, self._missing_key, version=version)
        if value is not self._missing_key:
            return value
        value = default() if callable(default) else default
        try:
            self.add(key, value, timeout=timeout, version=version)
        except RedisError as error:
            logger.warning("The cache is unreachable (add failed): going on without it: %s", error)
            return value
        # Read again: another process may have added its value first, as Django's own get_or_set does.
        return self.get(key, value, version=version)


def safely(operation, *arguments, unavailable=None):
    """Run a cache operation; with Redis unreachable (whatever the cache's backend), log it and return
    ``unavailable``: a page is then computed without the cache, and a write never fails for its sake."""
    try:
        return operation(*arguments)
    except RedisError as error:
        logger.warning("The cache is unreachable (%s): going on without it: %s", operation.__name__, error)
        return unavailable


class Generation:
    """A value that every key of a family of cached entries includes: renewing it drops them all at once.

    It is renewed both at a write and again when the write's transaction commits, so that an entry computed
    meanwhile from the data as it was before the commit is filed under a generation no one reads any more.
    A generation lost (evicted, flushed) is replaced by a new one, never by a fixed value under which entries
    from before some write could still be found. With Redis unreachable it reads ``"unavailable"`` and a
    renewal is dropped (logged), whatever the cache's backend: a write never fails for the cache's sake.
    """

    def __init__(self, key: str):
        self.key = key
        # Whether this thread has read the generation since it last renewed it (see ``renew``).
        self._thread = threading.local()

    def current(self) -> str:
        from django.core.cache import cache

        self._thread.read_since_renewal = True
        generation = safely(cache.get, self.key, unavailable="unavailable")
        if generation is None:
            safely(cache.add, self.key, uuid.uuid4().hex, None)
            generation = safely(cache.get, self.key, "unavailable", unavailable="unavailable")
        return generation

    @staticmethod
    def current_of(generations) -> list[str]:
        """The current value of each generation, read in one round trip when none was lost."""
        from django.core.cache import cache

        for generation in generations:
            generation._thread.read_since_renewal = True
        found = safely(cache.get_many, [generation.key for generation in generations], unavailable={})
        return [found.get(generation.key) or generation.current() for generation in generations]

    def renew(self) -> None:
        """Drop every entry of the family, now and again when the current transaction commits.

        Once per transaction at most, however many rows it writes: "now" only when this thread read the
        generation since the transaction last renewed it (no entry can have been filed meanwhile from what it
        wrote), and at the commit once.
        """
        connection = transaction.get_connection()
        if not connection.in_atomic_block:
            self._renew_committed()  # the write is committed already
            return
        if getattr(self._thread, "read_since_renewal", True):
            self._new()
            self._thread.read_since_renewal = False
        if not any(callback == self._renew_committed for _savepoints, callback, _robust in connection.run_on_commit):
            transaction.on_commit(self._renew_committed)

    def _renew_committed(self) -> None:
        # Entries filed from now on may hold data from before this thread's next write: that write renews at once.
        self._new()
        self._thread.read_since_renewal = True

    def _new(self) -> None:
        from django.core.cache import cache

        safely(cache.set, self.key, uuid.uuid4().hex, None)
