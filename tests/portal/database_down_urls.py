"""The portal's addresses and two whose database is gone, to see how that is answered."""

from django.db import OperationalError
from django.urls import path

from portal.urls import urlpatterns as portal_urlpatterns


def database_gone(request):
    # What psycopg raises on a connection the server closed (a restart).
    raise OperationalError("server closed the connection unexpectedly")


urlpatterns = [path("api/v1/database-gone/", database_gone), path("database-gone/", database_gone), *portal_urlpatterns]
handler404 = "portal.views.not_found"
handler500 = "portal.views.server_error"
