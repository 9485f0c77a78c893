"""The change feed's deletions: every deletable row the API lists leaves a tombstone, which
``GET /api/v1/deleted/?since=`` answers to those who could read the row."""

import datetime
import os
import subprocess
import sys

import pytest
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from actionplan.models import Activity, Indicator, ProgressUpdate
from portal.models import Tombstone
from portal.tasks import purge_tombstones
from steering.models import ProgressReport
from tests.factories import (
    EvidenceFactory,
    FocusAreaFactory,
    IndicatorFactory,
    MeasurementFactory,
    OfficeFactory,
    ProgressReportFactory,
    ProgressUpdateFactory,
    ReportingPeriodFactory,
)

URL = "/api/v1/deleted/"


def deleted(response):
    assert response.status_code == 200, response.content
    return [(row["kind"], row["identifier"]) for row in response.json()["results"]]


def tombstones():
    return sorted(Tombstone.objects.values_list("kind", "identifier"))


@pytest.fixture
def since():
    return (timezone.now() - datetime.timedelta(minutes=1)).isoformat()


@pytest.fixture
def draft(world):
    return ProgressUpdateFactory(activity=world.activity, period=world.period, office=world.office)


# Each kind, deleted the way it is deleted in real use ---------------------------------------------------


def test_removing_a_file_through_the_api_leaves_an_evidence_tombstone(world, api, draft):
    evidence = EvidenceFactory(update=draft, uploaded_by=world.reporter)
    response = api(world.reporter).delete(f"/api/v1/updates/{draft.pk}/evidence/{evidence.pk}/")
    assert response.status_code == 204
    assert tombstones() == [("evidence", str(evidence.pk))]


def test_deleting_an_update_in_the_admin_leaves_tombstones_of_it_and_its_files(world, admin_client, draft):
    evidence = EvidenceFactory(update=draft, uploaded_by=world.reporter)
    response = admin_client.post(reverse("admin:actionplan_progressupdate_delete", args=[draft.pk]), {"post": "yes"})
    assert response.status_code == 302
    assert tombstones() == [("evidence", str(evidence.pk)), ("update", str(draft.pk))]


def test_deleting_an_activity_in_the_admin_leaves_tombstones_of_it_and_its_indicators(world, admin_client):
    response = admin_client.post(reverse("admin:actionplan_activity_delete", args=[world.activity.pk]), {"post": "yes"})
    assert response.status_code == 302
    assert tombstones() == [("activity", "CYB-1.1"), ("indicator", "CYB-1.1-I1"), ("indicator", "CYB-1.1-I2")]


def test_deleting_an_indicator_in_the_admin_leaves_its_tombstone(world, admin_client):
    response = admin_client.post(
        reverse("admin:actionplan_indicator_delete", args=[world.indicator.pk]), {"post": "yes"}
    )
    assert response.status_code == 302
    assert tombstones() == [("indicator", "CYB-1.1-I1")]


def test_deleting_a_failed_report_in_the_admin_leaves_its_tombstone(world, admin_client):
    report = ProgressReportFactory(plan=world.plan, period=world.period, state=ProgressReport.State.FAILED)
    response = admin_client.post(reverse("admin:steering_progressreport_delete", args=[report.pk]), {"post": "yes"})
    assert response.status_code == 302
    assert tombstones() == [("report", str(report.pk))]


def test_deleting_a_focus_area_a_period_and_an_office_leaves_their_tombstones(world):
    FocusAreaFactory(plan=world.plan, code="TER").delete()
    ReportingPeriodFactory(plan=world.plan, code="2030-Q1").delete()
    OfficeFactory(code="UNODC-GONE").delete()
    assert tombstones() == [("focus_area", "TER"), ("office", "UNODC-GONE"), ("period", "2030-Q1")]


def test_a_bulk_queryset_delete_leaves_a_tombstone_per_row(world):
    updates = [
        ProgressUpdateFactory(activity=activity, period=world.period, office=world.office)
        for activity in (world.activity, world.restricted)
    ]
    ProgressUpdate.objects.filter(pk__in=[update.pk for update in updates]).delete()
    assert tombstones() == sorted(("update", str(update.pk)) for update in updates)


def test_a_rolled_back_delete_leaves_no_tombstone(world, draft):
    pk = draft.pk
    with pytest.raises(RuntimeError), transaction.atomic():
        draft.delete()
        raise RuntimeError("the delete is rolled back")
    assert ProgressUpdate.objects.filter(pk=pk).exists()
    assert not Tombstone.objects.exists()


def test_an_update_deleted_again_after_a_deletion_failed_half_way_leaves_its_tombstone(world, draft):
    from django.db.models.signals import pre_delete

    def fail(sender, instance, **kwargs):
        raise RuntimeError("the deletion fails after the tombstone's key is read")

    pk = draft.pk
    pre_delete.connect(fail, sender=ProgressUpdate)
    try:
        with pytest.raises(RuntimeError), transaction.atomic():
            draft.delete()
    finally:
        pre_delete.disconnect(fail, sender=ProgressUpdate)
    draft.delete()
    assert tombstones() == [("update", str(pk))]


def test_deleting_a_measurement_brings_its_update_back_in_updated_since(world, api, admin_client, draft):
    measurement = MeasurementFactory(update=draft, indicator=world.indicator)
    ProgressUpdate.objects.filter(pk=draft.pk).update(updated_at=timezone.now() - datetime.timedelta(days=1))
    since = (timezone.now() - datetime.timedelta(seconds=1)).isoformat()
    response = admin_client.post(reverse("admin:actionplan_measurement_delete", args=[measurement.pk]), {"post": "yes"})
    assert response.status_code == 302
    listed = api(world.reporter).get("/api/v1/updates/", {"updated_since": since}).json()["results"]
    assert [(row["id"], row["measurements"]) for row in listed] == [(str(draft.pk), [])]
    assert not Tombstone.objects.exists()


# The feed --------------------------------------------------------------------------------------------------


def test_the_feed_lists_the_deletions_since_a_time_oldest_first(world, api, draft):
    Indicator.objects.filter(pk=world.second_indicator.pk).delete()
    Tombstone.objects.update(deleted_at=timezone.now() - datetime.timedelta(hours=2))
    since = (timezone.now() - datetime.timedelta(hours=1)).isoformat()
    pk = str(draft.pk)
    draft.delete()
    world.indicator.delete()
    assert deleted(api(world.reporter).get(URL, {"since": since})) == [
        ("update", pk),
        ("indicator", "CYB-1.1-I1"),
    ]


def test_the_feed_filters_by_kind(world, api, draft, since):
    draft.delete()
    world.indicator.delete()
    assert deleted(api(world.officer).get(URL, {"since": since, "kind": "indicator"})) == [("indicator", "CYB-1.1-I1")]


def test_reporter_of_another_office_learns_nothing_of_a_restricted_activity_it_could_not_see(world, api, since):
    Activity.objects.filter(pk=world.restricted.pk).delete()
    assert deleted(api(world.reporter).get(URL, {"since": since})) == [("activity", "CYB-1.2")]
    assert deleted(api(world.other_reporter).get(URL, {"since": since})) == []


def test_reporter_of_another_office_learns_nothing_of_another_offices_update(world, api, since):
    # On an activity both offices implement: the update is still the other office's alone.
    world.activity.implementing_offices.add(world.other_office)
    update = ProgressUpdateFactory(activity=world.activity, period=world.period, office=world.other_office)
    evidence = EvidenceFactory(update=update)
    pk = str(update.pk)
    update.delete()
    assert deleted(api(world.other_reporter).get(URL, {"since": since})) == [
        ("evidence", str(evidence.pk)),
        ("update", pk),
    ]
    assert deleted(api(world.reporter).get(URL, {"since": since})) == []


def test_everyone_signed_in_learns_of_an_objectives_indicator_but_only_officers_of_a_report(world, api, since):
    IndicatorFactory(objective=world.objective, activity=None, code="CYB-1-I1").delete()
    ProgressReportFactory(plan=world.plan, period=world.period).delete()
    assert deleted(api(world.outsider).get(URL, {"since": since})) == [("indicator", "CYB-1-I1")]
    assert [kind for kind, _ in deleted(api(world.committee).get(URL, {"since": since}))] == ["indicator", "report"]


def test_a_since_that_is_not_a_time_is_refused_naming_it(world, api):
    response = api(world.reporter).get(URL, {"since": "yesterday"})
    assert response.status_code == 400
    assert "since" in response.json()


def test_since_is_required(world, api):
    response = api(world.reporter).get(URL)
    assert response.status_code == 400
    assert "since" in response.json()


def test_since_before_the_retention_answers_410_asking_for_a_full_sync(world, api, settings):
    settings.TOMBSTONE_DAYS = 30
    response = api(world.reporter).get(URL, {"since": (timezone.now() - datetime.timedelta(days=31)).isoformat()})
    assert response.status_code == 410
    body = response.json()
    assert body["code"] == "resync_required" and "since" in body and body["oldest"]


def test_since_within_the_retention_is_answered(world, api, settings):
    settings.TOMBSTONE_DAYS = 30
    response = api(world.reporter).get(URL, {"since": (timezone.now() - datetime.timedelta(days=29)).isoformat()})
    assert response.status_code == 200


# Retention -------------------------------------------------------------------------------------------------


def test_the_purge_removes_tombstones_past_the_retention_only(world, settings):
    settings.TOMBSTONE_DAYS = 30
    world.indicator.delete()
    world.second_indicator.delete()
    Tombstone.objects.filter(identifier="CYB-1.1-I1").update(deleted_at=timezone.now() - datetime.timedelta(days=31))
    assert purge_tombstones() == 1
    assert tombstones() == [("indicator", "CYB-1.1-I2")]


@pytest.mark.parametrize("value", ["0", "ninety"])
def test_a_bad_tombstone_days_stops_startup_with_one_line_naming_it(value):
    result = subprocess.run(
        [
            sys.executable,
            "-c",
            "import django, os; os.environ['DJANGO_SETTINGS_MODULE']='portal.settings'; django.setup()",
        ],
        env={**os.environ, "DEBUG": "true", "TOMBSTONE_DAYS": value},
        capture_output=True,
        text=True,
    )
    assert result.returncode != 0
    assert result.stderr.strip().startswith("Configuration error: TOMBSTONE_DAYS")
    assert len(result.stderr.strip().splitlines()) == 1


def test_the_purge_is_scheduled_daily(db):
    from django_celery_beat.models import PeriodicTask

    from portal.reference import load_reference_data

    load_reference_data()
    job = PeriodicTask.objects.get(task="portal.tasks.purge_tombstones")
    assert job.crontab is not None and job.enabled


# Query count -------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("size", [2, 20])
def test_query_count_of_the_feed_does_not_grow_with_the_rows(world, api, django_assert_max_num_queries, since, size):
    for _index in range(size):
        ProgressUpdateFactory(activity=world.activity, office=world.office).delete()
    client = api(world.reporter)
    # token with its user and the user's groups (whole plan or not), the count, the page
    with django_assert_max_num_queries(4):
        assert len(deleted(client.get(URL, {"since": since}))) == size


@pytest.mark.parametrize("size", [2, 20])
def test_a_deletion_of_many_rows_reads_and_writes_their_tombstones_in_three_statements(world, size):
    periods = [ReportingPeriodFactory(plan=world.plan) for _index in range(size)]
    updates = [ProgressUpdateFactory(activity=world.activity, period=period, office=world.office) for period in periods]
    with CaptureQueriesContext(connection) as queries:
        ProgressUpdate.objects.filter(pk__in=[update.pk for update in updates]).delete()
    # The activity's offices read once; the tombstones, then their offices, written at once.
    assert len([query for query in queries if "tombstone" in query["sql"] or "implementing" in query["sql"]]) == 3
    assert tombstones() == sorted(("update", str(update.pk)) for update in updates)
    offices = set(world.activity.implementing_offices.values_list("pk", flat=True))
    assert {
        tombstone.identifier: set(tombstone.activity_offices.values_list("pk", flat=True))
        for tombstone in Tombstone.objects.all()
    } == {str(update.pk): offices for update in updates}


def test_an_update_with_three_files_is_deleted_in_as_many_statements_as_one_with_one(world):
    def statements(files, period):
        update = ProgressUpdateFactory(activity=world.activity, period=period, office=world.office)
        for _index in range(files):
            EvidenceFactory(update=update)
        with CaptureQueriesContext(connection) as queries:
            update.delete()
        return len(queries)

    # The update's office and activity are read once for all its files' tombstones.
    assert statements(1, world.period) == statements(3, ReportingPeriodFactory(plan=world.plan))
    assert len(tombstones()) == 2 + 4
