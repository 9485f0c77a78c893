"""Filters shared by the API and the pages: one FilterSet per list."""

import django_filters
from django.utils.translation import gettext_lazy as _
from django_filters.constants import EMPTY_VALUES

from portal.api.filters import UtcIsoDateTimeFilter
from portal.models import Office

from .models import RAG, Activity, Indicator, ProgressUpdate, ReportingPeriod


class UpdatedSinceFilterSet(django_filters.FilterSet):
    updated_since = UtcIsoDateTimeFilter(
        field_name="updated_at", lookup_expr="gte", label="Changed at or after (ISO 8601)"
    )


class ActivityFilter(UpdatedSinceFilterSet):
    focus_area = django_filters.CharFilter(field_name="objective__focus_area__code")
    objective = django_filters.CharFilter(field_name="objective__code")
    status = django_filters.ChoiceFilter(choices=Activity.Status.choices)
    office = django_filters.CharFilter(method="filter_office")
    country = django_filters.CharFilter(method="filter_country")
    period = django_filters.CharFilter(method="filter_period", label="Active in the reporting period (code)")
    organization = django_filters.CharFilter(field_name="lead_organization__code", label="Lead organisation (code)")
    region = django_filters.CharFilter(method="filter_region", label="UN M49 region of an implementing office")

    class Meta:
        model = Activity
        fields = [
            "focus_area", "objective", "status", "office", "country", "period", "organization", "region",
            "updated_since",
        ]  # fmt: skip

    # Each of these filters by a subquery, so that an activity with several matching rows appears once.
    def filter_office(self, queryset, name, value):
        return queryset.filter(
            pk__in=Activity.implementing_offices.through.objects.filter(office__code=value).values("activity")
        )

    def filter_country(self, queryset, name, value):
        return queryset.filter(
            pk__in=Activity.beneficiary_countries.through.objects.filter(country__iso3=value.upper()).values("activity")
        )

    def filter_region(self, queryset, name, value):
        return queryset.filter(
            pk__in=Activity.implementing_offices.through.objects.filter(office__country__region=value).values(
                "activity"
            )
        )

    def filter_period(self, queryset, name, value):
        period = ReportingPeriod.objects.filter(code=value).first()
        if period is None:
            return queryset.none()
        return queryset.exclude(planned_start__gt=period.ends_on).exclude(planned_end__lt=period.starts_on)


class IndicatorFilter(UpdatedSinceFilterSet):
    activity = django_filters.CharFilter(field_name="activity__code")
    objective = django_filters.CharFilter(field_name="objective__code")

    class Meta:
        model = Indicator
        fields = ["activity", "objective", "updated_since"]


class UpdateFilter(UpdatedSinceFilterSet):
    activity = django_filters.CharFilter(field_name="activity__code")
    period = django_filters.CharFilter(field_name="period__code")
    office = django_filters.CharFilter(field_name="office__code")
    state = django_filters.ChoiceFilter(choices=ProgressUpdate.State.choices)

    class Meta:
        model = ProgressUpdate
        fields = ["activity", "period", "office", "state", "updated_since"]


class PeriodFilter(UpdatedSinceFilterSet):
    state = django_filters.ChoiceFilter(choices=ReportingPeriod.State.choices)

    class Meta:
        model = ReportingPeriod
        fields = ["state", "updated_since"]


class OfficeFilter(UpdatedSinceFilterSet):
    organization = django_filters.CharFilter(field_name="organization__code")
    kind = django_filters.ChoiceFilter(choices=Office.Kind.choices)
    country = django_filters.CharFilter(field_name="country__iso3")

    class Meta:
        model = Office
        fields = ["organization", "kind", "country", "updated_since"]


# The register's RAG choice for activities with no approved update (by the chosen period).
NOT_YET_APPROVED = "none"


class RegisterOrdering(django_filters.OrderingFilter):
    """Sort by a column, then by code in the same direction: rows of equal titles, starts or statuses keep one
    order from page to page (none shown twice, none skipped), and each sort has an index to read a page from."""

    def filter(self, qs, value):
        ordered = super().filter(qs, value)
        if value in EMPTY_VALUES or any(param.lstrip("-") == "code" for param in value):
            return ordered
        return ordered.order_by(*ordered.query.order_by, "-code" if value[-1].startswith("-") else "code")


class ActivityRegisterFilter(ActivityFilter):
    """The activity register's filters: the API's, plus text search, latest RAG and tag."""

    q = django_filters.CharFilter(method="search", label=_("Search"))
    rag = django_filters.ChoiceFilter(
        choices=[*RAG.choices, (NOT_YET_APPROVED, _("Not yet approved"))],
        method="filter_rag",
        label=_("RAG (latest approved)"),
    )
    tag = django_filters.CharFilter(field_name="tags__name", label=_("Tag"))
    sort = RegisterOrdering(
        fields=(
            ("code", "code"),
            ("title", "title"),
            ("status", "status"),
            ("planned_start", "start"),
            ("latest_rag", "rag"),
            ("latest_percent", "progress"),
        ),
        label=_("Sort by"),
    )

    class Meta(ActivityFilter.Meta):
        fields = ["q", *ActivityFilter.Meta.fields, "rag", "tag"]

    def search(self, queryset, name, value):
        return queryset.search(value)

    def filter_rag(self, queryset, name, value):
        if value == NOT_YET_APPROVED:
            return queryset.filter(latest_rag__isnull=True)
        return queryset.filter(latest_rag=value)
