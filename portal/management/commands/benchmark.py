import datetime
import json
import os
from pathlib import Path
from urllib.parse import quote

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.db import connection

from portal.bench import harness, markdown, run
from portal.demo import SCALES


class Command(BaseCommand):
    help = (
        "Measure speed at scale: load the scale's demo data into its own PostgreSQL database (once), "
        "run gunicorn on 127.0.0.1 and time pages, the dashboard and the API with 1 and 4 users beside "
        "floors served in the same run, then compile reports. Used by `make bench`."
    )
    # The benchmark database may not exist yet: the command creates it before any query.
    requires_system_checks = []
    requires_migrations_checks = False

    def add_arguments(self, parser):
        parser.add_argument(
            "--scale", default="L", choices=list(SCALES), help="data size (default L; XS proves it runs)"
        )
        parser.add_argument("--rounds", type=int, default=30, help="requests per measure with 1 user (default 30)")
        parser.add_argument(
            "--concurrent-rounds",
            type=int,
            help=f"requests of each user per measure with {run.USERS} users at once (default: half of --rounds)",
        )
        parser.add_argument("--password", default="bench-demo-password", help="password of the demo users")
        parser.add_argument("--output", type=Path, help="results file (default var/bench/results-SCALE.json)")
        parser.add_argument(
            "--markdown",
            type=Path,
            default=settings.BASE_DIR / "BENCHMARKS.md",
            help="Markdown record whose section of this scale is rewritten (default BENCHMARKS.md)",
        )
        parser.add_argument(
            "--only", choices=["pages", "reports"], help="measure only the pages and API, or only report compilation"
        )
        parser.add_argument(
            "--skip-focus-area-report",
            action="store_true",
            help="compile the whole-plan report only, not also a focus area's (the smoke test)",
        )
        parser.add_argument(
            "--allow-misses",
            action="store_true",
            help="succeed even when a target is missed (the targets are set for scale L)",
        )

    def handle(self, *args, scale, rounds, concurrent_rounds, password, only, output, **options):
        if connection.vendor != "postgresql" or not settings.REDIS_URL:
            raise CommandError("The benchmark measures PostgreSQL with Redis: set DATABASE_URL and REDIS_URL.")
        concurrent_rounds = concurrent_rounds or max(1, rounds // 2)
        if rounds < 2 or concurrent_rounds < 1:
            raise CommandError("--rounds: at least 2; --concurrent-rounds: at least 1")
        log = self.stdout.write
        load_before = os.getloadavg()
        database = connection.settings_dict
        credentials = quote(database["USER"], safe="") + (
            f":{quote(database['PASSWORD'], safe='')}" if database["PASSWORD"] else ""
        )
        database_url = f"postgres://{credentials}@{database['HOST']}:{database['PORT'] or 5432}/{database['NAME']}"
        log(f"Scale {scale}: preparing its database (the first run loads the demo data)")
        collecting = harness.collect_static(log) if only != "reports" else None
        try:
            harness.prepare(database_url, scale, password, log)
        except BaseException:
            if collecting is not None:
                collecting.kill()
                collecting.wait()
            raise
        command = f"manage.py benchmark --scale {scale} --rounds {rounds} --concurrent-rounds {concurrent_rounds}"
        results = {
            "scale": scale,
            "measured_at": datetime.datetime.now(datetime.UTC).isoformat(),
            "command": command
            + (f" --only {only}" if only else "")
            + (" --skip-focus-area-report" if options["skip_focus_area_report"] else ""),
            "concurrency": (
                f"1 user ({rounds} requests a measure, one after the other) and {run.USERS} users at once "
                f"(threads, each its own session or token, {concurrent_rounds} requests each; {rounds} each for the "
                "rate of POSTs); "
                f"gunicorn with {harness.WORKERS} sync workers"
            ),
        }
        benchmark = run.Benchmark(
            base=None, password=password, rounds=rounds, concurrent_rounds=concurrent_rounds, log=log
        )
        path = output or settings.VAR_DIR / "bench" / f"results-{scale}.json"
        if only != "reports":
            server_log = path.with_name(f"server-{scale}.log")
            with harness.server(database_url, settings.REDIS_URL, log, server_log, collecting) as base:
                benchmark.base = base
                benchmark.run()
        if only != "pages":
            run.report_sql_floor(benchmark)
            log("Progress reports, compiled in a process of their own")
            run.run_reports(database_url, benchmark, focus_area=not options["skip_focus_area_report"])
        results |= {
            "load_average": {"before": list(load_before), "after": list(os.getloadavg())},
            "machine": markdown.machine(),
            "versions": markdown.versions(settings.REDIS_URL),
            "data": markdown.row_counts(),
            **{name: rows for name, rows in benchmark.sections.items() if rows},
        }
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(results, indent=2))
        markdown.write(options["markdown"], results, list(SCALES))
        log(f"Results written to {path}; section {scale} of {options['markdown']} rewritten")
        measured = [row for name in ("pages", "api", "reports") for row in results.get(name, [])]
        missed = [
            row["name"] + (f" ({row['users']} user{'s' * (row['users'] > 1)})" if "users" in row else "")
            for row in measured
            if row.get("met") is False
        ]
        if missed:
            message = f"Targets missed ({len(missed)}): {'; '.join(missed)}"
            if not options["allow_misses"]:
                raise CommandError(message)
            log(self.style.WARNING(message))
        else:
            log(self.style.SUCCESS("Every target met."))
