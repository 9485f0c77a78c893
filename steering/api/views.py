"""The reports API: list, read and download reports; ask for one."""

import django_filters
from django.db.models import Prefetch
from django.urls import reverse
from django.utils.translation import gettext as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema, extend_schema_view
from rest_framework import mixins, status, viewsets
from rest_framework.decorators import action
from rest_framework.response import Response

from actionplan.filters import UpdatedSinceFilterSet
from portal.api.schema import errors
from portal.api.throttling import ReportRequestThrottle, UserRateThrottle
from portal.errors import WrongState
from steering.models import ProgressReport, Signature, SignOff
from steering.reports import languages, renderings, services
from steering.reports.files import download
from steering.selectors import current_plan_or_404

from . import serializers as s

# The endorsement's rounds, each with its signatures and their signers: two queries per page.
SIGNOFFS = Prefetch(
    "signoffs",
    queryset=SignOff.objects.prefetch_related(
        Prefetch("signatures", queryset=Signature.objects.select_related("signer").order_by("signed_at"))
    ),
)


class ReportFilter(UpdatedSinceFilterSet):
    period = django_filters.CharFilter(field_name="period__code")
    focus_area = django_filters.CharFilter(field_name="focus_area__code", label="Focus area code")
    # Strict: django-filter's BooleanFilter reads anything it does not know ("-890175") as no filter at all.
    whole_plan = django_filters.TypedChoiceFilter(
        choices=[("true", "true"), ("false", "false")],
        coerce=lambda value: value == "true",
        field_name="focus_area",
        lookup_expr="isnull",
        label="Whole-plan reports",
    )
    state = django_filters.ChoiceFilter(choices=ProgressReport.State.choices)

    class Meta:
        model = ProgressReport
        fields = ["period", "focus_area", "whole_plan", "state", "updated_since"]


FILE = OpenApiResponse(OpenApiTypes.BINARY, description="The frozen file, in the language asked for")
RENDERING = OpenApiResponse(
    s.RenderingPendingSerializer,
    description=(
        "The report is not rendered in this language yet: it is being rendered now (from the same frozen "
        "snapshot). Ask again after the number of seconds in Retry-After."
    ),
)
RETRY_AFTER_SECONDS = 5
FILE_PARAMETERS = [
    OpenApiParameter(
        "language",
        OpenApiTypes.STR,
        OpenApiParameter.QUERY,
        required=False,
        description=(
            "The language of the file: en, fr, es, ar, ru or zh-hans. Left out, the language the report was "
            "asked in; an unknown or malformed code means English. A language not rendered yet answers 202."
        ),
    ),
    OpenApiParameter(
        "Retry-After",
        {"type": "string", "pattern": "^[0-9]+$"},
        OpenApiParameter.HEADER,
        response=[202],
        description="Seconds to wait before asking for the file again",
    ),
]


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
            .select_related("plan", "period", "focus_area", "version", "requested_by")
            .prefetch_related("renderings", SIGNOFFS)
            .defer("snapshot", "version__snapshot")
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
        """Ask for a report of a period, for the whole plan or one focus area, as the plan stands or as endorsed
        at one of its versions, in a language.

        An identical report queued or running is returned instead, and is rendered in the language
        asked for too.
        """
        # The role first: one who may not ask learns that, not what its body lacks.
        services.check_may_request(request.user)
        serializer = s.ReportRequestSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        plan = data["plan"] or current_plan_or_404()
        report, created = services.request_report(
            by=request.user,
            plan=plan,
            period=data["period"],
            focus_area=data["focus_area"],
            version=services.version_numbered(plan=plan, number=data["version"]),
            language=data.get("language") or languages.active(),
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
        params = self.request.query_params
        language = languages.or_english(params["language"]) if "language" in params else report.language
        stored = renderings.stored_file(report, language, kind)
        if stored:
            return download(self.request, report, stored)
        rendering = renderings.request_rendering(report=report, language=language)
        return Response(
            {
                "language": language,
                "state": rendering.state,
                "pdf": reverse("api:report-pdf", kwargs={"pk": report.pk}) + f"?language={language}",
                "xlsx": reverse("api:report-xlsx", kwargs={"pk": report.pk}) + f"?language={language}",
                "detail": _("The report is being rendered in this language; ask again in a few seconds."),
            },
            status=status.HTTP_202_ACCEPTED,
            headers={"Retry-After": str(RETRY_AFTER_SECONDS)},
        )

    @extend_schema(
        parameters=FILE_PARAMETERS,
        responses={(200, "application/pdf"): FILE, (202, "application/json"): RENDERING, **errors(404, 409, 503)},
    )
    @action(detail=True, methods=["get"])
    def pdf(self, request, pk=None):
        """Download the report's frozen PDF."""
        return self._file("pdf")

    @extend_schema(
        parameters=FILE_PARAMETERS,
        responses={
            (200, "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"): FILE,
            (202, "application/json"): RENDERING,
            **errors(404, 409, 503),
        },
    )
    @action(detail=True, methods=["get"])
    def xlsx(self, request, pk=None):
        """Download the report's frozen workbook."""
        return self._file("xlsx")
