"""Spreadsheet import of updates through the API: the same dry run and summary as the browser's."""

from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import serializers
from rest_framework.parsers import MultiPartParser
from rest_framework.response import Response
from rest_framework.views import APIView

from actionplan import imports
from actionplan.models import ReportingPeriod
from portal.api.schema import errors
from portal.models import Office


class ImportRequestSerializer(serializers.Serializer):
    file = serializers.FileField(help_text="The update template of an office and period (XLSX), filled in")
    dry_run = serializers.BooleanField(default=True, help_text="Tell what the import would do, and write nothing")
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
    activity = serializers.CharField()
    rows = serializers.ListField(child=serializers.IntegerField(), help_text="The rows of the sheet it was read from")
    # Text, not an enum: the schema's enums named "status" collide.
    status = serializers.CharField(help_text=f"One of: {', '.join(imports.Status.ALL)}")
    reason = serializers.CharField(help_text="Why it was refused")
    rule = serializers.CharField(help_text="The rule that refused it, e.g. period_locked, not_a_number")
    update = serializers.CharField(help_text="The update's id, when one is or was written")
    warnings = serializers.ListField(child=serializers.CharField())


class ImportSummarySerializer(serializers.Serializer):
    office = serializers.CharField()
    period = serializers.CharField()
    dry_run = serializers.BooleanField()
    counts = serializers.DictField(child=serializers.IntegerField(), help_text="Activities by status")
    rows = ImportRowSerializer(many=True)


class ImportView(APIView):
    """Import the updates of a filled-in template, or with ``dry_run`` tell what importing would do."""

    parser_classes = [MultiPartParser]

    @extend_schema(
        operation_id="imports_create",
        request={"multipart/form-data": ImportRequestSerializer},
        responses={200: OpenApiResponse(ImportSummarySerializer), **errors(403, 413, 415)},
    )
    def post(self, request):
        given = ImportRequestSerializer(data=request.data)
        given.is_valid(raise_exception=True)
        data = given.validated_data
        summary = imports.run(by=request.user, upload=data["file"], dry_run=data["dry_run"],
                              office=data.get("office"), period=data.get("period"))  # fmt: skip
        return Response(summary)
