"""Spreadsheet import of updates through the API: the runs, dry runs and summaries the browser's pages show.

``POST /api/v1/imports/`` keeps the file as a run and checks it (``dry_run``, the default) or imports it; a
small file's run is finished in the answer (201), a large one is queued for a worker (202): follow its
``url`` for its progress, then its summary. ``POST .../confirm/`` imports a checked file. The rules are
``actionplan.import_runs``'s, the same as the pages'.
"""

import django_filters
from django.http import Http404, HttpResponse
from django.shortcuts import get_object_or_404
from django.urls import reverse
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import (
    OpenApiParameter,
    OpenApiResponse,
    extend_schema,
    extend_schema_field,
    extend_schema_view,
)
from rest_framework import mixins, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.parsers import MultiPartParser
from rest_framework.renderers import JSONRenderer
from rest_framework.response import Response
from rest_framework.views import APIView

from actionplan import import_runs, imports
from actionplan.api.iati import JsonRefusals
from actionplan.filters import UpdatedSinceFilterSet
from actionplan.models import ImportRun, ReportingPeriod
from portal.api.conditional import idempotent
from portal.api.schema import IDEMPOTENCY_KEY, REPLAYED_HEADER, errors
from portal.models import Office


class ImportRequestSerializer(serializers.Serializer):
    file = serializers.FileField(help_text="The update template of an office and period (XLSX), filled in")
    dry_run = serializers.BooleanField(
        default=True,
        help_text="true (default): check the file and write nothing; confirm the run to import it. false: check "
        "and import in one go",
    )
    office = serializers.SlugRelatedField(
        slug_field="code",
        queryset=Office.objects.all(),
        required=False,
        help_text="Refuse a template of another office",
    )
    period = serializers.SlugRelatedField(
        slug_field="code", queryset=ReportingPeriod.objects.all(), required=False,
        help_text="Refuse a template of another period",
    )  # fmt: skip


class ImportRowSerializer(serializers.Serializer):
    row = serializers.IntegerField(help_text="The row's number in the sheet, as the spreadsheet shows it")
    activity = serializers.CharField(help_text="The activity code the row names")
    indicator = serializers.CharField(help_text="The indicator code the row names (empty: a row of the activity)")
    # Text, not an enum: the schema's enums named "status" collide.
    status = serializers.CharField(help_text=f"One of: {', '.join(imports.Status.ALL)}")
    reason = serializers.CharField(help_text="Why it was refused (or left unchanged: blank)")
    rule = serializers.CharField(
        help_text="The rule that refused it, e.g. period_locked, not_a_number; activity_refused: another row of "
        "the same activity was refused, and the activity's rows are imported together; blank: nothing filled in"
    )
    update = serializers.CharField(help_text="The update's id, when one is or was written")
    warnings = serializers.ListField(child=serializers.CharField())


class ImportSummarySerializer(serializers.Serializer):
    office = serializers.CharField()
    period = serializers.CharField()
    dry_run = serializers.BooleanField()
    counts = serializers.DictField(child=serializers.IntegerField(), help_text="Rows by status")
    rows = ImportRowSerializer(many=True, help_text="Every row of the sheet that names an activity or holds a value")


class ProgressSerializer(serializers.Serializer):
    done = serializers.IntegerField(help_text="Rows checked or imported so far")
    total = serializers.IntegerField(help_text="Rows of the sheet")


class ImportRunSerializer(serializers.ModelSerializer):
    url = serializers.SerializerMethodField()
    page = serializers.SerializerMethodField(help_text="The run's page in the browser")
    summary_csv = serializers.SerializerMethodField(help_text="The summary as CSV; null until the run finished")
    confirm = serializers.SerializerMethodField(help_text="POST here to import a checked file; null otherwise")
    user = serializers.CharField(source="user.username", read_only=True)
    office = serializers.CharField(source="office.code", read_only=True)
    period = serializers.CharField(source="period.code", read_only=True)
    state = serializers.ChoiceField(
        choices=ImportRun.State.choices,
        help_text="checking: a dry run queued or running; checked: its summary is ready, confirm to import; "
        "importing: queued or running; imported: done; failed: see error",
    )
    progress = serializers.SerializerMethodField()

    class Meta:
        model = ImportRun
        fields = ["id", "url", "page", "user", "office", "period", "state", "progress", "error", "created_at",
                  "updated_at", "imported_at", "confirm", "summary_csv"]  # fmt: skip

    def get_url(self, run) -> str:
        return reverse("api:import-detail", kwargs={"pk": run.pk})

    def get_page(self, run) -> str:
        return reverse("import-detail", kwargs={"pk": run.pk})

    def get_summary_csv(self, run) -> str | None:
        return None if run.is_in_progress() else reverse("api:import-summary-csv", kwargs={"pk": run.pk})

    def get_confirm(self, run) -> str | None:
        return reverse("api:import-confirm", kwargs={"pk": run.pk}) if run.state == ImportRun.State.CHECKED else None

    @extend_schema_field(ProgressSerializer)
    def get_progress(self, run) -> dict:
        return {"done": run.rows if not run.is_in_progress() else run.done, "total": run.rows}


class ImportRunDetailSerializer(ImportRunSerializer):
    summary = serializers.SerializerMethodField(
        help_text="A line per row of the sheet; null while the run is queued or running. A failed import lists "
        "the rows it imported before it stopped (none were imported from the others)"
    )

    class Meta(ImportRunSerializer.Meta):
        fields = [*ImportRunSerializer.Meta.fields, "summary"]

    @extend_schema_field(ImportSummarySerializer(allow_null=True))
    def get_summary(self, run) -> dict | None:
        return None if run.is_in_progress() else run.summary


class ImportRunFilter(UpdatedSinceFilterSet):
    state = django_filters.ChoiceFilter(choices=ImportRun.State.choices)
    office = django_filters.CharFilter(field_name="office__code", label="Office code")
    period = django_filters.CharFilter(field_name="period__code", label="Reporting period code")

    class Meta:
        model = ImportRun
        fields = ["state", "office", "period", "updated_since"]


QUEUED = "Queued for a worker: GET the run (Location) for its progress, then its summary"
# A queued run's answer (202) is replayed too.
IDEMPOTENT = [
    IDEMPOTENCY_KEY,
    OpenApiParameter(REPLAYED_HEADER.name, REPLAYED_HEADER.type, OpenApiParameter.HEADER, response=[200, 201, 202],
                     description=REPLAYED_HEADER.description),
]  # fmt: skip


@extend_schema_view(
    list=extend_schema(responses={200: ImportRunSerializer(many=True), **errors(400, 404)}),
    retrieve=extend_schema(responses={200: ImportRunDetailSerializer, **errors(404)}),
)
class ImportRunViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    """Spreadsheet imports of updates: your own (a programme officer's: everyone's)."""

    parser_classes = [MultiPartParser]
    filterset_class = ImportRunFilter
    http_method_names = ["get", "post", "head", "options"]
    # Any path segment reaches the view, so that a malformed id is answered as JSON 404.
    lookup_value_regex = r"[^/.]+"

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return ImportRun.objects.none()
        runs = ImportRun.objects.visible_to(self.request.user).select_related("user", "office", "period")
        if self.action == "list":
            runs = runs.defer("summary")
        return runs.order_by("-created_at", "-pk")

    def get_serializer_class(self):
        return ImportRunSerializer if self.action == "list" else ImportRunDetailSerializer

    def _answer(self, held: ImportRun, finished: int) -> Response:
        held = self.get_queryset().get(pk=held.pk)
        return Response(
            ImportRunDetailSerializer(held).data,
            status=status.HTTP_202_ACCEPTED if held.is_in_progress() else finished,
            headers={"Location": reverse("api:import-detail", kwargs={"pk": held.pk})},
        )

    @extend_schema(
        request={"multipart/form-data": ImportRequestSerializer},
        responses={
            201: OpenApiResponse(ImportRunDetailSerializer, description="Checked (or imported): its summary"),
            202: OpenApiResponse(ImportRunDetailSerializer, description=QUEUED),
            **errors(400, 403, 413, 415, 422, 503),
        },
        parameters=IDEMPOTENT,
    )
    @idempotent
    def create(self, request):
        """Upload a filled-in update template: check it (dry run, the default) or import it (dry_run=false).

        Files of up to IMPORT_INLINE_ROWS rows are answered with the run finished and its summary (201); larger
        ones are queued (202). A template of another office, period or plan version is refused whole."""
        given = ImportRequestSerializer(data=request.data)
        given.is_valid(raise_exception=True)
        data = given.validated_data
        held = import_runs.receive(by=request.user, upload=data["file"], dry_run=data["dry_run"],
                                   office=data.get("office"), period=data.get("period"))  # fmt: skip
        return self._answer(held, status.HTTP_201_CREATED)

    @extend_schema(
        request=None,
        responses={
            200: OpenApiResponse(ImportRunDetailSerializer, description="Imported: the import's summary"),
            202: OpenApiResponse(ImportRunDetailSerializer, description=QUEUED),
            **errors(403, 404, 409, 422),
        },
        parameters=IDEMPOTENT,
    )
    @action(detail=True, methods=["post"])
    @idempotent
    def confirm(self, request, pk=None):
        """Import a checked file (a finished dry run), once; only who uploaded it may (409 if the run is not a
        finished dry run)."""
        held = import_runs.confirm(by=request.user, held=self.get_object())
        return self._answer(held, status.HTTP_200_OK)


class ImportSummaryCsvView(APIView):
    renderer_classes = [JSONRenderer]
    content_negotiation_class = JsonRefusals

    @extend_schema(
        operation_id="imports_summary_csv",
        responses={
            (200, "text/csv"): OpenApiResponse(OpenApiTypes.STR, description="A line per row of the sheet"),
            **errors(404, 409),
        },
    )
    def get(self, request, pk):
        """Download a run's summary as CSV (once the run has finished)."""
        if not pk.isdigit():
            raise Http404
        held = get_object_or_404(ImportRun.objects.visible_to(request.user), pk=pk)
        response = HttpResponse(import_runs.summary_csv(held), content_type="text/csv; charset=utf-8")
        response["Content-Disposition"] = f'attachment; filename="import-{held.pk}-summary.csv"'
        return response
