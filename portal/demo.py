"""Build deterministic, realistic demo data on top of the reference data.

The same seed and scale give the same rows (codes, counts, values). Large scales are
written in bulk, one chunk of activities at a time, so memory stays flat whatever
the scale.
"""

import datetime
import hashlib
import itertools
import logging
import random
import uuid
from dataclasses import dataclass
from decimal import Decimal

import pycountry
from django.contrib.auth import get_user_model
from django.contrib.auth.hashers import make_password
from django.contrib.auth.models import Group
from django.contrib.contenttypes.models import ContentType
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.db import DatabaseError, connection, transaction
from django.utils import timezone
from django.utils.translation import gettext_noop

from actionplan import register_choices, standings, versions
from actionplan.measurements import Approved, MeasurementInput, plausibility_warnings
from actionplan.models import (
    RAG,
    ActionPlan,
    Activity,
    ActivityStanding,
    Evidence,
    FocusArea,
    Indicator,
    IndicatorFigure,
    Measurement,
    Objective,
    PeriodTarget,
    ProgressUpdate,
    ReportingPeriod,
    Tag,
    UpdateComment,
)
from steering import dashboard_cache
from steering.models import (
    ActionItem,
    ActionItemNote,
    CommitteeMember,
    Decision,
    Meeting,
    Party,
    Review,
    Signature,
    SignOff,
)

from . import demo_indicators
from .models import Country, Membership, Office, Organization, Profile, Role
from .reference import PLAN_CODE
from .seed.tables import Table, loading, timestamps_as_given, write_objects

logger = logging.getLogger(__name__)

User = get_user_model()

DEFAULT_PASSWORD = "jap-demo-2018"  # noqa: S105 -- demo logins only, printed by make run


@dataclass(frozen=True)
class Scale:
    offices: int
    activities: int
    periods: int
    max_offices_per_activity: int
    # Share of the update slots (activity x office x locked period) that hold an update.
    reported_share: float


SCALES = {
    # The benchmark's smoke test: every kind of row, in seconds.
    "XS": Scale(offices=8, activities=48, periods=5, max_offices_per_activity=2, reported_share=0.93),
    "S": Scale(offices=20, activities=120, periods=8, max_offices_per_activity=2, reported_share=0.93),
    "M": Scale(offices=60, activities=1_000, periods=10, max_offices_per_activity=7, reported_share=0.93),
    "L": Scale(offices=150, activities=10_000, periods=12, max_offices_per_activity=3, reported_share=0.87),
    # Growth: four years of quarters, 2 million updates and 6 million measurements; not for CI (minutes).
    "XL": Scale(offices=1_000, activities=50_000, periods=16, max_offices_per_activity=5, reported_share=0.85),
}

# Real UNODC field offices and INTERPOL regional bureaus: (code, name, organisation, kind, ISO3, city).
FIELD_OFFICES = [
    (
        "UNODC-ROSEAP",
        "UNODC Regional Office for Southeast Asia and the Pacific",
        "UNODC",
        "regional_office",
        "THA",
        "Bangkok",
    ),
    ("UNODC-ROEA", "UNODC Regional Office for Eastern Africa", "UNODC", "regional_office", "KEN", "Nairobi"),
    ("UNODC-ROSEN", "UNODC Regional Office for West and Central Africa", "UNODC", "regional_office", "SEN", "Dakar"),
    ("UNODC-ROCA", "UNODC Regional Office for Central Asia", "UNODC", "regional_office", "UZB", "Tashkent"),
    (
        "UNODC-ROMENA",
        "UNODC Regional Office for the Middle East and North Africa",
        "UNODC",
        "regional_office",
        "EGY",
        "Cairo",
    ),
    ("UNODC-ROSA", "UNODC Regional Office for South Asia", "UNODC", "regional_office", "IND", "New Delhi"),
    ("UNODC-AFG", "UNODC Country Office Afghanistan", "UNODC", "country_office", "AFG", "Kabul"),
    ("UNODC-PAK", "UNODC Country Office Pakistan", "UNODC", "country_office", "PAK", "Islamabad"),
    ("UNODC-NGA", "UNODC Country Office Nigeria", "UNODC", "country_office", "NGA", "Abuja"),
    ("UNODC-COL", "UNODC Country Office Colombia", "UNODC", "country_office", "COL", "Bogotá"),
    (
        "UNODC-ROPAN",
        "UNODC Regional Office for Central America and the Caribbean",
        "UNODC",
        "regional_office",
        "PAN",
        "Panama City",
    ),
    ("UNODC-BRU", "UNODC Liaison Office Brussels", "UNODC", "liaison_office", "BEL", "Brussels"),
    ("INTERPOL-RB-NBO", "INTERPOL Regional Bureau for Eastern Africa", "INTERPOL", "regional_bureau", "KEN", "Nairobi"),
    ("INTERPOL-RB-ABJ", "INTERPOL Regional Bureau for West Africa", "INTERPOL", "regional_bureau", "CIV", "Abidjan"),
    (
        "INTERPOL-RB-BUE",
        "INTERPOL Regional Bureau for South America",
        "INTERPOL",
        "regional_bureau",
        "ARG",
        "Buenos Aires",
    ),
    (
        "INTERPOL-RB-SAL",
        "INTERPOL Regional Bureau for Central America",
        "INTERPOL",
        "regional_bureau",
        "SLV",
        "San Salvador",
    ),
    ("INTERPOL-IGCI", "INTERPOL Global Complex for Innovation", "INTERPOL", "liaison_office", "SGP", "Singapore"),
    ("INTERPOL-NCB-AFG", "INTERPOL National Central Bureau Kabul", "INTERPOL", "ncb", "AFG", "Kabul"),
]

OBJECTIVES = {
    "TER": [
        gettext_noop("Strengthen legal and operational responses to foreign terrorist fighters"),
        gettext_noop("Improve the exchange of terrorism-related information through INTERPOL channels"),
        gettext_noop("Support the investigation and prosecution of terrorism cases in line with the rule of law"),
        gettext_noop("Counter the financing of terrorism"),
    ],
    "TOC": [
        gettext_noop("Disrupt the trafficking of opiates from Afghanistan along the southern route (SARTO)"),
        gettext_noop("Strengthen responses to trafficking in persons and the smuggling of migrants"),
        gettext_noop("Counter illicit trafficking in firearms"),
        gettext_noop("Counter wildlife and forest crime"),
    ],
    "CYB": [
        gettext_noop("Build national capacity to investigate cybercrime"),
        gettext_noop("Improve the handling of electronic evidence across borders"),
        gettext_noop("Counter online child sexual exploitation"),
        gettext_noop("Strengthen cooperation between cybercrime units and the private sector"),
    ],
    "MBS": [
        gettext_noop("Strengthen maritime law enforcement"),
        gettext_noop("Extend frontline access to INTERPOL databases at borders"),
        gettext_noop("Improve container and air cargo control"),
        gettext_noop("Build capacity of joint airport interdiction task forces"),
    ],
    "FCJ": [
        gettext_noop("Strengthen forensic science capability"),
        gettext_noop("Improve cooperation between police, prosecutors and judges"),
        gettext_noop("Support mutual legal assistance and extradition"),
        gettext_noop("Improve the management of seized assets and evidence"),
    ],
    "INS": [
        gettext_noop("Strengthen National Central Bureaus"),
        gettext_noop("Develop joint training and staff exchange"),
        gettext_noop("Share data and analysis between the two organisations"),
        gettext_noop("Mobilise resources for the joint action plan"),
    ],
}

TOPICS = {
    "TER": ["foreign terrorist fighter returns", "battlefield evidence", "terrorist financing", "watch-list checks"],
    "TOC": [
        "heroin seizures on the southern route",
        "precursor chemicals",
        "human trafficking networks",
        "firearms tracing",
    ],
    "CYB": ["darknet investigations", "cryptocurrency tracing", "electronic evidence", "ransomware response"],
    "MBS": ["port control units", "maritime interdiction", "I-24/7 at border posts", "passenger name records"],
    "FCJ": ["DNA profiling", "crime scene management", "case management systems", "mutual legal assistance"],
    "INS": ["NCB connectivity", "analyst training", "joint data platforms", "donor coordination"],
}

KIND_TITLES = {
    "training": "Regional training on {topic}",
    "technical_assistance": "Technical assistance on {topic}",
    "joint_operation": "Joint operation targeting {topic}",
    "assessment": "Needs assessment of {topic}",
    "meeting": "Expert group meeting on {topic}",
    "data_sharing": "Data exchange on {topic}",
    "other": "Support to national authorities on {topic}",
}

NARRATIVES = [
    "Activities proceeded as planned with national counterparts engaged throughout the period.",
    "Two workshops were delivered and follow-up mentoring started in the beneficiary countries.",
    "The joint team completed the field phase; the report is under review with the authorities.",
    "Implementation accelerated after the recruitment of the national project officer.",
    "Participants from police, customs and prosecution services took part in the sessions.",
]
CHALLENGES = [
    "",
    "Travel restrictions delayed the in-person component.",
    "Turnover of counterpart staff slowed the adoption of procedures.",
    "Funding for the second phase is not yet confirmed.",
    "Connectivity at remote border posts remains unreliable.",
]
NEXT_STEPS = [
    "Deliver the follow-up session next quarter.",
    "Hand over the standard operating procedures for validation.",
    "Extend the activity to two more countries in the region.",
    "Prepare the evaluation and lessons learned.",
]
# The field offices' reporters, in the order of the offices (then again from the start).
REPORTER_NAMES = [
    ("Somchai", "Wongsakul"),
    ("Grace", "Wanjiru"),
    ("Aminata", "Diop"),
    ("Rustam", "Karimov"),
    ("Nadia", "Farouk"),
    ("Priya", "Raman"),
    ("Farid", "Ahmadi"),
    ("Ayesha", "Qureshi"),
    ("Chinedu", "Okafor"),
    ("Valentina", "Gómez"),
    ("Luis", "Batista"),
    ("Marie", "Dubois"),
    ("Joseph", "Mwangi"),
    ("Koffi", "Yao"),
    ("Lucía", "Fernández"),
    ("Carlos", "Mejía"),
    ("Wei Ling", "Tan"),
    ("Ahmad Shah", "Rahimi"),
    ("Elena", "Popescu"),
    ("Tomás", "Silva"),
    ("Fatima", "Benali"),
    ("Oleksandr", "Kovalenko"),
    ("Mei", "Chen"),
    ("Youssef", "El Amrani"),
    ("Ana", "Costa"),
    ("Kwame", "Mensah"),
    ("Leila", "Nasser"),
    ("Dmitri", "Sokolov"),
    ("Sofía", "Herrera"),
    ("Hannah", "Keller"),
]

TAGS = ["SARTO", "FTF", "data sharing", "gender", "Afghanistan", "Sahel", "maritime", "darknet"]

CHUNK = 500  # activities written per bulk round
HISTORY_REASON = "Demo data"
# The tables loaded in bulk (tables.Table, write_objects): their indexes and constraints made once, at the end.
BULK_MODELS = [
    Activity,
    Activity.implementing_offices.through,
    Activity.beneficiary_countries.through,
    Activity.tags.through,
    Indicator,
    Indicator.history.model,
    PeriodTarget,
    PeriodTarget.history.model,
    ProgressUpdate,
    Measurement,
    UpdateComment,
    Evidence,
]
UPDATE_COLUMNS = (
    "id", "activity_id", "period_id", "office_id", "author_id", "state", "rag", "percent_complete", "narrative",
    "challenges", "next_steps", "language", "source", "submitted_at", "reviewed_by_id", "reviewed_at", "created_at",
    "updated_at", "review_comment",
)  # fmt: skip
MEASUREMENT_COLUMNS = (
    "update_id", "indicator_id", "value", "sex", "age_band", "country_id", "created_at", "updated_at",
)  # fmt: skip
COMMENT_COLUMNS = ("update_id", "author_id", "kind", "text", "version", "created_at", "updated_at")
RETURN_COMMENT = "Please add the number of participants by sex."
REPORTER_ANSWER = "The attendance sheets are being compiled; the numbers by sex follow this week."
APPROVAL_NOTE = "Thank you: well documented."


class Stage:
    """Where a period stands on the demo's today: the current quarter reports, the one before is
    under review, older ones are locked with (nearly) everything approved."""

    CURRENT, UNDER_REVIEW, LOCKED = "current", "under review", "locked"


# Share of update slots that hold an update, and the weights of draft, submitted, returned, approved.
STAGE_REPORTING = {Stage.CURRENT: 0.45, Stage.UNDER_REVIEW: 0.9}
STAGE_STATES = {Stage.CURRENT: [55, 30, 5, 10], Stage.UNDER_REVIEW: [5, 40, 10, 45], Stage.LOCKED: [0, 2, 1, 97]}


class DemoDataExists(Exception):
    """Raised when demo data is already loaded; a second load would add rows twice."""


def _deterministic_uuid(rng: random.Random) -> uuid.UUID:
    return uuid.UUID(int=rng.getrandbits(128), version=4)


def _quarters_up_to(today: datetime.date, count: int):
    """The ``count`` calendar quarters that end with the one holding ``today``: (code, first day, last day)."""
    year, quarter = today.year, (today.month - 1) // 3 + 1
    for _ in range(count - 1):
        year, quarter = (year - 1, 4) if quarter == 1 else (year, quarter - 1)
    for _ in range(count):
        first = datetime.date(year, 3 * quarter - 2, 1)
        following = datetime.date(year + (quarter == 4), 1 if quarter == 4 else 3 * quarter + 1, 1)
        yield f"{year}-Q{quarter}", first, following - datetime.timedelta(days=1)
        year, quarter = (year + 1, 1) if quarter == 4 else (year, quarter + 1)


def _aware(day: datetime.date, hour: int = 10) -> datetime.datetime:
    return datetime.datetime.combine(day, datetime.time(hour), tzinfo=datetime.UTC)


class DemoBuilder:
    """Write one scale of demo data with one random generator, in a fixed order."""

    def __init__(self, *, scale: Scale, seed: int, password: str, today: datetime.date, log=lambda message: None):
        self.scale = scale
        self.today = today
        self.rng = random.Random(seed)
        self.password_hash = make_password(password)
        self.log = log
        self.counts: dict[str, int] = {}

    def build(self) -> dict[str, int]:
        self.plan = ActionPlan.objects.get(code=PLAN_CODE)
        self.focus_areas = list(FocusArea.objects.filter(plan=self.plan).order_by("order"))
        self.organizations = {org.code: org for org in Organization.objects.all()}
        self.groups = {group.name: group for group in Group.objects.all()}
        # Updates whose figures the portal would have flagged: their warnings are read once the data is in.
        self.flagged = []
        with loading(*BULK_MODELS):
            self._offices()
            self._users()
            self._periods()
            self._framework()
            self._activities_and_reporting()
        self._warnings(self.flagged)
        self._meetings()
        return self.counts

    def _count(self, name, number):
        self.counts[name] = self.counts.get(name, 0) + number

    def _offices(self):
        countries = {country.iso3: country for country in Country.objects.all()}
        rows = list(FIELD_OFFICES[: self.scale.offices - 2])
        taken = {row[4] for row in rows if row[3] == "ncb"}
        # Beyond the named offices, INTERPOL National Central Bureaus of further countries.
        ncb_countries = sorted(iso3 for iso3 in countries if iso3 not in taken)
        self.rng.shuffle(ncb_countries)
        for iso3 in ncb_countries[: max(0, self.scale.offices - 2 - len(rows))]:
            country = countries[iso3]
            rows.append(
                (
                    f"INTERPOL-NCB-{iso3}",
                    f"INTERPOL National Central Bureau {country.name}",
                    "INTERPOL",
                    "ncb",
                    iso3,
                    "",
                )
            )
        if len(rows) < self.scale.offices - 2:
            rows += self._sub_offices(countries, self.scale.offices - 2 - len(rows))
        Office.objects.bulk_create(
            Office(
                code=code,
                name=name,
                organization=self.organizations[org],
                kind=kind,
                country=countries[iso3],
                city=city,
            )
            for code, name, org, kind, iso3, city in rows
        )
        self.field_offices = list(Office.objects.exclude(kind=Office.Kind.HEADQUARTERS).select_related("country"))
        self.offices_by_code = {office.code: office for office in Office.objects.all()}
        self._count("offices", len(rows))

    def _sub_offices(self, countries, count):
        """UNODC sub-offices in the provinces, states and regions of the countries (ISO 3166-2), for scales
        with more offices than there are bureaus: as a country office runs sub-offices across its country."""
        by_iso2 = {country.iso2: country for country in countries.values()}
        places = sorted(
            (subdivision.code, subdivision.name)
            for subdivision in pycountry.subdivisions
            if subdivision.parent_code is None and subdivision.country_code in by_iso2
        )
        self.rng.shuffle(places)
        rows = []
        for code, name in places[:count]:
            country = by_iso2[code.split("-")[0]]
            rows.append(
                (
                    f"UNODC-SO-{code}",
                    f"UNODC Sub-Office {name}, {country.name}",
                    "UNODC",
                    "country_office",
                    country.iso3,
                    name[:100],
                )
            )
        return rows

    def _user(self, username, first_name, last_name, *, groups=(), superuser=False):
        user = User.objects.create(
            username=username,
            first_name=first_name,
            last_name=last_name,
            email=f"{username}@example.org",
            password=self.password_hash,
            is_staff=superuser,
            is_superuser=superuser,
        )
        user.groups.set([self.groups[group] for group in groups])
        return user

    def _users(self):
        self.admin = self._user("admin", "Ada", "Lindqvist", superuser=True)
        self.officer = self._user("officer", "Olga", "Petrova", groups=[Role.PROGRAMME_OFFICER])
        self.officer_lyon = self._user("officer.lyon", "Louis", "Laurent", groups=[Role.PROGRAMME_OFFICER])
        self.committee_user = self._user("committee", "Carmen", "Ruiz Ortega", groups=[Role.COMMITTEE_MEMBER])
        self.secretary = self._user("secretary", "Sami", "Haddad", groups=[Role.COMMITTEE_SECRETARY])
        self.cochair_unodc = self._user("cochair.unodc", "Ursula", "Berger", groups=[Role.COMMITTEE_MEMBER])
        self.cochair_interpol = self._user("cochair.interpol", "Ivan", "Novak", groups=[Role.COMMITTEE_MEMBER])
        Membership.objects.bulk_create(
            [
                Membership(
                    user=self.officer, office=self.offices_by_code["UNODC-HQ"], role=Membership.OfficeRole.FOCAL_POINT
                ),
                Membership(
                    user=self.officer_lyon,
                    office=self.offices_by_code["INTERPOL-GS"],
                    role=Membership.OfficeRole.FOCAL_POINT,
                ),
            ]
        )
        # The co-chairs sign for their organisation (steering.signoff checks the one they work for).
        Profile.objects.bulk_create(
            [
                Profile(user=self.cochair_unodc, organization=self.organizations["UNODC"]),
                Profile(user=self.cochair_interpol, organization=self.organizations["INTERPOL"]),
            ]
        )
        committee = self.plan.committee
        CommitteeMember.objects.bulk_create(
            [
                CommitteeMember(committee=committee, user=self.cochair_unodc, role=CommitteeMember.Role.CO_CHAIR_UNODC),
                CommitteeMember(
                    committee=committee, user=self.cochair_interpol, role=CommitteeMember.Role.CO_CHAIR_INTERPOL
                ),
                CommitteeMember(committee=committee, user=self.committee_user, role=CommitteeMember.Role.MEMBER),
                CommitteeMember(committee=committee, user=self.secretary, role=CommitteeMember.Role.SECRETARY),
            ]
        )
        reporters = User.objects.bulk_create(
            User(
                username=f"reporter.{office.code.lower()}",
                first_name=first_name,
                last_name=last_name,
                email=f"reporter.{office.code.lower()}@example.org",
                password=self.password_hash,
            )
            for office, (first_name, last_name) in zip(self.field_offices, itertools.cycle(REPORTER_NAMES))
        )
        reporter_group = self.groups[Role.FIELD_REPORTER]
        User.groups.through.objects.bulk_create(
            User.groups.through(user=user, group=reporter_group) for user in reporters
        )
        Membership.objects.bulk_create(
            Membership(user=user, office=office) for user, office in zip(reporters, self.field_offices, strict=True)
        )
        self.reporter_by_office = {office.pk: user for user, office in zip(reporters, self.field_offices, strict=True)}
        self._count("users", 7 + len(reporters))

    def _periods(self):
        """The plan's reporting up to today: the current quarter open and due soon, the one before open
        and under review, the older ones locked."""
        quarters = list(_quarters_up_to(self.today, self.scale.periods))
        self.periods = ReportingPeriod.objects.bulk_create(
            ReportingPeriod(
                plan=self.plan,
                code=code,
                starts_on=first,
                ends_on=last,
                due_on=last + datetime.timedelta(days=15),
                state=ReportingPeriod.State.OPEN if index >= len(quarters) - 2 else ReportingPeriod.State.LOCKED,
            )
            for index, (code, first, last) in enumerate(quarters)
        )
        self.stages = {
            period.pk: Stage.CURRENT if index == len(quarters) - 1 else Stage.UNDER_REVIEW
            if index == len(quarters) - 2 else Stage.LOCKED
            for index, period in enumerate(self.periods)
        }  # fmt: skip
        if self.plan.ends_on < self.periods[-1].ends_on:
            self.plan.ends_on = self.periods[-1].ends_on
            self.plan.save(update_fields=["ends_on", "updated_at"])
        self._count("periods", len(self.periods))

    def _framework(self):
        self.tags = Tag.objects.bulk_create(Tag(name=name) for name in TAGS)
        objectives, indicators = [], []
        for area in self.focus_areas:
            for number, statement in enumerate(OBJECTIVES[area.code], start=1):
                objective = Objective(focus_area=area, code=f"{area.code}-{number}", statement=statement)
                objectives.append(objective)
        self.objectives = Objective.objects.bulk_create(objectives)
        for objective in self.objectives:
            kind = self.rng.choice(demo_indicators.OBJECTIVE_KINDS)
            indicators.append(
                Indicator(
                    objective=objective,
                    code=f"{objective.code}-I1",
                    baseline_date=self.plan.starts_on,
                    target_date=self.plan.ends_on,
                    means_of_verification="Annual survey of national focal points",
                    **kind.fields(self.rng),
                )
            )
        # With their first history row, as the plan's pages make them: the first change of a baseline or
        # target is then shown against the value it replaced.
        write_objects(Indicator, indicators, history_reason=HISTORY_REASON)
        self.objective_indicators = {indicator.objective_id: indicator for indicator in indicators}
        self.objective_reported = set()
        self.areas_by_pk = {area.pk: area for area in self.focus_areas}
        for area in self.focus_areas:
            area.lead_officers.set([self.officer, self.officer_lyon])
        self._count("objectives", len(self.objectives))
        self._count("indicators", len(indicators))

    def _activities_and_reporting(self):
        numbers = {objective.pk: 0 for objective in self.objectives}
        for start in range(0, self.scale.activities, CHUNK):
            self._activity_chunk(min(CHUNK, self.scale.activities - start), numbers)
            self.log(f"  activities {min(start + CHUNK, self.scale.activities):>6} / {self.scale.activities}")

    def _activity_chunk(self, size, numbers):
        rng, scale = self.rng, self.scale
        countries_by_region = {}
        for office in self.field_offices:
            countries_by_region.setdefault(office.country.region, []).append(office.country)
        activities, traits = [], []
        offices_of, countries_of, tags_of = [], [], []
        statuses = list(Activity.Status)
        for _ in range(size):
            objective = rng.choice(self.objectives)
            numbers[objective.pk] += 1
            area = self.areas_by_pk[objective.focus_area_id]
            kind = rng.choice(list(Activity.Kind))
            # Activities started in the year before the demo's first period, and run one to four years.
            start = self.periods[0].starts_on - datetime.timedelta(days=rng.randrange(0, 360))
            status = rng.choices(statuses, weights=[10, 55, 20, 12, 3])[0]
            activities.append(
                Activity(
                    objective=objective,
                    code=f"{objective.code}.{numbers[objective.pk]}",
                    title=KIND_TITLES[kind].format(topic=rng.choice(TOPICS[area.code])),
                    description=rng.choice(NARRATIVES),
                    language="en",
                    kind=kind,
                    lead_organization=self.organizations[rng.choice(["UNODC", "INTERPOL"])],
                    responsible_officer=rng.choice([self.officer, self.officer_lyon]),
                    planned_start=start,
                    planned_end=start + datetime.timedelta(days=rng.randrange(360, 1440)),
                    actual_start=start + datetime.timedelta(days=rng.randrange(0, 60)) if status != "planned" else None,
                    budget_amount=Decimal(rng.randrange(20, 2_000) * 1_000),
                    funding_source=rng.choice(["EU", "Canada", "Germany", "Japan", "United States", "Regular budget"]),
                    status=status,
                    sensitivity=Activity.Sensitivity.RESTRICTED
                    if rng.random() < 0.1
                    else Activity.Sensitivity.INTERNAL,
                )
            )
            offices = rng.sample(self.field_offices, rng.randint(1, scale.max_offices_per_activity))
            offices_of.append(offices)
            region_countries = countries_by_region[offices[0].country.region]
            countries_of.append({*rng.sample(region_countries, min(len(region_countries), rng.randint(1, 3)))})
            tags_of.append(rng.sample(self.tags, rng.randint(0, 2)))
            # How well the activity goes: drives its RAG ratings and measurements.
            traits.append(rng.random())
        write_objects(Activity, activities)
        Table(Activity.implementing_offices.through, ["activity_id", "office_id"]).write(
            (activity.pk, office.pk)
            for activity, offices in zip(activities, offices_of, strict=True)
            for office in offices
        )
        Table(Activity.beneficiary_countries.through, ["activity_id", "country_id"]).write(
            (activity.pk, country.pk)
            for activity, countries in zip(activities, countries_of, strict=True)
            for country in sorted(countries, key=lambda c: c.iso3)
        )
        Table(Activity.tags.through, ["activity_id", "tag_id"]).write(
            (activity.pk, tag.pk) for activity, tags in zip(activities, tags_of, strict=True) for tag in tags
        )
        indicators_of = []
        for activity in activities:
            kinds = rng.sample(demo_indicators.ACTIVITY_KINDS, rng.choice([2, 3]))
            indicators_of.append(
                [
                    Indicator(
                        activity=activity,
                        code=f"{activity.code}-I{number}",
                        baseline_date=activity.planned_start,
                        target_date=activity.planned_end,
                        **kind.fields(rng),
                    )
                    for number, kind in enumerate(kinds, start=1)
                ]
            )
        write_objects(
            Indicator, [indicator for own in indicators_of for indicator in own], history_reason=HISTORY_REASON
        )
        targets = [
            target
            for own in indicators_of
            for indicator in own
            for target in demo_indicators.period_targets(indicator, self.periods)
        ]
        write_objects(PeriodTarget, targets, history_reason=HISTORY_REASON)
        self._count("activities", len(activities))
        self._count("indicators", sum(map(len, indicators_of)))
        self._count("period targets", len(targets))
        self._reporting(activities, offices_of, indicators_of, traits, countries_of)

    def _reporting(self, activities, offices_of, indicators_of, traits, countries_of):
        """Write the chunk's updates, their measurements and comments: rows of values rather than model
        instances, millions of them at scale XL."""
        rng, periods = self.rng, self.periods
        updates, measurements, evidence, comments = [], [], [], []
        states, rags = list(ProgressUpdate.State), list(RAG)
        sources = [ProgressUpdate.Source.WEB, ProgressUpdate.Source.API]
        reviewers = [self.officer, self.officer_lyon]
        for activity, offices, indicators, trait, countries in zip(
            activities, offices_of, indicators_of, traits, countries_of, strict=True
        ):
            countries = sorted(countries, key=lambda country: country.iso3)
            for office in offices:
                author = self.reporter_by_office[office.pk]
                for index, period in enumerate(periods):
                    stage = self.stages[period.pk]
                    if rng.random() > STAGE_REPORTING.get(stage, self.scale.reported_share):
                        continue  # a missing update
                    state = rng.choices(states, weights=STAGE_STATES[stage])[0]
                    created, submitted_at, reviewed_at, state = self._times(period, stage, state)
                    rag = RAG.ON_TRACK if trait > 0.45 else RAG.AT_RISK if trait > 0.15 else RAG.OFF_TRACK
                    if rng.random() < 0.15:
                        rag = rng.choice(rags)
                    progress = min(100, round(100 * (index + 1) / len(periods) * (0.6 + trait * 0.5)))
                    reviewer = rng.choice(reviewers)
                    # As text: written into each of its measurements' rows.
                    update_id = str(_deterministic_uuid(rng))
                    changed = reviewed_at or submitted_at or created
                    # In the order of UPDATE_COLUMNS, the draws in the order they were always made.
                    updates.append(
                        (
                            update_id, activity.pk, period.pk, office.pk, author.pk, state, rag, progress,
                            rng.choice(NARRATIVES), rng.choice(CHALLENGES), rng.choice(NEXT_STEPS), "en",
                            rng.choice(sources), submitted_at, reviewer.pk if reviewed_at else None, reviewed_at,
                            created, changed, RETURN_COMMENT if state == ProgressUpdate.State.RETURNED else "",
                        )
                    )  # fmt: skip
                    comments.extend(
                        self._conversation(update_id, state, author, reviewer if reviewed_at else None, reviewed_at)
                    )
                    own = []
                    # Every draw is made whatever the state (which the date decides), so that a seed
                    # gives the same rows any day. A few submitted updates of the open periods hold a
                    # figure to check; some updates carry evidence.
                    spike_draw, evidence_draw = rng.random(), rng.random()
                    spike = stage != Stage.LOCKED and state == ProgressUpdate.State.SUBMITTED and spike_draw < 0.08
                    for number, indicator in enumerate(indicators):
                        value = demo_indicators.value(
                            indicator,
                            progress=Decimal(progress) / 100 * Decimal(0.7 + trait * 0.5),
                            offices=len(offices),
                            rng=rng,
                        )
                        if spike and number == 0 and indicator.measure == Indicator.Measure.NUMBER:
                            value = value * 4 + 10
                        own.append(MeasurementInput(indicator=indicator, value=value))
                        if index >= len(periods) - demo_indicators.PERIODS_WITH_BREAKDOWNS:
                            measurements.extend(
                                (update_id, indicator.pk, part.value, part.sex, part.age_band, part.country, changed)
                                for part in demo_indicators.breakdown(indicator, value, rng, countries)
                            )
                    measurements.extend((update_id, m.indicator.pk, m.value, "", "", None, changed) for m in own)
                    if spike:
                        self.flagged.append((update_id, activity, period, office, progress, own))
                    # The objective's own indicator: reported once a period, by its first approved update.
                    key = (activity.objective_id, period.pk)
                    indicator = self.objective_indicators[activity.objective_id]
                    share = Decimal(index + 1) / len(periods) * Decimal(0.8 + trait * 0.3)
                    value = demo_indicators.value(indicator, progress=share, offices=1, rng=rng)
                    if state == ProgressUpdate.State.APPROVED and key not in self.objective_reported:
                        self.objective_reported.add(key)
                        measurements.append((update_id, indicator.pk, value, "", "", None, changed))
                    if submitted_at and evidence_draw < 0.05:
                        evidence.append((update_id, activity, period, office, author, submitted_at or created, own))
        Table(ProgressUpdate, UPDATE_COLUMNS).write(updates)
        # A measurement was made and last changed with its update.
        Table(Measurement, MEASUREMENT_COLUMNS).write((*row, row[-1]) for row in measurements)
        Table(UpdateComment, COMMENT_COLUMNS).write(comments)
        self._count("messages", len(comments))
        self._evidence(evidence)
        self._count("updates", len(updates))
        self._count("measurements", len(measurements))

    def _conversation(self, update_id, state, author, reviewer, reviewed_at) -> list[tuple]:
        """What was said on a reviewed update, as rows of COMMENT_COLUMNS: a return and, often, the office's
        answer; now and then a note with an approval. The same draws whatever the date."""
        answer_draw, note_draw = self.rng.random(), self.rng.random()
        if reviewed_at is None:
            return []

        def said(author, kind, text, at):
            # A demo update is at its first version.
            return (update_id, author.pk, kind, text, 1, at, at)

        if state == ProgressUpdate.State.RETURNED:
            messages = [said(reviewer, UpdateComment.Kind.RETURN, RETURN_COMMENT, reviewed_at)]
            answered = reviewed_at + datetime.timedelta(days=1)
            if answer_draw < 0.4 and answered.date() < self.today:
                messages.append(said(author, UpdateComment.Kind.REPLY, REPORTER_ANSWER, answered))
            return messages
        if note_draw < 0.1:
            return [said(reviewer, UpdateComment.Kind.APPROVAL, APPROVAL_NOTE, reviewed_at)]
        return []

    def _times(self, period, stage, state):
        """When an update was begun, submitted and reviewed, spread over the past as reporting goes;
        a submission or review that would fall after today has not happened yet (its state says so).

        The same random draws whatever the date, so that a seed gives the same updates any day.
        """
        rng, today = self.rng, self.today
        submit_lag, review_lag, lead = rng.randrange(1, 25), rng.randrange(1, 12), rng.randrange(0, 6)
        # The current quarter's reports are early ones, of the last days. Nothing happened today yet:
        # the times stay in the past whatever the hour.
        submitted_on = max(period.starts_on, today - datetime.timedelta(days=1 + submit_lag % 10)) if (
            stage == Stage.CURRENT) else period.ends_on + datetime.timedelta(days=submit_lag)  # fmt: skip
        reviewed_on = submitted_on + datetime.timedelta(days=review_lag)
        if submitted_on >= today:
            state = ProgressUpdate.State.DRAFT
        elif state in (ProgressUpdate.State.APPROVED, ProgressUpdate.State.RETURNED) and reviewed_on >= today:
            state = ProgressUpdate.State.SUBMITTED
        begun = min(submitted_on, today - datetime.timedelta(days=1)) - datetime.timedelta(days=lead)
        submitted = _aware(submitted_on, 9 + submit_lag % 8) if state != ProgressUpdate.State.DRAFT else None
        reviewed = None
        if state in (ProgressUpdate.State.APPROVED, ProgressUpdate.State.RETURNED):
            reviewed = _aware(reviewed_on, 10 + review_lag % 7)
        return _aware(begun, 8 + lead), submitted, reviewed, state

    def _warnings(self, flagged):
        """Keep on each flagged update the plausibility warnings its reporter confirmed, as the portal would."""
        approved = Approved.read(
            (activity, period, office, own) for _update_id, activity, period, office, _progress, own in flagged
        )
        warned = [
            ProgressUpdate(
                id=update_id,
                warnings=plausibility_warnings(
                    activity=activity,
                    period=period,
                    office=office,
                    percent_complete=progress,
                    measurements=own,
                    approved=approved,
                ),
            )
            for update_id, activity, period, office, progress, own in flagged
        ]
        ProgressUpdate.objects.bulk_update(warned, ["warnings"], batch_size=1_000)
        self._count("updates with figures to check", sum(1 for update in warned if update.warnings))

    def _evidence(self, updates):
        rows = []
        for update_id, activity, period, office, author, at, measurements in updates:
            content = (
                "indicator,value\n"
                + "".join(f"{m.indicator.code},{m.value}\n" for m in measurements)
                + f"# {activity.code} {period.code} {office.code}\n"
            ).encode()
            name = f"attendance-{activity.code}-{period.code}.csv"
            path = f"evidence/demo/{update_id}.csv"
            if not default_storage.exists(path):
                default_storage.save(path, ContentFile(content))
            rows.append(
                Evidence(
                    update_id=update_id,
                    file=path,
                    original_name=name,
                    content_type="text/csv",
                    size=len(content),
                    sha256=hashlib.sha256(content).hexdigest(),
                    uploaded_by=author,
                    created_at=at,
                    updated_at=at,
                )
            )
        with timestamps_as_given(Evidence):
            write_objects(Evidence, rows)
        self._count("evidence", len(rows))

    def _meetings(self):
        rng = self.rng
        committee = self.plan.committee
        first = committee.meetings.get(date=datetime.date(2018, 6, 6))
        members = [self.cochair_unodc, self.cochair_interpol, self.committee_user, self.secretary]
        middle_period = self.periods[len(self.periods) // 2 - 1]
        last_locked = self.periods[-3]
        held = [
            (first, None),
            (
                Meeting.objects.create(
                    committee=committee,
                    title="Steering committee meeting, Vienna",
                    date=middle_period.due_on + datetime.timedelta(days=20),
                    place="Vienna International Centre",
                    state=Meeting.State.HELD,
                    agenda="1. Opening\n2. Review of the focus areas\n3. Decisions\n4. Action items",
                ),
                middle_period,
            ),
            (
                Meeting.objects.create(
                    committee=committee,
                    title="Steering committee meeting, Lyon",
                    date=last_locked.due_on + datetime.timedelta(days=20),
                    place="INTERPOL General Secretariat, Lyon",
                    state=Meeting.State.HELD,
                    agenda="1. Opening\n2. Review of the focus areas\n3. Decisions\n4. Action items",
                ),
                last_locked,
            ),
        ]
        upcoming = Meeting.objects.create(
            committee=committee,
            title="Steering committee meeting, Vienna",
            # The next meeting: soon after the period under review is done with.
            date=max(self.periods[-2].due_on + datetime.timedelta(days=40), self.today + datetime.timedelta(days=14)),
            place="Vienna International Centre",
            agenda="1. Opening\n2. Review of the focus areas\n3. Follow-up of action items\n4. Any other business",
        )
        upcoming.attendees.set(members)
        decisions = items = reviews = 0
        for meeting, period in held:
            meeting.attendees.set(members)
            if period is not None:
                for area in self.focus_areas:
                    Review.objects.create(
                        meeting=meeting,
                        focus_area=area,
                        rating=rng.choice(list(RAG)),
                        assessment=f"{area.name}: implementation is broadly on schedule up to {period.code}.",
                        recommendations="Strengthen reporting by the regional offices.",
                        recorded_by=self.secretary,
                    )
                    reviews += 1
            for number in range(1, 4):
                area = rng.choice(self.focus_areas)
                decision = Decision.objects.create(
                    meeting=meeting,
                    number=number,
                    text=f"The committee asks the secretariat to follow up on {area.name.lower()} "
                    f"and to report at the next meeting.",
                    focus_area=area,
                )
                decisions += 1
                owner_office = rng.choice(self.field_offices) if number % 2 else None
                item = ActionItem.objects.create(
                    meeting=meeting,
                    decision=decision,
                    description=f"Prepare a note on {rng.choice(TOPICS[area.code])} for the committee.",
                    owner_office=owner_office,
                    owner_user=None if owner_office else rng.choice([self.officer, self.officer_lyon]),
                    due_on=meeting.date + datetime.timedelta(days=rng.randrange(30, 240)),
                    state=rng.choice(list(ActionItem.State)),
                )
                if item.is_closed():
                    item.closed_at = _aware(min(item.due_on, self.today))
                    item.save(update_fields=["closed_at", "updated_at"])
                ActionItemNote.objects.create(
                    item=item, author=self.secretary, text="Discussed with the owner; on schedule."
                )
                items += 1
            meeting.minutes = "The committee reviewed progress and adopted the decisions recorded below."
            self._sign_minutes(meeting)
        self._count("meetings", len(held) + 1)
        self._count("reviews", reviews)
        self._count("decisions", decisions)
        self._count("action items", items)

    def _sign_minutes(self, meeting: Meeting):
        """Submit the meeting's minutes a week after it, signed by the UNODC co-chair, then the INTERPOL one."""

        def day(days: int, hour: int) -> datetime.datetime:
            return _aware(min(meeting.date + datetime.timedelta(days=days), self.today), hour)

        signed = [(Party.UNODC, self.cochair_unodc, day(10, 9)), (Party.INTERPOL, self.cochair_interpol, day(14, 10))]
        round = SignOff.objects.create(
            kind="minutes",
            content_type=ContentType.objects.get_for_model(Meeting),
            object_id=str(meeting.pk),
            number=1,
            state=SignOff.State.APPROVED,
            submitted_by=self.secretary,
            submitted_at=day(7, 8),
            closed_at=signed[-1][2],
        )
        Signature.objects.bulk_create(
            Signature(signoff=round, party=party, decision=Signature.Decision.SIGNED, signer=user, signed_at=at)
            for party, user, at in signed
        )
        meeting.minutes_submitted_at = round.submitted_at
        meeting.minutes_approved_at = round.closed_at
        meeting.minutes_approved_by = self.cochair_interpol
        meeting.save(
            update_fields=[
                "minutes",
                "minutes_submitted_at",
                "minutes_approved_at",
                "minutes_approved_by",
                "updated_at",
            ]
        )


FIRST_VERSION_ENDORSEMENT = "As agreed by the steering committee, Lyon, 6 June 2018"


def seed_demo(
    *, scale: str, seed: int, password: str, today: datetime.date | None = None, log=lambda message: None
) -> dict[str, int]:
    """Load demo data of the given scale, its reporting up to ``today`` (the real today by default);
    return how many rows of each kind were written."""
    if scale not in SCALES:
        raise ValueError(f"unknown scale {scale!r}; choose one of {', '.join(SCALES)}")
    if User.objects.filter(username="officer").exists() or Activity.objects.exists():
        raise DemoDataExists("demo data is already loaded")
    builder = DemoBuilder(
        scale=SCALES[scale], seed=seed, password=password, today=today or timezone.localdate(), log=log
    )
    with transaction.atomic():
        counts = builder.build()
        # The plan as built is the one agreed in Lyon: its version 1.0, which changes go through from then on.
        versions.record_version(
            plan=builder.plan,
            endorsement=FIRST_VERSION_ENDORSEMENT,
            endorsed_at=_aware(datetime.date(2018, 6, 6), 12),
            number=(1, 0),
        )
        counts["plan versions"] = 1
        _analyze()
        # Bulk-loaded rows send no signal: what the pages read is computed once, at the end.
        standings.rebuild()
        _analyze(ActivityStanding, IndicatorFigure)
    # Bulk-loaded rows send no signal: drop the dashboards and register choices cached before the load.
    dashboard_cache.invalidate()
    register_choices.invalidate()
    _vacuum()
    return counts


def _vacuum() -> None:
    """Vacuum the loaded database, once the load is committed (``manage.py seed_demo``; a load inside a transaction
    of the caller's, as in the tests, cannot): until autovacuum comes round, no page of the bulk-loaded tables is
    marked all-visible, and the index-only scans the queues and counts are planned for read every row's page too
    (the officer's home at scale L: 197 ms before, 115 ms after)."""
    if connection.vendor == "postgresql" and not connection.in_atomic_block:
        try:
            with connection.cursor() as cursor:
                cursor.execute("VACUUM (ANALYZE) " + _tables())
        except DatabaseError as error:
            # The load is committed: autovacuum will come round, and a rerun would be refused as loaded already.
            logger.warning("The demo data are loaded, but vacuuming the database failed: %s", error)


def _analyze(*models) -> None:
    """Refresh the planner's statistics of the models' tables (all when none given): until autovacuum
    comes round, it would take the bulk-loaded tables for empty and pick plans that take minutes at scale L."""
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE " + _tables(*models))


def _tables(*models) -> str:
    """The models' tables (all the project's when none given), listed for ANALYZE or VACUUM.

    Never the bare command: it would also take the catalogs every database of the server shares, and hold
    them until the load's transaction ends, so that another database's load or vacuum (a test worker's, or
    autovacuum) waits for this one to finish."""
    names = [m._meta.db_table for m in models] or sorted(
        connection.introspection.django_table_names(only_existing=True)
    )
    return ", ".join(connection.ops.quote_name(name) for name in names)
