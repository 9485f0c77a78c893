"""Pieces of the OpenAPI description that the generator cannot see: error bodies and headers."""

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse
from rest_framework import serializers


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
    412: "Stale: the update changed since your If-Match version",
    413: "Body or file too large",
    415: "Refused file type",
    422: "Idempotency-Key reused with another request",
    428: "If-Match missing",
    429: "Throttled: wait Retry-After seconds",
}


def errors(*codes: int) -> dict:
    """Describe the error answers an endpoint gives, besides 401 and 429 which every endpoint gives."""
    described = {}
    for code in sorted({*codes, 401, 429}):
        serializer = StaleErrorSerializer if code == 412 else OpenApiTypes.OBJECT if code == 400 else ErrorSerializer
        described[code] = OpenApiResponse(serializer, description=ERROR_MEANINGS[code])
    return described


IDEMPOTENCY_KEY = OpenApiParameter(
    "Idempotency-Key",
    {"type": "string", "minLength": 1, "maxLength": 255},
    OpenApiParameter.HEADER,
    description="Any unique string of 1 to 255 printable characters: a retry with the same key and body "
    "returns the first answer, never a second row",
)
IF_MATCH = OpenApiParameter(
    "If-Match",
    OpenApiTypes.STR,
    OpenApiParameter.HEADER,
    description='The ETag of the update as you last read it, e.g. "3"',
)
