"""PATCH /api/v1/updates/{id}/ needs If-Match: nobody overwrites a newer edit unknowingly."""

import pytest

from actionplan.models import ProgressUpdate
from tests.factories import MeasurementFactory, ProgressUpdateFactory


@pytest.fixture
def update(world):
    return ProgressUpdateFactory(
        activity=world.activity, period=world.period, office=world.office, author=world.reporter
    )


def url(update):
    return f"/api/v1/updates/{update.pk}/"


def test_patch_with_the_current_etag_changes_the_update_and_its_version(world, api, update):
    client = api(world.reporter)
    etag = client.get(url(update))["ETag"]
    response = client.patch(url(update), {"percent_complete": 75}, format="json", HTTP_IF_MATCH=etag)

    assert response.status_code == 200
    assert response.json()["percent_complete"] == 75
    assert response.json()["version"] == 2
    assert response["ETag"] == '"2"'


def test_patch_without_if_match_is_refused_with_428(world, api, update):
    response = api(world.reporter).patch(url(update), {"percent_complete": 75}, format="json")
    assert response.status_code == 428
    assert "If-Match" in response.json()
    assert ProgressUpdate.objects.get().percent_complete == 50


def test_patch_with_a_stale_etag_is_refused_with_the_current_version(world, api, update):
    client = api(world.reporter)
    client.patch(url(update), {"percent_complete": 60}, format="json", HTTP_IF_MATCH='"1"')
    response = client.patch(url(update), {"percent_complete": 70}, format="json", HTTP_IF_MATCH='"1"')

    assert response.status_code == 412
    assert response.json()["current_version"] == 2
    assert ProgressUpdate.objects.get().percent_complete == 60


def test_weak_etag_is_accepted(world, api, update):
    response = api(world.reporter).patch(url(update), {"rag": "off_track"}, format="json", HTTP_IF_MATCH='W/"1"')
    assert response.status_code == 200


def test_patch_replaces_the_measurements_when_given(world, api, update):
    MeasurementFactory(update=update, indicator=world.indicator, value=5)
    response = api(world.reporter).patch(
        url(update),
        {"measurements": [{"indicator": world.second_indicator.code, "value": 9}]},
        format="json",
        HTTP_IF_MATCH='"1"',
    )
    assert [m["indicator"] for m in response.json()["measurements"]] == ["CYB-1.1-I2"]


def test_patch_of_an_approved_update_is_a_conflict(world, api, update):
    update.state = ProgressUpdate.State.APPROVED
    update.save()
    response = api(world.reporter).patch(url(update), {"percent_complete": 99}, format="json", HTTP_IF_MATCH='"1"')
    assert response.status_code == 409
    assert response.json()["code"] == "wrong_state"


def test_patch_in_a_locked_period_is_a_conflict(world, api):
    update = ProgressUpdateFactory(activity=world.activity, period=world.locked_period, office=world.office)
    response = api(world.reporter).patch(url(update), {"percent_complete": 99}, format="json", HTTP_IF_MATCH='"1"')
    assert response.status_code == 409
    assert response.json()["code"] == "period_locked"


def test_patch_of_a_field_that_cannot_change_is_refused_naming_it(world, api, update):
    response = api(world.reporter).patch(url(update), {"office": "ELSEWHERE"}, format="json", HTTP_IF_MATCH='"1"')
    assert response.status_code == 400
    assert "office" in response.json()


def test_put_is_not_offered(world, api, update):
    assert api(world.reporter).put(url(update), {}, format="json").status_code == 405


def test_update_of_another_office_is_not_found(world, api, update):
    response = api(world.other_reporter).patch(url(update), {"percent_complete": 1}, format="json", HTTP_IF_MATCH='"1"')
    assert response.status_code == 404


def test_malformed_update_id_is_not_found(world, api):
    assert api(world.reporter).get("/api/v1/updates/not-a-uuid/").status_code == 404
