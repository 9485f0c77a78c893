"""Where a report's files are written, how they are moved into place, and sending them."""

import os
import uuid
from pathlib import Path

from django.conf import settings
from django.http import FileResponse
from django.utils.text import slugify

from audit import services as audit


def report_directory(report_id) -> Path:
    return Path(settings.MEDIA_ROOT) / "reports" / str(report_id)


def file_stem(report, language: str) -> str:
    """The name of the report's files without extension; a language other than English is named at the end."""
    scope = slugify(report.focus_area.code) if report.focus_area_id else "plan"
    suffix = "" if language == settings.LANGUAGE_CODE else f"-{language}"
    return f"progress-report-{slugify(report.period.code) or 'period'}-{scope}{suffix}"


def write(directory: Path, name: str, render) -> str:
    """Render to a temporary file beside the final one, then move it into place in one step."""
    directory.mkdir(parents=True, exist_ok=True)
    temporary = directory / f".{name}.{uuid.uuid4().hex}.tmp"
    try:
        render(path=temporary)
        os.replace(temporary, directory / name)
    finally:
        temporary.unlink(missing_ok=True)
    return (directory / name).relative_to(Path(settings.MEDIA_ROOT)).as_posix()


def download(request, report, stored) -> FileResponse:
    """Log the download of the report's ``stored`` file, and answer with it as an attachment under its own name."""
    filename = stored.name.rsplit("/", 1)[-1]
    audit.record(request, audit.Kind.REPORT_DOWNLOAD, report, label=filename)
    return FileResponse(stored.open("rb"), as_attachment=True, filename=filename)
