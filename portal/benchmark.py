"""The benchmark behind ``make bench``: speed and memory at scale, against a real server on 127.0.0.1.

It loads the demo data of the scale into a database of its own (once; later runs reuse
it), starts gunicorn with production settings on a free local port, and times pages
and API calls as the personas use them. Every request goes to 127.0.0.1, and every
phase has a fixed number of requests, so the run ends by itself.
"""

import contextlib
import http.cookiejar
import json
import math
import os
import re
import secrets
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import time
import urllib.error
import urllib.parse
import urllib.request
import uuid
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

import psycopg2
from psycopg2 import sql

ROOT = Path(__file__).resolve().parent.parent
DASHBOARD_P95_TARGET_MS = 300
SERVER_START_TIMEOUT = 60


@dataclass
class Timings:
    """The response times of one kind of request, in milliseconds."""

    name: str
    milliseconds: list[float] = field(default_factory=list)
    target_ms: float | None = None

    def percentile(self, share: float) -> float:
        ordered = sorted(self.milliseconds)
        # Nearest rank: the smallest value with at least ``share`` of the values at or below it.
        return ordered[max(0, math.ceil(share * len(ordered)) - 1)]

    def summary(self) -> dict:
        summary = {
            "name": self.name,
            "requests": len(self.milliseconds),
            "p50_ms": round(statistics.median(self.milliseconds), 1),
            "p95_ms": round(self.percentile(0.95), 1),
            "max_ms": round(max(self.milliseconds), 1),
        }
        if self.target_ms is not None:
            summary["target_p95_ms"] = self.target_ms
            summary["met"] = summary["p95_ms"] < self.target_ms
        return summary


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


def manage(*arguments: str, database_url: str, log: Callable[[str], None]) -> None:
    """Run a management command against the benchmark database, failing loudly."""
    log(f"  manage.py {' '.join(arguments)}")
    subprocess.run(
        [sys.executable, "manage.py", *arguments],
        cwd=ROOT, check=True, env={**os.environ, "DEBUG": "true", "DATABASE_URL": database_url},
    )  # fmt: skip


def prepare(database_url: str, scale: str, password: str, log: Callable[[str], None]) -> None:
    """Create, migrate and fill the database of a scale; a filled one is kept as it is."""
    ensure_database(database_url)
    manage("migrate", "--noinput", "-v0", database_url=database_url, log=log)
    manage("load_reference", database_url=database_url, log=log)
    manage("seed_demo", "--scale", scale, "--if-empty", "--password", password, database_url=database_url, log=log)


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@contextlib.contextmanager
def server(database_url: str, redis_url: str, log: Callable[[str], None]):
    """Run gunicorn with production settings on 127.0.0.1; yield its base URL."""
    environment = {
        **os.environ,
        "DEBUG": "false",
        "SECRET_KEY": secrets.token_urlsafe(50),
        "ALLOWED_HOSTS": "127.0.0.1",
        "DATABASE_URL": database_url,
        "REDIS_URL": redis_url,
        # Plain HTTP on the loopback: no TLS to redirect to.
        "SECURE_SSL_REDIRECT": "false",
        "SECURE_COOKIES": "false",
        "SECURE_HSTS_SECONDS": "0",
    }
    subprocess.run(
        [sys.executable, "manage.py", "collectstatic", "--noinput", "-v0"], cwd=ROOT, env=environment, check=True
    )
    port = _free_port()
    process = subprocess.Popen(
        [sys.executable, "-m", "gunicorn", "portal.wsgi", "--bind", f"127.0.0.1:{port}", "--workers", "2",
         "--access-logfile", "-", "--error-logfile", "-", "--log-level", "warning"],
        cwd=ROOT, env=environment, stdout=subprocess.DEVNULL, start_new_session=True,
    )  # fmt: skip
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + SERVER_START_TIMEOUT
        while True:
            try:
                urllib.request.urlopen(f"{base}/accounts/login/", timeout=5).read()  # nosec B310  # http://127.0.0.1
                break
            except (urllib.error.URLError, ConnectionError):
                if process.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError("gunicorn did not start; see its output above") from None
                time.sleep(0.2)
        log(f"  gunicorn (2 workers) answers at {base}")
        yield base
    finally:
        os.killpg(process.pid, signal.SIGTERM)
        process.wait(timeout=30)


class Client:
    """An HTTP client of the benchmark server that keeps cookies and times every response."""

    def __init__(self, base: str, headers: dict | None = None):
        self.base = base
        self.headers = headers or {}
        self.opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(http.cookiejar.CookieJar()))

    def request(self, method: str, path: str, body: bytes | None = None, headers: dict | None = None):
        """Return the status, the body and the response time in milliseconds."""
        started = time.perf_counter()
        request = urllib.request.Request(
            f"{self.base}{path}", data=body, method=method, headers={**self.headers, **(headers or {})}
        )
        try:
            with self.opener.open(request, timeout=120) as response:
                content, status = response.read(), response.status
        except urllib.error.HTTPError as error:
            content, status = error.read(), error.code
        return status, content, (time.perf_counter() - started) * 1000

    def get(self, path: str):
        return self.request("GET", path)


def signed_in(base: str, username: str, password: str) -> Client:
    """A browser session of the user, signed in through the login form."""
    client = Client(base)
    login = client.get("/accounts/login/")[1].decode()
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', login).group(1)
    form = urllib.parse.urlencode({"username": username, "password": password, "csrfmiddlewaretoken": token})
    _, body, _ = client.request("POST", "/accounts/login/", form.encode(), {"Referer": f"{base}/"})
    if b'name="password"' in body:
        raise RuntimeError(f"{username} could not sign in to the benchmark server")
    return client


def time_requests(name: str, send: Callable[[], tuple], count: int, target_ms: float | None = None) -> Timings:
    """Send ``count`` requests; any answer but 2xx stops the benchmark, since it would time an error page."""
    timings = Timings(name, target_ms=target_ms)
    for _ in range(count):
        status, body, milliseconds = send()
        if not 200 <= status < 300:
            raise RuntimeError(f"{name}: HTTP {status}: {body[:300]!r}")
        timings.milliseconds.append(milliseconds)
    return timings


def concurrently(name: str, clients: list[tuple[Client, list[str]]], per_client: int) -> dict:
    """Have the clients request their paths in turn at once; return throughput and response times."""

    def work(client: Client, paths: list[str]) -> list[float]:
        timings = []
        for index in range(per_client):
            status, body, milliseconds = client.get(paths[index % len(paths)])
            if status != 200:
                raise RuntimeError(f"{name}: HTTP {status}: {body[:300]!r}")
            timings.append(milliseconds)
        return timings

    started = time.perf_counter()
    with ThreadPoolExecutor(max_workers=len(clients)) as pool:
        # result() raises what a client met, so that an error fails the benchmark.
        timings = Timings(name, [ms for future in [pool.submit(work, *c) for c in clients] for ms in future.result()])
    throughput = round(len(timings.milliseconds) / (time.perf_counter() - started), 1)
    return {**timings.summary(), "clients": len(clients), "requests_per_second": throughput}


def new_cache_generation() -> None:
    """Drop the cached dashboards, as any write does."""
    from steering.dashboard_cache import invalidate

    invalidate()


def run_pages(base: str, password: str, rounds: int, log: Callable[[str], None]) -> list[dict]:
    """Time the pages, the dashboard warm and cold, and the field-office API."""
    from actionplan.models import Activity, FocusArea
    from portal.models import Membership

    reporter_membership = (
        Membership.objects.filter(user__username__startswith="reporter.")
        .select_related("user", "office")
        .order_by("office__code")
        .first()
    )
    reporter = reporter_membership.user.username
    areas = list(FocusArea.objects.order_by("order").values_list("code", flat=True))
    activity = Activity.objects.order_by("code").values_list("code", flat=True)[len(areas) * 7]
    committee, officer, field = (signed_in(base, name, password) for name in ("committee", "officer", reporter))

    results = []

    def measure(name, client, path, count=rounds, target_ms=None):
        timings = time_requests(name, lambda: client.get(path), count, target_ms)
        results.append(timings.summary())
        log(f"  {name:44} p50 {results[-1]['p50_ms']:7.1f} ms   p95 {results[-1]['p95_ms']:7.1f} ms")

    dashboard_paths = ["/steering/", *(f"/steering/?focus_area={code}" for code in areas)]
    log("Dashboard, committee member")
    cold = Timings("dashboard, cold (after a write)")
    for _ in range(3):
        for path in dashboard_paths:
            new_cache_generation()
            cold.milliseconds += time_requests("dashboard cold", lambda p=path: committee.get(p), 1).milliseconds
    results.append(cold.summary())
    log(f"  {cold.name:44} p50 {results[-1]['p50_ms']:7.1f} ms   p95 {results[-1]['p95_ms']:7.1f} ms")
    for path in dashboard_paths:
        committee.get(path)
    warm = Timings("dashboard, whole plan and each focus area", target_ms=DASHBOARD_P95_TARGET_MS)
    for index in range(rounds * len(dashboard_paths)):
        path = dashboard_paths[index % len(dashboard_paths)]
        warm.milliseconds += time_requests("dashboard", lambda p=path: committee.get(p), 1).milliseconds
    results.append(warm.summary())
    log(f"  {warm.name:44} p50 {results[-1]['p50_ms']:7.1f} ms   p95 {results[-1]['p95_ms']:7.1f} ms (target < 300)")

    log("Pages")
    measure("home, programme officer", officer, "/")
    measure("home, field reporter", field, "/")
    measure("activity register", officer, "/activities/")
    measure("activity register, search", officer, "/activities/?q=border")
    measure("activity register, RAG filter, sorted", officer, "/activities/?rag=off_track&sort=-progress")
    measure("activity page", officer, f"/activities/{activity}/")
    measure("focus-area page", committee, f"/plan/focus-areas/{areas[0]}/")
    measure("review queue", officer, "/updates/review/")
    measure("action item tracker", committee, "/steering/action-items/")

    log("Field-office API (token)")
    results += _run_api(base, reporter_membership, rounds, log)

    log("Under load: 4 signed-in users at once")
    # The API phase wrote and so dropped the cached dashboards: fill them first, so that this
    # phase measures the steady state (the cold figures are measured above).
    for path in dashboard_paths:
        committee.get(path)
    # The field reporter, refused the dashboard, works on its home page and the register.
    committee_paths = [*dashboard_paths, "/activities/"]
    clients = [
        (committee, committee_paths), (officer, committee_paths),
        (signed_in(base, "secretary", password), committee_paths), (field, ["/", "/activities/"]),
    ]  # fmt: skip
    results.append(concurrently("dashboard and register, 4 users", clients, rounds))
    log(f"  {results[-1]['name']:44} p95 {results[-1]['p95_ms']:7.1f} ms, {results[-1]['requests_per_second']} req/s")
    return results


REPORT_SECONDS_TARGET = 60
REPORT_MEGABYTES_TARGET = 500


def run_reports(database_url: str, log: Callable[[str], None]) -> list[dict]:
    """Compile the whole-plan report and one focus area's of the last closed period; time them, weigh them.

    Each compiles in a process of its own (``compile_report``), so that its peak memory is
    its own; the reports and their files are deleted afterwards.
    """
    from actionplan.models import FocusArea, ReportingPeriod
    from steering.models import ProgressReport
    from steering.reports.services import report_directory

    period = ReportingPeriod.objects.filter(state=ReportingPeriod.State.LOCKED).order_by("-ends_on").first()
    area = FocusArea.objects.filter(plan=period.plan).order_by("order").first()
    results = []
    for name, extra in (("report, whole plan", []), (f"report, focus area {area.code}", ["--focus-area", area.code])):
        known = set(ProgressReport.objects.values_list("pk", flat=True))
        started = time.perf_counter()
        try:
            process = subprocess.Popen(
                [sys.executable, "manage.py", "compile_report", period.code, *extra],
                cwd=ROOT, env={**os.environ, "DEBUG": "true", "DATABASE_URL": database_url}, stdout=subprocess.DEVNULL,
            )  # fmt: skip
            _, status, usage = os.wait4(process.pid, 0)
            seconds = time.perf_counter() - started
        finally:
            for report in ProgressReport.objects.exclude(pk__in=known):
                shutil.rmtree(report_directory(report.pk), ignore_errors=True)
                report.delete()
        if status != 0:
            raise RuntimeError(f"{name}: compile_report failed (status {status})")
        # ru_maxrss is in kilobytes on Linux.
        megabytes = usage.ru_maxrss / 1024
        row = {"name": name, "period": period.code, "seconds": round(seconds, 1), "peak_mb": round(megabytes)}
        if not extra:
            row |= {"target_seconds": REPORT_SECONDS_TARGET, "target_peak_mb": REPORT_MEGABYTES_TARGET}
            row["met"] = seconds < REPORT_SECONDS_TARGET and megabytes < REPORT_MEGABYTES_TARGET
        results.append(row)
        log(f"  {name:44} {row['seconds']:7.1f} s    peak {row['peak_mb']:5d} MB")
    return results


def _run_api(base: str, membership, rounds: int, log: Callable[[str], None]) -> list[dict]:
    """Time a field office's API reads and idempotent creates; remove what it wrote, whatever happens."""
    from django.db.models import Exists, OuterRef

    from actionplan.models import Activity, ProgressUpdate, ReportingPeriod
    from portal.tokens import issue_token

    results = []
    token, secret = issue_token(user=membership.user, name=f"benchmark {uuid.uuid4().hex[:8]}")
    api = Client(base, {"Authorization": f"Token {secret}", "Accept": "application/json"})
    period = ReportingPeriod.objects.filter(state=ReportingPeriod.State.OPEN).order_by("-starts_on").first()
    reported = ProgressUpdate.objects.filter(activity=OuterRef("pk"), period=period, office=membership.office)
    open_slots = list(
        Activity.objects.filter(implementing_offices=membership.office)
        .filter(~Exists(reported))
        .values_list("code", flat=True)[:rounds]
    )
    created = []

    def post_update():
        code = open_slots[len(created)]
        body = json.dumps({
            "activity": code, "period": period.code, "office": membership.office.code,
            "rag": "on_track", "percent_complete": 40, "narrative": "Benchmark update.",
        }).encode()  # fmt: skip
        created.append(code)
        return api.request(
            "POST", "/api/v1/updates/", body, {"Content-Type": "application/json", "Idempotency-Key": uuid.uuid4().hex}
        )

    try:
        timed = [
            time_requests(name, lambda p=path: api.get(p), rounds)
            for name, path in (
                ("API activities, first page", "/api/v1/activities/"),
                ("API updates, first page", "/api/v1/updates/"),
                ("API updates changed since", "/api/v1/updates/?updated_since=2020-01-01T00:00:00Z"),
            )
        ]
        if open_slots:
            timed.append(time_requests("API create update (idempotent POST)", post_update, len(open_slots)))
    finally:
        # Leave the database as it was, so that every run measures the same data.
        ProgressUpdate.objects.filter(
            activity__code__in=created, period=period, office=membership.office, source=ProgressUpdate.Source.API
        ).delete()
        token.delete()
    for timings in timed:
        results.append(timings.summary())
        log(f"  {timings.name:44} p50 {results[-1]['p50_ms']:7.1f} ms   p95 {results[-1]['p95_ms']:7.1f} ms")
    return results
