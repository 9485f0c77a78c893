from django import forms
from django.contrib import admin
from django.core.exceptions import PermissionDenied
from django.utils.translation import gettext_lazy as _
from simple_history.admin import SimpleHistoryAdmin

from portal.admin import RecordAdmin

from . import versions
from .evidence import unpublish_activity_evidence
from .models import (
    ActionPlan,
    Activity,
    ActivityStanding,
    Agreement,
    ChangeApproval,
    ChangeRequest,
    Evidence,
    FocusArea,
    ImportRun,
    Indicator,
    IndicatorFigure,
    Measurement,
    Objective,
    PeriodTarget,
    PlanVersion,
    ProgressUpdate,
    Provision,
    ReportingPeriod,
    Tag,
    UpdateComment,
    VersionIndicator,
    VersionPeriodTarget,
)
from .plan_forms import FIGURE_FIELDS


class HistoryAdmin(SimpleHistoryAdmin):
    """Show a row's history, never revert to an earlier version of it.

    A revert saves the old version as it was, past every rule the portal keeps on a change: the
    version a reporter read, the reason for a changed baseline or target, the review of an update.
    """

    def revert_disabled(self, request, obj=None):
        return True

    def history_form_view(self, request, object_id, version_id, extra_context=None):
        if request.method == "POST":
            raise PermissionDenied
        return super().history_form_view(request, object_id, version_id, extra_context)


class GovernedFieldsFixed:
    """Show the fields an endorsed version governs (``versions.GOVERNED``) read-only on an object it holds, and
    never delete such an object: they change through an approved change request, in the portal."""

    def get_readonly_fields(self, request, obj=None):
        fields = list(super().get_readonly_fields(request, obj))
        if obj is not None and self._governed(request, obj):
            kind = versions.kind_of(obj)
            fields += [name for name in versions.GOVERNED[kind] if name != versions.PERIOD_TARGETS]
        return fields

    def has_delete_permission(self, request, obj=None):
        if obj is not None and self._governed(request, obj):
            return False
        return super().has_delete_permission(request, obj)

    @staticmethod
    def _governed(request, obj) -> bool:
        # The admin asks several times a page (its form, its fieldsets, its buttons): read once a request.
        known = request.__dict__.setdefault("_governed_objects", {})
        key = (type(obj), obj.pk)
        if key not in known:
            known[key] = versions.governing_version(obj) is not None
        return known[key]


FIXED_HELP = _("Changed on the indicator's page in the portal, where a reason is asked for and kept.")


class FiguresFixedOnceSavedForm(forms.ModelForm):
    """Show a saved row's baseline and targets without letting the admin change them.

    A change of these needs a reason (the plan pages ask for it); a new row takes them freely.
    """

    # An indicator's baseline and end target; a period target's value, and whose and which period it is.
    fixed_fields = (*FIGURE_FIELDS, "value", "period", "indicator")

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if self.instance.pk is not None:
            for name in self.fixed_fields:
                if name in self.fields:
                    self.fields[name].disabled = True
                    self.fields[name].help_text = FIXED_HELP


class ProvisionInline(admin.TabularInline):
    model = Provision
    extra = 0


@admin.register(Agreement)
class AgreementAdmin(admin.ModelAdmin):
    list_display = ["code", "title", "signed_on", "in_force_from", "in_force_to"]
    search_fields = ["code", "title", "summary"]
    filter_horizontal = ["parties"]
    inlines = [ProvisionInline]


@admin.register(Provision)
class ProvisionAdmin(admin.ModelAdmin):
    list_display = ["number", "title", "agreement"]
    list_filter = ["agreement"]
    search_fields = ["number", "title", "text"]


class FocusAreaInline(admin.TabularInline):
    model = FocusArea
    extra = 0
    fields = ["code", "name", "order"]
    show_change_link = True


class PeriodInline(admin.TabularInline):
    model = ReportingPeriod
    extra = 0


@admin.register(ActionPlan)
class ActionPlanAdmin(admin.ModelAdmin):
    list_display = ["code", "title", "starts_on", "ends_on", "version", "state"]
    list_filter = ["state"]
    search_fields = ["code", "title"]
    inlines = [FocusAreaInline, PeriodInline]


class ObjectiveInline(admin.StackedInline):
    model = Objective
    extra = 0
    show_change_link = True


@admin.register(FocusArea)
class FocusAreaAdmin(GovernedFieldsFixed, admin.ModelAdmin):
    list_display = ["code", "name", "plan", "order"]
    list_filter = ["plan"]
    search_fields = ["code", "name", "description"]
    filter_horizontal = ["lead_officers"]
    inlines = [ObjectiveInline]


class ObjectiveIndicatorInline(admin.TabularInline):
    model = Indicator
    form = FiguresFixedOnceSavedForm
    fk_name = "objective"
    extra = 0
    fields = ["code", "name", "unit", "direction", "baseline_value", "target_value"]


@admin.register(Objective)
class ObjectiveAdmin(GovernedFieldsFixed, HistoryAdmin):
    list_display = ["code", "statement", "focus_area"]
    list_filter = ["focus_area"]
    search_fields = ["code", "statement"]
    inlines = [ObjectiveIndicatorInline]


@admin.register(Tag)
class TagAdmin(admin.ModelAdmin):
    list_display = ["name"]
    search_fields = ["name"]


class ActivityIndicatorInline(ObjectiveIndicatorInline):
    fk_name = "activity"


@admin.register(Activity)
class ActivityAdmin(GovernedFieldsFixed, HistoryAdmin):
    list_display = ["code", "title", "objective", "kind", "status", "sensitivity", "lead_organization"]
    list_filter = ["status", "kind", "sensitivity", "objective__focus_area", "lead_organization", "tags"]
    list_select_related = ["objective", "lead_organization"]
    search_fields = ["code", "title", "description"]
    autocomplete_fields = [
        "objective",
        "responsible_officer",
        "implementing_offices",
        "beneficiary_countries",
        "partner_organizations",
        "tags",
    ]
    filter_horizontal = ["provisions"]
    readonly_fields = ["version"]
    inlines = [ActivityIndicatorInline]

    def save_model(self, request, obj, form, change):
        super().save_model(request, obj, form, change)
        # A restricted activity's files are never public, whoever restricts it and wherever.
        unpublish_activity_evidence(activity=obj, by=request.user)


class PeriodTargetInline(admin.TabularInline):
    model = PeriodTarget
    form = FiguresFixedOnceSavedForm
    extra = 0
    autocomplete_fields = ["period"]

    def has_delete_permission(self, request, obj=None):
        # Removing a target changes it: done on the indicator's page, with a reason.
        return False


@admin.register(Indicator)
class IndicatorAdmin(GovernedFieldsFixed, HistoryAdmin):
    form = FiguresFixedOnceSavedForm
    list_display = [
        "code", "name", "unit", "measure", "direction", "office_rule", "period_rule", "baseline_value", "target_value",
    ]  # fmt: skip
    list_filter = ["measure", "direction", "office_rule", "period_rule", "objective__focus_area"]
    search_fields = ["code", "name"]
    autocomplete_fields = ["objective", "activity"]
    inlines = [PeriodTargetInline]


@admin.register(ReportingPeriod)
class ReportingPeriodAdmin(HistoryAdmin):
    list_display = ["code", "plan", "starts_on", "ends_on", "due_on", "state"]
    list_filter = ["state", "plan"]
    search_fields = ["code"]


def _approved(update) -> bool:
    return update is not None and update.state == ProgressUpdate.State.APPROVED


APPROVED_IS_FIXED = _(
    "Update %(update)s is approved: its figures count in the dashboard and the reports, and never change."
)


class FixedOnceApproved:
    """Show an approved update, or what belongs to one, never change nor delete it here: flipped back
    to draft, its figures could be edited and approved again past the review and its record."""

    def approved_update(self, obj) -> bool:
        """Tell whether ``obj`` (the update the page shows, for an update or an inline of one) is approved."""
        return _approved(obj)

    def has_change_permission(self, request, obj=None):
        return not self.approved_update(obj) and super().has_change_permission(request, obj)

    def has_delete_permission(self, request, obj=None):
        return not self.approved_update(obj) and super().has_delete_permission(request, obj)


class MeasurementForm(forms.ModelForm):
    """Refuse a measurement for an approved update, whether added or moved to it."""

    def clean_update(self):
        update = self.cleaned_data.get("update")
        if _approved(update):
            raise forms.ValidationError(APPROVED_IS_FIXED % {"update": update}, code="approved")
        return update


class MeasurementInline(FixedOnceApproved, admin.TabularInline):
    model = Measurement
    extra = 0
    autocomplete_fields = ["indicator", "country"]

    # An approved figure counts in the dashboard and the reports: it never changes, here neither.
    def has_add_permission(self, request, obj=None):
        return not self.approved_update(obj) and super().has_add_permission(request, obj)


class UpdateCommentInline(admin.TabularInline):
    model = UpdateComment
    extra = 0
    fields = ["created_at", "author", "kind", "version", "text"]
    readonly_fields = ["created_at", "author", "kind", "version", "text"]

    def has_add_permission(self, request, obj=None):
        # The conversation is written on the update's page, where its rules are kept.
        return False


class EvidenceInline(admin.TabularInline):
    model = Evidence
    extra = 0
    fields = ["file", "original_name", "content_type", "size", "sha256", "uploaded_by", "public"]
    readonly_fields = ["original_name", "content_type", "size", "sha256", "uploaded_by", "public"]


class ProgressUpdateForm(forms.ModelForm):
    """Refuse approving an update here: approval is the review, done in the portal."""

    def clean_state(self):
        state = self.cleaned_data.get("state")
        if state == ProgressUpdate.State.APPROVED and not _approved(self.instance):
            raise forms.ValidationError(
                _(
                    "Approve an update on its page in the portal, where the review is recorded and its office told; "
                    "once approved, it never changes."
                ),
                code="approve_in_portal",
            )
        return state


@admin.register(ProgressUpdate)
class ProgressUpdateAdmin(FixedOnceApproved, HistoryAdmin):
    form = ProgressUpdateForm
    list_display = ["activity", "period", "office", "state", "rag", "percent_complete", "author", "updated_at"]
    list_filter = ["state", "rag", "source", "period", "activity__objective__focus_area"]
    list_select_related = ["activity", "period", "office", "author"]
    search_fields = ["activity__code", "office__code", "narrative"]
    autocomplete_fields = ["activity", "office", "author", "reviewed_by"]
    readonly_fields = ["version", "client_key", "submitted_at", "reviewed_at", "warnings"]
    inlines = [MeasurementInline, EvidenceInline, UpdateCommentInline]


@admin.register(Measurement)
class MeasurementAdmin(FixedOnceApproved, admin.ModelAdmin):
    form = MeasurementForm
    list_display = ["indicator", "update", "value", "country", "sex", "age_band"]
    list_filter = ["sex", "age_band", "update__period"]
    list_select_related = ["indicator", "update__activity", "update__period", "update__office", "country"]
    search_fields = ["indicator__code", "note"]
    autocomplete_fields = ["update", "indicator", "country"]

    def approved_update(self, obj) -> bool:
        return obj is not None and _approved(obj.update)


@admin.register(Evidence)
class EvidenceAdmin(admin.ModelAdmin):
    list_display = ["original_name", "update", "content_type", "size", "public", "uploaded_by", "created_at"]
    list_filter = ["content_type", "public"]
    list_select_related = ["update__activity", "update__period", "update__office", "uploaded_by"]
    search_fields = ["original_name", "sha256"]
    # Made public or private on the update's page in the portal, where the conversation records who and when.
    readonly_fields = ["content_type", "size", "sha256", "public"]
    autocomplete_fields = ["update", "uploaded_by"]


@admin.register(PeriodTarget)
class PeriodTargetAdmin(admin.ModelAdmin):
    form = FiguresFixedOnceSavedForm
    list_display = ["indicator", "period", "value"]
    list_filter = ["period"]
    list_select_related = ["indicator", "period"]
    search_fields = ["indicator__code"]
    autocomplete_fields = ["indicator", "period"]

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(UpdateComment)
class UpdateCommentAdmin(admin.ModelAdmin):
    list_display = ["update", "kind", "author", "version", "created_at"]
    list_filter = ["kind"]
    list_select_related = ["update__activity", "update__period", "update__office", "author"]
    search_fields = ["text", "update__activity__code"]
    autocomplete_fields = ["update", "author"]


@admin.register(ActivityStanding)
class ActivityStandingAdmin(RecordAdmin):
    """Kept by the portal from the approved updates (``manage.py rebuild_standings`` recomputes it)."""

    list_display = ["activity", "as_of", "rag", "percent_complete", "reported_period"]
    list_filter = ["as_of", "rag"]
    list_select_related = ["activity", "as_of", "reported_period"]
    search_fields = ["activity__code"]


@admin.register(IndicatorFigure)
class IndicatorFigureAdmin(RecordAdmin):
    """Kept by the portal from the approved values (``manage.py rebuild_standings`` recomputes it)."""

    list_display = ["indicator", "period", "value", "value_count", "office_count", "reported_count"]
    list_filter = ["period"]
    list_select_related = ["indicator", "period"]
    search_fields = ["indicator__code"]


@admin.register(ImportRun)
class ImportRunAdmin(admin.ModelAdmin):
    list_display = ["created_at", "user", "office", "period", "state", "imported_at"]
    list_filter = ["state"]
    list_select_related = ["user", "office", "period"]
    readonly_fields = ["user", "office", "period", "file", "state", "rows", "done", "error", "summary", "imported_at"]


# A version and a change request are written by ``actionplan.versions`` and ``actionplan.change_requests`` only,
# which keep their rules (approval by the other organisation, one version per applied change): read here.


@admin.register(PlanVersion)
class PlanVersionAdmin(RecordAdmin):
    list_display = ["plan", "number", "endorsed_at", "endorsement"]
    list_filter = ["plan"]
    exclude = ["snapshot"]


@admin.register(VersionIndicator)
class VersionIndicatorAdmin(RecordAdmin):
    list_display = ["version", "indicator", "baseline_value", "target_value"]
    list_select_related = ["version", "indicator"]


@admin.register(VersionPeriodTarget)
class VersionPeriodTargetAdmin(RecordAdmin):
    list_display = ["version", "indicator", "period", "value"]
    list_select_related = ["version", "indicator", "period"]


class ChangeApprovalInline(admin.TabularInline):
    model = ChangeApproval
    extra = 0
    can_delete = False
    readonly_fields = ["user", "organization", "created_at"]

    def has_add_permission(self, request, obj=None):
        return False


@admin.register(ChangeRequest)
class ChangeRequestAdmin(RecordAdmin):
    list_display = ["pk", "kind", "object_code", "state", "proposed_by", "base_version", "applied_version"]
    list_filter = ["state", "kind"]
    list_select_related = ["proposed_by", "base_version", "applied_version"]
    inlines = [ChangeApprovalInline]


@admin.register(ChangeApproval)
class ChangeApprovalAdmin(RecordAdmin):
    list_display = ["change", "user", "organization", "created_at"]
    list_select_related = ["change", "user", "organization"]
