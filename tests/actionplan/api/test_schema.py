"""The OpenAPI 3 schema documents every endpoint, and its docs pages load nothing from the internet."""

import pytest
from django.core.management import call_command

from tests.conftest import read_yaml


@pytest.fixture
def schema(world, api):
    response = api(world.reporter).get("/api/v1/schema/")
    assert response.status_code == 200
    return read_yaml(response.content)


def test_schema_generates_without_warnings_and_validates(tmp_path):
    # --fail-on-warn turns any guess of the generator into an error.
    call_command("spectacular", "--validate", "--fail-on-warn", "--file", str(tmp_path / "schema.yaml"))


def test_schema_is_openapi_3_and_lists_the_contract_paths(schema):
    assert schema["openapi"].startswith("3.")
    assert {
        "/api/v1/focus-areas/",
        "/api/v1/periods/",
        "/api/v1/offices/",
        "/api/v1/activities/",
        "/api/v1/activities/{code}/",
        "/api/v1/indicators/",
        "/api/v1/updates/",
        "/api/v1/updates/{id}/",
        "/api/v1/updates/{id}/submit/",
        "/api/v1/updates/{id}/approve/",
        "/api/v1/updates/{id}/return/",
        "/api/v1/updates/{id}/evidence/",
        "/api/v1/updates/bulk/",
    } <= set(schema["paths"])


def test_every_operation_documents_unauthenticated_and_throttled_answers(schema):
    for path, operations in schema["paths"].items():
        for method, operation in operations.items():
            assert {"401", "429"} <= set(operation["responses"]), f"{method.upper()} {path}"


def test_write_operations_document_their_errors_and_headers(schema):
    create = schema["paths"]["/api/v1/updates/"]["post"]
    assert {"201", "400", "403", "409", "413", "422"} <= set(create["responses"])
    assert "Idempotency-Key" in {parameter["name"] for parameter in create["parameters"]}
    assert create["requestBody"]["content"]["application/json"]["examples"]
    patch = schema["paths"]["/api/v1/updates/{id}/"]["patch"]
    assert {"412", "428"} <= set(patch["responses"])
    assert "If-Match" in {parameter["name"] for parameter in patch["parameters"]}


@pytest.mark.parametrize("page", ["/api/v1/docs/", "/api/v1/redoc/"])
def test_docs_pages_load_their_assets_from_the_portal(client, world, page):
    client.force_login(world.reporter)
    html = client.get(page).content.decode()
    assert "/static/drf_spectacular_sidecar/" in html
    assert "cdn." not in html and "unpkg" not in html
