"""Where a report's files are stored, how they are put in place, and sending them.

Files are rendered into a local temporary folder, then stored through the portal's file store
(``portal.storage``: the local disk or an S3 bucket) under the report's folder, so that a report
compiled by any worker is downloaded from any web node.
"""

import tempfile
from pathlib import Path

from django.conf import settings
from django.http import FileResponse
from django.utils.text import slugify

from audit import services as audit
from portal import storage


def report_directory(report_id) -> str:
    """The report's folder in the file store (a name, not a path on disk)."""
    return f"reports/{report_id}"


def remove_directory(report_id) -> None:
    """Remove the report's files from the store; one the store keeps for now is logged and left behind."""
    storage.delete_folder(report_directory(report_id))


def file_stem(report, language: str) -> str:
    """The name of the report's files without extension; a language other than English is named at the end."""
    scope = slugify(report.focus_area.code) if report.focus_area_id else "plan"
    suffix = "" if language == settings.LANGUAGE_CODE else f"-{language}"
    return f"progress-report-{slugify(report.period.code) or 'period'}-{scope}{suffix}"


def write(directory: str, name: str, render) -> str:
    """Render into a local temporary file, then store it as ``directory/name``, replacing what was there; return
    its stored name. Nothing half-rendered is ever stored."""
    with tempfile.TemporaryDirectory(prefix="report-") as scratch:
        rendered = Path(scratch) / name
        render(path=rendered)
        return storage.replace(f"{directory}/{name}", rendered)


def download(request, report, stored) -> FileResponse:
    """Log the download of the report's ``stored`` file, and answer with it as an attachment under its own name.

    The file is read from the store before anything is logged or sent: a store that is down answers 503.
    """
    handle = storage.open_for_download(stored)
    filename = stored.name.rsplit("/", 1)[-1]
    audit.record(request, audit.Kind.REPORT_DOWNLOAD, report, label=filename)
    return FileResponse(handle, as_attachment=True, filename=filename)
