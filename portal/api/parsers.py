from django.conf import settings
from django.utils.translation import gettext as _
from rest_framework import status
from rest_framework.exceptions import APIException, ParseError
from rest_framework.parsers import JSONParser


class BodyTooLarge(APIException):
    status_code = status.HTTP_413_REQUEST_ENTITY_TOO_LARGE
    default_code = "too_large"


class LimitedJSONParser(JSONParser):
    """Parse JSON, refusing a body larger than ``API_MAX_BODY_BYTES`` before reading it all."""

    def parse(self, stream, media_type=None, parser_context=None):
        limit = settings.API_MAX_BODY_BYTES
        request = (parser_context or {}).get("request")
        length = int(request.META.get("CONTENT_LENGTH") or 0) if request is not None else 0
        if length > limit:
            raise BodyTooLarge(
                _("The JSON body is %(length)d bytes; the limit is %(limit)d.") % {"length": length, "limit": limit}
            )
        try:
            return super().parse(stream, media_type, parser_context)
        except RecursionError:
            # JSON nested deeper than Python parses: refused as the malformed body it is.
            raise ParseError(_("The JSON body is nested too deeply.")) from None
