"""Refuse hostile requests before any view reads them: a NUL in the address, a credential in the query
string, a body beyond what any page or API call takes. Each is answered with a clear message and its
status, never a 500."""

import copy
import logging
import re
from urllib.parse import unquote, unquote_plus

from django.conf import settings
from django.http import JsonResponse
from django.shortcuts import render
from django.utils.translation import gettext as _

# Above the largest evidence file, room for the form's other fields and the multipart framing.
MULTIPART_MARGIN = 1024 * 1024

# Query parameters that carry a credential, by name, whatever the case. An address is written to access
# logs, browser history and the Referer of the next request: the API takes a token in the Authorization
# header only, and refuses one in the address rather than let a client learn the unsafe habit.
CREDENTIAL_PARAMETERS = frozenset(
    {"token", "access_token", "auth_token", "api_token", "api_key", "apikey", "key", "authorization", "password",
     "secret"}
)  # fmt: skip
REDACTED = "[redacted]"
# A name=value pair of a query string, at its start or after ?, & or ; (as a log line shows it).
_QUERY_PAIR = re.compile(r"(?:^|(?<=[?&;]))([^=&;?\s\"#]*)=([^&;\s\"#]*)")


def _is_credential(name: str) -> bool:
    return unquote_plus(name).strip().lower() in CREDENTIAL_PARAMETERS


def redact_credentials(text: str) -> str:
    """Replace the value of every credential parameter in the query strings ``text`` holds."""
    return _QUERY_PAIR.sub(
        lambda pair: f"{pair[1]}={REDACTED}" if _is_credential(pair[1]) else pair[0],
        text,
    )


class RedactCredentials(logging.Filter):
    """Keep credentials given in a query string out of a log line: the access logs of the development
    server (``django.server``) and of gunicorn (``gunicorn.access``) write the address as it came."""

    def filter(self, record):
        if isinstance(record.msg, str):
            record.msg = redact_credentials(record.msg)
        if isinstance(record.args, dict):
            record.args = _redacted_mapping(record.args)
        elif isinstance(record.args, tuple):
            record.args = tuple(_redacted(value) for value in record.args)
        return True


def _redacted_mapping(args: dict) -> dict:
    """A copy of ``args`` of its own type with each value redacted: gunicorn's access log passes its atoms as a
    SafeAtoms, a dict that answers "-" for an atom the request lacks (a header, ``%({x-forwarded-for}i)s``)
    and reads header atoms whatever their case; a plain dict would raise KeyError and lose the line."""
    redacted = copy.copy(args)  # the same class, its __init__ not run again (SafeAtoms' escapes quotes)
    for key, value in args.items():
        dict.__setitem__(redacted, key, _redacted(value))
    return redacted


def _redacted(value):
    return redact_credentials(value) if isinstance(value, str) else value


def _credential_in_query(request) -> str | None:
    """Name the first credential parameter of the query string, and blank its value in the request, so that
    nothing written about the request afterwards (Django's log of the 400, its repr) holds it."""
    query = request.META.get("QUERY_STRING", "")
    names = [name for name in request.GET if _is_credential(name)]
    if not names:
        return None
    request.META["QUERY_STRING"] = redact_credentials(query)
    request.__dict__.pop("GET", None)
    return names[0]


def refusal(request, status: int, message: str, code: str, template: str = "400.html"):
    """JSON under the API (its clients read JSON), the portal's page elsewhere."""
    if request.path.startswith("/api/"):
        return JsonResponse({"detail": message, "code": code}, status=status)
    return render(request, template, {"status": status, "message": message}, status=status)


class RequestGuardMiddleware:
    """Answer 400 to an address or query holding a NUL (PostgreSQL refuses one in any text), and 413 to a
    body larger than the largest upload, before it is read.

    It stands after the user is known (the refusal is a page of the portal), and before any view or the
    CSRF check reads the body."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if "\x00" in request.path or "\x00" in unquote(request.META.get("QUERY_STRING", "")):
            return refusal(request, 400, _("The address holds a NUL character, which no code or value has."), "nul")
        credential = _credential_in_query(request)
        if credential is not None:
            return refusal(
                request,
                400,
                _(
                    "The query parameter %(name)s looks like a credential: an address is logged and kept in "
                    "history. Send the token in the Authorization header (Authorization: Token <key>) and "
                    "never in the address."
                )
                % {"name": credential},
                "credential_in_query",
            )
        limit = settings.EVIDENCE_MAX_BYTES + MULTIPART_MARGIN
        try:
            length = int(request.META.get("CONTENT_LENGTH") or 0)
        except ValueError:
            length = 0
        if length > limit:
            return refusal(
                request,
                413,
                _("The request is %(length)d bytes; the portal takes at most %(limit)d.")
                % {"length": length, "limit": limit},
                "too_large",
            )
        return self.get_response(request)
