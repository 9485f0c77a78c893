"""Prometheus metrics at /metrics: what the web nodes measure of the requests they answer, and what any node
reads, at each scrape, of the queues and the database.

- ``requests``: each request's time and number of database queries, by the view that answered it (its URL
  name, never its path), the method and the status class. Under gunicorn each worker writes its own to
  ``PROMETHEUS_MULTIPROC_DIR`` (prometheus_client's multiprocess mode; gunicorn.conf.py makes and empties
  it) and a scrape sums them all; under the development server they live in the one process.
- ``collectors``: the length of each Celery queue (Redis), and from the database over the last
  ``METRICS_WINDOW_MINUTES`` the reports compiled and failed with their compile times, the e-mails sent and
  failed, the failed sign-ins and lockouts. Workers do that work, and nothing scrapes a worker: read from
  rows, the figures are the same from every web node. A fixed, small number of aggregate queries.
- ``views``: the endpoint, answered to ``METRICS_TOKEN`` or to ``METRICS_ALLOWED_ADDRESSES``.
"""
