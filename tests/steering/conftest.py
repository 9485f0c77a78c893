"""Fixtures of the steering tests: a committee member's client, and the data of the progress-report tests."""

import datetime

import pytest

from tests import factories

ON_TIME = datetime.datetime(2020, 7, 10, 9, tzinfo=datetime.UTC)
LATE = datetime.datetime(2020, 7, 30, 9, tzinfo=datetime.UTC)


@pytest.fixture
def committee_client(client, world):
    client.force_login(world.committee)
    return client


@pytest.fixture
def media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
    return settings.MEDIA_ROOT


@pytest.fixture
def reported(committee_world, media):
    """The world with its reporting for 2020-Q2 (the period reports are asked for).

    CYB (4 activities, 4 expected updates):
      CYB-1.1 approved off track in 2020-Q2 (on time), on track in 2020-Q1; I1 = 100 (target 100), I2 = 50
      CYB-1.2 submitted late in 2020-Q2, never approved: no RAG yet
      CYB-1.3 a draft in 2020-Q2: missing
      CYB-1.4 nothing in 2020-Q2: missing; approved at risk in 2020-Q3, after the period
    TOC (1 activity, completed, 1 expected update): TOC-1.1 approved on track, on time; its objective
      indicator TOC-1-I1 = 30 (baseline 10, target 50: 50 %)
    Action items: one overdue and open, one done.
    """
    world = committee_world
    world.q3 = factories.ReportingPeriodFactory(
        plan=world.plan,
        code="2020-Q3",
        starts_on=datetime.date(2020, 7, 1),
        ends_on=datetime.date(2020, 9, 30),
        due_on=datetime.date(2020, 10, 15),
    )
    world.toc = factories.FocusAreaFactory(plan=world.plan, code="TOC", name="Illicit trafficking", order=2)
    world.area.order = 1
    world.area.save()
    toc_objective = factories.ObjectiveFactory(focus_area=world.toc, code="TOC-1")
    world.toc_activity = factories.ActivityFactory(objective=toc_objective, code="TOC-1.1", status="completed")
    world.toc_activity.implementing_offices.add(world.office)
    world.toc_indicator = factories.IndicatorFactory(
        objective=toc_objective, activity=None, code="TOC-1-I1", baseline_value=10, target_value=50
    )

    def update(activity, period, state, rag, office=None, submitted_at=ON_TIME, **extra):
        return factories.ProgressUpdateFactory(
            activity=activity,
            period=period,
            office=office or world.office,
            author=world.reporter,
            state=state,
            rag=rag,
            submitted_at=submitted_at if state != "draft" else None,
            reviewed_at=submitted_at if state == "approved" else None,
            **extra,
        )

    earlier = update(world.activity, world.locked_period, "approved", "on_track", submitted_at=LATE)
    latest = update(
        world.activity, world.period, "approved", "off_track", percent_complete=70, narrative="Two workshops held."
    )
    update(world.restricted, world.period, "submitted", "at_risk", submitted_at=LATE)
    update(world.other_activity, world.period, "draft", "on_track", office=world.other_office)
    update(world.other_restricted, world.q3, "approved", "at_risk", office=world.other_office)
    toc = update(world.toc_activity, world.period, "approved", "on_track")
    factories.write_measurements_at_once(
        [
            factories.MeasurementFactory.build(update=measured, indicator=indicator, value=value)
            for measured, indicator, value in [
                (earlier, world.indicator, 40),
                (latest, world.indicator, 100),
                (latest, world.second_indicator, 50),
                (toc, world.toc_indicator, 30),
            ]
        ],
        plan=world.plan,
    )
    world.overdue_item = factories.ActionItemFactory(
        meeting=world.meeting, description="Send the assessment", due_on=datetime.date(2020, 1, 31)
    )
    factories.ActionItemFactory(meeting=world.meeting, description="Closed already", state="done")
    return world


@pytest.fixture
def compiled(reported):
    """Compile a report of the world's plan synchronously; return it fresh from the database."""
    from steering.models import ProgressReport
    from steering.reports import services

    def compile_one(period=None, focus_area=None):
        report = ProgressReport.objects.create(
            plan=reported.plan, period=period or reported.period, focus_area=focus_area, requested_by=reported.officer
        )
        assert services.compile_report(report_id=report.pk) == "succeeded", ProgressReport.objects.get(
            pk=report.pk
        ).error
        return ProgressReport.objects.get(pk=report.pk)

    return compile_one


@pytest.fixture
def snapshot_of(reported):
    """Take the snapshot a report of the world's plan would freeze, rendering no file; return it.

    Compiling renders a PDF and a workbook, seconds of the test's time: tests of what a report
    says read its snapshot, taken by the same service function compilation freezes.
    """
    from steering.models import ProgressReport
    from steering.reports import services

    def take(period=None, focus_area=None):
        report = ProgressReport(
            plan=reported.plan, period=period or reported.period, focus_area=focus_area, requested_by=reported.officer
        )
        snapshot, _content_hash = services.take_snapshot(report=report)
        return snapshot

    return take


@pytest.fixture
def signing_world(committee_world):
    """The committee world with a co-chair for each party, each working for it (the profile's organisation).

    ``cochair_unodc`` (Ursula Berger) and ``cochair_interpol`` (Ivan Novak, the committee world's
    co-chair); the secretary writes the minutes of ``meeting``.
    """
    from django.contrib.auth.models import Group

    from portal.models import Organization, Profile, Role
    from steering.models import CommitteeMember

    world = committee_world
    parties = {
        code: Organization.objects.get_or_create(code=code, defaults={"name": code, "kind": "party"})[0]
        for code in ("UNODC", "INTERPOL")
    }
    world.cochair_unodc = factories.UserFactory(
        username="cochair.unodc", first_name="Ursula", last_name="Berger", email="ursula@example.org"
    )
    world.cochair_unodc.groups.add(Group.objects.get_or_create(name=Role.COMMITTEE_MEMBER.value)[0])
    CommitteeMember.objects.create(
        committee=world.committee_body, user=world.cochair_unodc, role=CommitteeMember.Role.CO_CHAIR_UNODC
    )
    world.cochair_interpol = world.cochair
    world.cochair_interpol.first_name, world.cochair_interpol.last_name = "Ivan", "Novak"
    world.cochair_interpol.save()
    world.secretary.first_name, world.secretary.last_name = "Sami", "Haddad"
    world.secretary.save()
    Profile.objects.create(user=world.cochair_unodc, organization=parties["UNODC"])
    Profile.objects.create(user=world.cochair_interpol, organization=parties["INTERPOL"])
    world.parties = parties
    world.meeting.minutes = "The committee reviewed progress and adopted two decisions."
    world.meeting.save()
    return world
