from django.contrib import admin

from portal.admin import RecordAdmin

from .models import (
    ActionItem,
    ActionItemNote,
    Committee,
    CommitteeMember,
    Decision,
    Meeting,
    ProgressReport,
    ReportRendering,
    Review,
    SentNotification,
    Signature,
    SignOff,
)


class CommitteeMemberInline(admin.TabularInline):
    model = CommitteeMember
    extra = 0
    autocomplete_fields = ["user"]


@admin.register(Committee)
class CommitteeAdmin(admin.ModelAdmin):
    list_display = ["name", "plan"]
    search_fields = ["name"]
    inlines = [CommitteeMemberInline]


@admin.register(CommitteeMember)
class CommitteeMemberAdmin(admin.ModelAdmin):
    list_display = ["user", "committee", "role"]
    list_filter = ["role", "committee"]
    list_select_related = ["user", "committee"]
    search_fields = ["user__username", "user__first_name", "user__last_name"]
    autocomplete_fields = ["user"]


class ReviewInline(admin.StackedInline):
    model = Review
    extra = 0
    readonly_fields = ["figures"]


class DecisionInline(admin.TabularInline):
    model = Decision
    extra = 0


class ActionItemInline(admin.TabularInline):
    model = ActionItem
    extra = 0
    fields = ["description", "owner_user", "owner_office", "due_on", "state"]
    autocomplete_fields = ["owner_user", "owner_office"]


@admin.register(Meeting)
class MeetingAdmin(admin.ModelAdmin):
    list_display = ["title", "date", "place", "state", "minutes_approved_at"]
    list_filter = ["state", "committee"]
    search_fields = ["title", "place", "agenda", "minutes"]
    date_hierarchy = "date"
    filter_horizontal = ["attendees"]
    inlines = [ReviewInline, DecisionInline, ActionItemInline]
    # Set by the sign-off of both parties (steering.signoff), never by hand.
    readonly_fields = ["minutes_submitted_at", "minutes_approved_at", "minutes_approved_by"]


class SignatureInline(admin.TabularInline):
    model = Signature
    extra = 0
    fields = readonly_fields = ["party", "decision", "signer", "signed_at", "reason"]

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(SignOff)
class SignOffAdmin(RecordAdmin):
    """Rounds of sign-off and their signatures: written by the co-chairs on the pages, read here."""

    list_display = ["kind", "object_id", "number", "state", "submitted_by", "submitted_at", "closed_at"]
    list_filter = ["kind", "state"]
    list_select_related = ["submitted_by"]
    inlines = [SignatureInline]


@admin.register(Review)
class ReviewAdmin(admin.ModelAdmin):
    list_display = ["meeting", "focus_area", "rating"]
    list_filter = ["rating", "focus_area"]
    list_select_related = ["meeting", "focus_area"]
    search_fields = ["assessment", "recommendations"]


@admin.register(Decision)
class DecisionAdmin(admin.ModelAdmin):
    list_display = ["number", "meeting", "focus_area", "text"]
    list_filter = ["meeting", "focus_area"]
    list_select_related = ["meeting", "focus_area"]
    search_fields = ["text"]


class ActionItemNoteInline(admin.TabularInline):
    model = ActionItemNote
    extra = 0
    autocomplete_fields = ["author"]


@admin.register(ActionItem)
class ActionItemAdmin(admin.ModelAdmin):
    list_display = ["description", "meeting", "owner_user", "owner_office", "due_on", "state"]
    list_filter = ["state", "meeting"]
    list_select_related = ["meeting", "owner_user", "owner_office"]
    search_fields = ["description"]
    autocomplete_fields = ["owner_user", "owner_office", "decision"]
    inlines = [ActionItemNoteInline]


@admin.register(ActionItemNote)
class ActionItemNoteAdmin(admin.ModelAdmin):
    list_display = ["item", "author", "created_at"]
    list_select_related = ["item", "author"]
    search_fields = ["text"]


class ReportRenderingInline(admin.TabularInline):
    """The report's files in other languages, rendered on request: read only."""

    model = ReportRendering
    fields = ["language", "state", "attempts", "error", "pdf", "xlsx", "finished_at"]
    readonly_fields = fields
    extra = 0
    can_delete = False

    def has_add_permission(self, request, obj=None):
        return False


@admin.register(ProgressReport)
class ProgressReportAdmin(RecordAdmin):
    """Reports are asked for on their page and compiled by workers: the admin only reads them.

    A compiled report is never deleted (its files and hash are what was sent); only a
    failed one may be, on its own page.
    """

    inlines = [ReportRenderingInline]
    list_display = [
        "period",
        "focus_area",
        "language",
        "state",
        "progress",
        "attempts",
        "requested_by",
        "created_at",
        "finished_at",
    ]
    list_filter = ["state", "plan", "period"]
    list_select_related = ["period", "focus_area", "requested_by"]
    search_fields = ["content_hash", "task_id"]

    def has_delete_permission(self, request, obj=None):
        return (
            obj is not None
            and obj.state == ProgressReport.State.FAILED
            and request.user.has_perm("steering.delete_progressreport")
        )


@admin.register(ReportRendering)
class ReportRenderingAdmin(RecordAdmin):
    """A report's files in another language, rendered by workers on request: the admin only reads them."""

    list_display = ["report", "language", "state", "attempts", "finished_at"]
    list_filter = ["state", "language"]
    list_select_related = ["report__period", "report__focus_area"]
    search_fields = ["report__content_hash", "task_id"]


@admin.register(SentNotification)
class SentNotificationAdmin(RecordAdmin):
    """The record is what keeps a scheduled job from sending or compiling twice."""

    list_display = ["kind", "key", "recipient", "report", "sent_at"]
    list_filter = ["kind"]
    search_fields = ["key", "recipient"]
    list_select_related = ["report__period"]
