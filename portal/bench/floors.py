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

from collections import defaultdict

from django.contrib.auth.decorators import login_required
from django.db.models import F
from django.http import JsonResponse
from django.urls import path
from django.utils.dateparse import parse_datetime
from rest_framework import serializers
from rest_framework.generics import ListAPIView
from rest_framework.response import Response
from rest_framework.views import APIView

from actionplan.api.serializers import ActivitySerializer, UpdateSerializer
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


class ValuesOf:
    """Read what a model serializer shows of a page of rows with ``values()``, and nothing else.

    Built from the serializer's own fields, so that the floor shows the same columns as the API
    whatever the serializer comes to hold: model fields and paths through foreign keys
    (``source="activity.code"``) in the page's query; slugs of a many-to-many relation in one
    query per relation; a nested list of a reverse foreign key (an update's measurements) in one
    query per list. A field of another kind (a method) stops the benchmark: its floor would be
    wrong.
    """

    def __init__(self, serializer_class: type[serializers.ModelSerializer]):
        self.model = serializer_class.Meta.model
        self.names, self.columns, self.many, self.nested = [], {}, {}, {}
        for name, field in serializer_class().fields.items():
            self.names.append(name)
            if isinstance(field, serializers.ManyRelatedField):
                relation = self.model._meta.get_field(field.source)
                self.many[name] = (relation, field.child_relation.slug_field)
            elif isinstance(field, serializers.ListSerializer):
                self.nested[name] = (self.model._meta.get_field(field.source), ValuesOf(type(field.child)))
            elif isinstance(field, serializers.SerializerMethodField):
                raise TypeError(f"{serializer_class.__name__}.{name}: a method field has no values() floor")
            else:
                # Aliased: values() refuses an expression named like a field (activity=F("activity__code")).
                self.columns[name] = F(field.source.replace(".", "__"))

    def query(self, queryset, **extra):
        """The page's query: the plain and foreign-key columns, and the primary key to join the rest on."""
        return queryset.values(_pk=F("pk"), **{f"_{name}": column for name, column in self.columns.items()}, **extra)

    def rows(self, page) -> list[dict]:
        """The page as the serializer would show it, from the rows ``query`` read."""
        keys = [row["_pk"] for row in page]
        extra = {name: self._many(keys, *spec) for name, spec in self.many.items()}
        extra |= {name: self._nested(keys, *spec) for name, spec in self.nested.items()}
        return [
            {name: row[f"_{name}"] if name in self.columns else extra[name].get(row["_pk"], []) for name in self.names}
            for row in page
        ]

    def _many(self, keys, relation, slug_field) -> dict:
        through = relation.remote_field.through
        own, other = relation.m2m_field_name(), relation.m2m_reverse_field_name()
        found = defaultdict(list)
        for key, slug in through.objects.filter(**{f"{own}__in": keys}).values_list(
            f"{own}_id", f"{other}__{slug_field}"
        ):
            found[key].append(slug)
        return found

    def _nested(self, keys, relation, child) -> dict:
        parent = relation.field.name
        found = defaultdict(list)
        rows = list(
            child.query(child.model.objects.filter(**{f"{parent}__in": keys}).order_by("pk"), _parent=F(parent))
        )
        for row, shown in zip(rows, child.rows(rows), strict=True):
            found[row["_parent"]].append(shown)
        return found


class ValuesList(ListAPIView):
    """A list of the API's rows for the user, paged as the API pages them, read with ``values()``."""

    filter_backends = []
    values: ValuesOf

    def list(self, request, *args, **kwargs):
        page = self.paginate_queryset(self.values.query(self.get_queryset()))
        return self.get_paginated_response(self.values.rows(page))


class ActivityRows(ValuesList):
    values = ValuesOf(ActivitySerializer)

    def get_queryset(self):
        return Activity.objects.visible_to(self.request.user).order_by("code")


class UpdateRows(ValuesList):
    values = ValuesOf(UpdateSerializer)

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
