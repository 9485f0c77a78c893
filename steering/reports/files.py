"""Send a report's frozen files."""

from django.http import FileResponse

from audit import services as audit


def download(request, report, stored) -> FileResponse:
    """Log the download of the report's ``stored`` file, and answer with it as an attachment under its own name."""
    filename = stored.name.rsplit("/", 1)[-1]
    audit.record(request, audit.Kind.REPORT_DOWNLOAD, report, label=filename)
    return FileResponse(stored.open("rb"), as_attachment=True, filename=filename)
