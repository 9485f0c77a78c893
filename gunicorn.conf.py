"""gunicorn's settings for the portal, read by gunicorn from the directory it starts in.

gunicorn has no setting to leave out its ``Server: gunicorn`` header, which tells an attacker which
server's weaknesses to try: the response's default headers are taken here without it.

Each worker keeps its request metrics (portal.metrics) in files of PROMETHEUS_MULTIPROC_DIR, which a scrape
of /metrics, answered by any one worker, sums: prometheus_client's multiprocess mode. Unset, gunicorn makes a
directory of its own under the system's temporary folder and removes it when it stops; set (a tmpfs is best),
the directory is emptied when gunicorn starts, since files of an earlier run would be counted again. Never
share one directory between two gunicorn masters."""

import os
import shutil
import tempfile
from pathlib import Path

from gunicorn.http import wsgi

# Read here, before any worker (or --preload) imports prometheus_client, which chooses its mode at import.
if not os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
    os.environ["PROMETHEUS_MULTIPROC_DIR"] = tempfile.mkdtemp(prefix="portal-metrics-")
    # Remembered across a configuration reload (HUP), which reads this file again.
    os.environ["PORTAL_METRICS_DIR_MADE"] = os.environ["PROMETHEUS_MULTIPROC_DIR"]


def _without_server_header(default_headers):
    def headers(self):
        return [line for line in default_headers(self) if not line.lower().startswith("server:")]

    return headers


wsgi.Response.default_headers = _without_server_header(wsgi.Response.default_headers)


def post_worker_init(worker):
    """Keep what the worker loaded at start (Django, the apps, the URL patterns: some 100,000 objects) out of
    the garbage collector's full passes: each pass would otherwise walk them all again, some 100 ms that
    fell on whichever request happened to trigger it. They live as long as the worker anyway."""
    import gc

    gc.collect()
    gc.freeze()


def on_starting(server):
    """Empty the metrics directory of an earlier run's files before any worker writes its own."""
    directory = Path(os.environ["PROMETHEUS_MULTIPROC_DIR"])
    directory.mkdir(parents=True, exist_ok=True)
    for stale in directory.glob("*.db"):
        stale.unlink()


def child_exit(server, worker):
    """Let a worker that stopped drop out of the live gauges; its counts and times stay in the sums."""
    from prometheus_client import multiprocess

    multiprocess.mark_process_dead(worker.pid)


def on_exit(server):
    """Remove the metrics directory gunicorn made for itself (one given in the environment is left)."""
    made = os.environ.get("PORTAL_METRICS_DIR_MADE")
    if made and made == os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        shutil.rmtree(made, ignore_errors=True)
