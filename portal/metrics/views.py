"""The /metrics endpoint: Prometheus's text format, for a scraper holding the token or at an allowed address."""

import hmac
import ipaddress
import os

from django.conf import settings
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpResponse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_safe
from prometheus_client import CONTENT_TYPE_PLAIN_0_0_4, REGISTRY, CollectorRegistry, generate_latest, multiprocess

from portal.addresses import client_address

from .collectors import ScrapeCollector


def _bearer_token_matches(request) -> bool:
    if not settings.METRICS_TOKEN:
        return False
    scheme, _, token = request.headers.get("Authorization", "").partition(" ")
    return scheme.lower() == "bearer" and hmac.compare_digest(token.strip().encode(), settings.METRICS_TOKEN.encode())


def _address_allowed(request) -> bool:
    try:
        address = ipaddress.ip_address(client_address(request))
    except ValueError:
        return False
    # An IPv4 client seen on an IPv6 socket (::ffff:10.0.0.7) is matched as the IPv4 address it is.
    address = getattr(address, "ipv4_mapped", None) or address
    return any(address in network for network in settings.METRICS_ALLOWED_ADDRESSES)


def exposition() -> bytes:
    """The request metrics of every worker of this node (or of this process alone), then the scraped ones."""
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        workers = CollectorRegistry()
        multiprocess.MultiProcessCollector(workers)
    else:
        workers = REGISTRY
    scraped = CollectorRegistry()
    scraped.register(ScrapeCollector())
    return generate_latest(workers) + generate_latest(scraped)


@require_safe
@never_cache
def metrics(request):
    """Answer a bearer token equal to ``METRICS_TOKEN``, or a client in ``METRICS_ALLOWED_ADDRESSES``.

    With neither configured, /metrics is not there (404): nothing tells that it might be.
    """
    if not settings.METRICS_TOKEN and not settings.METRICS_ALLOWED_ADDRESSES:
        raise Http404
    if not (_bearer_token_matches(request) or _address_allowed(request)):
        raise PermissionDenied
    # The classic text format, read by every version of Prometheus (the names need no escaping).
    return HttpResponse(exposition(), content_type=CONTENT_TYPE_PLAIN_0_0_4)
