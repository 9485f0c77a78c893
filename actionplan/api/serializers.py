"""What the API shows and accepts: codes, never database ids."""

import functools
from decimal import Decimal

from django.db import models
from django.utils.functional import cached_property
from django.utils.translation import gettext_lazy as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from actionplan.dimensions import choices as dimension_choices
from actionplan.measurements import MeasurementInput
from actionplan.models import (
    MEASUREMENTS_SHOWN,
    RAG,
    Activity,
    Evidence,
    FocusArea,
    Indicator,
    Measurement,
    PeriodTarget,
    ProgressUpdate,
    ReportingPeriod,
    UpdateComment,
)
from portal.api import rows
from portal.api.strict import RefuseUnknownFields
from portal.models import Office
from portal.statements import rows_where_in
from portal.templatetags.people import display_name

# Longest narrative, challenges or next steps the API takes (characters).
TEXT_MAX_LENGTH = 20_000
BULK_MAX_ITEMS = 200
# Far above the indicators of an activity and its objective; refused before any is looked up, so a body
# of thousands of measurements costs nothing.
MEASUREMENTS_MAX = 100


class FocusAreaSerializer(serializers.ModelSerializer):
    plan = serializers.CharField(source="plan.code", read_only=True)

    class Meta:
        model = FocusArea
        fields = ["code", "name", "description", "order", "plan", "updated_at"]


class PeriodSerializer(serializers.ModelSerializer):
    plan = serializers.CharField(source="plan.code", read_only=True)
    start_date = serializers.DateField(source="starts_on", read_only=True)
    end_date = serializers.DateField(source="ends_on", read_only=True)
    due_date = serializers.DateField(source="due_on", read_only=True)

    class Meta:
        model = ReportingPeriod
        fields = ["code", "plan", "start_date", "end_date", "due_date", "state", "updated_at"]


class PeriodTargetSerializer(serializers.ModelSerializer):
    period = serializers.CharField(source="period.code", read_only=True)

    class Meta:
        model = PeriodTarget
        fields = ["period", "value"]


class IndicatorSerializer(serializers.ModelSerializer):
    activity = serializers.CharField(source="activity.code", read_only=True, allow_null=True, default=None)
    objective = serializers.CharField(source="objective.code", read_only=True, allow_null=True, default=None)
    dimensions = serializers.ListField(
        child=serializers.ChoiceField(choices=dimension_choices()),
        read_only=True,
        help_text=_("What values are broken down by: sex, age (settings.AGE_BANDS), country (ISO 3166 alpha-3)"),
    )
    period_targets = PeriodTargetSerializer(many=True, read_only=True)

    class Meta:
        model = Indicator
        fields = [
            "code",
            "name",
            "unit",
            "direction",
            "measure",
            "allows_over_100",
            "office_rule",
            "period_rule",
            "dimensions",
            "baseline_value",
            "baseline_date",
            "target_value",
            "target_date",
            "period_targets",
            "plausible_share_of_target",
            "plausible_growth",
            "means_of_verification",
            "activity",
            "objective",
            "updated_at",
        ]


class FigureSerializer(serializers.Serializer):
    period = serializers.CharField(help_text=_("The period the figure stands at"))
    value = serializers.DecimalField(max_digits=16, decimal_places=2, allow_null=True)
    target = serializers.DecimalField(
        max_digits=16, decimal_places=2, allow_null=True, help_text=_("The target the figure is compared with")
    )
    target_kind = serializers.ChoiceField(
        choices=["period", "end"], allow_null=True, help_text=_("period: the period's own target; end: the end target")
    )
    percent_of_target = serializers.FloatField(
        allow_null=True, help_text=_("Share of the way from the baseline to the target, in percent, unrounded")
    )
    target_reached = serializers.BooleanField(allow_null=True)
    values = serializers.IntegerField(help_text=_("Approved values combined"))
    offices = serializers.IntegerField(help_text=_("Offices they come from"))
    reported_in_period = serializers.IntegerField(
        help_text=_("Of those values, how many were reported for this very period (the rest carried forward)")
    )
    latest_values_of = serializers.CharField(allow_null=True, help_text=_("The period of the latest value combined"))


class BreakdownValueSerializer(serializers.Serializer):
    category = serializers.CharField(help_text=_("female, male, unknown; an age band; or a country's ISO alpha-3"))
    value = serializers.DecimalField(max_digits=16, decimal_places=2)


class IndicatorFiguresSerializer(serializers.Serializer):
    """An indicator's figures by its own rule: at a period, over the periods, and broken down."""

    indicator = serializers.CharField()
    rule = serializers.CharField(help_text=_("How the figure is combined, in words"))
    figure = FigureSerializer(help_text=_("At the period asked for (the current one by default)"))
    series = FigureSerializer(many=True, help_text=_("At each period up to that one"))
    breakdown = serializers.DictField(
        child=BreakdownValueSerializer(many=True), help_text=_("Per dimension, each category's figure at the period")
    )


class ActivitySerializer(serializers.ModelSerializer):
    objective = serializers.CharField(source="objective.code", read_only=True)
    focus_area = serializers.CharField(source="objective.focus_area.code", read_only=True)
    lead_organization = serializers.CharField(source="lead_organization.code", read_only=True)
    partner_organizations = serializers.SlugRelatedField(slug_field="code", many=True, read_only=True)
    implementing_offices = serializers.SlugRelatedField(slug_field="code", many=True, read_only=True)
    beneficiary_countries = serializers.SlugRelatedField(slug_field="iso3", many=True, read_only=True)
    tags = serializers.SlugRelatedField(slug_field="name", many=True, read_only=True)

    class Meta:
        model = Activity
        fields = [
            "code",
            "title",
            "description",
            "language",
            "kind",
            "status",
            "sensitivity",
            "focus_area",
            "objective",
            "lead_organization",
            "partner_organizations",
            "implementing_offices",
            "beneficiary_countries",
            "tags",
            "planned_start",
            "planned_end",
            "actual_start",
            "actual_end",
            "budget_amount",
            "budget_currency",
            "funding_source",
            "updated_at",
        ]


@functools.cache
def activity_rows() -> rows.Reader:
    """Pages of activities read as values, shaped as ``ActivitySerializer`` shapes them."""
    return rows.Reader(
        ActivitySerializer,
        many={
            "partner_organizations": rows.slugs(Activity.partner_organizations, "code"),
            "implementing_offices": rows.slugs(Activity.implementing_offices, "code"),
            "beneficiary_countries": rows.slugs(Activity.beneficiary_countries, "iso3"),
            "tags": rows.slugs(Activity.tags, "name"),
        },
    )


class ActivityDetailSerializer(ActivitySerializer):
    indicators = IndicatorSerializer(many=True, read_only=True)

    class Meta(ActivitySerializer.Meta):
        fields = [*ActivitySerializer.Meta.fields, "indicators"]


class MeasurementSerializer(serializers.ModelSerializer):
    indicator = serializers.CharField(source="indicator.code", read_only=True)
    country = serializers.CharField(source="country.iso3", read_only=True, allow_null=True, default=None)

    class Meta:
        model = Measurement
        # A row is the total (no country, sex or age band) or one category of one breakdown; yes is 1, no 0.
        fields = ["indicator", "value", "note", "country", "sex", "age_band"]


class EvidenceSerializer(serializers.ModelSerializer):
    uploaded_by = serializers.CharField(source="uploaded_by.username", read_only=True)
    uploaded_at = serializers.DateTimeField(source="created_at", read_only=True)

    class Meta:
        model = Evidence
        fields = ["id", "original_name", "content_type", "size", "sha256", "uploaded_by", "uploaded_at"]


class UpdateSerializer(serializers.ModelSerializer):
    """An update as the API shows it (its lists read it with ``update_rows``)."""

    activity = serializers.CharField(source="activity.code", read_only=True)
    period = serializers.CharField(source="period.code", read_only=True)
    office = serializers.CharField(source="office.code", read_only=True)
    author = serializers.CharField(source="author.username", read_only=True)
    reviewed_by = serializers.CharField(source="reviewed_by.username", read_only=True, allow_null=True, default=None)
    measurements = MeasurementSerializer(many=True, read_only=True)
    evidence = EvidenceSerializer(many=True, read_only=True)

    class Meta:
        model = ProgressUpdate
        fields = [
            "id",
            "activity",
            "period",
            "office",
            "author",
            "state",
            "rag",
            "percent_complete",
            "narrative",
            "challenges",
            "next_steps",
            "language",
            "source",
            "version",
            "submitted_at",
            "reviewed_by",
            "reviewed_at",
            "review_comment",
            "warnings",
            "measurements",
            "evidence",
            "created_at",
            "updated_at",
        ]


@functools.cache
def update_shape() -> UpdateSerializer:
    """One update as the API shows it (``update_shape().to_representation(update)``), from a serializer whose
    fields are built once: a ModelSerializer builds its 23 again for each instance, most of the time of
    shaping one update. Its fields keep nothing of the update they shape, as ``update_rows``'s formats do."""
    return UpdateSerializer()


@functools.cache
def update_rows() -> rows.Reader:
    """Pages of updates read as values, shaped as ``UpdateSerializer`` shapes them."""
    return rows.Reader(
        UpdateSerializer,
        many={
            "measurements": rows.Many(
                Measurement.objects.order_by(*MEASUREMENTS_SHOWN),
                parent="update",
                reader=rows.Reader(MeasurementSerializer),
            ),
            "evidence": rows.Many(
                Evidence.objects.order_by(*Evidence._meta.ordering),
                parent="update",
                reader=rows.Reader(EvidenceSerializer),
            ),
        },
    )


def _text(label):
    return serializers.CharField(
        required=False, allow_blank=True, max_length=TEXT_MAX_LENGTH, default="", help_text=label
    )


@extend_schema_field(OpenApiTypes.STR)
class VisibleCodeField(serializers.SlugRelatedField):
    """Take a code, resolved among the rows the requesting user may see."""

    def __init__(self, model, related=(), **kwargs):
        self.model = model
        # Read with the row: what the rules read of it next (an activity's plan).
        self.related = related
        super().__init__(slug_field="code", **kwargs)

    def get_queryset(self):
        user = self.context["request"].user
        manager = self.model.objects
        visible = manager.visible_to(user) if hasattr(manager, "visible_to") else manager.all()
        # Only what is named: select_related() without names would join every foreign key (a period's plan
        # and agreement, an office's organisation and country), read for nothing on every write.
        return visible.select_related(*self.related) if self.related else visible

    def rows_named(self, codes) -> list:
        """The rows the codes name among those the user may see, unordered (a code names one row, and compiling
        the model's ordering hashes every selected column). Rows of a model whose manager is Django's own (no
        visibility rule, nothing left out) with nothing read along (a period, an office) are read in a statement
        written once (``portal.statements``)."""
        if self.related or type(self.model.objects) is not models.Manager:
            return list(self.get_queryset().order_by().filter(**{f"{self.slug_field}__in": codes}))
        return rows_where_in(self.model, self.slug_field, codes)

    def to_internal_value(self, data):
        # A code read already for many bodies (``read_codes``) is not looked up again.
        known = self.context.get(KNOWN_ROWS, {}).get(self.kind)
        if known is None or not _code(data) or data not in known:
            return super().to_internal_value(data)
        if known[data] is None:
            self.fail("does_not_exist", slug_name=self.slug_field, value=data)
        return known[data]

    @property
    def kind(self) -> tuple:
        """What the field reads: fields alike share the rows ``read_codes`` read."""
        return self.model, self.related


# The context key of the rows that the codes of many bodies name, read at once by ``read_codes``.
KNOWN_ROWS = "known_rows"


def _code(value) -> bool:
    # A code that can be looked up in a query: PostgreSQL takes no NUL (a field refuses it as invalid).
    return isinstance(value, str) and "\0" not in value


def read_codes(serializer: serializers.Serializer, bodies: list) -> dict:
    """Read the rows that the bodies' codes name, one query for each kind of ``VisibleCodeField`` of the
    serializer (nested ones too), each as the field reads it: the context's ``KNOWN_ROWS`` for serializers of
    these bodies, whose fields then find their rows there (None: no such row) instead of a query each."""
    known = {}
    for path, field in _code_fields(serializer):
        codes = {code for body in bodies for code in _values_at(body, path) if _code(code)}
        if not codes:
            continue
        found = {getattr(row, field.slug_field): row for row in field.rows_named(codes)}
        known.setdefault(field.kind, {}).update({code: found.get(code) for code in codes})
    return known


def _code_fields(serializer: serializers.Serializer, path=()):
    for name, field in serializer.fields.items():
        if isinstance(field, VisibleCodeField):
            yield (*path, name), field
        elif isinstance(field, serializers.ListSerializer) and isinstance(field.child, serializers.Serializer):
            yield from _code_fields(field.child, (*path, name, "*"))
        elif isinstance(field, serializers.Serializer):
            yield from _code_fields(field, (*path, name))


def _values_at(data, path):
    """The values found in the body at ``path`` (names, ``*`` for each member of a list), whatever its shape."""
    if not path:
        yield data
    elif path[0] == "*":
        for member in data if isinstance(data, list) else ():
            yield from _values_at(member, path[1:])
    elif isinstance(data, dict) and path[0] in data:
        yield from _values_at(data[path[0]], path[1:])


YES, NO = ("yes", True), ("no", False)


@extend_schema_field({"oneOf": [{"type": "number"}, {"type": "string"}, {"type": "boolean"}]})
class MeasurementValueField(serializers.Field):
    """A number, or for a yes/no indicator true/false ("yes"/"no"); which one the indicator takes is
    checked beside it."""

    def to_internal_value(self, data):
        if isinstance(data, bool) or (isinstance(data, str) and data.strip().lower() in (*YES, *NO)):
            answer = data if isinstance(data, bool) else data.strip().lower() == "yes"
            return ("yes_no", Decimal(int(answer)))
        return ("number", self._number.to_internal_value(data))

    @cached_property
    def _number(self):
        return serializers.DecimalField(max_digits=14, decimal_places=2)


class MeasurementInputSerializer(RefuseUnknownFields, serializers.Serializer):
    indicator = VisibleCodeField(Indicator, help_text=_("Indicator code, e.g. CYB-2.3-I1"))
    value = MeasurementValueField(help_text=_("A number; for a yes/no indicator, true or false"))
    note = serializers.CharField(required=False, allow_blank=True, max_length=2_000, default="")
    breakdown = serializers.DictField(
        child=serializers.DictField(child=serializers.DecimalField(max_digits=14, decimal_places=2), allow_empty=False),
        required=False,
        default=dict,
        help_text=_(
            'Per dimension the indicator is broken down by, each category\'s value: {"sex": {"female": 12, '
            '"male": 18}, "age": {"18-24": 30}, "country": {"KEN": 20}}. An exhaustive breakdown (sex, age) adds up '
            "to the value; a breakdown by country is at most the value."
        ),
    )

    def to_internal_value(self, data):
        try:
            return super().to_internal_value(data)
        except serializers.ValidationError as error:
            # Name the indicator in a refused value's message: the index alone says little.
            code = data.get("indicator") if isinstance(data, dict) else None
            if isinstance(code, str) and isinstance(error.detail, dict) and "value" in error.detail:
                error.detail["value"] = [
                    _("Indicator %(indicator)s: %(message)s") % {"indicator": code, "message": message}
                    for message in error.detail["value"]
                ]
            raise

    def validate(self, data):
        indicator, (kind, value) = data["indicator"], data["value"]
        yes_no = indicator.measure == Indicator.Measure.YES_NO
        if yes_no != (kind == "yes_no"):
            message = (
                _("Indicator %(indicator)s takes yes or no (true or false), not a number.")
                if yes_no
                else _("Indicator %(indicator)s takes a number, not yes or no.")
            )
            raise serializers.ValidationError({"value": [message % {"indicator": indicator.code}]})
        return MeasurementInput(**{**data, "value": value})


class UpdateCreateSerializer(RefuseUnknownFields, serializers.Serializer):
    activity = VisibleCodeField(
        Activity, related=("objective__focus_area",), help_text=_("Activity code, e.g. CYB-2.3")
    )
    period = VisibleCodeField(ReportingPeriod, help_text=_("Reporting period code, e.g. 2020-Q2"))
    office = VisibleCodeField(
        Office, required=False, help_text=_("Office code; may be left out when you belong to one office")
    )
    rag = serializers.ChoiceField(choices=RAG.choices)
    percent_complete = serializers.IntegerField(min_value=0, max_value=100)
    narrative = _text(_("What was done in the period"))
    challenges = _text(_("What stood in the way"))
    next_steps = _text(_("What comes next"))
    measurements = MeasurementInputSerializer(many=True, required=False, default=list, max_length=MEASUREMENTS_MAX)
    submit = serializers.BooleanField(required=False, default=False, help_text=_("False keeps a draft"))

    def validate(self, data):
        if "office" not in data:
            offices = self._own_offices()
            if len(offices) != 1:
                raise serializers.ValidationError(
                    {"office": [_("Name the office: you belong to %(count)s offices.") % {"count": len(offices) or 0}]}
                )
            data["office"] = offices[0]
        return data

    def _own_offices(self) -> list:
        # Up to two: one is the office meant. Kept in the context, which the items of a bulk call share.
        if OWN_OFFICES not in self.context:
            self.context[OWN_OFFICES] = list(Office.objects.filter(memberships__user=self.context["request"].user)[:2])
        return self.context[OWN_OFFICES]


OWN_OFFICES = "own_offices"


def update_create_serializer(*, data, context: dict) -> UpdateCreateSerializer:
    """The serializer of one body, the rows its codes name read at once (``read_codes``): a query for each kind
    of row, not one for each measurement's indicator."""
    serializer = UpdateCreateSerializer(data=data, context={**context})
    serializer.context[KNOWN_ROWS] = read_codes(serializer, [data])
    return serializer


class BulkItemSerializer(UpdateCreateSerializer):
    client_key = serializers.CharField(max_length=200, help_text=_("Your key for this item: a retry with it is safe"))


def bulk_item_serializer(context: dict, items: list) -> BulkItemSerializer:
    """A serializer for each of the items in turn (``run_validation``), as a list's child serves each member:
    its fields built once, and the rows its codes name read at once for all the items."""
    known = read_codes(BulkItemSerializer(context=context), items)
    return BulkItemSerializer(context={**context, KNOWN_ROWS: known})


class UpdatePatchSerializer(RefuseUnknownFields, serializers.Serializer):
    unknown_field_message = _("This field cannot be changed.")

    rag = serializers.ChoiceField(choices=RAG.choices, required=False)
    percent_complete = serializers.IntegerField(min_value=0, max_value=100, required=False)
    narrative = serializers.CharField(required=False, allow_blank=True, max_length=TEXT_MAX_LENGTH)
    challenges = serializers.CharField(required=False, allow_blank=True, max_length=TEXT_MAX_LENGTH)
    next_steps = serializers.CharField(required=False, allow_blank=True, max_length=TEXT_MAX_LENGTH)
    measurements = MeasurementInputSerializer(many=True, required=False, max_length=MEASUREMENTS_MAX)

    def validate(self, data):
        if not data:
            raise serializers.ValidationError(_("Send at least one field to change."))
        return data


class CommentSerializer(RefuseUnknownFields, serializers.ModelSerializer):
    author = serializers.CharField(source="author.username", read_only=True)
    author_name = serializers.SerializerMethodField()
    text = serializers.CharField(max_length=TEXT_MAX_LENGTH, allow_blank=False)

    class Meta:
        model = UpdateComment
        fields = ["id", "kind", "author", "author_name", "text", "version", "created_at"]
        read_only_fields = ["id", "kind", "author", "author_name", "version", "created_at"]

    def get_author_name(self, comment) -> str:
        return display_name(comment.author)


class SubmitSerializer(RefuseUnknownFields, serializers.Serializer):
    note = serializers.CharField(
        required=False, allow_blank=True, max_length=TEXT_MAX_LENGTH, default="", help_text=_("A note for the officer")
    )


class ReviewSerializer(RefuseUnknownFields, serializers.Serializer):
    comment = serializers.CharField(
        required=False,
        allow_blank=True,
        max_length=TEXT_MAX_LENGTH,
        default="",
        help_text=_("Optional: a note kept with the approval"),
    )


class ReturnSerializer(RefuseUnknownFields, serializers.Serializer):
    comment = serializers.CharField(
        max_length=TEXT_MAX_LENGTH, help_text=_("Required: what the office should fix (not blank)")
    )


class EvidenceUploadSerializer(serializers.Serializer):
    file = serializers.FileField(help_text=_("PDF, DOCX, XLSX, CSV, PNG or JPEG; checked by content"))


class BulkResultSerializer(serializers.Serializer):
    index = serializers.IntegerField()
    status = serializers.IntegerField(help_text=_("HTTP status this item would have had on its own"))
    id = serializers.UUIDField(required=False)
    errors = serializers.DictField(required=False)
