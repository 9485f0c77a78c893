import os
import socket
from urllib.parse import urlparse

import pytest
from django.conf import settings
from django.db import connection


def require_service(reason: str):
    """Skip a test whose service is missing, or fail it where CI promised every service."""
    if os.environ.get("REQUIRE_SERVICES") == "1":
        pytest.fail(f"{reason} (REQUIRE_SERVICES=1)")
    pytest.skip(reason)


def _redis_answers(url: str) -> bool:
    parsed = urlparse(url)
    try:
        with socket.create_connection((parsed.hostname or "127.0.0.1", parsed.port or 6379), timeout=1) as sock:
            sock.sendall(b"PING\r\n")
            return sock.recv(16).startswith(b"+PONG")
    except OSError:
        return False


@pytest.fixture
def redis_url():
    if not settings.REDIS_URL:
        require_service("REDIS_URL is not set: this test needs Redis")
    if not _redis_answers(settings.REDIS_URL):
        require_service(f"Redis does not answer at {settings.REDIS_URL}")
    return settings.REDIS_URL


@pytest.fixture
def postgres():
    if connection.vendor != "postgresql":
        require_service("DATABASE_URL is not PostgreSQL: this test needs PostgreSQL")
