"""The client's address, as the rate limits, the sign-in lockout and the logs count it."""

import ipaddress

from django.conf import settings


def client_address(request) -> str:
    """REMOTE_ADDR, or behind ``TRUSTED_PROXY_COUNT`` reverse proxies the address the first of them saw.

    Each proxy appends the address it was reached from to X-Forwarded-For; only the entries our own
    proxies wrote can be trusted, counted from the right: whatever a client puts first is ignored.
    """
    proxies = settings.TRUSTED_PROXY_COUNT
    forwarded = [part.strip() for part in request.META.get("HTTP_X_FORWARDED_FOR", "").split(",") if part.strip()]
    if proxies > 0 and len(forwarded) >= proxies and _is_address(forwarded[-proxies]):
        return forwarded[-proxies]
    # Not behind a proxy, or what stands there is no address (a proxy misconfigured, "unknown", a port): the
    # rate limits, the lockout (django-axes stores it in an address column) and the logs need an address.
    return request.META.get("REMOTE_ADDR", "")


def _is_address(text: str) -> bool:
    try:
        ipaddress.ip_address(text)
    except ValueError:
        return False
    return True
