"""The agreement, the joint action plan and its results framework, and the reporting on it."""

import uuid
from decimal import Decimal

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import connection, models
from django.db.models import F, Q
from django.db.models.functions import RowNumber
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from portal import countries
from portal.errors import WrongState
from portal.history import HistoricalRecords
from portal.models import Country, Membership, Office, Organization, TimeStampedModel
from portal.roles import is_officer, office_ids_if_read, sees_whole_plan


class RAG(models.TextChoices):
    """Rate progress red, amber or green."""

    ON_TRACK = "on_track", _("On track")
    AT_RISK = "at_risk", _("At risk")
    OFF_TRACK = "off_track", _("Off track")


def _ends_not_before_starts(start: str, end: str, name: str) -> models.CheckConstraint:
    return models.CheckConstraint(
        condition=Q(**{f"{end}__isnull": True}) | Q(**{f"{start}__isnull": True}) | Q(**{f"{end}__gte": F(start)}),
        name=name,
    )


class Agreement(TimeStampedModel):
    """Hold the cooperation agreement that the action plan implements."""

    code = models.CharField(_("code"), max_length=32, unique=True)
    title = models.CharField(_("title"), max_length=300)
    parties = models.ManyToManyField(Organization, related_name="agreements", verbose_name=_("parties"))
    signed_on = models.DateField(_("signed on"), null=True, blank=True)
    in_force_from = models.DateField(_("in force from"), null=True, blank=True)
    in_force_to = models.DateField(_("in force to"), null=True, blank=True)
    document = models.FileField(_("document"), upload_to="agreements/", blank=True)
    summary = models.TextField(_("summary"), blank=True)

    class Meta:
        ordering = ["code"]
        constraints = [_ends_not_before_starts("in_force_from", "in_force_to", "agreement_in_force_to_not_before_from")]

    def __str__(self):
        return self.title


class Provision(TimeStampedModel):
    """Hold one article of the agreement, which activities can cite."""

    agreement = models.ForeignKey(Agreement, models.CASCADE, related_name="provisions", verbose_name=_("agreement"))
    number = models.CharField(_("number"), max_length=16)
    title = models.CharField(_("title"), max_length=200)
    text = models.TextField(_("text"), blank=True)

    class Meta:
        ordering = ["agreement", "number"]
        constraints = [
            models.UniqueConstraint(fields=["agreement", "number"], name="provision_unique_number_per_agreement"),
        ]

    def __str__(self):
        return f"Art. {self.number} {self.title}"


class ActionPlanQuerySet(models.QuerySet):
    def latest_first(self):
        """Order the plans the latest to start first; of two starting the same day, the one made first."""
        return self.order_by("-starts_on", "pk")

    def current(self):
        """Keep the plan the portal works on, the first of ``latest_first``: at most one, read with ``.first()``
        or ``get_object_or_404``."""
        return self.latest_first()[:1]


class ActionPlan(TimeStampedModel):
    """Hold a joint action plan adopted under the agreement."""

    class State(models.TextChoices):
        DRAFT = "draft", _("Draft")
        ADOPTED = "adopted", _("Adopted")
        CLOSED = "closed", _("Closed")

    agreement = models.ForeignKey(Agreement, models.PROTECT, related_name="plans", verbose_name=_("agreement"))
    code = models.CharField(_("code"), max_length=32, unique=True)
    title = models.CharField(_("title"), max_length=300)
    starts_on = models.DateField(_("period start"))
    ends_on = models.DateField(_("period end"))
    adopted_on = models.DateField(_("adopted on"), null=True, blank=True)
    version = models.CharField(_("version"), max_length=16, default="1.0")
    state = models.CharField(_("state"), max_length=16, choices=State.choices, default=State.DRAFT)

    objects = ActionPlanQuerySet.as_manager()

    class Meta:
        ordering = ["-starts_on"]
        constraints = [_ends_not_before_starts("starts_on", "ends_on", "actionplan_ends_not_before_starts")]

    def __str__(self):
        return gettext(self.title)


class FocusArea(TimeStampedModel):
    """Hold one of the plan's thematic focus areas."""

    plan = models.ForeignKey(ActionPlan, models.CASCADE, related_name="focus_areas", verbose_name=_("action plan"))
    code = models.CharField(_("code"), max_length=16, unique=True)
    name = models.CharField(_("name"), max_length=200)
    description = models.TextField(_("description"), blank=True)
    order = models.PositiveSmallIntegerField(_("order"), default=0)
    lead_officers = models.ManyToManyField(
        settings.AUTH_USER_MODEL, blank=True, related_name="led_focus_areas", verbose_name=_("lead officers")
    )

    class Meta:
        ordering = ["order", "code"]

    def __str__(self):
        # A fixed name of the plan, in the language of the reader (the catalogue holds the reference plan's).
        return f"{self.code} — {gettext(self.name)}"


class Objective(TimeStampedModel):
    """Hold an objective that a focus area pursues."""

    focus_area = models.ForeignKey(FocusArea, models.CASCADE, related_name="objectives", verbose_name=_("focus area"))
    code = models.CharField(_("code"), max_length=24, unique=True)
    statement = models.TextField(_("statement"))
    version = models.PositiveIntegerField(_("version"), default=1)
    # Who changed what and when, shown on the activity's page.
    history = HistoricalRecords()

    class Meta:
        ordering = ["code"]

    def __str__(self):
        return f"{self.code} {gettext(self.statement)[:60]}"


class Tag(TimeStampedModel):
    """Label activities across focus areas (SARTO, FTF, data sharing...)."""

    name = models.CharField(_("name"), max_length=64, unique=True)

    class Meta:
        ordering = ["name"]

    def __str__(self):
        return self.name


# The text-search configuration of the activity search and of its index.
SEARCH_CONFIG = "english"


# Which approved update of an activity is its latest: the latest period's, then the one
# reviewed last, then the first office's, so that every page, figure and report names the
# same one. (The office's id, not its code: a join per activity doubled the register's time.)
LATEST_UPDATE_FIRST = (
    models.F("period__starts_on").desc(),
    models.F("reviewed_at").desc(nulls_last=True),
    models.F("office_id").asc(),
    # Last, so that every reader (a window ranking, DISTINCT ON) picks the same of two updates tied on the rest.
    models.F("id").asc(),
)


class ActivityQuerySet(models.QuerySet):
    def visible_to(self, user):
        """Keep the activities the user may read.

        Officers and the committee read the whole plan; a field reporter reads what its
        offices implement, restricted activities included only there; anyone else
        reads nothing.
        """
        if sees_whole_plan(user):
            return self
        if not user.is_authenticated:
            return self.none()
        # The offices' ids read from the memberships, not through the offices: one join fewer for PostgreSQL to
        # plan on every read of activities by a field reporter (0.4 ms of planning, now 0.27, at scale M). Read
        # already with the user's API token, they are written in as they are: a subquery less to build.
        offices = office_ids_if_read(user)
        implemented_by_users_office = Activity.implementing_offices.through.objects.filter(
            activity=models.OuterRef("pk"),
            office__in=Membership.objects.filter(user=user).values("office_id") if offices is None else offices,
        )
        return self.filter(models.Exists(implemented_by_users_office))

    def publishable(self):
        """Keep the activities that may leave the portal as open data (the IATI export, public evidence files):
        never a restricted one."""
        return self.exclude(sensitivity__in=Activity.NEVER_PUBLISHED)

    def search(self, text: str):
        """Keep the activities whose code, title or description match the words of ``text``.

        On PostgreSQL, full-text search with web-search syntax, using the GIN index of
        migration 0004 (the document here must stay the indexed expression); elsewhere a
        plain substring match.
        """
        if connection.vendor != "postgresql":
            return self.filter(Q(code__icontains=text) | Q(title__icontains=text) | Q(description__icontains=text))
        from django.contrib.postgres.search import SearchQuery, SearchVector
        from django.db.models.expressions import RawSQL

        document = SearchVector("code", "title", "description", config=SEARCH_CONFIG)
        matching = (
            Activity.objects.alias(document=document)
            .filter(document=SearchQuery(text, search_type="websearch", config=SEARCH_CONFIG))
            .order_by()
            .values("pk")
        )
        # The matches are found through the index first, behind OFFSET 0 (which PostgreSQL never flattens into the
        # outer query): filtered on the document itself, or on a plain subquery, the page in code order was read
        # along the codes, the document computed for each row passed until 25 matched (5,000 rows, 110 ms at
        # scale L, for matches clustered in one focus area).
        sql, params = matching.query.sql_with_params()
        fenced = f"SELECT * FROM ({sql} OFFSET 0) matches"  # noqa: S608  # nosec B608  # the ORM's own SQL
        return self.filter(pk__in=RawSQL(fenced, params))  # noqa: S611  # nosec B611  # values are parameters

    def with_latest_update(self, as_of=None):
        """Annotate the RAG, percent and period of each activity's latest approved update, as kept in its
        standing at the reporting period ``as_of`` (the register as it stood then), else at its plan's
        last period (now). A join on the kept rows: nothing is ranked per activity."""
        if as_of is not None:
            at = Q(standings__as_of=as_of)
        else:
            later = ReportingPeriod.objects.filter(plan=models.OuterRef("plan")).filter(
                Q(starts_on__gt=models.OuterRef("starts_on"))
                | Q(starts_on=models.OuterRef("starts_on"), pk__gt=models.OuterRef("pk"))
            )
            # Read first (a join condition takes no subquery): one period per plan.
            last = ReportingPeriod.objects.filter(~models.Exists(later)).values_list("pk", flat=True)
            at = Q(standings__as_of__in=list(last))
        return self.annotate(standing=models.FilteredRelation("standings", condition=at)).annotate(
            latest_rag=models.F("standing__rag"),
            latest_percent=models.F("standing__percent_complete"),
            latest_period=models.F("standing__reported_period__code"),
        )

    def lead_organizations(self):
        """The organisations that lead at least one of these activities, by code."""
        return Organization.objects.filter(
            models.Exists(self.filter(lead_organization=models.OuterRef("pk")))
        ).order_by("code")

    def filter_choices(self) -> dict[str, list[tuple[str, str]]]:
        """The offices, lead organisations, regions, beneficiary countries and tags of these activities, each
        as the (value, label) of a choice, labels in the active language.

        Called on the activities a user may see, they are the filter choices that name nothing of the
        others (a restricted activity's country, say).
        """
        activities = self.order_by().values("pk")

        def used(through, field):
            return models.Exists(through.objects.filter(activity__in=activities, **{field: models.OuterRef("pk")}))

        offices = Office.objects.filter(used(Activity.implementing_offices.through, "office"))
        office_countries = Country.objects.filter(models.Exists(offices.filter(country=models.OuterRef("pk"))))
        named_countries = [
            (country.iso3, country.display_name)
            for country in Country.objects.filter(used(Activity.beneficiary_countries.through, "country")).only(
                "iso3", "iso2", "name"
            )
        ]
        return {
            "offices": [(code, code) for code in offices.order_by("code").values_list("code", flat=True)],
            "organizations": [(code, code) for code in self.lead_organizations().values_list("code", flat=True)],
            "regions": office_countries.office_regions(),
            "countries": sorted(named_countries, key=lambda choice: countries.name_key(choice[1])),
            "tags": [
                (name, name)
                for name in Tag.objects.filter(used(Activity.tags.through, "tag"))
                .order_by("name")
                .values_list("name", flat=True)
            ],
        }

    def for_register(self, as_of=None):
        """Fetch what the activity register's rows show (as it stood at the period ``as_of``, when given), in
        a fixed number of queries."""
        return (
            self.with_latest_update(as_of)
            .select_related("objective__focus_area")
            .prefetch_related("implementing_offices", "tags")
        )

    def for_register_export(self, as_of=None):
        """Fetch what the register's exports hold: its rows, their lead organisation and beneficiary countries."""
        return self.for_register(as_of).select_related("lead_organization").prefetch_related("beneficiary_countries")


class Activity(TimeStampedModel):
    """Hold an activity that implements an objective."""

    class Kind(models.TextChoices):
        TRAINING = "training", _("Training")
        TECHNICAL_ASSISTANCE = "technical_assistance", _("Technical assistance")
        JOINT_OPERATION = "joint_operation", _("Joint operation")
        ASSESSMENT = "assessment", _("Assessment")
        MEETING = "meeting", _("Meeting")
        DATA_SHARING = "data_sharing", _("Data sharing")
        OTHER = "other", _("Other")

    class Status(models.TextChoices):
        PLANNED = "planned", _("Planned")
        ONGOING = "ongoing", _("Ongoing")
        COMPLETED = "completed", _("Completed")
        DELAYED = "delayed", _("Delayed")
        CANCELLED = "cancelled", _("Cancelled")

    class Sensitivity(models.TextChoices):
        INTERNAL = "internal", _("Internal")
        RESTRICTED = "restricted", _("Restricted")

    objective = models.ForeignKey(Objective, models.PROTECT, related_name="activities", verbose_name=_("objective"))
    code = models.CharField(_("code"), max_length=32, unique=True)
    title = models.CharField(_("title"), max_length=300)
    description = models.TextField(_("description"), blank=True)
    # The language the title and description were written in (the writer's, when known), for lang="".
    language = models.CharField(_("written in"), max_length=8, blank=True, choices=settings.LANGUAGES)
    kind = models.CharField(_("kind"), max_length=24, choices=Kind.choices, default=Kind.OTHER)
    lead_organization = models.ForeignKey(
        Organization, models.PROTECT, related_name="led_activities", verbose_name=_("lead organisation")
    )
    partner_organizations = models.ManyToManyField(
        Organization, blank=True, related_name="partnered_activities", verbose_name=_("partner organisations")
    )
    implementing_offices = models.ManyToManyField(
        Office, blank=True, related_name="activities", verbose_name=_("implementing offices")
    )
    beneficiary_countries = models.ManyToManyField(
        Country, blank=True, related_name="activities", verbose_name=_("beneficiary countries")
    )
    provisions = models.ManyToManyField(
        Provision, blank=True, related_name="activities", verbose_name=_("provisions implemented")
    )
    tags = models.ManyToManyField(Tag, blank=True, related_name="activities", verbose_name=_("tags"))
    responsible_officer = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        models.SET_NULL,
        null=True,
        blank=True,
        related_name="responsible_for_activities",
        verbose_name=_("responsible officer"),
    )
    planned_start = models.DateField(_("planned start"), null=True, blank=True)
    planned_end = models.DateField(_("planned end"), null=True, blank=True)
    actual_start = models.DateField(_("actual start"), null=True, blank=True)
    actual_end = models.DateField(_("actual end"), null=True, blank=True)
    budget_amount = models.DecimalField(_("budget"), max_digits=14, decimal_places=2, null=True, blank=True)
    budget_currency = models.CharField(_("currency"), max_length=3, default="USD")
    funding_source = models.CharField(_("funding source"), max_length=200, blank=True)
    status = models.CharField(_("status"), max_length=16, choices=Status.choices, default=Status.PLANNED, db_index=True)
    sensitivity = models.CharField(
        _("sensitivity"), max_length=16, choices=Sensitivity.choices, default=Sensitivity.INTERNAL
    )
    # Incremented on every edit, so that an edit based on an older copy is detected.
    version = models.PositiveIntegerField(_("version"), default=1)

    # What never leaves the portal as open data, read by ``ActivityQuerySet.publishable`` and ``is_publishable``.
    NEVER_PUBLISHED = frozenset({Sensitivity.RESTRICTED})

    objects = ActivityQuerySet.as_manager()
    # Who changed what and when, shown on the activity's page.
    history = HistoricalRecords()

    class Meta:
        ordering = ["code"]
        verbose_name_plural = _("activities")
        constraints = [
            _ends_not_before_starts("planned_start", "planned_end", "activity_planned_end_not_before_start"),
            _ends_not_before_starts("actual_start", "actual_end", "activity_actual_end_not_before_start"),
            models.CheckConstraint(
                condition=Q(budget_amount__isnull=True) | Q(budget_amount__gte=0), name="activity_budget_not_negative"
            ),
        ]
        # The register's sorts, each then by code (``filters.RegisterOrdering``): a page of 25 read in index order.
        indexes = [
            models.Index(fields=["title", "code"], name="activity_title_code_idx"),
            models.Index(fields=["planned_start", "code"], name="activity_start_code_idx"),
            models.Index(fields=["status", "code"], name="activity_status_code_idx"),
        ]

    def __str__(self):
        return f"{self.code} {self.title}"

    @property
    def is_publishable(self) -> bool:
        """Tell whether the activity may leave the portal as open data: ``publishable()`` for one activity at hand."""
        return self.sensitivity not in self.NEVER_PUBLISHED


class IndicatorQuerySet(models.QuerySet):
    def visible_to(self, user):
        """Keep the indicators of the objectives, and of the activities the user may read."""
        if sees_whole_plan(user):
            return self
        if not user.is_authenticated:
            return self.none()
        return self.filter(Q(activity__isnull=True) | Q(activity__in=Activity.objects.visible_to(user)))


# What indicator values can be broken down by (``actionplan.dimensions`` describes each).
DIMENSION_KEYS = ("sex", "age", "country")


def validate_dimensions(value):
    """Accept a list of distinct dimension keys, e.g. ["sex", "age"]."""
    keys = value if isinstance(value, list) and all(isinstance(key, str) for key in value) else None
    if keys is None or len(set(keys)) != len(keys) or not set(keys) <= set(DIMENSION_KEYS):
        raise ValidationError(
            _('List distinct dimensions among %(keys)s, e.g. ["sex", "age"].') % {"keys": ", ".join(DIMENSION_KEYS)},
            code="invalid_dimensions",
        )


class Indicator(TimeStampedModel):
    """Hold a measure of progress of an objective or of an activity, and the rule its figure follows.

    How an indicator's approved values become its figure is stated here, by the officer
    who defines it, and applied by ``actionplan.figures`` on every page, report and API.
    """

    class Direction(models.TextChoices):
        INCREASE = "increase", _("Increase")
        DECREASE = "decrease", _("Decrease")
        MAINTAIN = "maintain", _("Maintain")

    class Measure(models.TextChoices):
        NUMBER = "number", _("Number")
        PERCENTAGE = "percentage", _("Percentage")
        YES_NO = "yes_no", _("Yes/no")

    class OfficeRule(models.TextChoices):
        """How the values of several offices in one period combine."""

        SUM = "sum", _("Sum")
        MEAN = "mean", _("Mean")
        MAX = "max", _("Maximum")
        LATEST = "latest", _("Latest reported")

    class PeriodRule(models.TextChoices):
        """How a period's figure relates to the periods before it."""

        PER_PERIOD = "per_period", _("Per period")
        CUMULATIVE = "cumulative", _("Cumulative")
        LATEST = "latest", _("Latest")

    objective = models.ForeignKey(
        Objective, models.CASCADE, null=True, blank=True, related_name="indicators", verbose_name=_("objective")
    )
    activity = models.ForeignKey(
        Activity, models.CASCADE, null=True, blank=True, related_name="indicators", verbose_name=_("activity")
    )
    code = models.CharField(_("code"), max_length=40, unique=True)
    name = models.CharField(_("name"), max_length=300)
    unit = models.CharField(_("unit"), max_length=40, default="number")
    direction = models.CharField(_("direction"), max_length=16, choices=Direction.choices, default=Direction.INCREASE)
    baseline_value = models.DecimalField(_("baseline"), max_digits=14, decimal_places=2, default=0)
    baseline_date = models.DateField(_("baseline date"), null=True, blank=True)
    target_value = models.DecimalField(_("target"), max_digits=14, decimal_places=2)
    target_date = models.DateField(_("target date"), null=True, blank=True)
    means_of_verification = models.TextField(_("means of verification"), blank=True)
    measure = models.CharField(_("measure"), max_length=16, choices=Measure.choices, default=Measure.NUMBER)
    allows_over_100 = models.BooleanField(
        _("percentages may exceed 100"), default=False, help_text=_("For a percentage, such as growth over a year.")
    )
    office_rule = models.CharField(
        _("across offices in a period"),
        max_length=16,
        choices=OfficeRule.choices,
        default=OfficeRule.SUM,
        help_text=_("How the values of several offices in one period combine."),
    )
    period_rule = models.CharField(
        _("across periods"),
        max_length=16,
        choices=PeriodRule.choices,
        default=PeriodRule.CUMULATIVE,
        help_text=_(
            "Per period: each period's figure is that period's own value. Cumulative: each value reported is "
            "the running total, an office's last value counts until it reports again. Latest: the latest "
            "reporting round stands."
        ),
    )
    # The dimensions of ``actionplan.dimensions`` that values are broken down by, e.g. ["sex", "age"].
    dimensions = models.JSONField(_("broken down by"), default=list, blank=True, validators=[validate_dimensions])
    # Plausibility: beyond these a reporter is asked to confirm, and the officer sees a flag.
    # Translators: its % is a sign, not a placeholder. xgettext:no-python-format
    plausible_share_of_target = models.PositiveIntegerField(_("confirm values above this % of the target"), default=150)
    plausible_growth = models.DecimalField(
        _("confirm values above this multiple of the office's previous one"),
        max_digits=6,
        decimal_places=2,
        default=Decimal(3),
    )
    version = models.PositiveIntegerField(_("version"), default=1)

    objects = IndicatorQuerySet.as_manager()
    # Who changed what and when, shown on the activity's page.
    history = HistoricalRecords()

    class Meta:
        ordering = ["code"]
        constraints = [
            models.CheckConstraint(
                condition=Q(objective__isnull=True, activity__isnull=False)
                | Q(objective__isnull=False, activity__isnull=True),
                name="indicator_measures_objective_or_activity",
            ),
            _ends_not_before_starts("baseline_date", "target_date", "indicator_target_not_before_baseline"),
            models.CheckConstraint(
                condition=Q(plausible_share_of_target__gte=100), name="indicator_plausible_share_at_least_100"
            ),
            models.CheckConstraint(condition=Q(plausible_growth__gte=1), name="indicator_plausible_growth_at_least_1"),
        ]

    def __str__(self):
        return f"{self.code} {self.name}"

    @property
    def is_cumulative(self) -> bool:
        return self.period_rule == self.PeriodRule.CUMULATIVE

    def value_limits(self) -> tuple[Decimal, Decimal | None]:
        """The smallest and largest value a measurement of this indicator may take (None: no upper limit)."""
        if self.measure == self.Measure.YES_NO:
            return Decimal(0), Decimal(1)
        if self.measure == self.Measure.PERCENTAGE and not self.allows_over_100:
            return Decimal(0), Decimal(100)
        return Decimal(0), None


class PeriodTarget(TimeStampedModel):
    """Set an indicator's target for one reporting period, beside its end target."""

    indicator = models.ForeignKey(Indicator, models.CASCADE, related_name="period_targets", verbose_name=_("indicator"))
    period = models.ForeignKey(
        "ReportingPeriod", models.CASCADE, related_name="indicator_targets", verbose_name=_("period")
    )
    value = models.DecimalField(_("target"), max_digits=14, decimal_places=2)

    class Meta:
        ordering = ["indicator", "period__starts_on"]
        constraints = [
            models.UniqueConstraint(fields=["indicator", "period"], name="period_target_one_per_indicator_period"),
        ]

    def __str__(self):
        return f"{self.indicator.code} {self.period.code}: {self.value}"


class ReportingPeriod(TimeStampedModel):
    """Hold a period that offices report on; a locked one takes no new or changed updates."""

    class State(models.TextChoices):
        OPEN = "open", _("Open")
        LOCKED = "locked", _("Locked")

    plan = models.ForeignKey(ActionPlan, models.CASCADE, related_name="periods", verbose_name=_("action plan"))
    code = models.CharField(_("code"), max_length=16, unique=True)
    starts_on = models.DateField(_("start"))
    ends_on = models.DateField(_("end"))
    due_on = models.DateField(_("updates due on"))
    state = models.CharField(_("state"), max_length=8, choices=State.choices, default=State.OPEN)
    version = models.PositiveIntegerField(_("version"), default=1)
    # Who changed what and when, shown on the activity's page.
    history = HistoricalRecords()

    class Meta:
        ordering = ["starts_on"]
        constraints = [
            _ends_not_before_starts("starts_on", "ends_on", "period_ends_not_before_starts"),
            _ends_not_before_starts("ends_on", "due_on", "period_due_not_before_end"),
        ]

    def __str__(self):
        return self.code

    def is_open(self) -> bool:
        return self.state == self.State.OPEN


# The order an update's measurements are shown in: each indicator's total first, then its breakdown.
MEASUREMENTS_SHOWN = ("indicator__code", models.F("country").asc(nulls_first=True), "sex", "age_band")


def _first_of_each(queryset, group: str, order_by: list):
    """The primary keys of the first row of each group, ranked in SQL by a window function."""
    ranked = queryset.annotate(
        rank_in_group=models.Window(RowNumber(), partition_by=models.F(group), order_by=order_by)
    )
    return ranked.filter(rank_in_group=1).values("pk")


class ProgressUpdateQuerySet(models.QuerySet):
    def visible_to(self, user):
        """Keep the updates the user may read: those on activities it may read, and,
        for a field reporter, only those of its own offices."""
        if sees_whole_plan(user):
            return self
        if not user.is_authenticated:
            return self.none()
        return self.filter(office__memberships__user=user, activity__in=Activity.objects.visible_to(user))

    def latest_approved_per_activity(self, as_of=None):
        """Keep each activity's latest approved update (by period, then review time), in a
        period starting by ``as_of`` when given.

        One ranking pass over the updates: at scale it is far cheaper than a correlated
        subquery per activity, and the result can be filtered or grouped further.
        """
        approved = self.filter(state=ProgressUpdate.State.APPROVED)
        if as_of is not None:
            approved = approved.filter(period__starts_on__lte=as_of)
        return ProgressUpdate.objects.filter(
            pk__in=_first_of_each(
                approved,
                "activity_id",
                list(LATEST_UPDATE_FIRST),
            )
        )

    def with_details(self):
        """Fetch what an update's page or API answer shows, in a fixed number of queries."""
        return self.select_related("activity", "period", "office", "author", "reviewed_by").prefetch_related(
            models.Prefetch("measurements", _measurements_shown()),
            models.Prefetch("evidence", Evidence.objects.select_related("uploaded_by")),
        )


def _measurements_shown():
    return Measurement.objects.select_related("indicator", "country").order_by(*MEASUREMENTS_SHOWN)


def fetch_details_of_new(update: "ProgressUpdate", *, measured: bool) -> None:
    """Fetch onto an update this process just created what ``with_details`` fetches, reading only what memory
    does not hold: the update and the rows it names are the ones it was written from; its measurements are
    read back as stored when it was given any; it has no evidence yet (files are added to an existing update).
    """
    # What is known to be empty is cached as empty, as a prefetch would cache it, without building the prefetch's
    # queries (over a millisecond for the two, on every creation).
    update._prefetched_objects_cache = {"evidence": Evidence.objects.none()}
    if measured:
        models.prefetch_related_objects([update], models.Prefetch("measurements", _measurements_shown()))
    else:
        update._prefetched_objects_cache["measurements"] = Measurement.objects.none()


class ProgressUpdate(TimeStampedModel):
    """Report an office's progress on an activity in a reporting period."""

    class State(models.TextChoices):
        DRAFT = "draft", _("Draft")
        SUBMITTED = "submitted", _("Submitted")
        RETURNED = "returned", _("Returned")
        APPROVED = "approved", _("Approved")

    class Source(models.TextChoices):
        WEB = "web", _("Web")
        API = "api", _("API")
        IMPORT = "import", _("Import")

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    # No index of their own: the one per activity, period and office leads with the activity, and the
    # period's indexes (by state, by pair) with the period. A lone index on either is one more to write at each
    # update, and the planner took it over the pair's, filtering a period's updates out of an activity's.
    activity = models.ForeignKey(
        Activity, models.PROTECT, related_name="updates", verbose_name=_("activity"), db_index=False
    )
    period = models.ForeignKey(
        ReportingPeriod, models.PROTECT, related_name="updates", verbose_name=_("period"), db_index=False
    )
    office = models.ForeignKey(Office, models.PROTECT, related_name="updates", verbose_name=_("office"))
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL, models.PROTECT, related_name="authored_updates", verbose_name=_("author")
    )
    state = models.CharField(_("state"), max_length=16, choices=State.choices, default=State.DRAFT, db_index=True)
    rag = models.CharField(_("RAG rating"), max_length=16, choices=RAG.choices)
    percent_complete = models.PositiveSmallIntegerField(_("percent complete"), default=0)
    narrative = models.TextField(_("narrative"), blank=True)
    challenges = models.TextField(_("challenges"), blank=True)
    next_steps = models.TextField(_("next steps"), blank=True)
    # The language the texts were written in (the writer's, when known), for lang="".
    language = models.CharField(_("written in"), max_length=8, blank=True, choices=settings.LANGUAGES)
    source = models.CharField(_("source"), max_length=8, choices=Source.choices, default=Source.WEB)
    version = models.PositiveIntegerField(_("version"), default=1)
    client_key = models.CharField(_("client idempotency key"), max_length=200, null=True, blank=True)
    submitted_at = models.DateTimeField(_("submitted at"), null=True, blank=True)
    reviewed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        models.PROTECT,
        null=True,
        blank=True,
        related_name="reviewed_updates",
        verbose_name=_("reviewed by"),
    )
    reviewed_at = models.DateTimeField(_("reviewed at"), null=True, blank=True)
    review_comment = models.TextField(_("review comment"), blank=True)
    # Plausibility warnings the reporter confirmed ({"indicator", "rule", "message"}), shown to the reviewer.
    warnings = models.JSONField(_("plausibility warnings"), default=list, blank=True)
    # A submitted update left in a period that was locked before its review: an officer may open it
    # for review alone, or close it out with a reason. Either is recorded here and in the history.
    reopened_for_review_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("opened for review in a locked period by"),
    )
    reopened_for_review_at = models.DateTimeField(_("opened for review in a locked period at"), null=True, blank=True)
    closed_out_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("closed out by"),
    )
    closed_out_at = models.DateTimeField(_("closed out at"), null=True, blank=True)
    closed_out_reason = models.TextField(_("why it was closed out"), blank=True)

    objects = ProgressUpdateQuerySet.as_manager()
    # Who changed what and when, shown on the activity's page.
    history = HistoricalRecords()

    class Meta:
        ordering = ["-period__starts_on", "activity__code", "office__code"]
        constraints = [
            models.UniqueConstraint(
                fields=["activity", "period", "office"], name="update_one_per_activity_period_office"
            ),
            models.UniqueConstraint(
                fields=["author", "client_key"],
                condition=Q(client_key__isnull=False),
                name="update_client_key_unique_per_author",
            ),
            models.CheckConstraint(
                condition=Q(percent_complete__gte=0, percent_complete__lte=100), name="update_percent_complete_0_100"
            ),
            models.CheckConstraint(condition=Q(version__gte=1), name="update_version_positive"),
            models.CheckConstraint(
                condition=Q(closed_out_at__isnull=True) | ~Q(closed_out_reason=""),
                name="update_closed_out_with_a_reason",
            ),
        ]
        indexes = [
            models.Index(fields=["period", "state"], name="update_period_state_idx"),
            # A period's updates by their pair: the pairs missing an update, compared in index order.
            models.Index(fields=["period", "activity", "office"], name="update_period_pair_idx"),
            # The review queue in its order (``paging.ReadInTwoSteps``): the updates waiting, read from the
            # index alone, without their text.
            models.Index(
                fields=["period", "submitted_at", "id"],
                include=["activity", "office", "reopened_for_review_at"],
                condition=Q(state="submitted", closed_out_at__isnull=True),
                name="update_waiting_idx",
            ),
        ]

    def __str__(self):
        return f"{self.activity.code} / {self.period.code} / {self.office.code} ({self.get_state_display()})"

    def may_be_reviewed_in(self) -> bool:
        """Tell whether its period lets it be reviewed: open, or opened for this update alone."""
        return self.period.is_open() or self.reopened_for_review_at is not None


class UpdateComment(TimeStampedModel):
    """Keep one message of the conversation on an update: a return, a reply, a resubmission note, an approval."""

    class Kind(models.TextChoices):
        RETURN = "return", _("Returned")
        REPLY = "reply", _("Reply")
        SUBMISSION = "submission", _("Submitted")
        RESUBMISSION = "resubmission", _("Resubmitted")
        WITHDRAWAL = "withdrawal", _("Withdrawn")
        APPROVAL = "approval", _("Approved")
        REOPENED = "reopened", _("Opened for review in a locked period")
        CLOSED_OUT = "closed_out", _("Closed out")
        EVIDENCE_REMOVED = "evidence_removed", _("Evidence file removed")
        EVIDENCE_PUBLISHED = "published", _("Evidence file made public")
        EVIDENCE_UNPUBLISHED = "unpublished", _("Evidence file made private")

    update = models.ForeignKey(ProgressUpdate, models.CASCADE, related_name="comments", verbose_name=_("update"))
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL, models.PROTECT, related_name="update_comments", verbose_name=_("author")
    )
    kind = models.CharField(_("kind"), max_length=16, choices=Kind.choices, default=Kind.REPLY)
    text = models.TextField(_("text"), blank=True)
    # The update's version the message was written on.
    version = models.PositiveIntegerField(_("update version"))

    class Meta:
        ordering = ["created_at", "pk"]
        indexes = [models.Index(fields=["update", "created_at"], name="comment_update_created_idx")]
        constraints = [
            models.CheckConstraint(condition=~Q(kind="reply") | ~Q(text=""), name="comment_reply_has_text"),
        ]

    def __str__(self):
        return f"{self.get_kind_display()} by {self.author} on {self.update_id}"


class MeasurementQuerySet(models.QuerySet):
    def totals(self):
        """Keep the rows that hold an indicator's total value, not one category of a breakdown."""
        return self.filter(country__isnull=True, sex="", age_band="")


class Measurement(TimeStampedModel):
    """Record the value an update reports for an indicator, optionally disaggregated."""

    class Sex(models.TextChoices):
        ALL = "", _("All")
        FEMALE = "female", _("Female")
        MALE = "male", _("Male")
        UNKNOWN = "unknown", _("Not recorded")

    update = models.ForeignKey(ProgressUpdate, models.CASCADE, related_name="measurements", verbose_name=_("update"))
    indicator = models.ForeignKey(Indicator, models.PROTECT, related_name="measurements", verbose_name=_("indicator"))
    value = models.DecimalField(_("value"), max_digits=14, decimal_places=2)
    country = models.ForeignKey(
        Country, models.PROTECT, null=True, blank=True, related_name="measurements", verbose_name=_("country")
    )
    sex = models.CharField(_("sex"), max_length=8, choices=Sex.choices, default=Sex.ALL, blank=True)
    # One of settings.AGE_BANDS, or "" for all ages.
    age_band = models.CharField(_("age band"), max_length=16, default="", blank=True)
    note = models.TextField(_("note"), blank=True)

    objects = MeasurementQuerySet.as_manager()

    class Meta:
        ordering = ["indicator__code"]
        constraints = [
            # Two constraints because NULL countries never collide in a plain unique index.
            models.UniqueConstraint(
                fields=["update", "indicator", "country", "sex", "age_band"],
                condition=Q(country__isnull=False),
                name="measurement_unique_per_country_disaggregation",
            ),
            models.UniqueConstraint(
                fields=["update", "indicator", "sex", "age_band"],
                condition=Q(country__isnull=True),
                name="measurement_unique_without_country",
            ),
            # A row is the total (no dimension) or one category of one dimension: breakdowns
            # are one dimension at a time, each adding up to the total.
            models.CheckConstraint(
                condition=Q(country__isnull=True, sex="")
                | Q(country__isnull=True, age_band="")
                | Q(sex="", age_band=""),
                name="measurement_at_most_one_dimension",
            ),
        ]

    def __str__(self):
        return f"{self.indicator.code} = {self.value}"

    # An approved figure never changes, whoever saves it (admin, shell, a script): a saved row of
    # an approved update is neither changed, moved nor deleted. Rows are written for an update
    # while it can change (``measurements.replace``, in bulk) or with it, approved, by the demo
    # data and imports.
    def save(self, *args, **kwargs):
        if not self._state.adding:
            self._refuse_if_approved()
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        self._refuse_if_approved()
        return super().delete(*args, **kwargs)

    def _refuse_if_approved(self):
        stored = Measurement.objects.filter(pk=self.pk).values_list("update_id", flat=True)
        approved = ProgressUpdate.objects.filter(
            Q(pk=self.update_id) | Q(pk__in=stored), state=ProgressUpdate.State.APPROVED
        )
        if approved.exists():
            raise WrongState(
                str(_("This figure belongs to an approved update: it never changes.")),
                state=ProgressUpdate.State.APPROVED,
            )


class EvidenceQuerySet(models.QuerySet):
    def visible_to(self, user):
        """Keep the files of the updates the user may read."""
        return self.filter(update__in=ProgressUpdate.objects.visible_to(user))

    def published(self):
        """Keep the files anyone may download, which the IATI export links to: made public by an officer, of an
        approved update, of an activity that may be published (``ActivityQuerySet.publishable``)."""
        return self.filter(
            public=True,
            update__state=ProgressUpdate.State.APPROVED,
            update__activity__in=Activity.objects.publishable(),
        )


class Evidence(TimeStampedModel):
    """Keep a file that supports an update, with its sniffed type and checksum."""

    update = models.ForeignKey(ProgressUpdate, models.CASCADE, related_name="evidence", verbose_name=_("update"))
    file = models.FileField(_("file"), upload_to="evidence/%Y/%m/", max_length=255)
    original_name = models.CharField(_("original name"), max_length=255)
    content_type = models.CharField(_("content type"), max_length=100)
    size = models.PositiveBigIntegerField(_("size in bytes"))
    sha256 = models.CharField(_("SHA-256"), max_length=64)
    uploaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, models.PROTECT, related_name="uploaded_evidence", verbose_name=_("uploaded by")
    )
    # Chosen by a programme officer: the IATI export links to it, and anyone may download it, once its
    # update is approved. A default in the database too, for rows written by code that predates the column.
    public = models.BooleanField(_("public"), default=False, db_default=False)

    objects = EvidenceQuerySet.as_manager()

    class Meta:
        ordering = ["created_at"]
        verbose_name_plural = _("evidence")
        constraints = [
            models.CheckConstraint(condition=Q(sha256__regex=r"^[0-9a-f]{64}$"), name="evidence_sha256_hex"),
        ]

    def __str__(self):
        return f"{self.original_name} ({self.size} bytes)"


class ActivityStanding(models.Model):
    """An activity's latest approved update as the plan stood at a reporting period: the one that
    ``LATEST_UPDATE_FIRST`` ranks first among those of periods starting by that period's start.

    Kept by ``actionplan.standings`` in the transaction of every write that could change it, so
    that pages filter, sort and count on it instead of ranking updates per activity. No row: no
    approved update by then.
    """

    activity = models.ForeignKey(Activity, models.CASCADE, related_name="standings", verbose_name=_("activity"))
    as_of = models.ForeignKey(ReportingPeriod, models.CASCADE, related_name="+", verbose_name=_("as of"))
    update = models.ForeignKey(ProgressUpdate, models.CASCADE, related_name="+", verbose_name=_("update"))
    reported_period = models.ForeignKey(
        ReportingPeriod, models.CASCADE, related_name="+", verbose_name=_("period reported on")
    )
    rag = models.CharField(_("RAG rating"), max_length=16, choices=RAG.choices)
    percent_complete = models.PositiveSmallIntegerField(_("percent complete"))

    class Meta:
        constraints = [models.UniqueConstraint(fields=["as_of", "activity"], name="standing_one_per_activity_period")]
        indexes = [
            models.Index(fields=["as_of", "rag"], name="standing_as_of_rag_idx"),
            models.Index(fields=["as_of", "percent_complete"], name="standing_as_of_percent_idx"),
        ]

    def __str__(self):
        return f"{self.activity_id} @ {self.as_of_id}: {self.rag} {self.percent_complete}%"


class IndicatorFigure(models.Model):
    """An indicator's figure for a reporting period, computed by its rule from approved values
    (``actionplan.figures``) and kept by ``actionplan.standings`` like ``ActivityStanding``.

    Only what the rule and the approved values decide is kept; the target, the share of it
    reached and whether it is reached are read with it, so a changed target needs no rebuild.
    """

    indicator = models.ForeignKey(Indicator, models.CASCADE, related_name="+", verbose_name=_("indicator"))
    period = models.ForeignKey(ReportingPeriod, models.CASCADE, related_name="+", verbose_name=_("period"))
    value = models.DecimalField(_("value"), max_digits=20, decimal_places=2)
    value_count = models.PositiveIntegerField(_("values combined"))
    office_count = models.PositiveIntegerField(_("offices"))
    reported_count = models.PositiveIntegerField(_("values reported for the period"))
    latest_reported_on = models.DateField(_("latest reported on"))

    class Meta:
        constraints = [models.UniqueConstraint(fields=["period", "indicator"], name="figure_one_per_indicator_period")]

    def __str__(self):
        return f"{self.indicator_id} @ {self.period_id}: {self.value}"


class ImportRunQuerySet(models.QuerySet):
    def visible_to(self, user):
        """Keep the imports the user may read: its own; a programme officer's, every one."""
        if not user.is_authenticated:
            return self.none()
        if is_officer(user):
            return self
        return self.filter(user=user)


class ImportRun(TimeStampedModel):
    """Hold an uploaded update template between its dry run and its import, and the summary of each."""

    class State(models.TextChoices):
        CHECKING = "checking", _("Being checked")
        CHECKED = "checked", _("Checked (dry run)")
        IMPORTING = "importing", _("Being imported")
        IMPORTED = "imported", _("Imported")
        FAILED = "failed", _("Failed")

    user = models.ForeignKey(settings.AUTH_USER_MODEL, models.PROTECT, related_name="+", verbose_name=_("user"))
    office = models.ForeignKey(Office, models.PROTECT, related_name="+", verbose_name=_("office"))
    period = models.ForeignKey(ReportingPeriod, models.PROTECT, related_name="+", verbose_name=_("reporting period"))
    file = models.FileField(_("file"), upload_to="imports/%Y/%m/")
    state = models.CharField(_("state"), max_length=16, choices=State.choices, default=State.CHECKED)
    rows = models.PositiveIntegerField(_("rows"), default=0)
    # The rows checked or imported so far, while a worker runs a large file: its progress bar.
    done = models.PositiveIntegerField(_("rows done"), default=0)
    summary = models.JSONField(_("summary"), default=dict)
    error = models.TextField(_("error"), blank=True)
    imported_at = models.DateTimeField(_("imported at"), null=True, blank=True)

    objects = ImportRunQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at"]

    def __str__(self):
        return f"{self.office.code} {self.period.code} {self.created_at:%Y-%m-%d %H:%M}"

    def is_in_progress(self) -> bool:
        return self.state in (self.State.CHECKING, self.State.IMPORTING)

    def is_dry_run(self) -> bool:
        """Tell whether the run checks its file, or checked it, rather than imports it."""
        return self.state in (self.State.CHECKING, self.State.CHECKED)

    @property
    def progress(self) -> int:
        """The share of the rows done, 0 to 100 (100 once finished)."""
        if not self.is_in_progress():
            return 100
        return min(99, self.done * 100 // max(self.rows, 1))


class PlanVersionQuerySet(models.QuerySet):
    def in_order(self):
        """Keep the versions oldest first (1.0, 1.1, ..., 1.10, 2.0): by their numbers, not as text."""
        return self.order_by("major", "minor")

    def latest_of(self, plan):
        """Keep the plan's current version, the latest endorsed: at most one, read with ``.first()``."""
        return self.filter(plan=plan).order_by("-major", "-minor")[:1]

    def numbered(self, plan, number: str):
        """Keep the plan's version of this number ("1.0"): at most one; none for a malformed number."""
        major, _dot, minor = (number or "").partition(".")
        if not (major.isdigit() and minor.isdigit()):
            return self.none()
        return self.filter(plan=plan, major=int(major), minor=int(minor))


class PlanVersion(TimeStampedModel):
    """Freeze what the committee endorsed of the plan: its focus areas, objectives, activities' scope and
    indicators' definitions, baselines and targets, as they stood (``actionplan.versions`` builds it).

    Each endorsed revision is a new version (1.0, 1.1, ...); a version never changes. Once the plan has
    one, what it governs changes only through an approved ``ChangeRequest``.
    """

    plan = models.ForeignKey(ActionPlan, models.PROTECT, related_name="versions", verbose_name=_("action plan"))
    major = models.PositiveSmallIntegerField(_("major number"))
    minor = models.PositiveSmallIntegerField(_("minor number"))
    endorsed_at = models.DateTimeField(_("endorsed at"))
    endorsed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("recorded by"),
    )
    # How it was endorsed, e.g. "Steering committee, Lyon, 6 June 2018" or "Change request 12".
    endorsement = models.CharField(_("endorsed by (how)"), max_length=300)
    note = models.TextField(_("note"), blank=True)
    snapshot = models.JSONField(_("snapshot"), default=dict)

    objects = PlanVersionQuerySet.as_manager()

    class Meta:
        ordering = ["plan", "major", "minor"]
        constraints = [
            models.UniqueConstraint(fields=["plan", "major", "minor"], name="plan_version_unique_number"),
        ]

    def __str__(self):
        return self.number

    @property
    def number(self) -> str:
        return f"{self.major}.{self.minor}"


class VersionIndicator(models.Model):
    """Keep an indicator's baseline, end target and direction as a version holds them: the snapshot's figures as
    rows, for the dashboard and the reports to measure live figures against a version in SQL."""

    version = models.ForeignKey(PlanVersion, models.CASCADE, related_name="indicators", verbose_name=_("version"))
    indicator = models.ForeignKey(Indicator, models.CASCADE, related_name="+", verbose_name=_("indicator"))
    direction = models.CharField(_("direction"), max_length=16, choices=Indicator.Direction.choices)
    baseline_value = models.DecimalField(_("baseline"), max_digits=14, decimal_places=2)
    target_value = models.DecimalField(_("target"), max_digits=14, decimal_places=2)
    target_date = models.DateField(_("target date"), null=True, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["version", "indicator"], name="version_indicator_one_per_version"),
        ]

    def __str__(self):
        return f"{self.indicator_id} @ {self.version_id}"


class VersionPeriodTarget(models.Model):
    """Keep an indicator's target for a period as a version holds it (see ``VersionIndicator``)."""

    version = models.ForeignKey(PlanVersion, models.CASCADE, related_name="period_targets", verbose_name=_("version"))
    indicator = models.ForeignKey(Indicator, models.CASCADE, related_name="+", verbose_name=_("indicator"))
    period = models.ForeignKey(ReportingPeriod, models.CASCADE, related_name="+", verbose_name=_("period"))
    value = models.DecimalField(_("target"), max_digits=14, decimal_places=2)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["version", "indicator", "period"], name="version_period_target_one_per_period"
            ),
        ]

    def __str__(self):
        return f"{self.indicator_id} {self.period_id} @ {self.version_id}: {self.value}"


class ChangeRequestQuerySet(models.QuerySet):
    def visible_to(self, user):
        """Keep the change requests the user may read: officers and the committee read them all."""
        if sees_whole_plan(user):
            return self
        return self.none()


class ChangeRequest(TimeStampedModel):
    """Propose a change to what an endorsed version governs, with a reason, made against that version.

    Applied only once approved (``actionplan.change_requests``): by an officer of the other organisation,
    or signed by both co-chairs (``steering.signoff``), as ``settings.PLAN_CHANGE_APPROVAL`` says for its
    kind; then a new version is recorded and linked here. Rejected by that officer, or declined by a
    co-chair, with the reason, which goes back to its proposer.
    """

    class Kind(models.TextChoices):
        FOCUS_AREA = "focus_area", _("Focus area")
        OBJECTIVE = "objective", _("Objective")
        ACTIVITY = "activity", _("Activity scope")
        INDICATOR = "indicator", _("Indicator baseline and targets")

    class State(models.TextChoices):
        PROPOSED = "proposed", _("Awaiting approval")
        APPLIED = "applied", _("Approved and applied")
        REJECTED = "rejected", _("Rejected")

    class Approval(models.TextChoices):
        OTHER_OFFICER = "other_officer", _("An officer of the other organisation")
        CO_CHAIRS = "co_chairs", _("Both co-chairs")

    plan = models.ForeignKey(ActionPlan, models.PROTECT, related_name="change_requests", verbose_name=_("plan"))
    kind = models.CharField(_("kind"), max_length=16, choices=Kind.choices)
    # The object changed, by its id in the version snapshots (its code may change), and its code when proposed.
    object_id = models.PositiveIntegerField(_("object"))
    object_code = models.CharField(_("code"), max_length=40)
    base_version = models.ForeignKey(
        PlanVersion, models.PROTECT, related_name="+", verbose_name=_("made against version")
    )
    # {field: value} as the base version holds them, and as proposed: only the fields that change.
    previous = models.JSONField(_("values before"), default=dict)
    proposed = models.JSONField(_("values proposed"), default=dict)
    reason = models.TextField(_("reason"))
    state = models.CharField(_("state"), max_length=16, choices=State.choices, default=State.PROPOSED)
    approval = models.CharField(_("approved by"), max_length=16, choices=Approval.choices)
    proposed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, models.PROTECT, related_name="+", verbose_name=_("proposed by")
    )
    proposed_for = models.ForeignKey(
        Organization, models.PROTECT, related_name="+", verbose_name=_("proposed for (organisation)")
    )
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, models.PROTECT, null=True, blank=True, related_name="+",
        verbose_name=_("decided by"),
    )  # fmt: skip
    decided_at = models.DateTimeField(_("decided at"), null=True, blank=True)
    rejection_reason = models.TextField(_("why it was rejected"), blank=True)
    applied_version = models.OneToOneField(
        PlanVersion, models.PROTECT, null=True, blank=True, related_name="change_request",
        verbose_name=_("version it made"),
    )  # fmt: skip

    objects = ChangeRequestQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at"]
        constraints = [
            models.CheckConstraint(condition=~Q(reason=""), name="change_request_has_a_reason"),
            models.CheckConstraint(
                condition=~Q(state="rejected") | ~Q(rejection_reason=""), name="change_request_rejected_with_reason"
            ),
            models.CheckConstraint(
                condition=~Q(state="applied") | Q(applied_version__isnull=False),
                name="change_request_applied_makes_a_version",
            ),
        ]

    def __str__(self):
        return f"#{self.pk} {self.get_kind_display()} {self.object_code}"

    def is_open(self) -> bool:
        return self.state == self.State.PROPOSED


class ChangeApproval(TimeStampedModel):
    """Record the approval of a change request by an officer of the other organisation, and for which.

    Where both co-chairs decide, their signatures are the sign-off's (``steering.signoff``), not rows here.
    """

    change = models.ForeignKey(ChangeRequest, models.CASCADE, related_name="approvals", verbose_name=_("change"))
    user = models.ForeignKey(settings.AUTH_USER_MODEL, models.PROTECT, related_name="+", verbose_name=_("user"))
    organization = models.ForeignKey(Organization, models.PROTECT, related_name="+", verbose_name=_("organisation"))

    class Meta:
        ordering = ["created_at"]
        constraints = [
            models.UniqueConstraint(fields=["change", "user"], name="change_approval_once_per_user"),
        ]

    def __str__(self):
        return f"{self.user} approved {self.change_id}"
