"""Pieces of the OpenAPI description that the generator cannot see: error bodies and headers."""

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse
from rest_framework import serializers

from portal.api.conditional import IDEMPOTENCY_KEY_PATTERN


class ErrorSerializer(serializers.Serializer):
    detail = serializers.CharField(help_text="What is wrong, in a sentence")
    code = serializers.CharField(required=False, help_text="The rule that refused the request")


class StaleErrorSerializer(ErrorSerializer):
    current_version = serializers.IntegerField()


ERROR_MEANINGS = {
    400: "Invalid request: the body names each field at fault",
    401: "No token, or a token that is unknown, revoked or expired",
    403: "Not allowed to you",
    404: "Unknown, or not visible to you",
    409: "Locked period, wrong state, or the row already exists",
    410: "Asked from before the deletions the portal still remembers: synchronise in full",
    412: "Stale: the update changed since your If-Match version",
    413: "Body or file too large",
    415: "Refused file type",
    422: "Idempotency-Key reused with another request",
    428: "If-Match missing",
    429: "Throttled: wait Retry-After seconds",
    503: "The file store refused the file, or does not answer: try again after Retry-After seconds",
}


def errors(*codes: int) -> dict:
    """Describe the error answers an endpoint gives, besides those every endpoint gives: 400 (a NUL in the
    address or query, refused before any view by ``portal.guards``), 401 and 429."""
    described = {}
    for code in sorted({*codes, 400, 401, 429}):
        serializer = StaleErrorSerializer if code == 412 else OpenApiTypes.OBJECT if code == 400 else ErrorSerializer
        described[code] = OpenApiResponse(serializer, description=ERROR_MEANINGS[code])
    return described


IDEMPOTENCY_KEY = OpenApiParameter(
    "Idempotency-Key",
    {"type": "string", "minLength": 1, "maxLength": 255, "pattern": IDEMPOTENCY_KEY_PATTERN},
    OpenApiParameter.HEADER,
    required=False,
    description=(
        "Optional; 1 to 255 printable ASCII characters (space to `~`), unique per request, e.g. a UUID. "
        "Kept per user for 48 hours. A retry with the same key, to the same address and with the same body, "
        "is not run again: it returns the first successful answer (same status, body, `ETag` and `Location`) "
        "with the header `Idempotent-Replayed: true`, and never makes a second row. The same key with another "
        "body or address answers 422. An answer that was an error is not kept: a retry runs afresh. "
        "A key that breaks these rules answers 400."
    ),
)
IF_MATCH = OpenApiParameter(
    "If-Match",
    {"type": "string", "minLength": 1},
    OpenApiParameter.HEADER,
    required=True,
    description='Required: the ETag of the update as you last read it, e.g. "3". Missing, the answer is 428; '
    "stale (the update changed since), 412 with the current version.",
)
REPLAYED_HEADER = OpenApiParameter(
    "Idempotent-Replayed",
    {"type": "string", "enum": ["true"]},
    OpenApiParameter.HEADER,
    response=[200, 201],
    description="Present, and true, when this answer repeats the first answer to the same Idempotency-Key",
)
# The parameters of an operation that takes an Idempotency-Key: the request header and the answer's.
IDEMPOTENT = [IDEMPOTENCY_KEY, REPLAYED_HEADER]
