"""Browser assets: every file a template loads is found, and only those of the npm packages are collected."""

import re
from pathlib import Path

from django.contrib.staticfiles import finders

from portal.staticfinders import VendorFinder

TEMPLATES = Path(__file__).resolve().parents[2] / "templates"


def static_paths_in_templates() -> set[str]:
    return {
        path
        for template in TEMPLATES.rglob("*.html")
        for path in re.findall(r"""\{% static ['"]([^'"]+)['"] %\}""", template.read_text())
    }


def test_every_static_file_a_template_loads_is_found():
    paths = static_paths_in_templates()

    assert "vendor/chart.js/chart.umd.min.js" in paths
    assert [path for path in sorted(paths) if finders.find(path) is None] == []


def test_only_the_vendor_files_the_pages_load_are_collected():
    collected = {f"{storage.prefix}/{name}" for name, storage in VendorFinder().list([])}

    loaded = {path for path in static_paths_in_templates() if path.startswith("vendor/")}
    assert {path for path in collected if not path.endswith(".map")} == loaded
