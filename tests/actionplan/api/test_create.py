"""POST /api/v1/updates/: an office reports on an activity; bad input is refused, naming what to fix."""

import json

import pytest

from actionplan.models import Measurement, ProgressUpdate

URL = "/api/v1/updates/"


@pytest.fixture
def body(world):
    return {
        "activity": world.activity.code,
        "period": world.period.code,
        "rag": "at_risk",
        "percent_complete": 40,
        "narrative": "Two workshops delivered.",
        "challenges": "Travel delayed.",
        "next_steps": "Mentoring.",
        "measurements": [{"indicator": world.indicator.code, "value": 12, "note": "participants"}],
        "submit": False,
    }


@pytest.fixture
def reporter_api(world, api):
    return api(world.reporter)


@pytest.mark.parametrize("persona", ["outsider", "committee"])
def test_a_user_of_no_office_who_is_no_officer_is_refused_before_its_body_is_read(world, api, body, persona):
    # Known from the token's row: the user's offices (none here) and groups. The body names a real activity.
    response = api(getattr(world, persona)).post(URL, body, format="json", HTTP_IDEMPOTENCY_KEY=f"no-office-{persona}")

    assert_refused(response, 403)
    assert "Only the members of a field office and the programme officers write updates." in response.content.decode()


def test_a_reporter_who_left_its_office_is_refused_on_its_next_call_with_the_same_token(world, api, body):
    client = api(world.reporter)
    world.reporter.memberships.all().delete()

    assert_refused(client.post(URL, body, format="json"), 403)


def assert_refused(response, status, field=None):
    assert response.status_code == status, response.content
    assert response["Content-Type"] == "application/json"
    if field:
        assert field in response.json(), response.json()
    assert not ProgressUpdate.objects.exists()
    assert not Measurement.objects.exists()


def test_reporter_creates_a_draft_with_its_measurements(reporter_api, body, world):
    response = reporter_api.post(URL, body, format="json")

    assert response.status_code == 201
    data = response.json()
    assert (data["state"], data["version"], data["office"], data["source"]) == ("draft", 1, "UNODC-ROSEAP", "api")
    assert response["ETag"] == '"1"'
    assert response["Location"] == f"{URL}{data['id']}/"
    assert data["measurements"] == [
        {
            "indicator": "CYB-1.1-I1",
            "value": "12.00",
            "note": "participants",
            "country": None,
            "sex": "",
            "age_band": "",
        }
    ]


def test_submit_true_creates_a_submitted_update(reporter_api, body):
    response = reporter_api.post(URL, {**body, "submit": True}, format="json")
    assert response.json()["state"] == "submitted"
    assert response.json()["submitted_at"]


def test_office_may_be_left_out_by_a_member_of_one_office(reporter_api, body):
    assert "office" not in body
    assert reporter_api.post(URL, body, format="json").json()["office"] == "UNODC-ROSEAP"


def test_office_must_be_named_by_a_member_of_several_offices(reporter_api, body, world):
    from tests.factories import MembershipFactory

    MembershipFactory(user=world.reporter, office=world.other_office)
    assert_refused(reporter_api.post(URL, body, format="json"), 400, "office")


def test_officer_reports_on_behalf_of_an_office(world, api, body):
    response = api(world.officer).post(URL, {**body, "office": world.office.code}, format="json")
    assert response.status_code == 201
    assert response.json()["author"] == "officer"


def test_arabic_chinese_and_emoji_are_stored_and_returned_exactly(reporter_api, body):
    text = "تدريب الشرطة — 警察培训 — 👮🏽‍♀️🌍"
    response = reporter_api.post(URL, {**body, "narrative": text}, format="json")
    assert response.json()["narrative"] == text
    assert ProgressUpdate.objects.get().narrative == text
    assert reporter_api.get(response["Location"]).json()["narrative"] == text


def test_second_update_for_the_same_activity_period_and_office_is_a_conflict(reporter_api, body):
    first = reporter_api.post(URL, body, format="json").json()
    response = reporter_api.post(URL, body, format="json")
    assert response.status_code == 409
    assert response.json()["existing_id"] == first["id"]
    assert ProgressUpdate.objects.count() == 1


def test_malformed_json_is_refused(reporter_api):
    response = reporter_api.post(URL, '{"activity": "CYB-1.1",', content_type="application/json")
    assert_refused(response, 400)
    assert "JSON parse error" in response.json()["detail"]


@pytest.mark.parametrize(
    "field, value",
    [
        ("percent_complete", "plenty"),
        ("percent_complete", 101),
        ("percent_complete", -1),
        ("rag", "purple"),
        ("measurements", "not a list"),
        ("submit", "perhaps"),
    ],
)
def test_invalid_value_is_refused_naming_the_field(reporter_api, body, field, value):
    assert_refused(reporter_api.post(URL, {**body, field: value}, format="json"), 400, field)


@pytest.mark.parametrize("field", ["activity", "period", "office"])
def test_unknown_code_is_refused_naming_the_field(reporter_api, body, field):
    assert_refused(reporter_api.post(URL, {**body, field: "NOPE-9"}, format="json"), 400, field)


def test_unknown_indicator_is_refused_naming_the_measurements(reporter_api, body):
    body["measurements"][0]["indicator"] = "NOPE-I1"
    response = reporter_api.post(URL, body, format="json")
    assert_refused(response, 400, "measurements")
    assert response.json()["measurements"] == {"0": {"indicator": ["Object with code=NOPE-I1 does not exist."]}}


def test_activity_the_reporter_cannot_see_is_refused_as_unknown(reporter_api, body, world):
    assert_refused(
        reporter_api.post(URL, {**body, "activity": world.other_activity.code}, format="json"), 400, "activity"
    )


def test_office_the_reporter_does_not_belong_to_is_forbidden(reporter_api, body, world):
    world.activity.implementing_offices.add(world.other_office)
    assert_refused(reporter_api.post(URL, {**body, "office": world.other_office.code}, format="json"), 403, "office")


def test_office_that_does_not_implement_the_activity_is_refused(world, api, body):
    assert_refused(
        api(world.officer).post(URL, {**body, "office": world.other_office.code}, format="json"), 400, "office"
    )


def test_measurement_for_an_indicator_of_another_activity_is_refused(world, api, body):
    body["measurements"] = [{"indicator": world.other_indicator.code, "value": 1}]
    response = api(world.officer).post(URL, {**body, "office": world.office.code}, format="json")
    assert_refused(response, 400, "measurements")
    assert "CYB-1.3-I1" in response.json()["detail"]


def test_same_indicator_twice_is_refused(reporter_api, body, world):
    body["measurements"] = [
        {"indicator": world.indicator.code, "value": 1},
        {"indicator": world.indicator.code, "value": 2},
    ]
    response = reporter_api.post(URL, body, format="json")
    assert_refused(response, 400, "measurements")
    assert "twice" in response.json()["detail"]


def test_locked_period_is_a_conflict_naming_the_period(reporter_api, body, world):
    response = reporter_api.post(URL, {**body, "period": world.locked_period.code}, format="json")
    assert_refused(response, 409, "period")
    assert response.json()["code"] == "period_locked"


def test_period_of_another_plan_is_refused(reporter_api, body):
    from tests.factories import ReportingPeriodFactory

    other = ReportingPeriodFactory(code="OTHER-Q1")
    assert_refused(reporter_api.post(URL, {**body, "period": other.code}, format="json"), 400, "period")


def test_five_megabyte_narrative_is_refused_as_too_large(reporter_api, body):
    response = reporter_api.post(
        URL, json.dumps({**body, "narrative": "x" * 5_000_000}), content_type="application/json"
    )
    assert_refused(response, 413)


def test_narrative_over_the_documented_length_is_refused_naming_it(reporter_api, body):
    assert_refused(reporter_api.post(URL, {**body, "narrative": "x" * 20_001}, format="json"), 400, "narrative")


def test_nul_byte_is_refused(reporter_api, body):
    assert_refused(reporter_api.post(URL, {**body, "narrative": "before\x00after"}, format="json"), 400, "narrative")


def test_body_that_is_not_json_is_refused_as_unsupported(reporter_api):
    response = reporter_api.post(URL, "activity=CYB-1.1", content_type="text/plain")
    assert_refused(response, 415)


@pytest.mark.parametrize("measured", [0, 1, 2])
@pytest.mark.parametrize("submit", [False, True])
def test_the_answer_shows_the_update_as_a_read_of_it_does(reporter_api, body, world, measured, submit):
    # The creation is answered from the update as written, not read again: it must show what a read shows.
    indicators = [world.indicator, world.second_indicator][:measured]
    measurements = [{"indicator": indicator.code, "value": 12, "note": "participants"} for indicator in indicators]
    response = reporter_api.post(
        URL, {**body, "measurements": measurements, "submit": submit}, format="json", HTTP_IDEMPOTENCY_KEY="one"
    )
    assert response.status_code == 201, response.content

    read = reporter_api.get(response["Location"])
    assert response.json() == read.json()
    assert response["ETag"] == read["ETag"]


def test_a_creation_reads_the_period_and_office_named_without_the_rows_they_point_to(reporter_api, body):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    # The rules read a period's state and plan id, an office's code: its plan and agreement, its organisation
    # and country would be joined for nothing.
    with CaptureQueriesContext(connection) as captured:
        response = reporter_api.post(URL, {**body, "measurements": []}, format="json")
    assert response.status_code == 201, response.content
    joined = [q["sql"] for q in captured if any(t in q["sql"] for t in ("actionplan_agreement", "portal_organization"))]
    assert joined == []


# How a statement looks rows up by a key: the ORM's IN, or the ``= ANY`` of the statements written once
# (``portal.statements``, the token's read).
LOOKUPS_BY_KEY = [("token_key", "="), ("code", "IN ("), ("code", "= ANY(")]


def test_a_creation_reads_its_token_and_the_rows_its_codes_name_unordered(reporter_api, body, world):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    # A code names one row, and the digest picks the token among those of its key: an ORDER BY would sort
    # nothing, and compiling one costs the busiest endpoint a twentieth of its Python calls (each selected
    # column hashed against the ordering).
    named = {**body, "office": world.office.code, "measurements": [{"indicator": world.indicator.code, "value": 12}]}
    with CaptureQueriesContext(connection) as captured:
        response = reporter_api.post(URL, named, format="json")
    assert response.status_code == 201, response.content
    by_key = [q["sql"] for q in captured if any(f'"{key}" {op}' in q["sql"] for key, op in LOOKUPS_BY_KEY)]
    # The token; the activity, period, office and indicator named.
    assert len(by_key) == 5, by_key
    assert [sql for sql in by_key if "ORDER BY" in sql] == []


@pytest.mark.parametrize(("measured", "budget"), [(0, 14), (1, 19), (2, 19)])
def test_query_count_of_a_creation_with_an_idempotency_key(
    reporter_api, body, world, django_assert_max_num_queries, groups_read_apart, measured, budget
):
    measurements = [
        {"indicator": indicator.code, "value": 12} for indicator in [world.indicator, world.second_indicator][:measured]
    ]
    # The token with its user, the user's groups and whether it belongs to an office (may it write updates);
    # the key's savepoint (the test runs in a transaction) and the key claimed; the
    # activity, period and office named, one query each; the service's savepoint, the offices implementing the
    # activity, the approved percent complete, the update, its history, the savepoint released (a duplicate is
    # refused by the unique index, rolling the savepoint back); the answer stored with the key, and its savepoint
    # released. Measured, however
    # many: the indicators named, their approved values and period targets, the rows inserted and read back.
    with django_assert_max_num_queries(budget + groups_read_apart):
        response = reporter_api.post(
            URL, {**body, "measurements": measurements}, format="json", HTTP_IDEMPOTENCY_KEY=f"count-{measured}"
        )
    assert response.status_code == 201, response.content


def test_a_duplicate_refused_inside_a_callers_transaction_leaves_that_transaction_usable(world):
    from django.db import transaction

    from actionplan import services
    from portal.errors import AlreadyExists

    def create():
        return services.create_update(
            by=world.reporter, activity=world.activity, period=world.period, office=world.office, rag="on_track",
            percent_complete=10,
        )  # fmt: skip

    first = create()
    # One savepoint for the whole creation: the unique index refuses the second insert, the savepoint is rolled
    # back, and the update already there is read in the caller's transaction, which goes on.
    with transaction.atomic():
        with pytest.raises(AlreadyExists) as refused:
            create()
        assert refused.value.extra["existing_id"] == str(first.pk)
        assert list(ProgressUpdate.objects.values_list("pk", flat=True)) == [first.pk]
