"""Rate limits counted in Redis, shared by every process and every token of a user.

Each limit counts hits in fixed windows (a minute, an hour): one key per user (or per address for
the anonymous) and window, incremented by Redis's atomic ``INCR``, so that parallel clients cannot
slip past the count. The rates are settings (``RATE_LIMITS``), each "count/period".

Without a reachable Redis the portal keeps answering unlimited rather than failing every request:
the limits guard against abuse, the pages and the field offices' reporting matter more.
"""

import datetime
import logging
import time
from dataclasses import dataclass
from functools import wraps

from babel.dates import format_time
from django.conf import settings
from django.core.cache import cache
from django.shortcuts import render
from django.utils import timezone
from redis.exceptions import RedisError

from portal.addresses import client_address
from portal.numbers import locale_of
from portal.rates import Rate

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class Verdict:
    allowed: bool
    retry_after: int = 0

    @property
    def retry_at(self):
        return timezone.now() + datetime.timedelta(seconds=self.retry_after)


def rate_of(scope: str) -> Rate:
    return Rate.parse(settings.RATE_LIMITS[scope])


def identity(request) -> str:
    """Who a limit counts: the user, whichever token or session it uses; else the client's address."""
    user = getattr(request, "user", None)
    if user is not None and user.is_authenticated:
        return f"user:{user.pk}"
    return f"address:{client_address(request)}"


def hit(scope: str, ident: str, rate: Rate | None = None) -> Verdict:
    """Count one hit of ``ident`` against the scope's limit, and tell whether it is within it."""
    rate = rate or rate_of(scope)
    now = time.time()
    window = int(now // rate.seconds)
    key = f"ratelimit:{scope}:{ident}:{window}"
    try:
        count = _count(key, timeout=rate.seconds + 1)
    except (RedisError, ValueError):
        # ValueError: the counter expired between add() and incr(); let the hit through.
        logger.warning("Rate limit %s not counted: the cache is unreachable", scope, exc_info=True)
        return Verdict(True)
    if count <= rate.count:
        return Verdict(True)
    return Verdict(False, retry_after=max(1, int((window + 1) * rate.seconds - now + 0.999)))


def _count(key: str, *, timeout: int) -> int:
    if hasattr(cache, "count"):
        # The portal's Redis cache (portal.cache): the counter made and incremented in one round trip.
        return cache.count(key, timeout)
    # add() creates the window's counter once; incr() is the cache's atomic increment (Redis's INCR).
    cache.add(key, 0, timeout=timeout)
    return cache.incr(key)


def too_many_requests_page(request, verdict: Verdict):
    """The page that tells a browser user the limit is reached and when to try again."""
    response = render(
        request,
        "429.html",
        {
            "retry_after": verdict.retry_after,
            "retry_at": format_time(timezone.localtime(verdict.retry_at), "short", locale=locale_of()),
        },
        status=429,
    )
    response["Retry-After"] = str(verdict.retry_after)
    return response


def limit(scope: str, methods: tuple[str, ...] = ("POST",), when=None):
    """Limit a page's requests of the given methods (and for which ``when(request)`` holds) to the scope's rate."""

    def decorate(view):
        @wraps(view)
        def wrapper(request, *args, **kwargs):
            if request.method in methods and (when is None or when(request)):
                verdict = hit(scope, identity(request))
                if not verdict.allowed:
                    return too_many_requests_page(request, verdict)
            return view(request, *args, **kwargs)

        return wrapper

    return decorate
