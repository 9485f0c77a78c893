"""What the reports API shows and accepts: codes, never database ids (a report's own id is a UUID)."""

from django.urls import reverse
from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from actionplan.models import ActionPlan, FocusArea, ReportingPeriod
from portal.api.strict import RefuseUnknownFields
from steering.models import ProgressReport

# A file's address once the report has succeeded; null before (queued, running) or if it failed.
FILE_LINK = {"type": "string", "format": "uri-reference", "nullable": True}


class ReportSerializer(serializers.ModelSerializer):
    plan = serializers.CharField(source="plan.code", read_only=True)
    period = serializers.CharField(source="period.code", read_only=True)
    focus_area = serializers.CharField(
        source="focus_area.code", read_only=True, allow_null=True, default=None, help_text=_("Null: the whole plan")
    )
    requested_by = serializers.CharField(source="requested_by.username", read_only=True, allow_null=True, default=None)
    pdf = serializers.SerializerMethodField()
    xlsx = serializers.SerializerMethodField()

    class Meta:
        model = ProgressReport
        fields = [
            "id", "plan", "period", "focus_area", "state", "progress", "error", "requested_by", "attempts",
            "created_at", "started_at", "finished_at", "content_hash", "pdf", "xlsx", "updated_at",
        ]  # fmt: skip

    def _link(self, report, kind):
        if report.state != ProgressReport.State.SUCCEEDED:
            return None
        return reverse(f"api:report-{kind}", kwargs={"pk": report.pk})

    @extend_schema_field(FILE_LINK)
    def get_pdf(self, report) -> str | None:
        return self._link(report, "pdf")

    @extend_schema_field(FILE_LINK)
    def get_xlsx(self, report) -> str | None:
        return self._link(report, "xlsx")


class ReportRequestSerializer(RefuseUnknownFields, serializers.Serializer):
    period = serializers.SlugRelatedField(
        slug_field="code", queryset=ReportingPeriod.objects.all(), help_text=_("Reporting period code, e.g. 2020-Q2")
    )
    focus_area = serializers.SlugRelatedField(
        slug_field="code",
        queryset=FocusArea.objects.all(),
        required=False,
        allow_null=True,
        default=None,
        help_text=_("Focus area code, e.g. CYB; leave out or null for the whole plan"),
    )
    plan = serializers.SlugRelatedField(
        slug_field="code",
        queryset=ActionPlan.objects.all(),
        required=False,
        default=None,
        help_text=_("Action plan code; the current plan when left out"),
    )
