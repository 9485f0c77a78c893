"""The benchmark's record: the machine and versions it ran on, and ``BENCHMARKS.md``.

``BENCHMARKS.md`` holds one generated section per scale, each between two marker comments
(``<!-- benchmark L begin -->`` … ``<!-- benchmark L end -->``): a run rewrites its own scale's
section and nothing else, so that the other scales' sections and every hand-written part (above
all "What limits each figure") stay as they are. A section missing is added in the order of
``portal.demo.SCALES``, before "What limits each figure".
"""

import contextlib
import importlib.metadata
import os
import platform
import re
from pathlib import Path

HEADER = """# Benchmarks

Figures of `make bench` (`manage.py benchmark`, `portal/bench/`): gunicorn with production
settings on 127.0.0.1, and beside each figure its floor, served by the same server in the
same run, so that the ratio does not depend on the machine. p50 and p95 are response times in
milliseconds; req/s counts every request of the measure over its wall time; the ratio is the
portal's p50 over the floor's p50 at the same number of users (a report's: its seconds over
its SQL's). Targets are issue 14's, at scale L; an API list's compares p95 with its floor's p95.

Each scale's section is generated between its marker comments and rewritten by the next run at
that scale; write anything else outside them.

"""

LIMITS = """## What limits each figure

_To be written by hand after the run at scale L: what each figure spends its time on (SQL,
serialisation, templates, the framework floor) and what would lower it._
"""

LIMITS_HEADING = "## What limits each figure"
# A section with the blank lines after it.
SECTION = re.compile(r"<!-- benchmark (\S+) begin -->\n.*?<!-- benchmark \1 end -->\n*", re.DOTALL)


def machine() -> dict:
    """The CPU, its cores and the memory of this machine (Linux's /proc where there is one)."""
    cpu, memory_mb = platform.processor() or platform.machine(), None
    with contextlib.suppress(OSError):
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    with contextlib.suppress(OSError):
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal:"):
                memory_mb = int(line.split()[1]) // 1024
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    return {"cpu": cpu, "cores": cores, "memory_mb": memory_mb, "system": platform.platform()}


def versions(redis_url: str) -> dict:
    """The versions of what serves the pages: Python, Django, DRF, PostgreSQL, Redis, gunicorn, psycopg2."""
    import django
    import psycopg2
    import redis
    import rest_framework
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("SHOW server_version")
        postgresql = cursor.fetchone()[0]
    try:
        redis_server = redis.Redis.from_url(redis_url).info("server")["redis_version"]
    except redis.RedisError:
        redis_server = "unknown"
    return {
        "python": platform.python_version(),
        "django": django.get_version(),
        "djangorestframework": rest_framework.VERSION,
        "postgresql": postgresql.split()[0],
        "redis": redis_server,
        "gunicorn": importlib.metadata.version("gunicorn"),
        "psycopg2": psycopg2.__version__.split()[0],
        "whitenoise": importlib.metadata.version("whitenoise"),
    }


def row_counts() -> dict:
    """How much data the scale holds, table by table."""
    from actionplan.models import Activity, Indicator, Measurement, ProgressUpdate, ReportingPeriod
    from portal.models import Office

    models = {
        "offices": Office,
        "activities": Activity,
        "indicators": Indicator,
        "periods": ReportingPeriod,
        "updates": ProgressUpdate,
        "measurements": Measurement,
    }
    return {name: model.objects.count() for name, model in models.items()}


def _number(value, digits=1) -> str:
    if value is None:
        return "—"
    if isinstance(value, int):
        return f"{value:,}"
    return f"{value:,.{digits}f}"


def _met(row: dict) -> str:
    if "met" not in row:
        return ""
    return "yes" if row["met"] else "**no**"


def _table(header: list[str], rows: list[list[str]]) -> str:
    lines = ["| " + " | ".join(header) + " |", "|" + "|".join("---" for _ in header) + "|"]
    lines += ["| " + " | ".join(cells) + " |" for cells in rows]
    return "\n".join(lines) + "\n"


def _timed_rows(rows: list[dict]) -> str:
    header = ["measure", "users", "p50 ms", "p95 ms", "req/s", "floor", "floor p50", "floor p95", "floor req/s"]
    header += ["ratio", "target", "met"]
    return _table(
        header,
        [
            [
                row["name"] + (f" (`{row['path']}`)" if row.get("path") and row["users"] == 1 else ""),
                str(row["users"]),
                _number(row["p50_ms"]),
                _number(row["p95_ms"]),
                _number(row["requests_per_second"]),
                row.get("floor", "—"),
                _number(row.get("floor_p50_ms")),
                _number(row.get("floor_p95_ms")),
                _number(row.get("floor_requests_per_second")),
                f"{row['ratio']}×" if "ratio" in row else "—",
                row.get("target", ""),
                _met(row),
            ]
            for row in rows
        ],
    )


def section(results: dict) -> str:
    """The Markdown of one run: where, what, and one table per section."""
    machine_, versions_, counts = results["machine"], results["versions"], results["data"]
    load = results["load_average"]
    memory = f"{machine_['memory_mb'] / 1024:.1f} GB memory" if machine_.get("memory_mb") else "memory unknown"
    lines = [
        f"## Scale {results['scale']}",
        "",
        f"- **date**: {results['measured_at'][:16].replace('T', ' ')} UTC; `{results['command']}`",
        f"- **machine**: {machine_['cpu']}, {machine_['cores']} cores, {memory}; {machine_['system']}",
        "- **versions**: " + ", ".join(f"{name} {version}" for name, version in versions_.items()),
        "- **data**: " + ", ".join(f"{_number(count)} {name}" for name, count in counts.items()),
        f"- **concurrency**: {results['concurrency']}",
        f"- **load average** (1, 5, 15 min): before {' / '.join(f'{v:.2f}' for v in load['before'])}, "
        f"after {' / '.join(f'{v:.2f}' for v in load['after'])}",
        "",
    ]
    if results.get("pages"):
        lines += ["### Pages", "", _timed_rows(results["pages"])]
    if results.get("api"):
        lines += ["### API", "", _timed_rows(results["api"])]
    if results.get("reports"):
        lines += ["### Reports", ""]
        lines.append(
            _table(
                ["report", "period", "seconds", "peak MB", "floor", "floor seconds", "ratio", "target", "met"],
                [
                    [
                        row["name"],
                        row["period"],
                        _number(row["seconds"]),
                        _number(row["peak_mb"]),
                        row.get("floor", "—"),
                        _number(row.get("floor_seconds"), 2),
                        f"{row['ratio']}×" if "ratio" in row else "—",
                        row.get("target", ""),
                        _met(row),
                    ]
                    for row in results["reports"]
                ],
            )
        )
    if results.get("floors"):
        lines += ["### Floors", ""]
        lines.append(
            _table(
                ["floor", "users", "p50 ms", "p95 ms", "req/s", "what"],
                [
                    [
                        row["name"],
                        str(row["users"]),
                        _number(row["p50_ms"]),
                        _number(row["p95_ms"]),
                        _number(row["requests_per_second"]),
                        f"{row['statements']} statements replayed with psycopg2"
                        if row["kind"] == "sql"
                        else f"`{row.get('path', '')}`" * bool(row.get("path")),
                    ]
                    for row in results["floors"]
                ],
            )
        )
    return "\n".join(lines)


def write(path: Path, results: dict, scales: list[str]) -> None:
    """Write the run's section into ``path``, keeping every other part of the file as it is."""
    scale = results["scale"]
    generated = f"<!-- benchmark {scale} begin -->\n{section(results).rstrip()}\n<!-- benchmark {scale} end -->\n"
    text = path.read_text() if path.exists() else HEADER + LIMITS
    sections = {match.group(1): match.group(0).rstrip("\n") + "\n" for match in SECTION.finditer(text)}
    sections[scale] = generated
    first = SECTION.search(text)
    if first is not None:
        at = first.start()
    elif LIMITS_HEADING in text:
        at = text.index(LIMITS_HEADING)
    else:
        at = len(text)
    order = {name: index for index, name in enumerate(scales)}
    ordered = sorted(sections, key=lambda name: (order.get(name, len(order)), name))
    body = "\n".join(sections[name] for name in ordered) + "\n"
    path.write_text(SECTION.sub("", text[:at]) + body + SECTION.sub("", text[at:]))
