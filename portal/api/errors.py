"""Answer every API error as JSON that names the field or the rule."""

from django.core.exceptions import RequestDataTooBig
from django.utils.translation import gettext as _
from rest_framework import status
from rest_framework.response import Response
from rest_framework.views import exception_handler as drf_exception_handler

from portal.errors import DomainError


def exception_handler(exc, context):
    if isinstance(exc, DomainError):
        body = {"detail": exc.message, "code": exc.code, **exc.extra}
        if exc.field:
            body[exc.field] = [exc.message]
        retry_after = getattr(exc, "retry_after", None)
        return Response(body, status=exc.status, headers={"Retry-After": str(retry_after)} if retry_after else None)
    if isinstance(exc, RequestDataTooBig):
        return Response(
            {"detail": _("The request body is larger than this API accepts."), "code": "too_large"},
            status=status.HTTP_413_REQUEST_ENTITY_TOO_LARGE,
        )
    response = drf_exception_handler(exc, context)
    if response is not None and isinstance(response.data, dict) and "detail" in response.data:
        code = getattr(response.data["detail"], "code", None)
        if code:
            response.data["code"] = code
    return response
