"""The reports API: list, read and download reports; ask for one."""

import django_filters
from django.urls import reverse
from django.utils.translation import gettext as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiResponse, extend_schema, extend_schema_view
from rest_framework import mixins, status, viewsets
from rest_framework.decorators import action
from rest_framework.response import Response

from actionplan.filters import UpdatedSinceFilterSet
from portal.api.schema import errors
from portal.api.throttling import ReportRequestThrottle, UserRateThrottle
from portal.errors import WrongState
from steering.models import ProgressReport
from steering.reports import services
from steering.reports.files import download
from steering.selectors import current_plan_or_404

from . import serializers as s


class ReportFilter(UpdatedSinceFilterSet):
    period = django_filters.CharFilter(field_name="period__code")
    focus_area = django_filters.CharFilter(field_name="focus_area__code", label="Focus area code")
    whole_plan = django_filters.BooleanFilter(field_name="focus_area", lookup_expr="isnull", label="Whole-plan reports")
    state = django_filters.ChoiceFilter(choices=ProgressReport.State.choices)

    class Meta:
        model = ProgressReport
        fields = ["period", "focus_area", "whole_plan", "state", "updated_since"]


FILE = OpenApiResponse(OpenApiTypes.BINARY, description="The frozen file")


@extend_schema_view(
    list=extend_schema(responses={200: s.ReportSerializer(many=True), **errors(400, 404)}),
    retrieve=extend_schema(responses={200: s.ReportSerializer, **errors(404)}),
)
class ReportViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    """Progress reports: programme officers and the committee read them and ask for them."""

    serializer_class = s.ReportSerializer
    filterset_class = ReportFilter
    http_method_names = ["get", "post", "head", "options"]
    throttle_classes = [UserRateThrottle, ReportRequestThrottle]
    # Any path segment reaches the view, so that a malformed id is answered as JSON 404.
    lookup_value_regex = r"[^/]+"

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return ProgressReport.objects.none()
        return (
            ProgressReport.objects.visible_to(self.request.user)
            .select_related("plan", "period", "focus_area", "requested_by")
            .defer("snapshot")
            .order_by("-created_at", "pk")
        )

    @extend_schema(
        request=s.ReportRequestSerializer,
        responses={
            201: OpenApiResponse(s.ReportSerializer, description="Queued: it compiles in the background"),
            200: OpenApiResponse(s.ReportSerializer, description="An identical report is queued or running: that one"),
            **errors(400, 403),
        },
    )
    def create(self, request):
        """Ask for a report of a period, for the whole plan or one focus area."""
        # The role first: one who may not ask learns that, not what its body lacks.
        services.check_may_request(request.user)
        serializer = s.ReportRequestSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        plan = data["plan"] or current_plan_or_404()
        report, created = services.request_report(
            by=request.user, plan=plan, period=data["period"], focus_area=data["focus_area"]
        )
        report = self.get_queryset().get(pk=report.pk)
        return Response(
            s.ReportSerializer(report).data,
            status=status.HTTP_201_CREATED if created else status.HTTP_200_OK,
            headers={"Location": reverse("api:report-detail", kwargs={"pk": report.pk})},
        )

    def _file(self, kind):
        report = self.get_object()
        if report.state != ProgressReport.State.SUCCEEDED:
            raise WrongState(
                _("The report is %(state)s: its files exist once it has succeeded.")
                % {"state": report.get_state_display().lower()}
            )
        stored = getattr(report, kind)
        return download(self.request, report, stored)

    @extend_schema(responses={(200, "application/pdf"): FILE, **errors(404, 409)})
    @action(detail=True, methods=["get"])
    def pdf(self, request, pk=None):
        """Download the report's frozen PDF."""
        return self._file("pdf")

    @extend_schema(
        responses={(200, "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"): FILE, **errors(404, 409)}
    )
    @action(detail=True, methods=["get"])
    def xlsx(self, request, pk=None):
        """Download the report's frozen workbook."""
        return self._file("xlsx")
