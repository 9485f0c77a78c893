"""Load the reference data every installation holds: countries, the parties and their
headquarters, the agreement, the 2018 joint action plan, its committee and first meeting.

Loading is idempotent: a second run finds every row in place and writes nothing.
"""

import datetime
import json
from dataclasses import dataclass

import pycountry
from django.contrib.auth.models import Group
from django.db import transaction
from django.utils.translation import gettext_noop
from django_celery_beat.models import CrontabSchedule, IntervalSchedule, PeriodicTask

from actionplan import register_choices
from actionplan.models import ActionPlan, Agreement, FocusArea
from steering import dashboard_cache
from steering.models import Committee, Meeting

from . import countries
from .models import Country, Office, Organization, Role

PLAN_CODE = "JAP-2018"

FOCUS_AREAS = [
    (
        "TER",
        gettext_noop("Terrorism"),
        gettext_noop(
            "Preventing and countering terrorism, including the threat posed by foreign terrorist "
            "fighters (FTF): legal frameworks, investigation, information sharing on FTF, and "
            "prosecution in line with the rule of law."
        ),
    ),
    (
        "TOC",
        gettext_noop("Illicit trafficking and organized crime"),
        gettext_noop(
            "Countering illicit trafficking and transnational organized crime, including opiates "
            "originating in Afghanistan and the southern route (SARTO), trafficking in persons, "
            "smuggling of migrants, firearms and wildlife crime."
        ),
    ),
    (
        "CYB",
        gettext_noop("Cybercrime"),
        gettext_noop(
            "Strengthening the capacity of Member States to prevent, investigate and prosecute "
            "cybercrime and to handle electronic evidence."
        ),
    ),
    (
        "MBS",
        gettext_noop("Maritime and border security"),
        gettext_noop(
            "Improving maritime law enforcement and border management, including at airports, "
            "seaports and land crossings, and the use of INTERPOL databases at the frontline."
        ),
    ),
    (
        "FCJ",
        gettext_noop("Forensic and criminal justice capacity"),
        gettext_noop(
            "Building forensic science capability and criminal justice capacity, from crime scene "
            "to courtroom, and cooperation between police, prosecutors and judges."
        ),
    ),
    (
        "INS",
        gettext_noop("Institutional capacity"),
        gettext_noop(
            "Strengthening the institutions that carry the cooperation: National Central Bureaus, "
            "UNODC field offices, joint training, staff exchange and shared data."
        ),
    ),
]

FIRST_MEETING_AGENDA = """1. Opening by the co-chairs
2. Review of cooperation under the agreement
3. Adoption of the joint action plan and its six focus areas
4. Arrangements for reporting, review and follow-up
5. Date and place of the next meeting
6. Any other business"""


@dataclass
class LoadResult:
    created: int = 0
    updated: int = 0


def _sync(model, result: LoadResult, lookup: dict, values: dict):
    """Create the row, or bring its fields to ``values``; save only when something differs."""
    obj = model.objects.filter(**lookup).first()
    if obj is None:
        result.created += 1
        return model.objects.create(**lookup, **values)
    changed = [name for name, value in values.items() if getattr(obj, name) != value]
    if changed:
        for name in changed:
            setattr(obj, name, values[name])
        obj.save(update_fields=[*changed, "updated_at"] if hasattr(obj, "updated_at") else changed)
        result.updated += 1
    return obj


def country_rows() -> list[dict]:
    """List every ISO 3166-1 country (from pycountry) with its UN M49 region and continent (from CLDR)."""
    rows = []
    for country in pycountry.countries:
        region, continent = countries.m49_region(country.alpha_2)
        rows.append(
            {
                "iso3": country.alpha_3,
                "iso2": country.alpha_2,
                # ISO 3166-1 numeric codes are M49's codes of the same countries.
                "m49": country.numeric,
                "name": getattr(country, "common_name", country.name),
                "region": countries.english_region_name(region) if region else "",
                "region_code": region,
                "continent": countries.english_region_name(continent) if continent else "",
            }
        )
    return rows


def _load_countries(result: LoadResult):
    existing = {country.iso3: country for country in Country.objects.all()}
    new, changed = [], []
    for row in country_rows():
        country = existing.get(row["iso3"])
        if country is None:
            new.append(Country(**row))
        elif any(getattr(country, name) != value for name, value in row.items()):
            for name, value in row.items():
                setattr(country, name, value)
            changed.append(country)
    Country.objects.bulk_create(new)
    Country.objects.bulk_update(changed, ["iso2", "m49", "name", "region", "region_code", "continent"])
    if new or changed:
        # Bulk writes send no signal; the dashboard counts countries by region, the register names them.
        dashboard_cache.invalidate()
        register_choices.invalidate()
    result.created += len(new)
    result.updated += len(changed)


@transaction.atomic
def load_reference_data() -> LoadResult:
    """Load or refresh the reference data; return how many rows were created or changed."""
    result = LoadResult()
    for role in Role:
        if not Group.objects.filter(name=role.value).exists():
            Group.objects.create(name=role.value)
            result.created += 1
    _load_countries(result)

    unodc = _sync(
        Organization,
        result,
        {"code": "UNODC"},
        {"name": gettext_noop("United Nations Office on Drugs and Crime"), "kind": Organization.Kind.PARTY},
    )
    interpol = _sync(
        Organization,
        result,
        {"code": "INTERPOL"},
        {"name": gettext_noop("International Criminal Police Organization"), "kind": Organization.Kind.PARTY},
    )
    _sync(
        Office,
        result,
        {"code": "UNODC-HQ"},
        {
            "name": gettext_noop("UNODC Headquarters"),
            "organization": unodc,
            "kind": Office.Kind.HEADQUARTERS,
            "country": Country.objects.get(iso3="AUT"),
            "city": "Vienna",
        },
    )
    _sync(
        Office,
        result,
        {"code": "INTERPOL-GS"},
        {
            "name": gettext_noop("INTERPOL General Secretariat"),
            "organization": interpol,
            "kind": Office.Kind.HEADQUARTERS,
            "country": Country.objects.get(iso3="FRA"),
            "city": "Lyon",
        },
    )

    agreement = _sync(
        Agreement,
        result,
        {"code": "UNODC-INTERPOL"},
        {
            "title": gettext_noop(
                "Cooperation agreement between the United Nations Office on Drugs and Crime "
                "and the International Criminal Police Organization (INTERPOL)"
            ),
            "summary": gettext_noop(
                "Frames the cooperation of UNODC and INTERPOL against drugs, crime and terrorism. "
                "A joint steering committee oversees a joint action plan under it."
            ),
        },
    )
    if set(agreement.parties.all()) != {unodc, interpol}:
        agreement.parties.set([unodc, interpol])
        result.updated += 1

    plan = _sync(
        ActionPlan,
        result,
        {"code": PLAN_CODE},
        {
            "agreement": agreement,
            "title": gettext_noop("UNODC–INTERPOL Joint Action Plan 2018"),
            "starts_on": datetime.date(2018, 7, 1),
            "ends_on": datetime.date(2021, 6, 30),
            "adopted_on": datetime.date(2018, 6, 6),
            "state": ActionPlan.State.ADOPTED,
        },
    )
    for order, (code, name, description) in enumerate(FOCUS_AREAS, start=1):
        _sync(
            FocusArea, result, {"code": code}, {"plan": plan, "name": name, "description": description, "order": order}
        )

    committee = _sync(
        Committee, result, {"plan": plan}, {"name": gettext_noop("UNODC–INTERPOL Joint Steering Committee")}
    )
    _sync(
        Meeting,
        result,
        {"committee": committee, "date": datetime.date(2018, 6, 6)},
        {
            "title": "Steering committee meeting, Lyon",
            "place": "INTERPOL General Secretariat, Lyon",
            "state": Meeting.State.HELD,
            "agenda": FIRST_MEETING_AGENDA,
        },
    )
    _load_schedules(result)
    return result


def _load_schedules(result: LoadResult):
    """Register the periodic jobs with django-celery-beat, where the admin can change them.

    A job is created only when no job of its name exists, so that a change made in the
    admin (schedule, arguments, enabled) survives the next load.
    """
    hourly, created = IntervalSchedule.objects.get_or_create(every=1, period=IntervalSchedule.HOURS)
    result.created += created
    five_minutes, created = IntervalSchedule.objects.get_or_create(every=5, period=IntervalSchedule.MINUTES)
    result.created += created
    every_minute, created = IntervalSchedule.objects.get_or_create(every=1, period=IntervalSchedule.MINUTES)
    result.created += created

    def crontab(**fields):
        schedule, created = CrontabSchedule.objects.get_or_create(
            **{"minute": "0", "day_of_week": "*", "day_of_month": "*", "month_of_year": "*", **fields},
            timezone="UTC",
        )
        result.created += created
        return schedule

    jobs = [
        ("Purge expired idempotency keys", "portal.tasks.purge_idempotency_keys", {"interval": hourly}, {}),
        ("Purge the access log beyond ACCESS_LOG_DAYS", "audit.tasks.purge_old_access_events",
         {"crontab": crontab(hour="3", minute="30")}, {}),
        ("Purge the change feed's deletions beyond TOMBSTONE_DAYS", "portal.tasks.purge_tombstones",
         {"crontab": crontab(hour="3", minute="45")}, {}),
        ("Purge the API tokens past their expiry", "portal.tasks.purge_expired_tokens",
         {"crontab": crontab(hour="3", minute="55")}, {}),
        ("Send the jobs that waited in the outbox while the queue was down", "outbox.tasks.drain_outbox",
         {"interval": every_minute}, {}),
        ("Send the webhook deliveries due for another attempt", "webhooks.tasks.send_due_deliveries",
         {"interval": every_minute}, {}),
        ("Purge the webhook deliveries finished beyond WEBHOOK_KEEP_DAYS", "webhooks.tasks.purge_old_deliveries",
         {"crontab": crontab(hour="3", minute="50")}, {}),
        ("Fail progress reports stuck past the time limit", "steering.tasks.fail_stale_reports",
         {"interval": five_minutes}, {}),
        ("Fail spreadsheet imports no worker finished (IMPORT_STALE_MINUTES)", "actionplan.tasks.fail_stale_imports",
         {"interval": five_minutes}, {}),
        ("Compile the whole-plan report when a period ends", "steering.tasks.compile_period_reports",
         {"crontab": crontab(hour="2", minute="15")}, {"catch_up_days": 30}),
        ("Compile and e-mail the committee's report a week before each meeting",
         "steering.tasks.compile_meeting_reports", {"interval": hourly}, {"days_before": 7}),
        ("Remind reporters of updates due within a week", "steering.tasks.remind_due_updates",
         {"crontab": crontab(hour="6")}, {"days_before": 7}),
        ("Weekly digest of overdue updates to officers", "steering.tasks.send_overdue_digest",
         {"crontab": crontab(hour="7", day_of_week="1")}, {}),
        ("E-mail notifications batched by the hour", "portal.tasks.send_batched_notifications",
         {"interval": hourly}, {}),
        ("E-mail the daily digests of notifications", "portal.tasks.send_notification_digests",
         {"crontab": crontab(hour="6", minute="30")}, {}),
    ]  # fmt: skip
    for name, task, schedule, kwargs in jobs:
        if not PeriodicTask.objects.filter(name=name).exists():
            PeriodicTask.objects.create(name=name, task=task, kwargs=json.dumps(kwargs), **schedule)
            result.created += 1
