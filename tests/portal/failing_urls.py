"""The portal's addresses and some that fail or refuse, to see how a failure or a refusal is answered."""

from django.core.exceptions import PermissionDenied, SuspiciousOperation
from django.http import HttpResponse
from django.urls import path

from portal.urls import handler400, handler403, handler404, handler500  # noqa: F401 (Django reads them here)
from portal.urls import urlpatterns as portal_urlpatterns


def fail(request):
    raise RuntimeError("a fault the portal did not foresee")


def suspicious(request):
    raise SuspiciousOperation("something Django finds suspicious, which the client must not be told")


def refuse(request):
    raise PermissionDenied


def plain_form(request):
    """A view of Django's own (not DRF's, which exempts itself from Django's CSRF check), taking a POST."""
    return HttpResponse("taken")


urlpatterns = [
    *(path(f"{prefix}failing/", fail) for prefix in ("api/v1/", "")),
    *(path(f"{prefix}suspicious/", suspicious) for prefix in ("api/v1/", "")),
    *(path(f"{prefix}refused/", refuse) for prefix in ("api/v1/", "")),
    *(path(f"{prefix}plain-form/", plain_form) for prefix in ("api/v1/", "")),
    *portal_urlpatterns,
]
