"""What the benchmark measures, against which floor, and which target of issue 14 each figure answers.

Each page and API call is measured with 1 user (one request after the other) and with ``USERS``
users at once (threads, each its own signed-in session or token), and set beside its floor
measured the same way by the same server in the same run:

- pages → a view behind ``login_required`` (``portal.bench.floors``);
- API lists → a DRF view serving the same rows for the same token user with ``values()``;
- API writes → a DRF POST with the API's token authentication and throttle;
- the dashboard's first views after an approval and after a change to the plan → its SQL replayed alone
  (``sql_floor``: every focus area's part computed, as after a change to the plan);
- the whole-plan report → the SQL of its snapshot replayed alone.

The ratio is the portal's median over the floor's at the same number of users: medians, since a
floor's few milliseconds make its p95 the first figure a busy machine spoils.
"""

import datetime
import json
import os
import subprocess
import sys
import time
import urllib.parse
import uuid
from collections import defaultdict
from dataclasses import dataclass
from typing import NamedTuple

from .harness import ROOT, Client, Log, Measured, measure, sessions
from .sql_floor import capture, replay

USERS = 4
SQL_DASHBOARD = "SQL of the dashboard (whole plan)"
SQL_REPORT = "SQL of the report snapshot (whole plan)"
LOGIN_FLOOR = "login-required view"
API_FLOOR = "DRF view, token + throttle"
POST_FLOOR = "DRF POST, token + throttle"
BULK_ITEMS = 200
# Calls of the bulk endpoint timed (a call of 200 updates takes seconds at scale L).
BULK_CALLS = 5
# Replays of the report's SQL (each takes seconds at scale L).
REPORT_SQL_REPLAYS = 3
# The floors take several times as many requests as the measures they are set beside: they are cheap,
# and a ratio is only as steady as its denominator.
FLOOR_ROUNDS = 3


@dataclass(frozen=True)
class Target:
    """A target of issue 14: the conditions a row must meet, and how the tables say it."""

    text: str
    p95_below_ms: float | None = None
    p95_within_floor: float | None = None
    floor_throughput_share: float | None = None
    requests_per_second: float | None = None

    def met(self, row: dict) -> bool:
        checks = []
        if self.p95_below_ms is not None:
            checks.append(row["p95_ms"] < self.p95_below_ms)
        if self.p95_within_floor is not None:
            checks.append(row["p95_ms"] <= self.p95_within_floor * row["floor_p95_ms"])
        if self.floor_throughput_share is not None:
            checks.append(row["requests_per_second"] >= self.floor_throughput_share * row["floor_requests_per_second"])
        if self.requests_per_second is not None:
            checks.append(row["requests_per_second"] >= self.requests_per_second)
        return all(checks)


DASHBOARD_AFTER_CHANGE = Target("p95 < 300 ms", p95_below_ms=300)
DASHBOARD_CACHED = Target("p95 < 50 ms, ≥ 1/4 of the floor's req/s", p95_below_ms=50, floor_throughput_share=0.25)
REGISTER = Target("p95 < 250 ms", p95_below_ms=250)
PAGE = Target("p95 < 150 ms", p95_below_ms=150)
API_LIST = Target("p95 ≤ 3× floor p95", p95_within_floor=3)
POST_UPDATES = Target("≥ 150 req/s", requests_per_second=150)
BULK = Target("p95 < 1.5 s", p95_below_ms=1500)
REPORT_SECONDS, REPORT_MEGABYTES = 30, 400


def _line(row: dict) -> str:
    users = f"{row['users']} user{'s' if row['users'] > 1 else ''}"
    text = (
        f"  {row['name'][:46]:46} {users:7} p50 {row['p50_ms']:8.1f}  p95 {row['p95_ms']:8.1f} ms"
        f" {row['requests_per_second']:7.1f}/s"
    )
    if row.get("floor"):
        text += (
            f" | floor p50 {row['floor_p50_ms']:7.1f} p95 {row['floor_p95_ms']:7.1f} ms"
            f" {row['floor_requests_per_second']:7.1f}/s ×{row['ratio']}"
        )
    if row.get("target"):
        text += f" | {row['target']}: {'met' if row['met'] else 'NOT MET'}"
    return text


class Benchmark:
    """One run against one server: the floors first, then the pages and the API beside them."""

    def __init__(self, *, base: str | None, password: str, rounds: int, concurrent_rounds: int, log: Log):
        self.base, self.password, self.log = base, password, log
        self.rounds, self.concurrent_rounds = rounds, concurrent_rounds
        self.floors: dict[tuple[str, int], dict] = {}
        self.sections: dict[str, list[dict]] = {"floors": [], "pages": [], "api": [], "reports": []}

    # Measuring --------------------------------------------------------------------------------

    def _measure(self, name, clients, send, *, per_user, warm, before=None) -> Measured:
        if warm:
            # Untimed: the view's first request in a worker (imports, templates, PostgreSQL's cache).
            send(clients[0], 0)
        return measure(name, clients, per_user, send, before)

    def _both(self, name, one, many, send, *, warm=True, before=None, factor=1):
        """Measure with one user, then with ``USERS`` at once; yield each summary."""
        rounds, concurrent_rounds = self.rounds * factor, self.concurrent_rounds * factor
        yield self._measure(name, one, send, per_user=rounds, warm=warm, before=before).summary()
        yield self._measure(name, many, send, per_user=concurrent_rounds, warm=False, before=before).summary()

    def floor(self, name: str, one, many, send, *, warm=True, **extra):
        for summary in self._both(name, one, many, send, warm=warm, factor=FLOOR_ROUNDS):
            row = {"name": name, "kind": "http", **extra, **summary}
            self.floors[(name, row["users"])] = row
            self.sections["floors"].append(row)
            self.log(_line(row))

    def sql_floor(self, name: str, statements: list, users: int, per_user: int, **extra):
        row = {"name": name, "kind": "sql", "statements": len(statements), **extra}
        row |= replay(statements, users, per_user).summary()
        self.floors[(name, users)] = row
        self.sections["floors"].append(row)
        self.log(_line(row))

    def portal(self, section, name, one, many, send, *, floor=None, target=None, warm=True, before=None, **extra):
        for summary in self._both(name, one, many, send, warm=warm, before=before):
            self.record(section, {"name": name, **extra, **summary}, floor, target)

    def record(self, section: str, row: dict, floor: str | None, target: Target | None, targeted=True):
        if floor:
            base = self.floors[(floor, row["users"])]
            row |= {
                "floor": floor,
                "floor_p50_ms": base["p50_ms"],
                "floor_p95_ms": base["p95_ms"],
                "floor_requests_per_second": base["requests_per_second"],
                "ratio": round(row["p50_ms"] / base["p50_ms"], 1),
            }
        if target and targeted:
            row |= {"target": target.text, "met": target.met(row)}
        self.sections[section].append(row)
        self.log(_line(row))

    # The run ----------------------------------------------------------------------------------

    def run(self) -> dict:
        from portal.tokens import issue_token

        data = Personas.find()
        self.log(
            f"Signing in: committee, officer and {data.reporters[0].user.username}, {USERS} sessions each; "
            f"API tokens of {', '.join(m.user.username for m in data.reporters)}"
        )
        names = [*["committee"] * USERS, *["officer"] * USERS, *[data.reporters[0].user.username] * USERS]
        signed = sessions(self.base, names, self.password)
        committee, officer, reporter = signed[:USERS], signed[USERS : 2 * USERS], signed[2 * USERS :]
        tokens = []

        def api_client(user) -> Client:
            token, secret = issue_token(user=user, name=f"benchmark {uuid.uuid4().hex[:8]}")
            tokens.append(token)
            return Client(self.base, {"Authorization": f"Token {secret}", "Accept": "application/json"})

        try:
            api = [api_client(data.reporters[0].user) for _ in range(USERS)]
            writers = [api[0], *(api_client(membership.user) for membership in data.reporters[1:])]
            self.run_floors(anonymous=[Client(self.base) for _ in range(USERS)], officer=officer, api=api, data=data)
            dashboard_sql_floor(self)
            self.run_pages(committee=committee, officer=officer, reporter=reporter, data=data)
            self.run_api(api=api, writers=writers, data=data)
            self._bulk(data, api_client)
        finally:
            for token in tokens:
                token.delete()
        return self.sections

    def run_floors(self, *, anonymous, officer, api, data):
        self.log("Floors: the least this server does for each kind of request")
        static = _static_path("css/portal.css")
        self.floor("static file (whitenoise)", anonymous[:1], anonymous, lambda c, i: c.get(static), path=static)
        for name, clients, path in (
            ("Django view", anonymous, "/benchmark-floors/plain/"),
            (LOGIN_FLOOR, officer, "/benchmark-floors/signed-in/"),
            (API_FLOOR, api, "/benchmark-floors/api/"),
        ):
            self.floor(name, clients[:1], clients, lambda c, i, p=path: c.get(p), path=path)
        slots = data.open_slots(data.reporters[0]) or [Slot("CYB-1.1", "2020-Q1", "UNODC-ROSEAP", 0, 0, 0)]
        body = json.dumps(data.update_body(slots[0])).encode()
        self.floor(
            POST_FLOOR, api[:1], api,
            lambda c, i: c.request("POST", "/benchmark-floors/api/", body, {"Content-Type": "application/json"}),
            path="POST /benchmark-floors/api/",
        )  # fmt: skip
        for name, (portal_path, floor_path) in data.api_lists().items():
            # A floor serving other rows would time the wrong thing: checked before it is timed.
            _check_same_rows(api[0], portal_path, floor_path)
            self.floor(f"DRF values(): {name}", api[:1], api, lambda c, i, p=floor_path: c.get(p), path=floor_path)

    def run_pages(self, *, committee, officer, reporter, data):
        from steering.dashboard_cache import invalidate, invalidate_reporting, invalidate_standings

        self.log("Dashboard (committee member)")
        paths = data.dashboard_paths
        for path in paths:
            committee[0].get(path)  # into the cache
        self.portal(
            "pages", "dashboard, cached (whole plan and each focus area)", committee[:1], committee,
            lambda c, i: c.get(paths[i % len(paths)]), floor=LOGIN_FLOOR, target=DASHBOARD_CACHED,
        )  # fmt: skip
        # Each request after an update approved in one focus area (each in turn): the standing half of its area's
        # part dropped, as the approval drops it (``dashboard_cache._if_counted``), then the view.
        self.portal(
            "pages", "dashboard, first view after an approval (whole plan)", committee[:1], committee,
            lambda c, i: c.get("/steering/"), floor=SQL_DASHBOARD, target=DASHBOARD_AFTER_CHANGE, warm=False,
            before=lambda i: invalidate_standings([data.area_ids[i % len(data.area_ids)]]),
        )  # fmt: skip
        # Each request after an update submitted (or withdrawn, returned, removed) in one focus area: the reporting
        # half of its area's part dropped, as the submission drops it, then the view.
        self.portal(
            "pages", "dashboard, first view after a submission (whole plan)", committee[:1], committee,
            lambda c, i: c.get("/steering/"), floor=SQL_DASHBOARD, target=DASHBOARD_AFTER_CHANGE, warm=False,
            before=lambda i: invalidate_reporting([data.area_ids[i % len(data.area_ids)]]),
        )  # fmt: skip
        # Each request after a change to the plan itself (an activity, an office, a period...): every figure
        # dropped, as such a write drops them.
        self.portal(
            "pages", "dashboard, first view after a change to the plan (whole plan)", committee[:1], committee,
            lambda c, i: c.get("/steering/"), floor=SQL_DASHBOARD, warm=False, before=lambda i: invalidate(),
        )  # fmt: skip
        self.log("Activity register (programme officer)")
        for name, query in data.register_variants():
            path = f"/activities/?{query}" if query else "/activities/"
            self.portal(
                "pages", f"register, {name}", officer[:1], officer, lambda c, i, p=path: c.get(p),
                floor=LOGIN_FLOOR, target=REGISTER, path=path,
            )  # fmt: skip
        self.log("Other pages")
        pages = [
            ("activity page", officer, f"/activities/{data.activity}/", PAGE),
            ("home, programme officer", officer, "/", PAGE),
            ("home, field reporter", reporter, "/", PAGE),
            ("focus-area page", committee, f"/plan/focus-areas/{data.areas[0]}/", None),
            ("review queue", officer, "/updates/review/", None),
            ("action item tracker", committee, "/steering/action-items/", None),
        ]
        for name, clients, path, target in pages:
            self.portal(
                "pages", name, clients[:1], clients, lambda c, i, p=path: c.get(p),
                floor=LOGIN_FLOOR, target=target, path=path,
            )  # fmt: skip

    def run_api(self, *, api, writers, data):
        self.log(f"Field-office API (tokens of {data.reporters[0].user.username})")
        for name, (portal_path, _floor_path) in data.api_lists().items():
            self.portal(
                "api", f"API {name}", api[:1], api, lambda c, i, p=portal_path: c.get(p),
                floor=f"DRF values(): {name}", target=API_LIST, path=portal_path,
            )  # fmt: skip
        self.log(f"API writes (tokens of {', '.join(m.user.username for m in data.reporters[: len(writers)])})")
        self._post_updates(writers, data)

    def _post_updates(self, writers, data):
        """Create updates with idempotency keys, 1 client then ``USERS`` at once; remove them after each.

        Its target is a rate, so ``USERS`` clients send as many as one does (``rounds`` each, not
        ``concurrent_rounds``): a rate over half a second is mostly the threads' start and finish."""
        for clients in (writers[:1], writers):
            reporters = data.reporters[: len(clients)]
            per_user = min(self.rounds, *(len(data.open_slots(m)) for m in reporters))
            if per_user < 1:
                self.log("  (no open period left to report in: the POST is not measured)")
                return
            own = {id(client): membership for client, membership in zip(clients, reporters, strict=True)}

            def post(client, index, own=own):
                membership = own[id(client)]
                body = json.dumps(data.update_body(data.open_slots(membership)[index])).encode()
                headers = {"Content-Type": "application/json", "Idempotency-Key": f"benchmark-{uuid.uuid4().hex}"}
                return client.request("POST", "/api/v1/updates/", body, headers)

            try:
                measured = measure("API create update", clients, per_user, post)
            finally:
                data.remove_written([m.user for m in reporters])
            self.record(
                "api", {"name": "API create update (POST, idempotency key)", **measured.summary()}, POST_FLOOR,
                POST_UPDATES, targeted=len(clients) == USERS,
            )  # fmt: skip

    def _bulk(self, data, api_client):
        """Send the bulk endpoint 200 updates a call, a few times, removing them after each call.

        A field office has fewer than 200 updates to write in the demo data at any scale: the first
        reporter's office's are topped up with other offices' and sent by a programme officer, who may
        write for any office; each item costs the same whoever sends it.
        """
        from django.contrib.auth import get_user_model

        slots = data.bulk_slots()
        if not slots:
            return
        own = data.reporters[0]
        offices = len({slot.office_id for slot in slots})
        if offices == 1:
            sender, who = own.user, own.user.username
        else:
            sender, who = get_user_model().objects.get(username="officer"), f"officer, {offices} offices"
        writer = api_client(sender)
        calls = []
        for _ in range(max(2, min(BULK_CALLS, self.rounds))):
            items = [{**data.update_body(slot), "client_key": f"benchmark-{uuid.uuid4().hex}"} for slot in slots]
            headers = {"Content-Type": "application/json", "Idempotency-Key": f"benchmark-{uuid.uuid4().hex}"}
            try:
                body = json.dumps(items).encode()
                status, body, milliseconds = writer.request("POST", "/api/v1/updates/bulk/", body, headers)
                created = sum(1 for item in json.loads(body) if item.get("status") == 201) if status == 200 else 0
            finally:
                data.remove_written([sender])
            if status != 200 or created != len(items):
                raise RuntimeError(f"API bulk: HTTP {status}, {created} of {len(items)} created: {body[:300]!r}")
            calls.append(milliseconds)
        summary = Measured(calls, sum(calls) / 1000, 1).summary()
        each = round(summary["p50_ms"] / len(slots), 1)
        row = {"name": f"API bulk create, {len(slots)} updates a call ({who}; {each} ms an update)", **summary}
        row["ms_per_update"] = each
        self.record("api", row, None, BULK, targeted=len(slots) == BULK_ITEMS)


def dashboard_sql_floor(benchmark: Benchmark) -> None:
    """Capture the SQL of the dashboard's figures (whole plan, committee member); time it replayed alone."""
    from django.contrib.auth import get_user_model

    from steering import dashboard
    from steering.views import current_plan_or_404

    benchmark.log("Database floor of the dashboard: its SQL alone, replayed with psycopg2")
    plan = current_plan_or_404()
    committee = get_user_model().objects.get(username="committee")
    statements = capture(lambda: dashboard.build(dashboard.Filters.from_query({}, plan), committee))
    for users, per_user in ((1, benchmark.rounds), (USERS, benchmark.concurrent_rounds)):
        benchmark.sql_floor(SQL_DASHBOARD, statements, users, per_user * FLOOR_ROUNDS)


def report_sql_floor(benchmark: Benchmark) -> None:
    """Capture the SQL of the whole-plan report's snapshot (``snapshot.take``); time it replayed alone."""
    from steering.models import ProgressReport
    from steering.reports import snapshot

    benchmark.log("Database floor of the whole-plan report: the SQL of its snapshot alone, replayed with psycopg2")
    period = _report_period()
    # Never saved: take() reads the data and the earlier reports, and writes nothing.
    report = ProgressReport(plan=period.plan, period=period, focus_area=None)
    statements = capture(lambda: snapshot.take(report))
    benchmark.sql_floor(SQL_REPORT, statements, 1, min(benchmark.rounds, REPORT_SQL_REPLAYS), period=period.code)


def _report_period():
    from actionplan.models import ReportingPeriod

    return ReportingPeriod.objects.filter(state=ReportingPeriod.State.LOCKED).order_by("-ends_on").first()


def run_reports(database_url: str, benchmark: Benchmark, *, focus_area: bool = True) -> None:
    """Compile the whole-plan report and one focus area's of the last closed period; time them, weigh them.

    Each compiles in a process of its own (``compile_report``), so that its peak memory is
    its own; the reports and their files are deleted afterwards. The whole plan's is set beside
    the SQL of its snapshot (``report_sql_floor``, measured first).
    """
    from actionplan.models import FocusArea
    from steering.models import ProgressReport
    from steering.reports.files import remove_directory

    log = benchmark.log
    period = _report_period()
    area = FocusArea.objects.filter(plan=period.plan).order_by("order").first()
    reports = [("report, whole plan", [])]
    if focus_area:
        reports.append((f"report, focus area {area.code}", ["--focus-area", area.code]))
    for name, extra in reports:
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
                remove_directory(report.pk)
                report.delete()
        if status != 0:
            raise RuntimeError(f"{name}: compile_report failed (status {status})")
        # ru_maxrss is in kilobytes on Linux.
        megabytes = usage.ru_maxrss / 1024
        row = {"name": name, "period": period.code, "seconds": round(seconds, 1), "peak_mb": round(megabytes)}
        floor = benchmark.floors.get((SQL_REPORT, 1)) if not extra else None
        if floor:
            row |= {
                "floor": SQL_REPORT,
                "floor_seconds": round(floor["p50_ms"] / 1000, 2),
                "ratio": round(seconds / (floor["p50_ms"] / 1000), 1),
            }
        if not extra:
            row |= {
                "target": f"< {REPORT_SECONDS} s and < {REPORT_MEGABYTES} MB",
                "met": seconds < REPORT_SECONDS and megabytes < REPORT_MEGABYTES,
            }
        benchmark.sections["reports"].append(row)
        text = f"  {name:46} {row['seconds']:7.1f} s    peak {row['peak_mb']:5d} MB"
        if floor:
            text += f" | SQL alone {row['floor_seconds']} s ×{row['ratio']}"
        if "met" in row:
            text += f" | {row['target']}: {'met' if row['met'] else 'NOT MET'}"
        log(text)


def _static_path(name: str) -> str:
    """The address of a static file as the production pages name it (hashed, from the manifest)."""
    from django.conf import settings

    manifest = json.loads((settings.STATIC_ROOT / "staticfiles.json").read_text())
    return f"/{settings.STATIC_URL.strip('/')}/{manifest['paths'][name]}"


def _check_same_rows(client: Client, portal_path: str, floor_path: str) -> None:
    """Refuse a floor that does not serve the API's rows and fields: its ratio would mean nothing."""
    portal, floor = client.get_json(portal_path), client.get_json(floor_path)
    key = "code" if portal["results"] and "code" in portal["results"][0] else "id"
    same = (
        portal["count"] == floor["count"]
        and [row[key] for row in portal["results"]] == [row[key] for row in floor["results"]]
        and all(set(a) == set(b) for a, b in zip(portal["results"], floor["results"], strict=True))
    )
    if not same:
        raise RuntimeError(f"The floor {floor_path} does not serve the rows and fields of {portal_path}")


class Slot(NamedTuple):
    """An update an office may still write: its activity implemented there, in an open period, not yet reported."""

    activity: str
    period: str
    office: str
    activity_id: int
    period_id: int
    office_id: int


@dataclass
class Personas:
    """Who the benchmark signs in as, and what it asks for, chosen from the data of the scale."""

    reporters: list  # memberships of the reporters whose offices have the most open slots, most first
    slots: dict[int, list[Slot]]  # office id -> its open slots
    areas: list[str]
    area_ids: list[int]
    activity: str
    dashboard_paths: list[str]
    since: str  # updated_since of the API's changes: the middle of the reporter's updates
    started: float

    @classmethod
    def find(cls) -> "Personas":
        from actionplan.models import Activity, FocusArea, ProgressUpdate, ReportingPeriod
        from portal.models import Membership

        open_periods = list(ReportingPeriod.objects.filter(state=ReportingPeriod.State.OPEN).order_by("starts_on"))
        reported = set(
            ProgressUpdate.objects.filter(period__in=open_periods).values_list("office_id", "activity_id", "period_id")
        )
        slots = defaultdict(list)
        for period in open_periods:
            for office_id, office, activity_id, activity in (
                Activity.implementing_offices.through.objects.filter(activity__objective__focus_area__plan=period.plan)
                .order_by("office__code", "activity__code")
                .values_list("office_id", "office__code", "activity_id", "activity__code")
            ):
                if (office_id, activity_id, period.pk) not in reported:
                    slots[office_id].append(Slot(activity, period.code, office, activity_id, period.pk, office_id))
        memberships = Membership.objects.filter(role=Membership.OfficeRole.REPORTER).select_related("user", "office")
        # One reporter an office, most open slots first.
        reporters = list({m.office_id: m for m in memberships.order_by("office__code", "-user__username")}.values())
        reporters = sorted(reporters, key=lambda m: (-len(slots[m.office_id]), m.office.code))[:USERS]
        if not reporters:
            raise RuntimeError("No field reporter in the data: load the demo data first")
        areas = dict(FocusArea.objects.order_by("order").values_list("code", "pk"))
        codes = list(Activity.objects.order_by("code").values_list("code", flat=True))
        updates = ProgressUpdate.objects.visible_to(reporters[0].user).order_by("updated_at")
        middle = updates.values_list("updated_at", flat=True)[updates.count() // 2]
        return cls(
            reporters=reporters,
            slots=dict(slots),
            areas=list(areas),
            area_ids=list(areas.values()),
            activity=codes[min(len(areas) * 7, len(codes) - 1)],
            dashboard_paths=["/steering/", *(f"/steering/?focus_area={code}" for code in areas)],
            since=middle.astimezone(datetime.UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
            started=time.time(),
        )

    def open_slots(self, membership) -> list[Slot]:
        return self.slots.get(membership.office_id, [])

    def bulk_slots(self) -> list[Slot]:
        """200 open slots: the first reporter's office's, topped up from the other offices' when it has fewer."""
        own = self.reporters[0].office_id
        others = sorted((office for office in self.slots if office != own), key=lambda office: -len(self.slots[office]))
        return [slot for office in [own, *others] for slot in self.slots.get(office, [])][:BULK_ITEMS]

    def update_body(self, slot: Slot) -> dict:
        return {
            "activity": slot.activity, "period": slot.period, "office": slot.office,
            "rag": "on_track", "percent_complete": 40, "narrative": "Benchmark update.",
        }  # fmt: skip

    def remove_written(self, users) -> None:
        """Delete the updates the users wrote here, their history and idempotency keys: each run meets the same data."""
        from django.db.models import Q

        from actionplan.bulk import BULK_ITEM_KEY
        from actionplan.models import ProgressUpdate
        from portal.models import IdempotencyKey

        since = datetime.datetime.fromtimestamp(self.started, tz=datetime.UTC)
        open_slots = {(slot.activity_id, slot.period_id, slot.office_id) for own in self.slots.values() for slot in own}
        written = [
            pk
            for pk, *slot in ProgressUpdate.objects.filter(
                source=ProgressUpdate.Source.API, created_at__gte=since, author__in=users
            ).values_list("pk", "activity_id", "period_id", "office_id")
            if tuple(slot) in open_slots
        ]
        ProgressUpdate.objects.filter(pk__in=written).delete()
        ProgressUpdate.history.filter(id__in=written).delete()
        IdempotencyKey.objects.filter(
            Q(key__startswith="benchmark-") | Q(key__startswith=f"{BULK_ITEM_KEY}benchmark-"), user__in=users
        ).delete()

    def api_lists(self) -> dict[str, tuple[str, str]]:
        """The API's list calls measured, each with its floor: first pages, and the changes since a moment."""
        since = urllib.parse.quote(self.since)
        return {
            "activities, first page": ("/api/v1/activities/", "/benchmark-floors/api/activities/"),
            "updates, first page": ("/api/v1/updates/", "/benchmark-floors/api/updates/"),
            "updates changed since": (
                f"/api/v1/updates/?updated_since={since}",
                f"/benchmark-floors/api/updates/?updated_since={since}",
            ),
        }

    def register_variants(self) -> list[tuple[str, str]]:
        """Each way the register is asked for: plain, search, a far page, each filter (commonest value), each sort."""
        from django.db.models import Count

        from actionplan.filters import ActivityRegisterFilter
        from actionplan.models import Activity, ReportingPeriod
        from portal.models import Country

        def most(queryset, field):
            return queryset.values_list(field, flat=True).annotate(n=Count("pk")).order_by("-n", field).first()

        activities = Activity.objects.order_by()
        offices = Activity.implementing_offices.through.objects
        locked = ReportingPeriod.objects.filter(state=ReportingPeriod.State.LOCKED).order_by("-starts_on").first()
        office_region = most(offices.order_by(), "office__country__region")
        filters = {
            "focus_area": self.areas[0],
            "objective": most(activities, "objective__code"),
            "status": most(activities, "status"),
            "office": most(offices.order_by(), "office__code"),
            "organization": most(activities, "lead_organization__code"),
            "region": office_region or Country.objects.values_list("region", flat=True).first(),
            "country": most(Activity.beneficiary_countries.through.objects.order_by(), "country__iso3"),
            "tag": most(Activity.tags.through.objects.order_by(), "tag__name"),
            "period": locked.code if locked else None,
            "as_of": locked.code if locked else None,
        }
        variants = [
            ("default", ""),
            ("search q=border", "q=border"),
            ("RAG off track, by progress", "rag=off_track&sort=-progress"),
            ("page 50", "page=50"),
        ]
        variants += [
            (f"{name}={value}", urllib.parse.urlencode({name: value})) for name, value in filters.items() if value
        ]
        # Each key once, descending: ascending is the same query read the other way (and by code, the default).
        sorts = [value for value, _label in ActivityRegisterFilter().filters["sort"].field.choices if value[:1] == "-"]
        variants += [(f"sort={value}", f"sort={value}") for value in sorts]
        return variants
