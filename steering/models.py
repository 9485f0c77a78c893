"""The steering committee, its meetings and their record, and the progress reports."""

import uuid

from django.conf import settings
from django.contrib.contenttypes.fields import GenericForeignKey, GenericRelation
from django.contrib.contenttypes.models import ContentType
from django.db import models
from django.db.models import F, Q, Value
from django.db.models.functions import Coalesce
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from actionplan.models import RAG, ActionPlan, FocusArea, PlanVersion, ReportingPeriod
from portal.models import Office, TimeStampedModel
from portal.roles import sees_whole_plan


class Committee(TimeStampedModel):
    """Hold the steering committee that oversees a joint action plan."""

    plan = models.OneToOneField(ActionPlan, models.CASCADE, related_name="committee", verbose_name=_("action plan"))
    name = models.CharField(_("name"), max_length=200)
    members = models.ManyToManyField(
        settings.AUTH_USER_MODEL, through="CommitteeMember", related_name="committees", verbose_name=_("members")
    )

    def __str__(self):
        return self.name


class CommitteeMember(TimeStampedModel):
    """Seat a user on the committee in a given role."""

    class Role(models.TextChoices):
        CO_CHAIR_UNODC = "co_chair_unodc", _("Co-chair (UNODC)")
        CO_CHAIR_INTERPOL = "co_chair_interpol", _("Co-chair (INTERPOL)")
        MEMBER = "member", _("Member")
        SECRETARY = "secretary", _("Secretary")

    committee = models.ForeignKey(Committee, models.CASCADE, related_name="seats", verbose_name=_("committee"))
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, models.CASCADE, related_name="committee_seats", verbose_name=_("user")
    )
    role = models.CharField(_("role"), max_length=24, choices=Role.choices, default=Role.MEMBER)

    class Meta:
        ordering = ["committee", "role", "user__username"]
        constraints = [
            models.UniqueConstraint(fields=["committee", "user"], name="committee_member_unique_user"),
        ]

    def __str__(self):
        return f"{self.user} — {self.get_role_display()}"


class Meeting(TimeStampedModel):
    """Hold a meeting of the committee, its agenda and its minutes."""

    class State(models.TextChoices):
        SCHEDULED = "scheduled", _("Scheduled")
        HELD = "held", _("Held")

    committee = models.ForeignKey(Committee, models.CASCADE, related_name="meetings", verbose_name=_("committee"))
    title = models.CharField(_("title"), max_length=200)
    date = models.DateField(_("date"))
    place = models.CharField(_("place"), max_length=200)
    state = models.CharField(_("state"), max_length=16, choices=State.choices, default=State.SCHEDULED)
    agenda = models.TextField(_("agenda"), blank=True)
    minutes = models.TextField(_("minutes"), blank=True)
    attendees = models.ManyToManyField(
        settings.AUTH_USER_MODEL, blank=True, related_name="meetings_attended", verbose_name=_("attendees")
    )
    # Set when the minutes are submitted for the co-chairs' signatures (the record is read-only from
    # then), cleared when one declines them (editable again).
    minutes_submitted_at = models.DateTimeField(_("minutes submitted at"), null=True, blank=True)
    # Once a co-chair of each party has signed the minutes (the time of the second signature), the
    # meeting's record is read-only for good; approved_by is the co-chair whose signature completed it.
    minutes_approved_at = models.DateTimeField(_("minutes approved at"), null=True, blank=True)
    minutes_approved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        models.PROTECT,
        null=True,
        blank=True,
        related_name="approved_minutes",
        verbose_name=_("minutes approved by"),
    )
    signoffs = GenericRelation("SignOff", object_id_field="object_id")

    class Meta:
        ordering = ["-date"]
        constraints = [
            models.UniqueConstraint(fields=["committee", "date"], name="meeting_one_per_committee_and_day"),
        ]

    def __str__(self):
        return f"{self.title} ({self.date:%d %b %Y}, {self.place})"

    def get_absolute_url(self):
        from django.urls import reverse

        return reverse("meeting-detail", args=[self.pk])


class Review(TimeStampedModel):
    """Record the committee's review of one focus area at a meeting."""

    meeting = models.ForeignKey(Meeting, models.CASCADE, related_name="reviews", verbose_name=_("meeting"))
    focus_area = models.ForeignKey(FocusArea, models.PROTECT, related_name="reviews", verbose_name=_("focus area"))
    rating = models.CharField(_("rating"), max_length=16, choices=RAG.choices)
    assessment = models.TextField(_("assessment"), blank=True)
    recommendations = models.TextField(_("recommendations"), blank=True)
    # The dashboard figures for the area as they stood when the review was saved.
    figures = models.JSONField(_("figures at review time"), default=dict, blank=True)
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        models.PROTECT,
        null=True,
        blank=True,
        related_name="recorded_reviews",
        verbose_name=_("recorded by"),
    )

    class Meta:
        ordering = ["meeting", "focus_area__order"]
        constraints = [
            models.UniqueConstraint(fields=["meeting", "focus_area"], name="review_one_per_focus_area_per_meeting"),
        ]

    def __str__(self):
        return f"{self.focus_area.code} at {self.meeting.date:%Y-%m-%d}: {self.get_rating_display()}"


class Decision(TimeStampedModel):
    """Record a decision of a meeting, numbered within it."""

    meeting = models.ForeignKey(Meeting, models.CASCADE, related_name="decisions", verbose_name=_("meeting"))
    number = models.PositiveSmallIntegerField(_("number"))
    text = models.TextField(_("text"))
    focus_area = models.ForeignKey(
        FocusArea, models.PROTECT, null=True, blank=True, related_name="decisions", verbose_name=_("focus area")
    )

    class Meta:
        ordering = ["meeting", "number"]
        constraints = [
            models.UniqueConstraint(fields=["meeting", "number"], name="decision_number_unique_per_meeting"),
            models.CheckConstraint(condition=Q(number__gte=1), name="decision_number_positive"),
        ]

    def __str__(self):
        return f"Decision {self.number} of {self.meeting.date:%Y-%m-%d}"


class ActionItemQuerySet(models.QuerySet):
    def visible_to(self, user):
        """Keep the action items the user may read: every one for officers and the committee; for
        anyone else, those it owns, itself or through one of its offices."""
        if sees_whole_plan(user):
            return self
        if not user.is_authenticated:
            return self.none()
        return self.filter(Q(owner_user=user) | Q(owner_office__memberships__user=user)).distinct()


class ActionItem(TimeStampedModel):
    """Track a follow-up the committee asked for, from meeting to meeting until it is closed."""

    class State(models.TextChoices):
        OPEN = "open", _("Open")
        IN_PROGRESS = "in_progress", _("In progress")
        DONE = "done", _("Done")
        DROPPED = "dropped", _("Dropped")

    meeting = models.ForeignKey(Meeting, models.CASCADE, related_name="action_items", verbose_name=_("meeting"))
    decision = models.ForeignKey(
        Decision, models.SET_NULL, null=True, blank=True, related_name="action_items", verbose_name=_("decision")
    )
    description = models.TextField(_("description"))
    owner_user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        models.PROTECT,
        null=True,
        blank=True,
        related_name="owned_action_items",
        verbose_name=_("owner (person)"),
    )
    owner_office = models.ForeignKey(
        Office, models.PROTECT, null=True, blank=True, related_name="action_items", verbose_name=_("owner (office)")
    )
    due_on = models.DateField(_("due on"))
    state = models.CharField(_("state"), max_length=16, choices=State.choices, default=State.OPEN, db_index=True)
    closed_at = models.DateTimeField(_("closed at"), null=True, blank=True)

    objects = ActionItemQuerySet.as_manager()

    class Meta:
        ordering = ["due_on", "pk"]
        constraints = [
            models.CheckConstraint(
                condition=Q(owner_user__isnull=False, owner_office__isnull=True)
                | Q(owner_user__isnull=True, owner_office__isnull=False),
                name="action_item_owned_by_a_user_or_an_office",
            ),
        ]

    def __str__(self):
        return self.description[:80]

    @property
    def owner(self):
        return self.owner_user or self.owner_office

    def is_closed(self) -> bool:
        return self.state in (self.State.DONE, self.State.DROPPED)


class ActionItemNote(TimeStampedModel):
    """Record a follow-up note on an action item."""

    item = models.ForeignKey(ActionItem, models.CASCADE, related_name="notes", verbose_name=_("action item"))
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL, models.PROTECT, related_name="action_item_notes", verbose_name=_("author")
    )
    text = models.TextField(_("text"))

    class Meta:
        ordering = ["created_at"]

    def __str__(self):
        return f"{self.author} on {self.created_at:%Y-%m-%d}: {self.text[:60]}"


class ProgressReportQuerySet(models.QuerySet):
    def visible_to(self, user):
        """Keep the reports the user may read.

        A report covers the whole plan or a whole focus area, restricted activities
        included, so only those who read the whole plan (officers and the committee)
        read reports; field reporters and anyone else read none.
        """
        if sees_whole_plan(user):
            return self
        return self.none()

    def in_progress(self):
        return self.filter(state__in=ProgressReport.IN_PROGRESS)


class ProgressReport(TimeStampedModel):
    """Hold a progress report compiled by a worker and then frozen.

    States: ``queued`` (requested, waiting for a worker) → ``running`` (a worker claimed
    it; ``attempts`` counts each claim) → ``succeeded`` (snapshot, files and hash set;
    never changed again) or ``failed`` (``error`` says why). A failed report may be
    queued again; a succeeded one never is.
    """

    class State(models.TextChoices):
        QUEUED = "queued", _("Queued")
        RUNNING = "running", _("Running")
        SUCCEEDED = "succeeded", _("Succeeded")
        FAILED = "failed", _("Failed")

    IN_PROGRESS = (State.QUEUED, State.RUNNING)

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    plan = models.ForeignKey(ActionPlan, models.PROTECT, related_name="reports", verbose_name=_("action plan"))
    period = models.ForeignKey(ReportingPeriod, models.PROTECT, related_name="reports", verbose_name=_("period"))
    # No focus area means the whole plan.
    focus_area = models.ForeignKey(
        FocusArea, models.PROTECT, null=True, blank=True, related_name="reports", verbose_name=_("focus area")
    )
    # The plan "as endorsed at" this version: its indicators measured against the version's baselines and
    # targets, only those it holds counted. None: the plan as it stands.
    version = models.ForeignKey(
        PlanVersion, models.PROTECT, null=True, blank=True, related_name="reports",
        verbose_name=_("as endorsed at version"),
    )  # fmt: skip
    state = models.CharField(_("state"), max_length=16, choices=State.choices, default=State.QUEUED, db_index=True)
    progress = models.PositiveSmallIntegerField(_("progress (%)"), default=0)
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        models.PROTECT,
        null=True,
        blank=True,
        related_name="requested_reports",
        verbose_name=_("requested by"),
    )
    # The language the report was asked in: its own PDF and XLSX are rendered in it. The
    # snapshot and the content hash never depend on it; other languages are ReportRenderings.
    language = models.CharField(_("language"), max_length=8, choices=settings.LANGUAGES, default=settings.LANGUAGE_CODE)
    task_id = models.CharField(_("task id"), max_length=64, blank=True)
    # Each time a worker starts compiling; a task that keeps killing its worker is
    # delivered again and again, and this count is what stops it.
    attempts = models.PositiveSmallIntegerField(_("attempts"), default=0)
    started_at = models.DateTimeField(_("started at"), null=True, blank=True)
    finished_at = models.DateTimeField(_("finished at"), null=True, blank=True)
    error = models.TextField(_("error"), blank=True)
    snapshot = models.JSONField(_("frozen snapshot"), null=True, blank=True)
    pdf = models.FileField(_("PDF"), upload_to="reports/", blank=True)
    xlsx = models.FileField(_("XLSX"), upload_to="reports/", blank=True)
    content_hash = models.CharField(_("content hash"), max_length=64, blank=True)
    # The committee's endorsement of a succeeded report, signed by a co-chair of each party:
    # submitted (awaiting signatures; cleared when one declines), then endorsed.
    endorsement_submitted_at = models.DateTimeField(_("submitted for endorsement at"), null=True, blank=True)
    endorsed_at = models.DateTimeField(_("endorsed at"), null=True, blank=True)
    signoffs = GenericRelation("SignOff", object_id_field="object_id")

    objects = ProgressReportQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at"]
        constraints = [
            models.CheckConstraint(condition=Q(progress__gte=0, progress__lte=100), name="report_progress_0_100"),
            # One queued or running report per plan, period, scope and version; COALESCE makes the
            # whole-plan scope (no focus area) and the current plan (no version) collide too, on
            # PostgreSQL and SQLite alike.
            models.UniqueConstraint(
                F("plan"),
                F("period"),
                Coalesce(F("focus_area"), Value(0)),
                Coalesce(F("version"), Value(0)),
                condition=Q(state__in=["queued", "running"]),
                name="report_one_in_progress_per_scope_and_version",
            ),
            models.CheckConstraint(
                condition=~Q(state="succeeded")
                | (Q(snapshot__isnull=False) & ~Q(content_hash="") & ~Q(pdf="") & ~Q(xlsx="")),
                name="report_succeeded_has_snapshot_files_and_hash",
            ),
            models.CheckConstraint(
                condition=Q(state="succeeded") | Q(endorsement_submitted_at__isnull=True, endorsed_at__isnull=True),
                name="report_endorsed_only_once_succeeded",
            ),
        ]

    def __str__(self):
        scope = self.focus_area.code if self.focus_area_id else _("whole plan")
        return f"{self.period.code} {scope} ({self.get_state_display()})"

    def get_absolute_url(self):
        from django.urls import reverse

        return reverse("report-detail", args=[self.pk])

    def is_in_progress(self) -> bool:
        return self.state in self.IN_PROGRESS

    @property
    def scope_label(self) -> str:
        return f"{self.focus_area.code} {_(self.focus_area.name)}" if self.focus_area_id else str(_("Whole plan"))


class ReportRendering(TimeStampedModel):
    """Hold a succeeded report's PDF and XLSX rendered in another language than the one it was asked in.

    Rendered on request from the report's frozen snapshot, so every language shows the same
    content under the same hash. States as the report's: ``queued`` (asked for; waits for
    the report to succeed if it has not yet) → ``running`` → ``succeeded`` (files set) or
    ``failed`` (``error`` says why; asking again queues it again).
    """

    State = ProgressReport.State
    IN_PROGRESS = ProgressReport.IN_PROGRESS

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    report = models.ForeignKey(ProgressReport, models.CASCADE, related_name="renderings", verbose_name=_("report"))
    language = models.CharField(_("language"), max_length=8, choices=settings.LANGUAGES)
    state = models.CharField(_("state"), max_length=16, choices=State.choices, default=State.QUEUED)
    task_id = models.CharField(_("task id"), max_length=64, blank=True)
    attempts = models.PositiveSmallIntegerField(_("attempts"), default=0)
    started_at = models.DateTimeField(_("started at"), null=True, blank=True)
    finished_at = models.DateTimeField(_("finished at"), null=True, blank=True)
    error = models.TextField(_("error"), blank=True)
    pdf = models.FileField(_("PDF"), upload_to="reports/", blank=True)
    xlsx = models.FileField(_("XLSX"), upload_to="reports/", blank=True)

    class Meta:
        ordering = ["report", "language"]
        constraints = [
            models.UniqueConstraint(fields=["report", "language"], name="rendering_one_per_language"),
            models.CheckConstraint(
                condition=~Q(state="succeeded") | (~Q(pdf="") & ~Q(xlsx="")),
                name="rendering_succeeded_has_files",
            ),
        ]

    def __str__(self):
        return f"{self.report_id} {self.language} ({self.get_state_display()})"

    def is_in_progress(self) -> bool:
        return self.state in self.IN_PROGRESS


class SentNotification(models.Model):
    """Record, once, what a scheduled job did: an e-mail sent to a recipient, or a report it compiled.

    The row is inserted in the transaction that sends the e-mail (or queues the report);
    the unique constraint makes a second run of the job, or a concurrent one, find it and
    do nothing.
    """

    class Kind(models.TextChoices):
        PERIOD_REPORT = "period_report", _("Report compiled when a period ended")
        MEETING_REPORT = "meeting_report", _("Report compiled before a meeting")
        MEETING_REPORT_MAIL = "meeting_report_mail", _("Report e-mailed to a committee member")
        DUE_REMINDER = "due_reminder", _("Reminder of updates due")
        OVERDUE_DIGEST = "overdue_digest", _("Weekly digest of overdue updates")

    kind = models.CharField(_("kind"), max_length=32, choices=Kind.choices)
    # What the job acted on: a period code, a meeting id, an ISO week.
    key = models.CharField(_("key"), max_length=64)
    # An e-mail address; blank for a compiled report.
    recipient = models.CharField(_("recipient"), max_length=254, blank=True)
    report = models.ForeignKey(
        ProgressReport, models.SET_NULL, null=True, blank=True, related_name="+", verbose_name=_("report")
    )
    sent_at = models.DateTimeField(_("sent at"), auto_now_add=True)

    class Meta:
        ordering = ["-sent_at"]
        constraints = [
            models.UniqueConstraint(fields=["kind", "key", "recipient"], name="sent_notification_once"),
        ]

    def __str__(self):
        return f"{self.get_kind_display()} {self.key} {self.recipient}".strip()


class Party(models.TextChoices):
    """The two parties to the agreement, by their organisation's code: each signs what binds both."""

    UNODC = "UNODC", "UNODC"
    INTERPOL = "INTERPOL", "INTERPOL"


class SignOffQuerySet(models.QuerySet):
    def of(self, subject):
        """Keep the rounds of one subject (a meeting's minutes, a report, ...)."""
        return self.filter(content_type=ContentType.objects.get_for_model(subject), object_id=str(subject.pk))

    def open(self):
        return self.filter(state=SignOff.State.OPEN)


class SignOff(TimeStampedModel):
    """Ask a co-chair of each party to sign a subject: one round of signatures (see ``steering.signoff``).

    States: ``open`` (submitted, awaiting signatures) → ``approved`` (every party signed;
    ``closed_at`` is the last signature's time) or ``declined`` (a party declined with a reason;
    the signatures of the round are void) or ``withdrawn`` (what it asked to sign changed under
    it, e.g. a change request rebased on a newer version; its signatures are void too). A declined
    or withdrawn subject may be submitted again: a new round, numbered next; the earlier rounds
    stay as its history. At most one round is open.
    """

    class State(models.TextChoices):
        OPEN = "open", _("Awaiting signatures")
        APPROVED = "approved", _("Signed by both parties")
        DECLINED = "declined", pgettext_lazy("sign-off", "Declined")
        WITHDRAWN = "withdrawn", pgettext_lazy("sign-off", "Withdrawn")

    # What is signed, a key of steering.signoff.KINDS ("minutes", "report", ...): no choices here,
    # so that another kind plugs in without a migration of this table.
    kind = models.CharField(_("kind"), max_length=32)
    content_type = models.ForeignKey(ContentType, models.PROTECT, related_name="+", verbose_name=_("subject type"))
    # Text, as subjects have integer or UUID keys.
    object_id = models.CharField(_("subject id"), max_length=64)
    subject = GenericForeignKey("content_type", "object_id")
    number = models.PositiveSmallIntegerField(_("round"))
    state = models.CharField(_("state"), max_length=16, choices=State.choices, default=State.OPEN)
    submitted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, models.PROTECT, related_name="submitted_signoffs", verbose_name=_("submitted by")
    )
    submitted_at = models.DateTimeField(_("submitted at"))
    closed_at = models.DateTimeField(_("closed at"), null=True, blank=True)

    objects = SignOffQuerySet.as_manager()

    class Meta:
        ordering = ["content_type", "object_id", "number"]
        verbose_name = _("sign-off round")
        constraints = [
            models.UniqueConstraint(fields=["content_type", "object_id", "number"], name="signoff_round_unique"),
            models.UniqueConstraint(
                fields=["content_type", "object_id"], condition=Q(state="open"), name="signoff_one_open_round"
            ),
            models.CheckConstraint(condition=Q(number__gte=1), name="signoff_round_positive"),
            models.CheckConstraint(
                condition=Q(state="open", closed_at__isnull=True) | (~Q(state="open") & Q(closed_at__isnull=False)),
                name="signoff_closed_when_not_open",
            ),
        ]

    def __str__(self):
        return f"{self.kind} {self.object_id} round {self.number} ({self.get_state_display()})"

    def is_open(self) -> bool:
        return self.state == self.State.OPEN

    def parties_awaited(self, signatures) -> list[str]:
        """The parties whose signature the round still awaits, given its signatures: none once it is closed."""
        if not self.is_open():
            return []
        answered = {signature.party for signature in signatures}
        return [party for party in Party if party not in answered]


class Signature(models.Model):
    """Record one party's answer in a round of sign-off: signed, or declined with a reason.

    Written once and never changed: a decline closes the round, and what follows is a new round.
    """

    class Decision(models.TextChoices):
        SIGNED = "signed", pgettext_lazy("sign-off", "Signed")
        DECLINED = "declined", pgettext_lazy("sign-off", "Declined")

    signoff = models.ForeignKey(SignOff, models.CASCADE, related_name="signatures", verbose_name=_("round"))
    party = models.CharField(_("for"), max_length=16, choices=Party.choices)
    decision = models.CharField(_("decision"), max_length=16, choices=Decision.choices)
    signer = models.ForeignKey(
        settings.AUTH_USER_MODEL, models.PROTECT, related_name="signatures", verbose_name=_("signed by")
    )
    reason = models.TextField(_("reason"), blank=True)
    signed_at = models.DateTimeField(_("at"))

    class Meta:
        ordering = ["signoff", "signed_at", "pk"]
        verbose_name = _("signature")
        constraints = [
            # One answer per party and round: two simultaneous signatures for a party cannot both land.
            models.UniqueConstraint(fields=["signoff", "party"], name="signature_one_per_party_and_round"),
            models.CheckConstraint(
                condition=Q(decision="signed") | ~Q(reason=""), name="signature_decline_has_a_reason"
            ),
        ]

    def __str__(self):
        return f"{self.get_decision_display()} for {self.party} by {self.signer} at {self.signed_at:%Y-%m-%d %H:%M}"

    def is_decline(self) -> bool:
        return self.decision == self.Decision.DECLINED
