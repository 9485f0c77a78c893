"""POST /api/v1/updates/bulk/: many updates at once, each on its own, each retried safely."""

import pytest

from actionplan.models import ProgressUpdate
from tests.factories import ActivityFactory

URL = "/api/v1/updates/bulk/"


@pytest.fixture
def activities(world):
    made = ActivityFactory.create_batch(3, objective=world.objective)
    for activity in made:
        activity.implementing_offices.add(world.office)
    return made


def item(activity, period, key, **extra):
    return {
        "client_key": key,
        "activity": activity.code,
        "period": period.code,
        "rag": "on_track",
        "percent_complete": 30,
        **extra,
    }


def test_valid_items_are_saved_even_when_others_fail(world, api, activities):
    items = [
        item(activities[0], world.period, "a"),
        item(activities[1], world.period, "b", percent_complete=101),
        item(activities[2], world.locked_period, "c"),
        item(activities[2], world.period, "d", submit=True),
    ]
    response = api(world.reporter).post(URL, items, format="json")

    assert response.status_code == 200
    results = response.json()
    assert [(r["index"], r["status"]) for r in results] == [(0, 201), (1, 400), (2, 409), (3, 201)]
    assert "percent_complete" in results[1]["errors"]
    assert "period" in results[2]["errors"]
    assert set(ProgressUpdate.objects.values_list("activity__code", flat=True)) == {
        activities[0].code,
        activities[2].code,
    }
    assert ProgressUpdate.objects.get(pk=results[3]["id"]).state == "submitted"


def test_retried_items_are_not_created_twice(world, api, activities):
    items = [item(activity, world.period, f"key-{n}") for n, activity in enumerate(activities)]
    client = api(world.reporter)
    first = client.post(URL, items, format="json").json()
    retry = client.post(URL, items, format="json").json()

    assert [r["status"] for r in retry] == [200, 200, 200]
    assert [r["id"] for r in retry] == [r["id"] for r in first]
    assert ProgressUpdate.objects.count() == 3


def test_client_key_reused_with_another_item_is_refused(world, api, activities):
    client = api(world.reporter)
    client.post(URL, [item(activities[0], world.period, "same")], format="json")
    result = client.post(URL, [item(activities[1], world.period, "same")], format="json").json()[0]
    assert result["status"] == 422
    assert ProgressUpdate.objects.count() == 1


def test_each_item_needs_a_client_key(world, api, activities):
    body = item(activities[0], world.period, "x")
    del body["client_key"]
    result = api(world.reporter).post(URL, [body], format="json").json()[0]
    assert (result["status"], list(result["errors"])) == (400, ["client_key"])


def test_an_item_that_is_not_an_object_is_refused_alone(world, api, activities):
    results = api(world.reporter).post(URL, ["oops", item(activities[0], world.period, "k")], format="json").json()
    assert [r["status"] for r in results] == [400, 201]


def test_more_than_200_items_are_refused_whole(world, api, activities):
    items = [item(activities[0], world.period, f"k{n}") for n in range(201)]
    response = api(world.reporter).post(URL, items, format="json")
    assert response.status_code == 400
    assert "200" in response.json()["detail"]
    assert not ProgressUpdate.objects.exists()


def test_body_that_is_not_a_list_is_refused(world, api):
    assert api(world.reporter).post(URL, {"activity": "x"}, format="json").status_code == 400
