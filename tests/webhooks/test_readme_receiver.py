"""The README's example receiver, run as written: it takes the portal's signed deliveries once each, and
refuses a wrong signature or an old timestamp."""

import re
import threading
import time
from http.server import ThreadingHTTPServer
from pathlib import Path

import pytest

from actionplan import services as updates
from tests.factories import ProgressUpdateFactory
from webhooks import services as webhooks
from webhooks.models import Delivery, Event

README = Path(__file__).resolve().parents[2] / "README.md"


@pytest.fixture
def example():
    """The names the README's Python receiver defines (its server is not started: it runs under ``__main__``)."""
    section = README.read_text(encoding="utf-8").split("\n## Webhooks\n", 1)[1].split("\n## ", 1)[0]
    [code] = re.findall(r"^```python\n(.*?)^```$", section, flags=re.DOTALL | re.MULTILINE)
    names = {"__name__": "readme_receiver"}
    exec(compile(code, "README.md (Webhooks)", "exec"), names)  # noqa: S102 (the repository's own README)
    return names


def test_the_example_verifies_the_portals_signature_and_refuses_tampering_and_old_timestamps(example):
    verify, body, now = example["verify"], b'{"event":"update.submitted"}', str(int(time.time()))

    assert verify("s3cret", now, webhooks.sign("s3cret", now, body), body)
    assert not verify("s3cret", now, webhooks.sign("s3cret", now, body), body + b" ")
    assert not verify("other", now, webhooks.sign("s3cret", now, body), body)
    old = str(int(time.time()) - 301)
    assert not verify("s3cret", old, webhooks.sign("s3cret", old, body), body)
    assert not verify("s3cret", "", webhooks.sign("s3cret", "", body), body)


def test_the_example_receiver_takes_a_delivery_once_though_it_comes_twice(example, world, settings, capsys):
    settings.WEBHOOK_ALLOW_LOOPBACK = True
    server = ThreadingHTTPServer(("127.0.0.1", 0), example["Receiver"])
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        webhook = webhooks.create_webhook(
            by=world.officer, name="Partner", url=f"http://127.0.0.1:{server.server_address[1]}/",
            events=[Event.UPDATE_SUBMITTED],
        )  # fmt: skip
        example["SECRET"] = webhook.secret
        update = ProgressUpdateFactory(
            activity=world.activity, period=world.period, office=world.office, author=world.reporter
        )
        updates.submit_update(by=world.reporter, update=update)
        delivery = Delivery.objects.get()

        assert webhooks.deliver(delivery_id=delivery.pk) == "succeeded"
        # The same delivery again, as after a worker stopped mid-send: answered 2xx, handled once.
        Delivery.objects.filter(pk=delivery.pk).update(state="pending")
        assert webhooks.deliver(delivery_id=delivery.pk) == "succeeded"
        example["SECRET"] = "not the secret"
        Delivery.objects.filter(pk=delivery.pk).update(state="pending")
        assert webhooks.deliver(delivery_id=delivery.pk) == "retry"
    finally:
        server.shutdown()
        server.server_close()

    assert capsys.readouterr().out.splitlines() == [f"update.submitted update {update.pk}"]
    delivery.refresh_from_db()
    assert delivery.last_status_code == 401
