"""Send a report's frozen files."""

from django.http import FileResponse


def download(stored) -> FileResponse:
    """Answer with the stored file as an attachment under its own name."""
    return FileResponse(stored.open("rb"), as_attachment=True, filename=stored.name.rsplit("/", 1)[-1])
