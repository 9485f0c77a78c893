"""The client's address, as the rate limits, the sign-in lockout and the logs count it."""

from django.conf import settings


def client_address(request) -> str:
    """REMOTE_ADDR, or behind ``TRUSTED_PROXY_COUNT`` reverse proxies the address the first of them saw.

    Each proxy appends the address it was reached from to X-Forwarded-For; only the entries our own
    proxies wrote can be trusted, counted from the right: whatever a client puts first is ignored.
    """
    proxies = settings.TRUSTED_PROXY_COUNT
    forwarded = [part.strip() for part in request.META.get("HTTP_X_FORWARDED_FOR", "").split(",") if part.strip()]
    if proxies and len(forwarded) >= proxies:
        return forwarded[-proxies]
    return request.META.get("REMOTE_ADDR", "")
