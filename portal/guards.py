"""Refuse hostile requests before any view reads them: a NUL in the address, a body beyond what any
page or API call takes. Each is answered with a clear message and its status, never a 500."""

from urllib.parse import unquote

from django.conf import settings
from django.http import JsonResponse
from django.shortcuts import render
from django.utils.translation import gettext as _

# Above the largest evidence file, room for the form's other fields and the multipart framing.
MULTIPART_MARGIN = 1024 * 1024


def _answer(request, status: int, message: str, code: str):
    if request.path.startswith("/api/"):
        return JsonResponse({"detail": message, "code": code}, status=status)
    return render(request, "400.html", {"status": status, "message": message}, status=status)


class RequestGuardMiddleware:
    """Answer 400 to an address or query holding a NUL (PostgreSQL refuses one in any text), and 413 to a
    body larger than the largest upload, before it is read.

    It stands after the user is known (the refusal is a page of the portal), and before any view or the
    CSRF check reads the body."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if "\x00" in request.path or "\x00" in unquote(request.META.get("QUERY_STRING", "")):
            return _answer(request, 400, _("The address holds a NUL character, which no code or value has."), "nul")
        limit = settings.EVIDENCE_MAX_BYTES + MULTIPART_MARGIN
        try:
            length = int(request.META.get("CONTENT_LENGTH") or 0)
        except ValueError:
            length = 0
        if length > limit:
            return _answer(
                request,
                413,
                _("The request is %(length)d bytes; the portal takes at most %(limit)d.")
                % {"length": length, "limit": limit},
                "too_large",
            )
        return self.get_response(request)
