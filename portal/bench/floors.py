"""The benchmark's floors: the least this server does for each kind of request the portal answers.

Served by the same gunicorn, through the same middleware, in the same run as the pages they are
compared with, so that each figure of the benchmark is also a ratio that does not depend on the
machine. ``portal.urls`` mounts them under ``/benchmark-floors/`` only when ``BENCHMARK_FLOORS``
is on, which only the benchmark's own server sets: a deployment never serves them.

- ``plain/``: a bare Django view;
- ``signed-in/``: a view behind ``login_required`` (the floor of every page);
- ``api/``: a DRF view with the API's own authentication, permission and throttle classes
  (the settings' defaults, as every API view has them), GET and POST;
- ``api/activities/``, ``api/updates/``: the rows and fields of the API's lists for the same
  user, page by page as the API pages them, read with ``values()`` alone.
"""

from django.contrib.auth.decorators import login_required
from django.http import JsonResponse
from django.urls import path
from django.utils.dateparse import parse_datetime
from rest_framework.generics import ListAPIView
from rest_framework.response import Response
from rest_framework.views import APIView

from actionplan.api.serializers import activity_rows, update_rows
from actionplan.models import Activity, ProgressUpdate


def plain(request):
    return JsonResponse({"ok": True})


@login_required
def signed_in(request):
    return JsonResponse({"user": request.user.get_username()})


class TokenThrottled(APIView):
    """Answer a GET, or take a JSON body, with the API's authentication and throttling and nothing else."""

    def get(self, request):
        return Response({"user": request.user.get_username()})

    def post(self, request):
        return Response(request.data, status=201)


class ValuesList(ListAPIView):
    """A list of the API's rows for the user, paged as the API pages them, read with ``values()`` by the
    API's own reader (``portal.api.rows``): the list without its filters and its access log."""

    filter_backends = []

    def list(self, request, *args, **kwargs):
        page = self.paginate_queryset(self.get_queryset().values_list("pk", flat=True))
        return self.get_paginated_response(self.rows().read(list(page)))


class ActivityRows(ValuesList):
    def rows(self):
        return activity_rows()

    def get_queryset(self):
        return Activity.objects.visible_to(self.request.user).order_by("code")


class UpdateRows(ValuesList):
    def rows(self):
        return update_rows()

    def get_queryset(self):
        updates = ProgressUpdate.objects.visible_to(self.request.user).order_by("updated_at", "id")
        since = parse_datetime(self.request.query_params.get("updated_since", ""))
        return updates.filter(updated_at__gte=since) if since else updates


urlpatterns = [
    path("plain/", plain),
    path("signed-in/", signed_in),
    path("api/", TokenThrottled.as_view()),
    path("api/activities/", ActivityRows.as_view()),
    path("api/updates/", UpdateRows.as_view()),
]
