"""Lists and pages that show a restricted activity's records log each restricted row they show, in one INSERT."""

import pytest
from django.urls import reverse

from audit.models import AccessEvent
from tests import factories

ADDRESS = "203.0.113.9"


def events():
    return sorted((e.username, e.kind, e.object_type, e.object_id, e.address) for e in AccessEvent.objects.all())


def test_a_reporter_listing_its_offices_activities_in_the_api_logs_each_restricted_row(api, world):
    another = factories.ActivityFactory(objective=world.objective, code="CYB-1.5", sensitivity="restricted")
    another.implementing_offices.add(world.office)
    response = api(world.reporter).get("/api/v1/activities/", REMOTE_ADDR=ADDRESS)

    assert response.status_code == 200
    assert [row["code"] for row in response.json()["results"]] == ["CYB-1.1", "CYB-1.2", "CYB-1.5"]
    assert events() == [
        ("reporter.roseap", "restricted_view", "activity", "CYB-1.2", ADDRESS),
        ("reporter.roseap", "restricted_view", "activity", "CYB-1.5", ADDRESS),
    ]


def test_only_the_restricted_rows_of_the_page_answered_are_logged_in_one_insert(
    api, world, django_assert_max_num_queries
):
    client = api(world.officer)
    with django_assert_max_num_queries(12) as captured:
        assert client.get("/api/v1/activities/", {"page_size": 2}).status_code == 200  # CYB-1.1, CYB-1.2
    inserts = [q["sql"] for q in captured.captured_queries if q["sql"].startswith('INSERT INTO "audit_accessevent"')]
    assert len(inserts) == 1
    assert [event[3] for event in events()] == ["CYB-1.2"]

    client.get("/api/v1/activities/", {"page_size": 2, "page": 2})  # CYB-1.3, CYB-1.4
    assert [event[3] for event in events()] == ["CYB-1.2", "CYB-1.4"]


def test_a_list_with_no_restricted_row_writes_nothing(api, world):
    client = api(world.reporter)
    assert client.get("/api/v1/activities/", {"page_size": 1}).json()["results"][0]["code"] == "CYB-1.1"
    assert client.get("/api/v1/indicators/").status_code == 200
    factories.ProgressUpdateFactory(activity=world.activity, period=world.period, office=world.office)
    assert client.get("/api/v1/updates/").json()["count"] == 1
    assert not AccessEvent.objects.exists()


def test_the_update_and_indicator_lists_log_their_restricted_rows(api, world):
    update = factories.ProgressUpdateFactory(activity=world.restricted, period=world.period, office=world.office)
    factories.ProgressUpdateFactory(activity=world.activity, period=world.period, office=world.office)
    indicator = factories.IndicatorFactory(activity=world.restricted, code="CYB-1.2-I1")
    client = api(world.reporter)

    assert client.get("/api/v1/updates/", REMOTE_ADDR=ADDRESS).json()["count"] == 2
    assert client.get("/api/v1/indicators/", REMOTE_ADDR=ADDRESS).status_code == 200

    assert events() == [
        ("reporter.roseap", "restricted_view", "indicator", indicator.code, ADDRESS),
        ("reporter.roseap", "restricted_view", "progressupdate", str(update.pk), ADDRESS),
    ]


def test_reading_the_comments_of_a_restricted_update_writes_one_event(api, world):
    update = factories.ProgressUpdateFactory(activity=world.restricted, period=world.period, office=world.office)
    client = api(world.reporter)
    assert client.get(f"/api/v1/updates/{update.pk}/comments/", REMOTE_ADDR=ADDRESS).status_code == 200
    assert events() == [("reporter.roseap", "restricted_view", "progressupdate", str(update.pk), ADDRESS)]


def test_reading_the_comments_of_an_internal_update_writes_nothing(api, world):
    update = factories.ProgressUpdateFactory(activity=world.activity, period=world.period, office=world.office)
    assert api(world.reporter).get(f"/api/v1/updates/{update.pk}/comments/").status_code == 200
    assert not AccessEvent.objects.exists()


def test_the_register_page_logs_the_restricted_rows_it_shows(as_user, world):
    client = as_user(world.reporter)
    assert client.get(reverse("activity-list"), REMOTE_ADDR=ADDRESS).status_code == 200
    assert events() == [("reporter.roseap", "restricted_view", "activity", "CYB-1.2", ADDRESS)]


def test_the_register_page_without_a_restricted_row_writes_nothing(as_user, world):
    assert len(as_user(world.reporter).get(reverse("activity-list"), {"q": "CYB-1.1"}).context["page"]) == 1
    assert not AccessEvent.objects.exists()


def test_the_report_form_of_a_restricted_activity_logs_a_view_and_its_post_does_not(as_user, world):
    client = as_user(world.reporter)
    assert client.get(reverse("update-create", args=[world.restricted.code]), REMOTE_ADDR=ADDRESS).status_code == 200
    assert client.get(reverse("update-create", args=[world.activity.code])).status_code == 200
    assert events() == [("reporter.roseap", "restricted_view", "activity", "CYB-1.2", ADDRESS)]


@pytest.mark.parametrize("kind, code, object_type", [("activity", "CYB-1.2", "activity"),
                                                     ("indicator", "CYB-1.2-I1", "indicator")])  # fmt: skip
def test_the_edit_page_of_a_restricted_plan_item_logs_a_view(as_user, world, kind, code, object_type):
    factories.IndicatorFactory(activity=world.restricted, code="CYB-1.2-I1")
    client = as_user(world.officer)
    assert client.get(reverse("plan-item-edit", args=[kind, code]), REMOTE_ADDR=ADDRESS).status_code == 200
    assert client.get(reverse("plan-item-edit", args=["activity", "CYB-1.1"])).status_code == 200
    assert client.get(reverse("plan-item-edit", args=["indicator", "CYB-1.1-I1"])).status_code == 200
    assert events() == [("officer", "restricted_view", object_type, code, ADDRESS)]


@pytest.mark.parametrize("page", [reverse("focus-area", args=["CYB"]), reverse("objective", args=["CYB-1"])])
def test_the_plan_pages_listing_activities_log_the_restricted_rows_they_show(as_user, world, page):
    assert as_user(world.reporter).get(page, REMOTE_ADDR=ADDRESS).status_code == 200
    assert events() == [("reporter.roseap", "restricted_view", "activity", "CYB-1.2", ADDRESS)]


def test_the_page_of_what_is_due_logs_the_restricted_activities_it_lists(as_user, world):
    client = as_user(world.reporter)
    response = client.get(reverse("due-updates"), {"period": world.period.code}, REMOTE_ADDR=ADDRESS)
    assert response.status_code == 200
    assert events() == [("reporter.roseap", "restricted_view", "activity", "CYB-1.2", ADDRESS)]


def test_my_updates_and_the_review_queue_log_the_restricted_updates_they_list(as_user, world):
    mine = factories.ProgressUpdateFactory(activity=world.restricted, period=world.period, office=world.office)
    factories.ProgressUpdateFactory(activity=world.activity, period=world.period, office=world.office)
    submitted = factories.ProgressUpdateFactory(
        activity=world.other_restricted, period=world.period, office=world.other_office, state="submitted"
    )
    stuck = factories.ProgressUpdateFactory(
        activity=world.other_restricted, period=world.locked_period, office=world.other_office, state="submitted"
    )
    assert as_user(world.reporter).get(reverse("my-updates"), REMOTE_ADDR=ADDRESS).status_code == 200
    assert events() == [("reporter.roseap", "restricted_view", "progressupdate", str(mine.pk), ADDRESS)]

    assert as_user(world.officer).get(reverse("review-queue"), REMOTE_ADDR=ADDRESS).status_code == 200
    officers = [event for event in events() if event[0] == "officer"]
    assert sorted(officers) == sorted(
        ("officer", "restricted_view", "progressupdate", str(update.pk), ADDRESS) for update in (submitted, stuck)
    )
