"""Audit the pinned dependencies against the advisory database, and say plainly what was audited.

pip-audit prints "No known vulnerabilities found" even when it could audit nothing: on a
closed network, or behind a mirror that does not serve PyPI's JSON API, every package is
skipped and the line still reads as a clean bill. This wrapper reads pip-audit's JSON and
states how many packages were checked; when none were, it says so instead of passing
silently. A known vulnerability fails the run (pass ``--ignore-vuln ID`` through, with the
reason in the Makefile, to accept one knowingly).
"""

import json
import subprocess
import sys
from pathlib import Path

PIP_AUDIT = Path(sys.executable).with_name("pip-audit")


def run_pip_audit(requirements: str, extra: list[str]) -> tuple[dict | None, str]:
    """Run pip-audit on the pinned requirements; return its JSON report (None if it failed) and its stderr."""
    command = [str(PIP_AUDIT), "-r", requirements, "--no-deps", "--disable-pip", "--progress-spinner", "off"]
    command += ["--format", "json", *extra]
    result = subprocess.run(command, capture_output=True, text=True, timeout=300, check=False)  # noqa: S603
    try:
        return json.loads(result.stdout), result.stderr
    except json.JSONDecodeError:
        return None, result.stderr


def summarise(report: dict | None, stderr: str = "") -> tuple[list[str], int]:
    """Turn pip-audit's report into the lines to print and the exit status."""
    if report is None:
        reason = next((line for line in reversed(stderr.splitlines()) if line.strip()), "no output")
        return [f"Dependency audit NOT DONE: the advisory source could not be reached ({reason[:200]})."], 0
    dependencies = report.get("dependencies", [])
    skipped = [d for d in dependencies if "skip_reason" in d]
    audited = [d for d in dependencies if "skip_reason" not in d]
    if not audited:
        return [
            f"Dependency audit NOT DONE: the advisory source answered for none of the {len(dependencies)} "
            "pinned packages, so nothing was checked (a closed network or a mirror without PyPI's JSON API).",
        ], 0
    lines = []
    vulnerable = [d for d in audited if d.get("vulns")]
    for dependency in vulnerable:
        for vuln in dependency["vulns"]:
            fixed = ", ".join(vuln.get("fix_versions") or []) or "no fixed release"
            lines.append(f"VULNERABLE {dependency['name']} {dependency['version']}: {vuln['id']} (fixed in {fixed})")
    if skipped:
        names = ", ".join(sorted(d["name"] for d in skipped))
        lines.append(f"Not audited ({len(skipped)}): {names}.")
    verdict = f"{len(vulnerable)} with a known vulnerability" if vulnerable else "no known vulnerability"
    lines.append(f"Dependency audit: {len(audited)} of {len(dependencies)} pinned packages checked, {verdict}.")
    return lines, 1 if vulnerable else 0


def main(argv: list[str]) -> int:
    requirements, *extra = argv or ["requirements.txt"]
    lines, status = summarise(*run_pip_audit(requirements, extra))
    print("\n".join(lines))
    return status


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
