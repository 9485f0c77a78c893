"""gunicorn, as the portal runs it in production, does not say which server it is."""

import http.client
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def test_gunicorn_answers_without_a_server_header():
    port = free_port()
    # Started as the README's production command starts it, from the project's directory (where gunicorn
    # reads gunicorn.conf.py); the login page needs no database.
    process = subprocess.Popen(
        [sys.executable, "-m", "gunicorn", "portal.wsgi", "--bind", f"127.0.0.1:{port}", "--workers", "1"],
        cwd=ROOT, env={**os.environ, "DEBUG": "true"}, start_new_session=True,
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                connection = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
                connection.request("GET", "/accounts/login/")
                response = connection.getresponse()
                response.read()
                break
            except OSError:
                assert process.poll() is None and time.monotonic() < deadline, "gunicorn did not start"
                time.sleep(0.2)

        assert response.status == 200
        assert response.getheader("Server") is None
        # The portal's own headers pass through untouched.
        assert response.getheader("Content-Security-Policy")
    finally:
        os.killpg(process.pid, signal.SIGTERM)
        process.wait(timeout=30)
