"""A credential in the query string is refused, and its value is written to no log line."""

import datetime
import logging
import threading
import urllib.error
import urllib.request
from types import SimpleNamespace

import pytest
from django.core.handlers.wsgi import WSGIHandler
from django.core.servers.basehttp import WSGIRequestHandler, WSGIServer
from gunicorn.glogging import SafeAtoms

from actionplan.models import ProgressUpdate

SECRET = "s3cr3t-Value-9f1c"


@pytest.fixture
def every_record(caplog):
    """Capture every record of every logger, the access logs included (gunicorn's does not propagate to the
    root; runserver's does, through the portal's LOGGING)."""
    caplog.set_level(logging.DEBUG)
    names = ("django.server", "gunicorn.access")
    loggers = [logging.getLogger(name) for name in names if not logging.getLogger(name).propagate]
    for logger in loggers:
        logger.addHandler(caplog.handler)
    # caplog starts a new list of records for the test's call: read it then, not now.
    yield lambda: caplog.records
    for logger in loggers:
        logger.removeHandler(caplog.handler)


def assert_secret_in_no_record(records):
    assert records, "nothing was logged: the test would prove nothing"
    for record in records:
        assert SECRET not in record.getMessage(), record.getMessage()
        # Whatever a formatter may add: the request object's repr, the arguments.
        assert SECRET not in repr(vars(record)), vars(record)


@pytest.mark.parametrize("name", ["token", "access_token", "auth_token", "api_key", "key", "Token", "%74oken"])
def test_a_token_in_the_query_string_of_the_api_is_refused_naming_the_rule(world, api, name, every_record):
    response = api(world.reporter).get(f"/api/v1/activities/?page_size=2&{name}={SECRET}")

    assert response.status_code == 400
    assert response["Content-Type"] == "application/json"
    body = response.json()
    assert body["code"] == "credential_in_query"
    assert "Authorization" in body["detail"]
    assert SECRET not in response.content.decode()
    assert_secret_in_no_record(every_record())


def test_a_token_in_the_query_string_of_a_write_changes_nothing(world, api, every_record):
    body = {"activity": world.activity.code, "period": world.period.code, "rag": "on_track", "percent_complete": 10}
    response = api(world.reporter).post(f"/api/v1/updates/?access_token={SECRET}", body, format="json")

    assert response.status_code == 400
    assert response.json()["code"] == "credential_in_query"
    assert not ProgressUpdate.objects.exists()
    assert_secret_in_no_record(every_record())


def test_a_token_in_the_query_string_of_a_page_is_refused_with_a_page(as_user, world, every_record):
    response = as_user(world.reporter).get(f"/activities/?token={SECRET}")

    assert response.status_code == 400
    assert "Authorization" in response.content.decode()
    assert SECRET not in response.content.decode()
    assert_secret_in_no_record(every_record())


def test_the_development_servers_access_log_never_writes_the_token(settings, db, every_record):
    """The line runserver writes for each request ("GET /...?token=... HTTP/1.1" 400) holds no token."""
    settings.ALLOWED_HOSTS = ["127.0.0.1"]
    server = WSGIServer(("127.0.0.1", 0), WSGIRequestHandler)
    server.set_app(WSGIHandler())
    thread = threading.Thread(target=server.handle_request)
    thread.start()
    try:
        url = f"http://127.0.0.1:{server.server_port}/api/v1/activities/?token={SECRET}"
        with pytest.raises(urllib.error.HTTPError) as refused:
            # No proxy of the environment's: the server is this test's own.
            urllib.request.build_opener(urllib.request.ProxyHandler({})).open(url, timeout=10)
        assert refused.value.code == 400
    finally:
        thread.join(timeout=10)
        server.server_close()

    access = [record for record in every_record() if record.name == "django.server"]
    assert len(access) == 1 and "400" in access[0].getMessage() and "token=[redacted]" in access[0].getMessage()
    assert_secret_in_no_record(every_record())


@pytest.fixture
def gunicorn_logger(tmp_path):
    """gunicorn's own logger, writing its access log to a file with a format that reads a header the request
    lacks; the handlers it adds to the gunicorn loggers are removed afterwards."""
    from gunicorn.config import Config
    from gunicorn.glogging import Logger

    config = Config()
    config.set("accesslog", str(tmp_path / "access.log"))
    config.set("errorlog", str(tmp_path / "error.log"))
    config.set("access_log_format", '%(h)s "%(r)s" %(s)s "%(f)s" %(q)s "%({x-forwarded-for}i)s"')
    loggers = [logging.getLogger(name) for name in ("gunicorn.access", "gunicorn.error")]
    propagate = [logger.propagate for logger in loggers]
    yield Logger(config), tmp_path
    for logger, was in zip(loggers, propagate, strict=True):
        logger.propagate = was
        for handler in [handler for handler in logger.handlers if getattr(handler, "_gunicorn", False)]:
            logger.removeHandler(handler)
            handler.close()


def test_gunicorns_access_log_never_writes_the_token(every_record, gunicorn_logger):
    """gunicorn logs each request with its atoms as a SafeAtoms: the request line (r), query (q) and referer
    (f) hold the address as it came; a header atom the request lacks ({x-forwarded-for}i) reads "-"."""
    logger, logs = gunicorn_logger
    environ = {
        "REMOTE_ADDR": "10.0.0.1",
        "REQUEST_METHOD": "GET",
        "RAW_URI": f"/api/v1/activities/?page=2&api_key={SECRET}",
        "PATH_INFO": "/api/v1/activities/",
        "QUERY_STRING": f"page=2&api_key={SECRET}",
        "SERVER_PROTOCOL": "HTTP/1.1",
        "HTTP_REFERER": f"https://portal.example.org/activities/?token={SECRET}",
    }
    request = SimpleNamespace(headers=[("HOST", "portal.example.org"), ("REFERER", environ["HTTP_REFERER"])])
    response = SimpleNamespace(status="400 Bad Request", sent=120, headers=[("Content-Type", "application/json")])

    logger.access(response, request, environ, datetime.timedelta(milliseconds=3))

    line = (
        '10.0.0.1 "GET /api/v1/activities/?page=2&api_key=[redacted] HTTP/1.1" 400 '
        '"https://portal.example.org/activities/?token=[redacted]" page=2&api_key=[redacted] "-"'
    )
    access = [record for record in every_record() if record.name == "gunicorn.access"]
    assert len(access) == 1
    assert isinstance(access[0].args, SafeAtoms)
    assert access[0].getMessage() == line
    # gunicorn's own handler wrote the line too, and nothing failed on the way.
    assert (logs / "access.log").read_text() == line + "\n"
    assert (logs / "error.log").read_text() == ""
    assert_secret_in_no_record(every_record())
