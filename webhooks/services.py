"""Tell partner systems of changes: a delivery per webhook is written in the transaction of the change,
sent by a worker once it commits, signed, and retried with backoff until the endpoint answers 2xx.

``emit`` writes the deliveries and hands each to the outbox (``outbox.services``), so a change
rolled back sends nothing and a change committed while Redis is down is sent once it is back.
``deliver`` claims a delivery with a conditional update (two workers never send one together; a
worker killed mid-send lets the claim lapse and ``send_due`` sends it again: at least once, the
receiver removes repeats by ``X-JAP-Delivery``). A delivery waits while an earlier one of the same
webhook and record is pending: a record's events arrive in order. A failed attempt is tried again
after a backoff (``WEBHOOK_BACKOFF_SECONDS`` doubled per attempt, at most
``WEBHOOK_BACKOFF_MAX_SECONDS``) by ``send_due``, a beat job every minute, until
``WEBHOOK_RETRY_HOURS`` after the change; ``WEBHOOK_MAX_FAILURES`` failed attempts in a row switch
the webhook off and tell its owner.
"""

import hashlib
import hmac
import http.client
import ipaddress
import json
import logging
import secrets
import socket
import time
from datetime import timedelta
from urllib.parse import urlsplit

from celery import current_app
from django.conf import settings
from django.db import transaction
from django.db.models import Exists, F, OuterRef, Q
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from outbox import services as outbox
from portal.errors import InvalidInput, NotAllowed
from portal.notifications import notify
from portal.roles import is_officer

from .models import Delivery, Event, Webhook

logger = logging.getLogger(__name__)

SENDER = "webhooks.tasks.enqueue_delivery"
# How long a sending worker holds its delivery: longer than the time-out of its request.
CLAIM = timedelta(minutes=2)
# How much of the endpoint's answer is kept to show on the page.
EXCERPT = 500
# How many due deliveries one sweep hands to the workers; the next minute's takes the rest.
SWEEP_BATCH = 500

# The records webhooks tell of, by model label: their kind in the payload and what is said of them.
KINDS = {
    "actionplan.ProgressUpdate": "update",
    "steering.ProgressReport": "report",
    "steering.ActionItem": "action_item",
}


def _update_data(update) -> dict:
    return {
        "activity": update.activity.code,
        "period": update.period.code,
        "office": update.office.code,
        "state": update.state,
        "version": update.version,
        "url": _link(reverse("update-detail", args=[update.pk])),
    }


def _report_data(report) -> dict:
    return {
        "period": report.period.code,
        "focus_area": report.focus_area.code if report.focus_area_id else None,
        "language": report.language,
        "state": report.state,
        "url": _link(reverse("report-detail", args=[report.pk])),
    }


def _action_item_data(item) -> dict:
    return {
        "meeting": item.meeting.date.isoformat(),
        "description": item.description,
        "due_on": item.due_on.isoformat(),
        "state": item.state,
        "url": _link(reverse("action-item-detail", args=[item.pk])),
    }


DATA = {"update": _update_data, "report": _report_data, "action_item": _action_item_data}


def _link(path: str) -> str:
    return settings.PORTAL_URL.rstrip("/") + path


# Registering ---------------------------------------------------------------------------------------


def check_url(url: str) -> None:
    """Refuse a URL that is not http(s), that points at the portal itself, or at an address of a private range.

    The portal is its ``PORTAL_URL`` (host and port) and the names in ``ALLOWED_HOSTS`` other
    than loopback ones; loopback addresses (``localhost``, 127.0.0.0/8, ::1) and 0.0.0.0 are
    refused too unless ``WEBHOOK_ALLOW_LOOPBACK`` is on, as tests turn it on for their receiver
    on 127.0.0.1 (the portal's own address and port stay refused even then).
    """
    parts = urlsplit(url.strip())
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise InvalidInput(_("Give an http:// or https:// address."), field="url")
    host = parts.hostname.lower().rstrip(".")
    try:
        port = _port(parts)
    except ValueError:
        raise InvalidInput(_("This address's port is not a number."), field="url") from None
    portal = urlsplit(settings.PORTAL_URL)
    portal_port = _port(portal)
    own_names = [name.lower() for name in settings.ALLOWED_HOSTS if name != "*" and not _is_loopback(name.strip("[]"))]
    if (host, port) == ((portal.hostname or "").lower(), portal_port) or any(
        host == name or (name.startswith(".") and (host.endswith(name) or host == name[1:])) for name in own_names
    ):
        raise InvalidInput(_("This address is the portal itself: give the partner system's address."), field="url")
    if _is_loopback(host) and not settings.WEBHOOK_ALLOW_LOOPBACK:
        raise InvalidInput(
            _("This address is this machine (loopback): give the partner system's address."), field="url"
        )
    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        return  # a name: its addresses are checked each time it is sent to (see ``_resolve``)
    if _refused(address):
        raise InvalidInput(
            _("This address is in a private or reserved network: give the partner system's public address."),
            field="url",
        )


def _is_loopback(host: str) -> bool:
    if host == "localhost" or host.endswith(".localhost"):
        return True
    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        return False
    return address.is_loopback or address.is_unspecified


@transaction.atomic
def create_webhook(*, by, name: str, url: str, events: list[str]) -> Webhook:
    """Register a partner endpoint for the chosen events, with a new secret (to be shown once)."""
    if not is_officer(by):
        raise NotAllowed(_("Only a programme officer registers webhooks."))
    check_url(url)
    chosen = [value for value in Event.values if value in events]
    if not chosen:
        raise InvalidInput(_("Choose at least one event."), field="events")
    return Webhook.objects.create(
        owner=by, name=name.strip(), url=url.strip(), events=chosen, secret=secrets.token_urlsafe(32)
    )


@transaction.atomic
def switch_webhook(*, by, webhook: Webhook, active: bool) -> Webhook:
    """Switch the owner's webhook on (its count of failures back to zero) or off."""
    if webhook.owner_id != by.pk:
        raise NotAllowed(_("Only the webhook's owner switches it on or off."))
    webhook.active, webhook.failure_count = active, 0
    webhook.switched_off_at = None if active else timezone.now()
    webhook.save(update_fields=["active", "failure_count", "switched_off_at", "updated_at"])
    if active:
        # What waited while it was off goes now, not at the next sweep.
        transaction.on_commit(send_due, robust=True)
    return webhook


# Emitting ------------------------------------------------------------------------------------------


def emit(event: str, record) -> list[Delivery]:
    """Write a delivery of the event on the record for each webhook that chose it and whose owner may see
    the record (its model's ``visible_to``); send each once the caller's transaction commits.

    A switched-off webhook's deliveries are written too: they wait (``_sendable`` passes them over)
    and go when it is switched on again, so none is lost while it is off."""
    return emit_all(event, [record])


def emit_all(event: str, records) -> list[Delivery]:
    """Emit the event on each record, as ``emit`` does: one query for the webhooks, one per webhook and model."""
    records = list(records)
    if not records:
        return []
    webhooks = [hook for hook in Webhook.objects.select_related("owner") if event in hook.events]
    if not webhooks:
        return []
    model = type(records[0])
    kind = KINDS[model._meta.label]
    now = timezone.now()
    payloads = {}
    deliveries = []
    for webhook in webhooks:
        if not webhook.owner.is_active:
            continue
        visible = set(
            model.objects.visible_to(webhook.owner).filter(pk__in=[r.pk for r in records]).values_list("pk", flat=True)
        )
        for record in records:
            if record.pk not in visible:
                continue
            if record.pk not in payloads:
                payloads[record.pk] = {
                    "event": event,
                    "occurred_at": now.isoformat(),
                    "record": {"kind": kind, "id": str(record.pk), **DATA[kind](record)},
                }
            deliveries.append(
                Delivery(
                    webhook=webhook, event=event, record_kind=kind, record_id=str(record.pk),
                    payload=payloads[record.pk], next_attempt_at=now,
                )
            )  # fmt: skip
    made = Delivery.objects.bulk_create(deliveries)
    for delivery in made:
        outbox.enqueue(SENDER, delivery_id=delivery.pk)
    return made


@transaction.atomic
def resend(*, by, delivery: Delivery) -> Delivery:
    """Send a delivery's event again, as a new delivery (a new id) after the record's others."""
    if delivery.webhook.owner_id != by.pk:
        raise NotAllowed(_("Only the webhook's owner resends its deliveries."))
    again = Delivery.objects.create(
        webhook=delivery.webhook, event=delivery.event, record_kind=delivery.record_kind,
        record_id=delivery.record_id, payload=delivery.payload, next_attempt_at=timezone.now(),
    )  # fmt: skip
    outbox.enqueue(SENDER, delivery_id=again.pk)
    return again


# Sending -------------------------------------------------------------------------------------------


def sign(secret: str, timestamp: str, body: bytes) -> str:
    """The signature header's value: HMAC-SHA256 of ``timestamp + "." + body`` with the secret, in hex."""
    digest = hmac.new(secret.encode(), timestamp.encode() + b"." + body, hashlib.sha256).hexdigest()
    return f"sha256={digest}"


def _earlier_pending():
    return Delivery.objects.filter(
        state=Delivery.State.PENDING,
        webhook=OuterRef("webhook"),
        record_kind=OuterRef("record_kind"),
        record_id=OuterRef("record_id"),
        id__lt=OuterRef("id"),
    )


def _sendable(now):
    """The pending deliveries due now, of active webhooks, held by no worker, first of their record."""
    return (
        Delivery.objects.filter(state=Delivery.State.PENDING, webhook__active=True, next_attempt_at__lte=now)
        .filter(Q(claimed_until__isnull=True) | Q(claimed_until__lt=now))
        .exclude(Exists(_earlier_pending()))
    )


class _Refused(Exception):
    """An address no webhook is sent to."""


def _refused(address: ipaddress.IPv4Address | ipaddress.IPv6Address) -> str:
    """Why the address is no partner system's (an empty string when it may be sent to).

    Private, link-local (cloud metadata at 169.254.169.254), multicast, reserved and unspecified
    addresses are inside someone's network, never a partner's endpoint on the internet; loopback is
    refused too unless ``WEBHOOK_ALLOW_LOOPBACK`` is on (tests' receiver on 127.0.0.1).
    """
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped:
        address = address.ipv4_mapped  # ::ffff:10.0.0.1 is 10.0.0.1
    if address.is_loopback:
        return "" if settings.WEBHOOK_ALLOW_LOOPBACK else "loopback"
    for kind in ("unspecified", "link_local", "multicast", "reserved", "private"):
        if getattr(address, f"is_{kind}"):
            return kind.replace("_", "-")
    return "" if address.is_global else "not public"


def _addresses(host: str, port: int) -> list[ipaddress.IPv4Address | ipaddress.IPv6Address]:
    answers = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    return [ipaddress.ip_address(answer[4][0].split("%")[0]) for answer in answers]


def _unmapped(address):
    """The IPv4 address an IPv6 one maps (``::ffff:10.0.0.1`` is 10.0.0.1), else the address."""
    return getattr(address, "ipv4_mapped", None) or address


def _port(parts) -> int:
    """The port of a split http(s) address, its scheme's default when it names none (ValueError when not a number)."""
    return parts.port or (443 if parts.scheme == "https" else 80)


def _own_addresses() -> tuple[set, int]:
    """The portal's own addresses (those of its ``PORTAL_URL`` host and of its ``ALLOWED_HOSTS`` names, but
    wildcards), and its port. A name that does not resolve adds none."""
    portal = urlsplit(settings.PORTAL_URL)
    portal_port = _port(portal)
    names = {name.strip("[]") for name in settings.ALLOWED_HOSTS if "*" not in name and not name.startswith(".")}
    own = set()
    for name in names | {portal.hostname or ""}:
        if not name:
            continue
        try:
            own.update(_unmapped(address) for address in _addresses(name, portal_port))
        except (OSError, UnicodeError, ValueError):
            continue
    return own, portal_port


def _resolve(host: str, port: int) -> str:
    """Resolve the host to the address to connect to; raise ``_Refused`` when it, or any other address the
    name has, is one no partner system has (see ``_refused``) or one of the portal's own.

    With ``WEBHOOK_ALLOW_LOOPBACK`` on (tests' receiver on 127.0.0.1), a loopback address of the portal's
    is refused only at the portal's own port."""
    try:
        addresses = _addresses(host, port)
    except (OSError, UnicodeError, ValueError) as error:
        raise _Refused(f"{host} could not be resolved: {error}") from None
    for address in addresses:
        if why := _refused(address):
            raise _Refused(f"{host} resolves to {address} ({why}): not sent")
    own, portal_port = _own_addresses()
    for address in map(_unmapped, addresses):
        if address in own and not (address.is_loopback and port != portal_port):
            raise _Refused(f"{host} resolves to {address}, the portal's own address: not sent")
    return str(addresses[0])


def _connection(scheme: str, host: str, port: int, address: str) -> http.client.HTTPConnection:
    """A connection to the address checked, sending ``host`` in the Host header and as the TLS server name.

    Connecting to the address checked, not the name again, leaves a DNS answer no time to change
    between the check and the connection. No proxy is used, and a redirect is not followed (it
    counts as a failure): either could lead somewhere unchecked.
    """
    kind = http.client.HTTPSConnection if scheme == "https" else http.client.HTTPConnection
    connection = kind(host, port, timeout=settings.WEBHOOK_TIMEOUT_SECONDS)
    # http.client opens its socket through this attribute, with (host, port): the host is swapped for the
    # address checked, while the Host header and the TLS server name (both from ``host``) stay as they are.
    connection._create_connection = lambda _where, *args: socket.create_connection((address, port), *args)
    return connection


def _post(url: str, body: bytes, headers: dict) -> tuple[int | None, str]:
    """POST the body to a public address of the URL's host; return the status code (None when no answer came,
    or the address was refused) and the start of the answer (or why none came)."""
    try:
        parts = urlsplit(url)
        port = _port(parts)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise _Refused(f"{url} is not an http(s) address")
        address = _resolve(parts.hostname, port)
        connection = _connection(parts.scheme, parts.hostname, port, address)
        try:
            path = parts.path or "/"
            connection.request("POST", f"{path}?{parts.query}" if parts.query else path, body=body, headers=headers)
            response = connection.getresponse()
            return response.status, response.read(EXCERPT).decode("utf-8", "replace")
        finally:
            connection.close()
    except _Refused as refused:
        return None, f"Refused: {refused}"[:EXCERPT]
    except (OSError, http.client.HTTPException, ValueError) as error:
        return None, f"{type(error).__name__}: {error}"[:EXCERPT]


def deliver(*, delivery_id: int) -> str:
    """Send one delivery if it is due, free and first of its record; record the answer; return what happened."""
    now = timezone.now()
    claimed_until = now + CLAIM
    claimed = _sendable(now).filter(pk=delivery_id).update(claimed_until=claimed_until, attempts=F("attempts") + 1)
    if not claimed:
        return "skipped"
    delivery = Delivery.objects.select_related("webhook").get(pk=delivery_id)
    webhook = delivery.webhook
    body = json.dumps(delivery.payload, sort_keys=True, separators=(",", ":")).encode()
    timestamp = str(int(time.time()))
    status, excerpt = _post(
        webhook.url,
        body,
        {
            "Content-Type": "application/json",
            "User-Agent": "JAP-Portal-Webhooks",
            "X-JAP-Signature": sign(webhook.secret, timestamp, body),
            "X-JAP-Timestamp": timestamp,
            "X-JAP-Delivery": str(delivery.delivery_id),
            "X-JAP-Event": delivery.event,
        },
    )
    succeeded = status is not None and 200 <= status < 300
    with transaction.atomic():
        _record(delivery, claimed_until=claimed_until, status=status, excerpt=excerpt, succeeded=succeeded)
    return Delivery.State.SUCCEEDED if succeeded else "retry" if delivery.state == Delivery.State.PENDING else "failed"


def _record(delivery: Delivery, *, claimed_until, status, excerpt: str, succeeded: bool):
    now = timezone.now()
    mine = Delivery.objects.filter(pk=delivery.pk, claimed_until=claimed_until, state=Delivery.State.PENDING)
    answer = {"claimed_until": None, "last_status_code": status, "last_response": excerpt, "last_attempt_at": now}
    webhooks = Webhook.objects.filter(pk=delivery.webhook_id)
    if succeeded:
        delivery.state = Delivery.State.SUCCEEDED
        mine.update(state=delivery.state, finished_at=now, **answer)
        webhooks.update(failure_count=0)
        _send_next(delivery)
        return
    if now >= delivery.created_at + timedelta(hours=settings.WEBHOOK_RETRY_HOURS):
        delivery.state = Delivery.State.FAILED
        mine.update(state=delivery.state, finished_at=now, **answer)
        _send_next(delivery)  # given up: the record's next event goes on
    else:
        mine.update(next_attempt_at=now + backoff(delivery.attempts), **answer)
    webhooks.update(failure_count=F("failure_count") + 1)
    switched_off = webhooks.filter(active=True, failure_count__gte=settings.WEBHOOK_MAX_FAILURES).update(
        active=False, switched_off_at=now
    )
    if switched_off:
        _tell_owner(Webhook.objects.select_related("owner").get(pk=delivery.webhook_id))


def backoff(attempts: int) -> timedelta:
    """How long to wait after the given number of attempts: doubled each time, capped."""
    seconds = settings.WEBHOOK_BACKOFF_SECONDS * 2 ** max(attempts - 1, 0)
    return timedelta(seconds=min(seconds, settings.WEBHOOK_BACKOFF_MAX_SECONDS))


def _send_next(delivery: Delivery):
    """Hand the record's next pending delivery to the workers now, rather than at the next sweep."""
    following = (
        Delivery.objects.pending()
        .filter(webhook=delivery.webhook_id, record_kind=delivery.record_kind, record_id=delivery.record_id)
        .filter(id__gt=delivery.pk)
        .order_by("id")
        .values_list("pk", flat=True)
        .first()
    )
    if following is not None:
        outbox.enqueue(SENDER, delivery_id=following)


def _tell_owner(webhook: Webhook):
    logger.warning("Webhook %s switched off after %d failures in a row", webhook.pk, webhook.failure_count)
    notify(
        recipients=[webhook.owner],
        kind="webhook_switched_off",
        subject=lambda: _("Webhook switched off: %(name)s") % {"name": webhook.name},
        body=lambda: (
            _(
                "Your webhook %(name)s (%(url)s) failed %(count)d times in a row and was switched off. "
                "Its deliveries wait: switch it on again once the partner system answers."
            )
            % {"name": webhook.name, "url": webhook.url, "count": webhook.failure_count}
        ),
        url=reverse("webhooks"),
    )


def send_due(*, batch: int = SWEEP_BATCH) -> int:
    """Hand the workers every delivery due now and first of its record; return how many (a beat job, every minute)."""
    due = list(_sendable(timezone.now()).order_by("id").values_list("pk", flat=True)[:batch])
    for delivery_id in due:
        # By name: the tasks call this module, which does not import them.
        current_app.send_task("webhooks.tasks.send_delivery", args=[delivery_id], ignore_result=True)
    return len(due)


def purge_deliveries(*, days: int) -> int:
    """Delete the deliveries that succeeded or failed more than ``days`` days ago; return how many.

    Pending ones stay, however old: they are still to be sent (a switched-off webhook's wait).
    """
    finished = Delivery.objects.filter(
        state__in=[Delivery.State.SUCCEEDED, Delivery.State.FAILED],
        finished_at__lt=timezone.now() - timedelta(days=days),
    )
    _total, deleted = finished.delete()
    return deleted.get(Delivery._meta.label, 0)
