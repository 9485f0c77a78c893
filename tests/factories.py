"""Factories for the domain model: the smallest valid rows, related rows made on demand."""

import datetime
import string
from decimal import Decimal

import factory
from babel import Locale
from django.contrib.auth import get_user_model

from actionplan.models import (
    RAG,
    ActionPlan,
    Activity,
    Agreement,
    Evidence,
    FocusArea,
    Indicator,
    Measurement,
    Objective,
    PeriodTarget,
    ProgressUpdate,
    ReportingPeriod,
)
from portal.models import Country, Membership, Office, Organization
from steering.models import ActionItem, Committee, Decision, Meeting, ProgressReport, Review

PASSWORD = "correct horse battery staple"


def _letters(n: int, width: int) -> str:
    code = ""
    for _ in range(width):
        n, rest = divmod(n, 26)
        code = string.ascii_uppercase[rest] + code
    return code


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = get_user_model()
        django_get_or_create = ["username"]

    username = factory.Sequence(lambda n: f"user{n}")
    email = factory.LazyAttribute(lambda user: f"{user.username}@example.org")
    password = factory.django.Password(PASSWORD)


class OrganizationFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Organization

    code = factory.Sequence(lambda n: f"ORG{n}")
    name = factory.LazyAttribute(lambda org: f"Organisation {org.code}")


# Two-letter codes from the end of the alphabet that CLDR names no territory by (not ZW, Zimbabwe): a
# made-up country keeps its own name in every language, and stays clear of the reference countries.
UNNAMED_ISO2 = [code for n in range(26 * 26 - 1, -1, -1) if (code := _letters(n, 2)) not in Locale("en").territories]


class CountryFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Country

    iso3 = factory.Sequence(lambda n: "X" + _letters(n, 2))
    iso2 = factory.Sequence(lambda n: UNNAMED_ISO2[n])
    name = factory.LazyAttribute(lambda country: f"Country {country.iso3}")
    region = "Western Europe"
    continent = "Europe"


class OfficeFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Office

    code = factory.Sequence(lambda n: f"OFFICE-{n}")
    name = factory.LazyAttribute(lambda office: f"Office {office.code}")
    organization = factory.SubFactory(OrganizationFactory)
    kind = Office.Kind.COUNTRY_OFFICE
    country = factory.SubFactory(CountryFactory)


class MembershipFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Membership

    user = factory.SubFactory(UserFactory)
    office = factory.SubFactory(OfficeFactory)


class AgreementFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Agreement

    code = factory.Sequence(lambda n: f"AGR-{n}")
    title = "Cooperation agreement"


class ActionPlanFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = ActionPlan

    agreement = factory.SubFactory(AgreementFactory)
    code = factory.Sequence(lambda n: f"PLAN-{n}")
    title = "Joint action plan"
    starts_on = datetime.date(2018, 7, 1)
    ends_on = datetime.date(2021, 6, 30)


class FocusAreaFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = FocusArea

    plan = factory.SubFactory(ActionPlanFactory)
    code = factory.Sequence(lambda n: f"FA{n}")
    name = factory.LazyAttribute(lambda area: f"Focus area {area.code}")


class ObjectiveFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Objective

    focus_area = factory.SubFactory(FocusAreaFactory)
    code = factory.Sequence(lambda n: f"OBJ-{n}")
    statement = "Strengthen national capacity"


class ActivityFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Activity

    objective = factory.SubFactory(ObjectiveFactory)
    code = factory.Sequence(lambda n: f"ACT-{n}")
    title = "Regional training"
    lead_organization = factory.SubFactory(OrganizationFactory)


class IndicatorFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Indicator

    activity = factory.SubFactory(ActivityFactory)
    code = factory.Sequence(lambda n: f"IND-{n}")
    name = "Officers trained"
    baseline_value = Decimal(0)
    target_value = Decimal(100)


class ReportingPeriodFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = ReportingPeriod

    plan = factory.SubFactory(ActionPlanFactory)
    code = factory.Sequence(lambda n: f"P-{n}")
    starts_on = datetime.date(2018, 7, 1)
    ends_on = datetime.date(2018, 9, 30)
    due_on = datetime.date(2018, 10, 15)


class ProgressUpdateFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = ProgressUpdate

    activity = factory.SubFactory(ActivityFactory)
    period = factory.SubFactory(ReportingPeriodFactory)
    office = factory.SubFactory(OfficeFactory)
    author = factory.SubFactory(UserFactory)
    rag = RAG.ON_TRACK
    percent_complete = 50


class MeasurementFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Measurement

    update = factory.SubFactory(ProgressUpdateFactory)
    indicator = factory.SubFactory(IndicatorFactory)
    value = Decimal(10)


class EvidenceFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Evidence

    update = factory.SubFactory(ProgressUpdateFactory)
    file = "evidence/test.csv"
    original_name = "test.csv"
    content_type = "text/csv"
    size = 10
    sha256 = "0" * 64
    uploaded_by = factory.SubFactory(UserFactory)


class CommitteeFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Committee

    plan = factory.SubFactory(ActionPlanFactory)
    name = "Joint steering committee"


class MeetingFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Meeting

    committee = factory.SubFactory(CommitteeFactory)
    title = "Steering committee meeting"
    date = factory.Sequence(lambda n: datetime.date(2019, 1, 1) + datetime.timedelta(days=n))
    place = "Lyon"


class ReviewFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Review

    meeting = factory.SubFactory(MeetingFactory)
    focus_area = factory.SubFactory(FocusAreaFactory)
    rating = RAG.AT_RISK


class DecisionFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Decision

    meeting = factory.SubFactory(MeetingFactory)
    number = factory.Sequence(lambda n: n + 1)
    text = "The committee decides."


class ActionItemFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = ActionItem

    meeting = factory.SubFactory(MeetingFactory)
    description = "Prepare a note"
    owner_user = factory.SubFactory(UserFactory)
    due_on = datetime.date(2019, 6, 30)


class ProgressReportFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = ProgressReport

    plan = factory.SubFactory(ActionPlanFactory)
    period = factory.SubFactory(ReportingPeriodFactory, plan=factory.SelfAttribute("..plan"))


class PeriodTargetFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = PeriodTarget

    indicator = factory.SubFactory(IndicatorFactory)
    period = factory.SubFactory(ReportingPeriodFactory)
    value = Decimal(50)


def change_approved(rows, **values):
    """Correct approved rows (updates, measurements) in SQL, as only an administrator could (the portal never
    changes them), then recompute what the pages read, as ``manage.py rebuild_standings`` does after one."""
    from actionplan import standings

    rows.update(**values)
    standings.rebuild()


def grow_plan(world, count: int, *, state=ProgressUpdate.State.APPROVED, countries: bool = False) -> None:
    """Add ``count`` activities to the world's objective, each implemented by the world's office (and aimed at its
    country, if asked), with an indicator and an update of the open period in ``state`` measuring it.

    For the tests that count a page's queries at two sizes: written in bulk, as the demo data are (a handful of
    queries and no signals, whatever ``count``), then the kept standings refreshed, as ``seed_demo`` does.
    """
    activities = Activity.objects.bulk_create(
        ActivityFactory.build(objective=world.objective, lead_organization=world.office.organization)
        for _ in range(count)
    )
    Activity.implementing_offices.through.objects.bulk_create(
        Activity.implementing_offices.through(activity=activity, office=world.office) for activity in activities
    )
    if countries:
        Activity.beneficiary_countries.through.objects.bulk_create(
            Activity.beneficiary_countries.through(activity=activity, country=world.office.country)
            for activity in activities
        )
    indicators = Indicator.objects.bulk_create(IndicatorFactory.build(activity=activity) for activity in activities)
    updates = ProgressUpdate.objects.bulk_create(
        ProgressUpdateFactory.build(
            activity=activity, period=world.period, office=world.office, author=world.reporter, state=state
        )
        for activity in activities
    )
    write_measurements_at_once(
        (
            MeasurementFactory.build(update=update, indicator=indicator)
            for update, indicator in zip(updates, indicators, strict=True)
        ),
        plan=world.plan,
    )


def write_measurements_at_once(measurements, *, plan) -> None:
    """Write the measurements in one statement, as a load does, then recompute the plan's kept standings and
    figures once, as ``seed_demo`` does: a measurement of an approved update saved alone recomputes its
    indicator's figures (eight statements), which a fixture of many pays for each."""
    from actionplan import standings

    Measurement.objects.bulk_create(measurements)
    standings.refresh(plan_id=plan.pk)
