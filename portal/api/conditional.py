"""HTTP mechanics the write endpoints share: idempotency keys and version ETags."""

import functools
import re

from django.utils.translation import gettext as _

from portal.errors import InvalidInput, PreconditionRequired
from portal.idempotency import fingerprint, replay_or_run

IDEMPOTENCY_HEADER = "Idempotency-Key"
# The key's rule, checked here and published in the schema: printable ASCII (space to tilde). Printable
# ASCII only: a header carries Latin-1 at best, and a key that one client library sends as UTF-8 and
# another as Latin-1 would not match its retry.
IDEMPOTENCY_KEY_PATTERN = r"^[ -~]{1,255}$"


def etag(version: int) -> str:
    return f'"{version}"'


def expected_version(request) -> int:
    """Read the version a client last saw from ``If-Match``; -1 when it names none, which never matches."""
    header = request.headers.get("If-Match")
    if not header:
        raise PreconditionRequired(
            _("Send If-Match with the update's ETag (from its last GET) so that a newer edit is not overwritten."),
            field="If-Match",
        )
    value = header.strip().removeprefix("W/").strip('"')
    return int(value) if value.isdigit() and len(value) < 10 else -1


def request_fingerprint(request) -> str:
    if request.content_type.startswith("multipart/"):
        parts = [f"{name}={value}" for name, value in sorted(request.POST.items())]
        for name, upload in sorted(request.FILES.items()):
            parts.append(name)
            parts.extend(upload.chunks())
            upload.seek(0)
        return fingerprint(request.method, request.path, *parts)
    return fingerprint(request.method, request.path, request.body)


def idempotent(handler=None, *, authorize=None):
    """Make a POST handler answer a retried ``Idempotency-Key`` with its first answer.

    ``authorize(view, request, *args, **kwargs)`` runs first, and raises to refuse: one whose role or office
    may not make the call learns that (403, or 404 for what it may not see), not what its key lacks (400)
    nor that the key went with another request (422)."""
    if handler is None:
        return functools.partial(idempotent, authorize=authorize)

    @functools.wraps(handler)
    def wrapper(view, request, *args, **kwargs):
        if authorize is not None:
            authorize(view, request, *args, **kwargs)
        key = request.headers.get(IDEMPOTENCY_HEADER)
        if key is None:
            return handler(view, request, *args, **kwargs)
        if not re.fullmatch(IDEMPOTENCY_KEY_PATTERN, key):
            raise InvalidInput(
                _("Idempotency-Key must be 1 to 255 printable ASCII characters (space to ~)."),
                field=IDEMPOTENCY_HEADER,
            )
        return replay_or_run(
            user=request.user,
            key=key,
            request_fingerprint=request_fingerprint(request),
            run=lambda: handler(view, request, *args, **kwargs),
        )

    return wrapper
