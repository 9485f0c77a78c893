"""Logs: one line of JSON per event in production, each with the request's id, which follows the request
into the tasks it starts; never a password, token or session key."""

import io
import json
import logging

import pytest
import structlog
from django.contrib.auth import get_user_model
from django.urls import reverse

from actionplan.models import ReportingPeriod
from portal import logs
from portal.demo import seed_demo
from portal.reference import load_reference_data
from tests.conftest import wait_for_line
from tests.portal.test_settings import manage


@pytest.fixture
def json_lines():
    """What the root logger writes in production's format, as the lines written so far."""
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(
        structlog.stdlib.ProcessorFormatter(**{k: v for k, v in logs.formatter("json").items() if k != "()"})
    )
    root = logging.getLogger()
    root.addHandler(handler)
    yield lambda: [json.loads(line) for line in stream.getvalue().splitlines()]
    root.removeHandler(handler)


def test_production_writes_one_line_of_json_per_event():
    result = manage(
        "shell",
        "-c",
        "import logging; logging.getLogger('portal').warning('one event')",
        DEBUG="true",
        LOG_FORMAT="json",
    )
    [line] = [line for line in result.stderr.splitlines() if "one event" in line]
    assert json.loads(line) | {"timestamp": None} == {
        "event": "one event",
        "logger": "portal",
        "level": "warning",
        "timestamp": None,
    }


def test_development_writes_plain_lines():
    result = manage("shell", "-c", "import logging; logging.getLogger('portal').warning('one event')", DEBUG="true")
    [line] = [line for line in result.stderr.splitlines() if "one event" in line]
    assert not line.startswith("{") and "[warning" in line


@pytest.mark.django_db
def test_a_request_is_logged_with_its_id_its_user_and_the_id_it_answers(client, json_lines, amina):
    client.force_login(amina)
    response = client.get(reverse("home"))
    lines = [line for line in json_lines() if line["event"] in ("request_started", "request_finished")]
    assert [line["event"] for line in lines] == ["request_started", "request_finished"]
    assert {line["request_id"] for line in lines} == {response["X-Request-ID"]}
    assert lines[1]["user_id"] == amina.pk
    assert lines[1]["code"] == 200


@pytest.mark.django_db
def test_no_password_token_or_session_key_is_written(client, json_lines, amina):
    from tests.conftest import AMINA_PASSWORD

    client.post(reverse("login"), {"username": "amina", "password": AMINA_PASSWORD})
    client.get("/accounts/reset/MQ/set-by-mail-4f9c2a/")
    client.get(reverse("home"), {"token": "a-token-in-the-address"})
    client.get("/accounts/oidc/callback/", {"code": "an-authorisation-code", "state": "a-state"})
    written = json.dumps(json_lines())
    secrets = [AMINA_PASSWORD, client.cookies["sessionid"].value, "set-by-mail-4f9c2a", "a-token-in-the-address",
               "an-authorisation-code", "a-state"]  # fmt: skip
    assert [secret for secret in secrets if secret in written] == []
    assert "/accounts/reset/MQ/[redacted]/" in written


def test_a_task_started_by_a_request_logs_the_requests_id(client, queue, settings, start_worker, tmp_path):
    settings.CELERY_QUEUE_PREFIX = f"{queue}-"
    load_reference_data()
    seed_demo(scale="XS", seed=2018, password="x")
    client.force_login(get_user_model().objects.get(username="officer"))
    _, log = start_worker(queues=[f"{queue}-reports"], LOG_FORMAT="json", MEDIA_ROOT=str(tmp_path))
    wait_for_line(log, "ready")

    period = ReportingPeriod.objects.order_by("-starts_on")[1]
    response = client.post(reverse("report-list"), {"period": period.pk, "focus_area": ""})

    request_id = response["X-Request-ID"]
    wait_for_line(log, f'"request_id": "{request_id}"')
    started = [json.loads(line) for line in log.read_text().splitlines() if request_id in line]
    assert {"task_started"} <= {line["event"] for line in started}
