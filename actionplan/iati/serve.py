"""Answer an export as a file, to the browser and the API alike."""

from django.http import FileResponse

from audit import services as audit

from . import export


def serve(request, *, focus_area: str | None, activity: str | None) -> FileResponse:
    """Refuse one who may not export, export the scope the request names, record it in the access log, and
    answer the file; a refusal is raised as the ``DomainError`` that says why."""
    export.check_may_export(request.user)
    scope = export.scope_of(user=request.user, focus_area=focus_area, activity=activity)
    done = export.export(scope=scope, user=request.user)
    audit.record(request, audit.Kind.EXPORT, object_type="IATI activities", object_id=done.filename)
    return FileResponse(done.file, as_attachment=True, filename=done.filename, content_type="application/xml")
