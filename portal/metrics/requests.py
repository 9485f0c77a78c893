"""Each request's time and database queries, by the view that answered it."""

import time
from contextlib import ExitStack

from django.db import connections
from prometheus_client import Histogram, disable_created_metrics

# Anything else (a made-up method) is counted as "other": a label's values must stay few.
METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})
# A request answered before any URL matched: a static file, a redirect to HTTPS, a 404 of no route.
UNRESOLVED = "<unresolved>"

# A *_created sample per label set doubles the series for nothing a dashboard uses (the multiprocess mode has none).
disable_created_metrics()

REQUEST_SECONDS = Histogram(
    "portal_http_request_duration_seconds",
    "Time to answer a request, by view (URL name), method and status class.",
    ["view", "method", "status"],
    buckets=(0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30),
)
REQUEST_QUERIES = Histogram(
    "portal_http_request_queries",
    "Database queries made to answer a request, by view (URL name).",
    ["view"],
    buckets=(0, 1, 2, 5, 10, 20, 50, 100, 200, 500),
)


class _QueryCounter:
    def __init__(self):
        self.count = 0

    def __call__(self, execute, sql, params, many, context):
        self.count += 1
        return execute(sql, params, many, context)


def view_name(request) -> str:
    """The URL name of the view that answered (``app:name``, or the view's dotted path when it has none)."""
    match = getattr(request, "resolver_match", None)
    return match.view_name if match is not None else UNRESOLVED


class RequestMetricsMiddleware:
    """Time each request and count its queries, labelled once the response says which view answered.

    Queries made while a streamed response is read, or in another thread (an async view's), are not counted.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        counter = _QueryCounter()
        started = time.perf_counter()
        with ExitStack() as wrappers:
            for connection in connections.all():
                wrappers.enter_context(connection.execute_wrapper(counter))
            response = self.get_response(request)
        elapsed = time.perf_counter() - started
        view = view_name(request)
        method = request.method if request.method in METHODS else "other"
        REQUEST_SECONDS.labels(view, method, f"{response.status_code // 100}xx").observe(elapsed)
        REQUEST_QUERIES.labels(view).observe(counter.count)
        return response
