"""Startup configuration: production settings pass the deploy check; bad values stop startup with one line."""

import os
import runpy
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
PRODUCTION = {
    "DEBUG": "false",
    "SECRET_KEY": "kq3#v9-example-production-secret-that-is-long-and-random-8f2d61c0a7",
    "ALLOWED_HOSTS": "portal.example.org",
}


def manage(*args, **env):
    # The browser tests allow async-unsafe ORM calls for themselves; production never does.
    unset = ("DEBUG", "SECRET_KEY", "DATABASE_URL", "DJANGO_ALLOW_ASYNC_UNSAFE")
    base = {key: value for key, value in os.environ.items() if key not in unset}
    return subprocess.run(
        [sys.executable, "manage.py", *args], cwd=ROOT, env={**base, **env}, capture_output=True, text=True, timeout=60
    )


def test_deploy_check_is_clean_with_production_settings():
    result = manage("check", "--deploy", **PRODUCTION)
    assert result.returncode == 0, result.stderr
    assert "no issues" in result.stdout
    assert "WARNING" not in result.stderr + result.stdout


def test_startup_without_secret_key_names_the_variable():
    result = manage("check", DEBUG="false")
    assert result.returncode != 0
    assert result.stderr.strip() == "Configuration error: SECRET_KEY must be set when DEBUG is off"


def test_debug_mode_runs_without_secret_key():
    assert manage("check", DEBUG="true").returncode == 0


def settings_read_with(monkeypatch, **variables):
    """Read portal/settings.py afresh in this process under the given variables: a few milliseconds."""
    for variable in ("DEBUG", "SECRET_KEY", "DATABASE_URL"):
        monkeypatch.delenv(variable, raising=False)
    for variable, value in {"DEBUG": "true", **variables}.items():
        monkeypatch.setenv(variable, value)
    return runpy.run_path(str(ROOT / "portal" / "settings.py"))


# Each value below stops startup through the one function that prints the line (``_fail``), as the process
# above shows: read here in this process, they cost milliseconds instead of a Python process each.


@pytest.mark.parametrize("url", ["not a url", "mongodb://127.0.0.1/portal", "postgres://"])
def test_malformed_database_url_stops_startup_naming_the_variable(monkeypatch, url):
    with pytest.raises(SystemExit) as stopped:
        settings_read_with(monkeypatch, DATABASE_URL=url)
    assert str(stopped.value).startswith("Configuration error: DATABASE_URL")
    assert "\n" not in str(stopped.value)


def test_malformed_redis_url_stops_startup_naming_the_variable(monkeypatch):
    with pytest.raises(SystemExit) as stopped:
        settings_read_with(monkeypatch, REDIS_URL="http://127.0.0.1:6379")
    assert str(stopped.value).startswith("Configuration error: REDIS_URL")


def test_a_short_production_secret_key_stops_startup_with_one_line(monkeypatch):
    with pytest.raises(SystemExit) as stopped:
        settings_read_with(monkeypatch, **{**PRODUCTION, "SECRET_KEY": "short-but-not-empty"})
    assert str(stopped.value) == (
        "Configuration error: SECRET_KEY is 19 characters long; production needs at least 50 (random)"
    )


def test_a_rate_not_understood_stops_startup_naming_its_variable(monkeypatch):
    with pytest.raises(SystemExit) as stopped:
        settings_read_with(monkeypatch, EXPORT_RATE="lots")
    assert str(stopped.value).startswith("Configuration error: EXPORT_RATE is not valid")


@pytest.mark.parametrize(
    ("variable", "value", "line"),
    [
        ("TRUSTED_PROXY_COUNT", "-1", "Configuration error: TRUSTED_PROXY_COUNT must be 0 (no proxy) or more"),
        ("SESSION_IDLE_HOURS", "0", "Configuration error: SESSION_IDLE_HOURS must be at least 1"),
        ("SESSION_IDLE_HOURS", "-8", "Configuration error: SESSION_IDLE_HOURS must be at least 1"),
        ("LOGIN_FAILURE_LIMIT", "0", "Configuration error: LOGIN_FAILURE_LIMIT must be at least 1"),
        ("LOGIN_LOCKOUT_MINUTES", "0", "Configuration error: LOGIN_LOCKOUT_MINUTES must be at least 1"),
        ("API_TOKEN_DAYS", "0", "Configuration error: API_TOKEN_DAYS must be at least 1"),
    ],
)
def test_a_number_out_of_its_range_stops_startup_with_one_line_naming_the_variable(monkeypatch, variable, value, line):
    with pytest.raises(SystemExit) as stopped:
        settings_read_with(monkeypatch, **{variable: value})
    assert str(stopped.value) == line


@pytest.mark.parametrize(("variable", "rate"), [("API_THROTTLE_RATE", "0/min"), ("LOGIN_RATE", "5/0min")])
def test_a_rate_that_allows_no_request_stops_startup_naming_its_variable(monkeypatch, variable, rate):
    with pytest.raises(SystemExit) as stopped:
        settings_read_with(monkeypatch, **{variable: rate})
    assert "\n" not in str(stopped.value)
    assert str(stopped.value).startswith(f"Configuration error: {variable} is not valid ('{rate}' allows no request")


def test_the_benchmark_floors_refuse_to_start_on_a_server_others_reach(monkeypatch):
    with pytest.raises(SystemExit) as stopped:
        settings_read_with(monkeypatch, **{**PRODUCTION, "BENCHMARK_FLOORS": "true"})
    assert str(stopped.value).startswith("Configuration error: BENCHMARK_FLOORS is only for the benchmark's")


def test_the_benchmark_floors_start_on_the_benchmarks_own_loopback_server():
    assert manage("check", **{**PRODUCTION, "BENCHMARK_FLOORS": "true", "ALLOWED_HOSTS": "127.0.0.1"}).returncode == 0


@pytest.mark.parametrize(
    ("variable", "value", "line"),
    [
        ("DEBUG", "maybe", "DEBUG is 'maybe'; expected true or false (also 1/0, yes/no, on/off)"),
        ("SECURE_COOKIES", "ja", "SECURE_COOKIES is 'ja'; expected true or false (also 1/0, yes/no, on/off)"),
        ("TIME_ZONE", "Mars/Base", "TIME_ZONE is 'Mars/Base'; expected an IANA time zone such as UTC,"),
        ("LOG_LEVEL", "LOUD", "LOG_LEVEL is 'LOUD'; expected one of DEBUG, INFO, WARNING, ERROR, CRITICAL"),
        ("LOG_FORMAT", "xml", "LOG_FORMAT is 'xml'; expected json or plain"),
        ("PORTAL_URL", "portal.example.org", "PORTAL_URL is 'portal.example.org'; expected an http:// or https://"),
        ("DEFAULT_FROM_EMAIL", "the portal", "DEFAULT_FROM_EMAIL is 'the portal'; expected an address"),
        ("API_THROTTLE_RATE", "lots", "API_THROTTLE_RATE is not valid ('lots' is not a rate such as 600/min"),
        ("EVIDENCE_MAX_MB", "big", "EVIDENCE_MAX_MB is not valid"),
        ("METRICS_TOKEN", "short", "METRICS_TOKEN must be at least 32 characters"),
        ("METRICS_ALLOWED_ADDRESSES", "10.0.0.0/8,lan", "METRICS_ALLOWED_ADDRESSES holds 'lan', not a network"),
        ("METRICS_ALLOWED_ADDRESSES", "10.0.0.1/8", "METRICS_ALLOWED_ADDRESSES holds '10.0.0.1/8', not a network"),
        ("METRICS_WINDOW_MINUTES", "0", "METRICS_WINDOW_MINUTES must be at least 1"),
    ],
)
def test_a_value_of_the_wrong_form_stops_startup_naming_the_variable_and_the_form(monkeypatch, variable, value, line):
    with pytest.raises(SystemExit) as stopped:
        settings_read_with(monkeypatch, **{variable: value})
    assert str(stopped.value).startswith(f"Configuration error: {line}")


@pytest.mark.parametrize(("value", "read"), [("Yes", True), ("on", True), ("1", True), ("OFF", False), ("0", False)])
def test_booleans_are_read_in_each_accepted_spelling(monkeypatch, value, read):
    assert settings_read_with(monkeypatch, SECURE_COOKIES=value)["SESSION_COOKIE_SECURE"] is read


def test_log_level_is_read_whatever_its_case(monkeypatch):
    assert settings_read_with(monkeypatch, LOG_LEVEL="warning")["LOGGING"]["root"]["level"] == "WARNING"


def test_a_django_log_line_is_printed_once_with_debug_on():
    result = manage(
        "shell", "-c", "import logging; logging.getLogger('django.request').warning('printed once')", DEBUG="true"
    )
    assert result.stderr.count("printed once") == 1, result.stderr


@pytest.mark.parametrize(
    ("address", "line"),
    [
        (
            "postgres://portal:s3cret@127.0.0.1:1/jap",
            'Database error: cannot use database "jap" at 127.0.0.1:1 (DATABASE_URL): Connection refused',
        ),
        (
            "postgres://postgres:s3cret@127.0.0.1:5432/jap_no_such_database",
            'Database error: cannot use database "jap_no_such_database" at 127.0.0.1:5432 (DATABASE_URL): '
            'FATAL: database "jap_no_such_database" does not exist',
        ),
    ],
)
def test_a_command_against_a_database_it_cannot_use_says_which_and_why_in_one_line(postgres, address, line):
    result = manage("migrate", DEBUG="true", DATABASE_URL=address)
    assert result.returncode == 1
    assert result.stderr.strip() == line
