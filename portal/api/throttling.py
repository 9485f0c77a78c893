import logging

from redis.exceptions import RedisError
from rest_framework.throttling import SimpleRateThrottle

logger = logging.getLogger(__name__)


class TokenRateThrottle(SimpleRateThrottle):
    """Limit requests per API token; per user for a browser session, per address for anonymous calls."""

    scope = "api"

    def get_cache_key(self, request, view):
        token = getattr(request, "auth", None)
        if token is not None and hasattr(token, "digest"):
            ident = f"token:{token.digest[:32]}"
        elif request.user and request.user.is_authenticated:
            ident = f"user:{request.user.pk}"
        else:
            ident = f"address:{self.get_ident(request)}"
        return self.cache_format % {"scope": self.scope, "ident": ident}

    def allow_request(self, request, view):
        # The counters live in Redis. Without it, field offices keep reporting
        # unthrottled rather than every call failing.
        try:
            return super().allow_request(request, view)
        except RedisError:
            logger.warning("The throttle's cache is unreachable; letting the request through", exc_info=True)
            return True
