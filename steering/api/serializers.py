"""What the reports API shows and accepts: codes, never database ids (a report's own id is a UUID)."""

from django.urls import reverse
from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from actionplan.models import ActionPlan, FocusArea, ReportingPeriod
from portal.api.strict import RefuseUnknownFields
from steering.models import Party, ProgressReport, ReportRendering, Signature
from steering.reports import languages

# A file's address once the report has succeeded; null before (queued, running) or if it failed.
FILE_LINK = {"type": "string", "format": "uri-reference", "nullable": True}


class ReportLanguageSerializer(serializers.Serializer):
    """The report's files in one language."""

    language = serializers.CharField(help_text=_("A language of the portal: en, fr, es, ar, ru or zh-hans"))
    state = serializers.ChoiceField(
        choices=ReportRendering.State.choices,
        allow_null=True,
        help_text=_(
            "succeeded: the files are ready; queued or running: being rendered; failed: asking again renders "
            "it again; null: not asked for yet (asking for a file renders it)"
        ),
    )
    pdf = serializers.CharField(
        allow_null=True, help_text=_("The PDF in this language; null until the report succeeded")
    )
    xlsx = serializers.CharField(
        allow_null=True, help_text=_("The workbook in this language; null until the report succeeded")
    )


class RenderingPendingSerializer(ReportLanguageSerializer):
    """A file asked for in a language it is not rendered in yet: it is being rendered; ask again after Retry-After."""

    detail = serializers.CharField()


class SignatureSerializer(serializers.Serializer):
    """One party's answer in a round of the report's endorsement (never changed once recorded)."""

    round = serializers.IntegerField(source="signoff.number", help_text=_("The round: each submission opens one"))
    party = serializers.ChoiceField(choices=Party.choices, help_text=_("The party the co-chair answered for"))
    decision = serializers.ChoiceField(choices=Signature.Decision.choices)
    signer = serializers.CharField(source="signer.username", help_text=_("The co-chair's username"))
    reason = serializers.CharField(help_text=_("Why the co-chair declined; empty for a signature"))
    signed_at = serializers.DateTimeField()


class EndorsementSerializer(serializers.Serializer):
    """The report's endorsement by both parties: a co-chair of each signs it."""

    state = serializers.ChoiceField(
        choices=[("none", "none"), ("submitted", "submitted"), ("endorsed", "endorsed")],
        help_text=_("none: not submitted (or declined, back with whoever submitted it); submitted: awaiting "
                    "signatures; endorsed: signed by both parties"),
    )  # fmt: skip
    submitted_at = serializers.DateTimeField(allow_null=True)
    endorsed_at = serializers.DateTimeField(allow_null=True)
    awaited = serializers.ListField(
        child=serializers.ChoiceField(choices=Party.choices), help_text=_("The parties whose signature is awaited")
    )
    signatures = SignatureSerializer(many=True, help_text=_("Every answer of every round, oldest first"))


class ReportSerializer(serializers.ModelSerializer):
    plan = serializers.CharField(source="plan.code", read_only=True)
    period = serializers.CharField(source="period.code", read_only=True)
    focus_area = serializers.CharField(
        source="focus_area.code", read_only=True, allow_null=True, default=None, help_text=_("Null: the whole plan")
    )
    version = serializers.CharField(
        source="version.number",
        read_only=True,
        allow_null=True,
        default=None,
        help_text=_("The plan version the report is as endorsed at, e.g. 1.0; null: the plan as it stands"),
    )
    requested_by = serializers.CharField(source="requested_by.username", read_only=True, allow_null=True, default=None)
    pdf = serializers.SerializerMethodField()
    xlsx = serializers.SerializerMethodField()
    language = serializers.CharField(read_only=True, help_text=_("The language the report was asked in"))
    languages = serializers.SerializerMethodField()
    endorsement = serializers.SerializerMethodField()

    class Meta:
        model = ProgressReport
        fields = [
            "id", "plan", "period", "focus_area", "version", "state", "progress", "error", "requested_by", "attempts",
            "created_at", "started_at", "finished_at", "content_hash", "pdf", "xlsx", "language", "languages",
            "endorsement", "updated_at",
        ]  # fmt: skip

    def _link(self, report, kind, language=None):
        if report.state != ProgressReport.State.SUCCEEDED:
            return None
        link = reverse(f"api:report-{kind}", kwargs={"pk": report.pk})
        return f"{link}?language={language}" if language else link

    @extend_schema_field(ReportLanguageSerializer(many=True))
    def get_languages(self, report) -> list[dict]:
        """Each of the portal's languages, with the state of the report's files in it (one content, one hash)."""
        found = {rendering.language: rendering.state for rendering in report.renderings.all()}
        return [
            {
                "language": code,
                "state": ProgressReport.State.SUCCEEDED if code == report.language else found.get(code),
                "pdf": self._link(report, "pdf", code),
                "xlsx": self._link(report, "xlsx", code),
            }
            for code in languages.codes()
        ]

    @extend_schema_field(EndorsementSerializer)
    def get_endorsement(self, report) -> dict:
        """Read from the rounds prefetched with their signatures (``signoffs``)."""
        rounds = sorted(report.signoffs.all(), key=lambda round: round.number)
        signatures = [signature for round in rounds for signature in round.signatures.all()]
        latest = rounds[-1] if rounds else None
        state = "endorsed" if report.endorsed_at else "submitted" if report.endorsement_submitted_at else "none"
        return EndorsementSerializer(
            {
                "state": state,
                "submitted_at": report.endorsement_submitted_at,
                "endorsed_at": report.endorsed_at,
                "awaited": latest.parties_awaited(latest.signatures.all()) if latest else [],
                "signatures": signatures,
            }
        ).data

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
    version = serializers.CharField(
        required=False,
        allow_null=True,
        default=None,
        max_length=12,
        help_text=_(
            "A version of the plan, e.g. 1.0: the report as endorsed at it, its indicators measured against that "
            "version's baselines and targets; leave out or null for the plan as it stands"
        ),
    )
    language = serializers.ChoiceField(
        choices=[],
        required=False,
        help_text=_(
            "The language of the report's files: en, fr, es, ar, ru or zh-hans; the request's language "
            "(Accept-Language) when left out. The content and its hash are the same in every language."
        ),
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["language"].choices = languages.codes()
