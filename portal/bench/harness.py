"""The benchmark's machinery: its database, its server on 127.0.0.1, its clients, and timing.

Every request goes to 127.0.0.1, and every phase sends a fixed number of requests, so that a
run ends by itself.
"""

import contextlib
import http.cookiejar
import json
import math
import os
import re
import secrets
import signal
import socket
import statistics
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import psycopg2
from psycopg2 import sql

ROOT = Path(__file__).resolve().parents[2]
SERVER_START_TIMEOUT = 60
WORKERS = 2
Log = Callable[[str], None]


def ensure_database(url: str) -> None:
    """Create the database of ``url`` when PostgreSQL does not have it yet."""
    parts = urllib.parse.urlsplit(url)
    name = parts.path.lstrip("/")
    with contextlib.closing(
        psycopg2.connect(
            host=parts.hostname,
            port=parts.port or 5432,
            user=parts.username,
            password=parts.password,
            dbname="postgres",
        )  # fmt: skip
    ) as connection:
        connection.autocommit = True
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name])
            if cursor.fetchone() is None:
                cursor.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))


def manage(*arguments: str, log: Log) -> None:
    """Run a management command in this process, on its database (the benchmark's): a Python started for each
    would cost seconds of a smoke run. Without the system checks (``call_command``'s default): the server
    runs the same code, and the tests check it."""
    from django.core.management import call_command

    log(f"  manage.py {' '.join(arguments)}")
    call_command(*arguments)


def prepare(database_url: str, scale: str, password: str, log: Log) -> None:
    """Create, migrate and fill the database of a scale (``database_url``, this process's database); a filled one
    is kept as it is."""
    ensure_database(database_url)
    manage("migrate", "--noinput", "-v0", log=log)
    manage("load_reference", log=log)
    manage("seed_demo", "--scale", scale, "--if-empty", "--password", password, log=log)


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def static_collected() -> bool:
    """Tell whether ``collectstatic`` has collected every static file as it is now.

    The manifest lists every file collected; none may be missing from it, and none may have changed
    since it was written. Collecting again hashes and compresses every file (half a minute on
    2 cores), which the benchmark then skips.
    """
    from django.conf import settings
    from django.contrib.staticfiles import finders

    manifest = Path(settings.STATIC_ROOT) / "staticfiles.json"
    if not manifest.exists():
        return False
    collected_at = manifest.stat().st_mtime
    listed = set(json.loads(manifest.read_text()).get("paths", {}))
    found = set()
    for finder in finders.get_finders():
        for name, storage in finder.list(["CVS", ".*", "*~"]):
            # Collected under the storage's prefix, as collectstatic does.
            prefix = getattr(storage, "prefix", None)
            found.add(f"{prefix}/{name}" if prefix else name)
            if os.stat(storage.path(name)).st_mtime > collected_at:
                return False
    return found == listed


def server_environment(database_url: str, redis_url: str, secret_key: str) -> dict:
    """The environment of the benchmark's server: production settings on 127.0.0.1, with the floors."""
    return {
        **os.environ,
        "DEBUG": "false",
        "SECRET_KEY": secret_key,
        "ALLOWED_HOSTS": "127.0.0.1",
        "DATABASE_URL": database_url,
        "REDIS_URL": redis_url,
        # Plain HTTP on the loopback: no TLS to redirect to.
        "SECURE_SSL_REDIRECT": "false",
        "SECURE_COOKIES": "false",
        "SECURE_HSTS_SECONDS": "0",
        "BENCHMARK_FLOORS": "true",
        # No gzip or Brotli copies of the static files: the clients here accept neither.
        "STATIC_COMPRESS": "false",
        # Every API call still goes through the throttle (a Redis INCR), but thousands a minute must not
        # be refused; nor the dozen sign-ins from one address.
        "API_THROTTLE_RATE": "1000000/min",
        "LOGIN_RATE": "1000/min",
    }


def collect_static(log: Log) -> subprocess.Popen | None:
    """Start ``collectstatic`` with production settings unless its files are up to date; return its process.

    It runs while the database is prepared: both take a while the first time.
    """
    if static_collected():
        log("  static files already collected")
        return None
    log("  manage.py collectstatic (meanwhile)")
    environment = {**os.environ, "DEBUG": "false", "SECRET_KEY": secrets.token_urlsafe(50), "STATIC_COMPRESS": "false"}
    return subprocess.Popen(
        [sys.executable, "manage.py", "collectstatic", "--noinput", "-v0"], cwd=ROOT, env=environment
    )


@contextlib.contextmanager
def server(database_url: str, redis_url: str, log: Log, log_path: Path, collecting: subprocess.Popen | None = None):
    """Run gunicorn with production settings and the floor views on 127.0.0.1; yield its base URL.

    The server logs as in production, a line or two each request, into ``log_path``: thousands of lines
    that would bury the figures if they were printed among them.
    """
    environment = server_environment(database_url, redis_url, secrets.token_urlsafe(50))
    if collecting is not None and collecting.wait() != 0:
        raise RuntimeError("collectstatic failed; see its output above")
    port = _free_port()
    log_path.parent.mkdir(parents=True, exist_ok=True)
    with log_path.open("w") as server_log:
        process = subprocess.Popen(
            [sys.executable, "-m", "gunicorn", "portal.wsgi", "--bind", f"127.0.0.1:{port}", "--workers",
             str(WORKERS), "--access-logfile", "-", "--error-logfile", "-", "--log-level", "warning"],
            cwd=ROOT, env=environment, stdout=subprocess.DEVNULL, stderr=server_log, start_new_session=True,
        )  # fmt: skip
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + SERVER_START_TIMEOUT
        while True:
            try:
                urllib.request.urlopen(f"{base}/accounts/login/", timeout=5).read()  # nosec B310  # http://127.0.0.1
                break
            # A first answer slower than the probe's timeout (a busy machine) is not an answer yet either.
            except (urllib.error.URLError, ConnectionError, TimeoutError):
                if process.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError(f"gunicorn did not start; its log: {log_path}") from None
                time.sleep(0.2)
        log(f"  gunicorn ({WORKERS} workers, production settings, floors on) answers at {base}; its log: {log_path}")
        yield base
    finally:
        os.killpg(process.pid, signal.SIGTERM)
        process.wait(timeout=30)


class _Unredirected(urllib.request.HTTPRedirectHandler):
    """Hand back a redirect as the answer (urllib raises it as an HTTPError), instead of following it."""

    def redirect_request(self, *args, **kwargs):
        return None


class Client:
    """An HTTP client of the benchmark server that keeps cookies and times every response."""

    def __init__(self, base: str, headers: dict | None = None):
        self.base = base
        self.headers = headers or {}
        cookies = urllib.request.HTTPCookieProcessor(http.cookiejar.CookieJar())
        self.opener = urllib.request.build_opener(cookies)
        self.unredirected = urllib.request.build_opener(cookies, _Unredirected)

    def request(
        self, method: str, path: str, body: bytes | None = None, headers: dict | None = None, follow: bool = True
    ):
        """Return the status, the body and the response time in milliseconds; a redirect is followed unless
        ``follow`` is false."""
        started = time.perf_counter()
        request = urllib.request.Request(
            f"{self.base}{path}", data=body, method=method, headers={**self.headers, **(headers or {})}
        )
        try:
            with (self.opener if follow else self.unredirected).open(request, timeout=120) as response:
                content, status = response.read(), response.status
        except urllib.error.HTTPError as error:
            content, status = error.read(), error.code
        return status, content, (time.perf_counter() - started) * 1000

    def get(self, path: str):
        return self.request("GET", path)

    def get_json(self, path: str) -> dict:
        status, body, _ = self.get(path)
        if status != 200:
            raise RuntimeError(f"GET {path}: HTTP {status}: {body[:300]!r}")
        return json.loads(body)


def signed_in(base: str, username: str, password: str) -> Client:
    """A browser session of the user, signed in through the login form."""
    client = Client(base)
    login = client.get("/accounts/login/")[1].decode()
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', login).group(1)
    form = urllib.parse.urlencode({"username": username, "password": password, "csrfmiddlewaretoken": token})
    # Signed in, the form answers with a redirect, not followed: the page it leads to is no part of signing in.
    status, _, _ = client.request("POST", "/accounts/login/", form.encode(), {"Referer": f"{base}/"}, follow=False)
    if status != 302:
        raise RuntimeError(f"{username} could not sign in to the benchmark server")
    return client


def sessions(base: str, usernames: list[str], password: str) -> list[Client]:
    """Sign the users in at once (a sign-in hashes a password for half a second); one session each."""
    with ThreadPoolExecutor(max_workers=WORKERS) as pool:
        return list(pool.map(lambda username: signed_in(base, username, password), usernames))


@dataclass
class Measured:
    """The response times of one measure at one concurrency, and the wall time they took together."""

    milliseconds: list[float]
    seconds: float
    users: int

    def percentile(self, share: float) -> float:
        ordered = sorted(self.milliseconds)
        # Nearest rank: the smallest value with at least ``share`` of the values at or below it.
        return ordered[max(0, math.ceil(share * len(ordered)) - 1)]

    def summary(self) -> dict:
        return {
            "users": self.users,
            "requests": len(self.milliseconds),
            "p50_ms": round(statistics.median(self.milliseconds), 1),
            "p95_ms": round(self.percentile(0.95), 1),
            "max_ms": round(max(self.milliseconds), 1),
            "requests_per_second": round(len(self.milliseconds) / self.seconds, 1),
        }


# A request of a measure: given the user's client and the request's number, send it and return
# (status, body, milliseconds).
Send = Callable[[Client, int], tuple]


def measure(
    name: str, clients: list, per_user: int, send: Send, before: Callable[[int], None] | None = None
) -> Measured:
    """Have each client send ``per_user`` requests, all clients at once; time each and the whole.

    One client sends its requests one after the other in this thread; several start together, each
    in a thread of its own. ``before`` runs ahead of each request, untimed (a write that empties a
    cache). Any answer but 2xx stops the benchmark: it would time an error page.
    """
    start = threading.Barrier(len(clients))

    def work(client) -> list[float]:
        timings = []
        start.wait()
        for index in range(per_user):
            if before is not None:
                before(index)
            status, body, milliseconds = send(client, index)
            if not 200 <= status < 300:
                raise RuntimeError(f"{name}: HTTP {status}: {body[:300]!r}")
            timings.append(milliseconds)
        return timings

    started = time.perf_counter()
    if len(clients) == 1:
        timings = work(clients[0])
    else:
        with ThreadPoolExecutor(max_workers=len(clients)) as pool:
            # result() raises what a client met, so that an error fails the benchmark.
            timings = [ms for future in [pool.submit(work, client) for client in clients] for ms in future.result()]
    return Measured(timings, time.perf_counter() - started, len(clients))
