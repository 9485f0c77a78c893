"""A partner's endpoint on 127.0.0.1: it checks each request's signature, fails when told to, and counts."""

import hashlib
import hmac
import json
import threading
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest


@dataclass
class Receiver:
    url: str
    secrets: dict = field(default_factory=dict)  # the webhook's secret, by the path it posts to
    received: list = field(default_factory=list)  # each request whose signature verified: (path, headers, payload)
    refused_signatures: int = 0
    fail_next: int = 0  # how many requests to answer 500 before answering 204
    always_fail: bool = False
    hold_first: bool = False  # keep the first request's connection open (after counting it) until released
    holding: threading.Event = field(default_factory=threading.Event)
    release: threading.Event = field(default_factory=threading.Event)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def events(self) -> list[str]:
        return [headers["X-JAP-Event"] for _path, headers, _payload in self.received]


class _Handler(BaseHTTPRequestHandler):
    receiver: Receiver

    def do_POST(self):  # noqa: N802 (http.server's name)
        receiver = self.receiver
        body = self.rfile.read(int(self.headers["Content-Length"]))
        secret = receiver.secrets.get(self.path, "")
        timestamp = self.headers.get("X-JAP-Timestamp", "")
        hold = False
        expected = "sha256=" + hmac.new(secret.encode(), timestamp.encode() + b"." + body, hashlib.sha256).hexdigest()
        with receiver.lock:
            if not hmac.compare_digest(expected, self.headers.get("X-JAP-Signature", "")):
                receiver.refused_signatures += 1
                code = 401
            elif receiver.always_fail or receiver.fail_next > 0:
                receiver.fail_next -= 1
                code = 500
            else:
                receiver.received.append((self.path, self.headers, json.loads(body)))  # names read in any case
                code = 204
                hold = receiver.hold_first and not receiver.holding.is_set()
                if hold:
                    receiver.holding.set()
        if hold:
            receiver.release.wait(timeout=60)  # the sender may be gone by then: its answer is lost
        try:
            self.send_response(code)
            self.end_headers()
            if code != 204:
                self.wfile.write(b"not now")
        except OSError:
            pass  # the sender went away while its request was held

    def log_message(self, *args):
        pass


@pytest.fixture
def receiver(settings):
    """A receiver on 127.0.0.1, with loopback webhook URLs allowed for it (they are refused by default)."""
    settings.WEBHOOK_ALLOW_LOOPBACK = True
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
    made = Receiver(url=f"http://127.0.0.1:{server.server_address[1]}")
    server.RequestHandlerClass = type("Handler", (_Handler,), {"receiver": made})
    # shutdown() waits out serve_forever's poll: a short one ends each test at once.
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.01}, daemon=True)
    thread.start()
    yield made
    made.release.set()
    server.shutdown()
    server.server_close()
