"""Webhooks are sent only to public addresses: each send resolves the host, checks every address it has,
and connects to the address checked (a second DNS answer cannot send it elsewhere)."""

import ipaddress
import socket

import pytest

from actionplan import services as updates
from tests.factories import ProgressUpdateFactory
from webhooks import services as webhooks
from webhooks.models import Delivery, Event

real_getaddrinfo = socket.getaddrinfo


@pytest.fixture
def dns(monkeypatch):
    """Answer names ending in ``.test`` with the addresses given, in turn (the last one repeated); record the
    names asked."""
    answers, asked = {}, []

    def getaddrinfo(host, port, *args, **kwargs):
        if not str(host).endswith(".test"):
            return real_getaddrinfo(host, port, *args, **kwargs)
        asked.append(host)
        turn = answers[host][min(asked.count(host), len(answers[host])) - 1]
        family = socket.AF_INET6 if ":" in turn else socket.AF_INET
        return [(family, socket.SOCK_STREAM, 6, "", (turn, port))]

    monkeypatch.setattr(socket, "getaddrinfo", getaddrinfo)
    return answers, asked


def submitted_to(world, url):
    webhook = webhooks.create_webhook(by=world.officer, name="Partner", url=url, events=[Event.UPDATE_SUBMITTED])
    update = ProgressUpdateFactory(
        activity=world.activity, period=world.period, office=world.office, author=world.reporter
    )
    updates.submit_update(by=world.reporter, update=update)
    return webhook, Delivery.objects.get()


@pytest.mark.parametrize(
    ("address", "says"),
    [
        ("10.0.0.5", "private"),
        ("192.168.1.20", "private"),
        ("169.254.169.254", "link-local"),
        ("224.0.0.251", "multicast"),
        ("240.0.0.1", "reserved"),
        ("0.0.0.0", "unspecified"),  # noqa: S104 (an address refused, not one listened on)
        ("100.64.0.1", "not public"),  # shared address space (carrier-grade NAT)
        ("::ffff:10.0.0.5", "private"),
        ("fe80::1", "link-local"),
        ("127.0.0.1", "loopback"),  # WEBHOOK_ALLOW_LOOPBACK is off
    ],
)
def test_a_name_resolving_to_an_address_of_a_private_range_is_refused_as_a_failed_attempt(
    world, dns, settings, address, says
):
    answers, _asked = dns
    answers["partner.test"] = [address]
    _webhook, delivery = submitted_to(world, "https://partner.test/hook")

    assert webhooks.deliver(delivery_id=delivery.pk) == "retry"

    delivery.refresh_from_db()
    assert delivery.state == "pending" and delivery.attempts == 1 and delivery.last_status_code is None
    assert delivery.last_response.startswith("Refused: partner.test resolves to ")
    assert delivery.last_response.endswith(f"{ipaddress.ip_address(address)} ({says}): not sent")
    assert delivery.webhook.failure_count == 1


def test_a_name_with_one_private_address_among_public_ones_is_refused(world, dns, monkeypatch):
    answers, _asked = dns
    monkeypatch.setattr(
        socket,
        "getaddrinfo",
        lambda host, port, *a, **k: [
            (socket.AF_INET, socket.SOCK_STREAM, 6, "", ("93.184.215.14", port)),
            (socket.AF_INET, socket.SOCK_STREAM, 6, "", ("10.0.0.5", port)),
        ],
    )
    _webhook, delivery = submitted_to(world, "https://partner.test/hook")

    assert webhooks.deliver(delivery_id=delivery.pk) == "retry"
    delivery.refresh_from_db()
    assert delivery.last_response == "Refused: partner.test resolves to 10.0.0.5 (private): not sent"


def test_a_name_that_does_not_resolve_is_a_failed_attempt(world, monkeypatch):
    def no_answer(*args, **kwargs):
        raise socket.gaierror(socket.EAI_NONAME, "Name or service not known")

    monkeypatch.setattr(socket, "getaddrinfo", no_answer)
    _webhook, delivery = submitted_to(world, "https://partner.test/hook")

    assert webhooks.deliver(delivery_id=delivery.pk) == "retry"
    delivery.refresh_from_db()
    assert delivery.last_response.startswith("Refused: partner.test could not be resolved")


def test_the_address_checked_is_the_one_connected_to_with_the_names_host_header(world, dns, receiver):
    answers, asked = dns
    # The first answer (checked) is the receiver; any later one would be a private address.
    answers["partner.test"] = ["127.0.0.1", "10.0.0.5"]
    port = receiver.url.rsplit(":", 1)[1]
    webhook, delivery = submitted_to(world, f"http://partner.test:{port}/hook?from=jap")
    receiver.secrets["/hook?from=jap"] = webhook.secret

    assert webhooks.deliver(delivery_id=delivery.pk) == "succeeded"

    assert asked == ["partner.test"]  # resolved once: the connection went to the address checked
    [(path, headers, _payload)] = receiver.received
    assert path == "/hook?from=jap" and headers["Host"] == f"partner.test:{port}"


def test_an_https_connection_names_the_host_for_tls_and_opens_to_the_address_checked(monkeypatch):
    opened = []
    monkeypatch.setattr(socket, "create_connection", lambda where, *args: opened.append(where) or 1 / 0)
    connection = webhooks._connection("https", "partner.example.org", 443, "203.0.113.10")

    with pytest.raises(ZeroDivisionError):
        connection.connect()

    assert opened == [("203.0.113.10", 443)]
    # The TLS server name (and certificate check) is the host's, as the Host header is.
    assert connection.host == "partner.example.org" and connection._context.check_hostname
