"""The portal's addresses and two that fail, to see how a failure is answered."""

from django.urls import path

from portal.urls import urlpatterns as portal_urlpatterns


def fail(request):
    raise RuntimeError("a fault the portal did not foresee")


urlpatterns = [path("api/v1/failing/", fail), path("failing/", fail), *portal_urlpatterns]
handler404 = "portal.views.not_found"
handler500 = "portal.views.server_error"
