"""The OpenAPI schema is generated and rendered once, on its first request, and then served from memory."""

import pytest
from drf_spectacular.generators import SchemaGenerator
from drf_spectacular.renderers import OpenApiJsonRenderer, OpenApiYamlRenderer

from tests.conftest import read_yaml


@pytest.fixture
def generations(settings, monkeypatch):
    """Count the schema generator's runs, starting from no schema kept (changing the setting forgets it)."""
    settings.SPECTACULAR_SETTINGS = dict(settings.SPECTACULAR_SETTINGS)
    runs = []
    generate = SchemaGenerator.get_schema

    def counted(self, *args, **kwargs):
        runs.append(kwargs.get("request"))
        return generate(self, *args, **kwargs)

    monkeypatch.setattr(SchemaGenerator, "get_schema", counted)
    return runs


def test_the_schema_is_generated_on_its_first_request_only(client, db, generations, django_assert_num_queries):
    first = client.get("/api/v1/schema/")
    # An anonymous caller: no session, no token, and the schema comes from memory.
    with django_assert_num_queries(0):
        second = client.get("/api/v1/schema/")

    assert first.status_code == second.status_code == 200
    assert len(generations) == 1
    assert second.content == first.content


def test_every_caller_gets_the_same_schema_whoever_asked_first(api, world, generations):
    by_reporter = api(world.reporter).get("/api/v1/schema/")
    anonymous = api().get("/api/v1/schema/")
    by_officer = api(world.officer).get("/api/v1/schema/")

    assert by_reporter.content == anonymous.content == by_officer.content
    # Generated as `manage.py spectacular` does, from no one's request.
    assert generations == [None]


def test_the_json_and_yaml_schemas_come_from_one_generation(client, db, generations):
    as_yaml = read_yaml(client.get("/api/v1/schema/").content)
    as_json = client.get("/api/v1/schema/", HTTP_ACCEPT="application/vnd.oai.openapi+json").json()

    assert as_yaml == as_json
    assert len(generations) == 1


def test_each_language_has_its_own_schema(client, db, generations):
    client.get("/api/v1/schema/?lang=en")
    client.get("/api/v1/schema/?lang=fr")
    client.get("/api/v1/schema/?lang=fr")

    assert len(generations) == 2


def test_languages_the_portal_does_not_speak_and_versions_share_the_default_schema(client, db, generations):
    english = client.get("/api/v1/schema/?lang=en").content

    # Each of these would otherwise be generated, and kept, anew.
    for query in ("lang=zz", "lang=xx-yy", "version=abc", "lang=qq&version=2"):
        assert client.get(f"/api/v1/schema/?{query}").content == english
    assert len(generations) == 1


@pytest.fixture
def renderings(generations, monkeypatch):
    """Count the schema renderers' runs, by format, starting from no schema kept."""
    runs = []
    for renderer in (OpenApiYamlRenderer, OpenApiJsonRenderer):
        render = renderer.render

        def counted(self, *args, _render=render, **kwargs):
            runs.append(self.format)
            return _render(self, *args, **kwargs)

        monkeypatch.setattr(renderer, "render", counted)
    return runs


def test_an_anonymous_request_after_the_first_neither_generates_nor_renders(client, db, generations, renderings):
    first = client.get("/api/v1/schema/")
    second = client.get("/api/v1/schema/")

    assert first.status_code == second.status_code == 200
    assert second.content == first.content
    assert second["Content-Type"] == first["Content-Type"] == "application/vnd.oai.openapi; charset=utf-8"
    assert len(generations) == 1
    assert renderings == ["yaml"]


def test_each_format_is_rendered_once_from_the_one_schema(client, db, generations, renderings):
    for _time in range(2):
        as_yaml = client.get("/api/v1/schema/")
        as_json = client.get("/api/v1/schema/", HTTP_ACCEPT="application/vnd.oai.openapi+json")
        # Parameters of the Accept header do not make another rendering (nor another entry in memory).
        indented = client.get("/api/v1/schema/?format=json", HTTP_ACCEPT="application/json; indent=1")

    assert read_yaml(as_yaml.content) == as_json.json() == indented.json()
    assert as_json["Content-Type"] == "application/vnd.oai.openapi+json"
    assert len(generations) == 1
    assert sorted(renderings) == ["json", "json", "yaml"]  # the two JSON media types, and YAML


def test_each_language_is_rendered_in_its_own(client, db, renderings):
    english = client.get("/api/v1/schema/?lang=en").content
    french = client.get("/api/v1/schema/?lang=fr").content
    assert client.get("/api/v1/schema/?lang=fr").content == french
    assert client.get("/api/v1/schema/?lang=en").content == english
    assert len(renderings) == 2
