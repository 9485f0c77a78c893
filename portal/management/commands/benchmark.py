import datetime
import json
from pathlib import Path
from urllib.parse import quote

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.db import connection

from portal import benchmark


class Command(BaseCommand):
    help = (
        "Measure speed at scale: load the scale's demo data into its own PostgreSQL database (once), "
        "run gunicorn on 127.0.0.1 and time pages, the dashboard and the API. Used by `make bench`."
    )
    # The benchmark database may not exist yet: the command creates it before any query.
    requires_system_checks = []
    requires_migrations_checks = False

    def add_arguments(self, parser):
        parser.add_argument(
            "--scale", default="L", choices=["XS", "S", "M", "L"], help="data size (default L; XS proves it runs)"
        )
        parser.add_argument("--rounds", type=int, default=30, help="requests per page (default 30)")
        parser.add_argument("--password", default="bench-demo-password", help="password of the demo users")
        parser.add_argument("--output", type=Path, help="results file (default var/bench/results-SCALE.json)")
        parser.add_argument(
            "--only", choices=["pages", "reports"], help="measure only the pages and API, or only report compilation"
        )

    def handle(self, *args, scale, rounds, password, only, output, **options):
        if connection.vendor != "postgresql" or not settings.REDIS_URL:
            raise CommandError("The benchmark measures PostgreSQL with Redis: set DATABASE_URL and REDIS_URL.")
        if rounds < 2:
            raise CommandError("--rounds: at least 2")
        log = self.stdout.write
        database = connection.settings_dict
        credentials = quote(database["USER"], safe="") + (
            f":{quote(database['PASSWORD'], safe='')}" if database["PASSWORD"] else ""
        )
        database_url = f"postgres://{credentials}@{database['HOST']}:{database['PORT'] or 5432}/{database['NAME']}"
        self.stdout.write(f"Scale {scale}: preparing its database (the first run loads the demo data)")
        benchmark.prepare(database_url, scale, password, log)
        results = {"scale": scale, "measured_at": datetime.datetime.now(datetime.UTC).isoformat()}
        if only != "reports":
            with benchmark.server(database_url, settings.REDIS_URL, log) as base:
                results["pages"] = benchmark.run_pages(base, password, rounds, log)
        if only != "pages":
            log("Progress reports, compiled in a process of their own")
            results["reports"] = benchmark.run_reports(database_url, log)
        path = output or settings.VAR_DIR / "bench" / f"results-{scale}.json"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(results, indent=2))
        measured = results.get("pages", []) + results.get("reports", [])
        missed = [row["name"] for row in measured if row.get("met") is False]
        log(f"Results written to {path}")
        if missed:
            raise CommandError(f"Target missed: {', '.join(missed)}")
        log(self.style.SUCCESS("Every target met."))
