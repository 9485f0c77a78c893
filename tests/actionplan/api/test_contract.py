"""The OpenAPI schema tells the truth about what the API requires and refuses, and the API does as it says."""

import pytest

from actionplan.models import ProgressUpdate
from steering.models import ProgressReport
from tests.conftest import read_yaml
from tests.factories import ProgressReportFactory, ProgressUpdateFactory

LISTS = ["/api/v1/activities/", "/api/v1/updates/", "/api/v1/periods/", "/api/v1/offices/", "/api/v1/reports/"]
# The JSON request bodies, which all refuse unknown fields (each is tested below, over HTTP, to do so).
STRICT_REQUESTS = [
    "UpdateCreateRequest",
    "BulkItemRequest",
    "MeasurementInputRequest",
    "PatchedUpdatePatchRequest",
    "SubmitRequest",
    "ReviewRequest",
    "ReturnRequest",
    "CommentRequest",
    "ReportRequestRequest",
]


@pytest.fixture
def schema(world, api):
    response = api(world.reporter).get("/api/v1/schema/")
    assert response.status_code == 200
    return read_yaml(response.content)


def parameter(operation, name):
    return next(parameter for parameter in operation["parameters"] if parameter["name"] == name)


def component(schema, reference):
    return schema["components"]["schemas"][reference.rsplit("/", 1)[-1]]


def request_schema(schema, path, method="post"):
    return component(
        schema, schema["paths"][path][method]["requestBody"]["content"]["application/json"]["schema"]["$ref"]
    )


@pytest.fixture
def update(world):
    return ProgressUpdateFactory(
        activity=world.activity, period=world.period, office=world.office, author=world.reporter
    )


# If-Match ----------------------------------------------------------------------------------------


def test_schema_marks_if_match_required_on_patch_of_an_update_the_one_operation_that_takes_it(schema):
    if_match = parameter(schema["paths"]["/api/v1/updates/{id}/"]["patch"], "If-Match")
    assert if_match["required"] is True
    assert "428" in if_match["description"] and "412" in if_match["description"]
    taking = [
        (method, path)
        for path, operations in schema["paths"].items()
        for method, operation in operations.items()
        if "If-Match" in {parameter["name"] for parameter in operation.get("parameters", [])}
    ]
    assert taking == [("patch", "/api/v1/updates/{id}/")]


# Idempotency-Key ---------------------------------------------------------------------------------


def test_schema_documents_the_idempotency_keys_format_and_what_a_replay_returns(schema):
    create = schema["paths"]["/api/v1/updates/"]["post"]
    key = parameter(create, "Idempotency-Key")
    assert key["in"] == "header" and not key.get("required", False)
    assert key["schema"] == {"type": "string", "minLength": 1, "maxLength": 255, "pattern": "^[ -~]{1,255}$"}
    for promise in ("Idempotent-Replayed: true", "422", "same status, body"):
        assert promise in key["description"]
    assert create["responses"]["201"]["headers"]["Idempotent-Replayed"]["schema"] == {
        "type": "string",
        "enum": ["true"],
    }


def test_every_operation_that_takes_an_idempotency_key_documents_the_replay_header(schema):
    taking = [
        (path, method, operation)
        for path, operations in schema["paths"].items()
        for method, operation in operations.items()
        if "Idempotency-Key" in {parameter["name"] for parameter in operation.get("parameters", [])}
    ]
    assert len(taking) == 10
    for path, method, operation in taking:
        success = next(code for code in ("200", "201") if code in operation["responses"])
        assert "Idempotent-Replayed" in operation["responses"][success].get("headers", {}), (method, path)


def test_idempotency_key_outside_printable_ascii_is_refused_naming_the_header(world, api):
    body = {"activity": world.activity.code, "period": world.period.code, "rag": "on_track", "percent_complete": 10}
    response = api(world.reporter).post("/api/v1/updates/", body, format="json", HTTP_IDEMPOTENCY_KEY="clé-1")

    assert response.status_code == 400
    assert "ASCII" in response.json()["Idempotency-Key"][0]
    assert not ProgressUpdate.objects.exists()


# Return comment, report files ---------------------------------------------------------------------


def test_schema_marks_the_return_comment_required_and_the_approval_comment_optional(schema):
    returned = request_schema(schema, "/api/v1/updates/{id}/return/")
    assert returned["required"] == ["comment"] and returned["properties"]["comment"]["minLength"] == 1
    approved = request_schema(schema, "/api/v1/updates/{id}/approve/")
    assert "comment" not in approved.get("required", [])


def test_reporter_returning_an_update_is_refused_its_role_before_its_body_is_read(world, api, update):
    update.state = ProgressUpdate.State.SUBMITTED
    update.save()
    response = api(world.reporter).post(f"/api/v1/updates/{update.pk}/return/", {}, format="json")

    assert response.status_code == 403
    assert response.json()["code"] == "not_allowed"


def test_schema_marks_report_file_links_nullable_as_a_queued_report_answers_them(world, api, schema):
    report = schema["components"]["schemas"]["Report"]["properties"]
    assert report["pdf"]["nullable"] is True and report["xlsx"]["nullable"] is True
    queued = ProgressReportFactory(plan=world.plan, period=world.period, state=ProgressReport.State.QUEUED)
    body = api(world.officer).get(f"/api/v1/reports/{queued.pk}/").json()
    assert (body["pdf"], body["xlsx"]) == (None, None)


@pytest.mark.parametrize("body", [{}, {"period": "NO-SUCH-PERIOD", "unknown": 1}])
def test_reporter_asking_for_a_report_is_refused_its_role_before_its_body_is_read(world, api, body):
    response = api(world.reporter).post("/api/v1/reports/", body, format="json")

    assert response.status_code == 403
    assert response.json()["code"] == "not_allowed"
    assert not ProgressReport.objects.exists()


# page_size and updated_since -----------------------------------------------------------------------


@pytest.mark.parametrize("url", LISTS)
@pytest.mark.parametrize("page_size", ["0", "-1", "ten", "", "1.5"])
def test_page_size_that_is_no_whole_number_above_zero_is_refused_naming_it(world, api, url, page_size):
    response = api(world.officer).get(url, {"page_size": page_size})

    assert response.status_code == 400
    assert "page_size" in response.json()["page_size"][0]


def test_schema_says_the_smallest_page_size(schema):
    page_size = parameter(schema["paths"]["/api/v1/activities/"]["get"], "page_size")
    assert page_size["schema"] == {"type": "integer", "minimum": 1}


@pytest.mark.parametrize("url", LISTS)
def test_empty_updated_since_is_refused_naming_it(world, api, url):
    response = api(world.officer).get(url, {"updated_since": ""})

    assert response.status_code == 400
    assert "updated_since" in response.json()["updated_since"][0]


@pytest.mark.parametrize(
    "url, parameter",
    [
        ("/api/v1/updates/", "state"),
        ("/api/v1/activities/", "office"),
        ("/api/v1/reports/", "whole_plan"),
        ("/api/v1/activities/", "page"),
    ],
)
def test_any_other_filter_or_page_given_empty_is_refused_naming_it(world, api, url, parameter):
    response = api(world.officer).get(url, {parameter: " "} if parameter != "page" else {"page": ""})

    assert response.status_code == 400
    assert parameter in response.json()[parameter][0]


# Unknown fields ----------------------------------------------------------------------------------


def test_schema_says_every_json_request_body_refuses_unknown_fields(schema):
    components = schema["components"]["schemas"]
    bodies = set()
    for operations in schema["paths"].values():
        for operation in operations.values():
            content = operation.get("requestBody", {}).get("content", {}).get("application/json")
            if content:
                bodies.add((content["schema"].get("$ref") or content["schema"]["items"]["$ref"]).rsplit("/", 1)[-1])
    # Each is shown to refuse them over HTTP below; the measurements are nested in the first two.
    assert bodies | {"MeasurementInputRequest"} == set(STRICT_REQUESTS)
    for name in STRICT_REQUESTS:
        assert components[name]["additionalProperties"] is False, name


def new_update(world, **extra):
    return {"activity": world.activity.code, "period": world.period.code, "rag": "on_track", "percent_complete": 10,
            **extra}  # fmt: skip


@pytest.mark.parametrize(
    "body, field",
    [
        (lambda world: new_update(world, narative="Typo"), "narative"),
        (lambda world: new_update(world, state="approved"), "state"),
    ],
)
def test_unknown_field_in_a_new_update_is_refused_naming_it(world, api, body, field):
    response = api(world.reporter).post("/api/v1/updates/", body(world), format="json")

    assert response.status_code == 400
    assert field in response.json()
    assert not ProgressUpdate.objects.exists()


def test_unknown_field_in_a_measurement_is_refused_naming_it(world, api):
    measurement = {"indicator": world.indicator.code, "value": 3, "sex": "female"}
    response = api(world.reporter).post(
        "/api/v1/updates/", new_update(world, measurements=[measurement]), format="json"
    )

    assert response.status_code == 400
    assert response.json()["measurements"]["0"] == {
        "sex": ["Unknown field: this request takes only the fields its schema lists."]
    }
    assert not ProgressUpdate.objects.exists()


def test_unknown_field_in_a_bulk_item_is_refused_for_that_item_alone(world, api):
    items = [{**new_update(world), "client_key": "a", "colour": "red"}]
    response = api(world.reporter).post("/api/v1/updates/bulk/", items, format="json")

    assert response.status_code == 200
    assert response.json()[0]["status"] == 400 and "colour" in response.json()[0]["errors"]
    assert not ProgressUpdate.objects.exists()


def test_unknown_field_named_with_a_nul_is_refused_and_named_escaped(world, api):
    items = [{**new_update(world), "client_key": "a", "col\x00our": "red"}]
    response = api(world.reporter).post("/api/v1/updates/bulk/", items, format="json", HTTP_IDEMPOTENCY_KEY="nul-1")

    assert response.status_code == 200
    assert response.json()[0]["status"] == 400 and "col\\x00our" in response.json()[0]["errors"]


@pytest.mark.parametrize("action", ["submit", "comments"])
def test_unknown_field_in_a_note_or_comment_is_refused_naming_it(world, api, update, action):
    body = {"text": "A question.", "note": "A note.", "colour": 1}
    response = api(world.reporter).post(f"/api/v1/updates/{update.pk}/{action}/", body, format="json")

    assert response.status_code == 400
    assert "colour" in response.json()
    assert ProgressUpdate.objects.get().state == ProgressUpdate.State.DRAFT


@pytest.mark.parametrize("action", ["approve", "return"])
def test_unknown_field_in_a_review_is_refused_naming_it(world, api, update, action):
    update.state = ProgressUpdate.State.SUBMITTED
    update.save()
    body = {"comment": "Fine.", "colour": 1}
    response = api(world.officer).post(f"/api/v1/updates/{update.pk}/{action}/", body, format="json")

    assert response.status_code == 400
    assert "colour" in response.json()
    assert ProgressUpdate.objects.get().state == ProgressUpdate.State.SUBMITTED


def test_unknown_field_in_a_report_request_is_refused_naming_it(world, api):
    response = api(world.officer).post(
        "/api/v1/reports/", {"period": world.period.code, "format": "pdf"}, format="json"
    )

    assert response.status_code == 400
    assert "format" in response.json()
    assert not ProgressReport.objects.exists()


@pytest.mark.parametrize("value", ["-890175", "yes", "True1"])
def test_a_whole_plan_filter_that_is_neither_true_nor_false_is_refused(world, api, value):
    response = api(world.officer).get("/api/v1/reports/", {"whole_plan": value})
    assert response.status_code == 400
    assert "whole_plan" in response.json()
