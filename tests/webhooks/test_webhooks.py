"""Webhooks: the events on records its owner may see reach a partner's endpoint, signed, in order, retried."""

import json
import time
import uuid
from datetime import timedelta

import pytest
from django.core import mail
from django.db import transaction
from django.urls import reverse
from django.utils import timezone

from actionplan import services as updates
from outbox.models import Message
from portal.errors import InvalidInput
from tests.factories import ProgressUpdateFactory
from webhooks import services as webhooks
from webhooks.models import Delivery, Event, Webhook

ALL = list(Event.values)


def hook(receiver, owner, path="/hook", events=ALL):
    webhook = webhooks.create_webhook(by=owner, name="Partner", url=receiver.url + path, events=events)
    receiver.secrets[path] = webhook.secret
    return webhook


def draft(world, **extra):
    return ProgressUpdateFactory(
        activity=world.activity, period=world.period, office=world.office, author=world.reporter, **extra
    )


def submitted(world):
    return updates.submit_update(by=world.reporter, update=draft(world))


def due_now(delivery):
    Delivery.objects.filter(pk=delivery.pk).update(next_attempt_at=timezone.now() - timedelta(seconds=1))


def test_a_delivery_is_posted_signed_with_its_ids_and_succeeds(world, receiver):
    hook(receiver, world.officer)
    update = submitted(world)
    [delivery] = Delivery.objects.all()

    assert webhooks.deliver(delivery_id=delivery.pk) == "succeeded"

    [(path, headers, payload)] = receiver.received
    assert receiver.refused_signatures == 0
    assert headers["X-JAP-Event"] == "update.submitted" and headers["X-JAP-Delivery"] == str(delivery.delivery_id)
    assert abs(int(headers["X-JAP-Timestamp"]) - time.time()) < 60
    assert payload["record"] == {
        "kind": "update", "id": str(update.pk), "activity": "CYB-1.1", "period": "2020-Q2",
        "office": "UNODC-ROSEAP", "state": "submitted", "version": update.version,
        "url": f"http://127.0.0.1:8000/updates/{update.pk}/",
    }  # fmt: skip
    delivery.refresh_from_db()
    assert (delivery.state, delivery.attempts, delivery.last_status_code) == ("succeeded", 1, 204)
    # Sent once: a second run (a task delivered twice) finds nothing to send.
    assert webhooks.deliver(delivery_id=delivery.pk) == "skipped"
    assert len(receiver.received) == 1


def test_a_wrong_secret_is_refused_by_the_receiver_and_the_delivery_kept_for_another_attempt(world, receiver):
    hook(receiver, world.officer)
    receiver.secrets["/hook"] = "not the secret"
    submitted(world)
    [delivery] = Delivery.objects.all()

    assert webhooks.deliver(delivery_id=delivery.pk) == "retry"

    assert receiver.refused_signatures == 1 and receiver.received == []
    delivery.refresh_from_db()
    assert delivery.state == "pending" and delivery.last_status_code == 401


def test_a_failing_receiver_gets_retries_with_growing_waits_then_the_delivery_succeeds(world, receiver, settings):
    settings.WEBHOOK_BACKOFF_SECONDS, settings.WEBHOOK_BACKOFF_MAX_SECONDS = 30, 100
    webhook = hook(receiver, world.officer)
    receiver.fail_next = 3
    submitted(world)
    [delivery] = Delivery.objects.all()
    waits = []

    for _ in range(3):
        before = timezone.now()
        assert webhooks.deliver(delivery_id=delivery.pk) == "retry"
        delivery.refresh_from_db()
        waits.append(round((delivery.next_attempt_at - before).total_seconds()))
        # Not due yet: neither the task nor the sweep sends it.
        assert webhooks.deliver(delivery_id=delivery.pk) == "skipped"
        due_now(delivery)
    assert waits == [30, 60, 100]  # doubled, capped
    webhook.refresh_from_db()
    assert webhook.failure_count == 3 and webhook.active
    assert delivery.last_status_code == 500 and delivery.last_response == "not now"

    assert webhooks.deliver(delivery_id=delivery.pk) == "succeeded"
    delivery.refresh_from_db()
    webhook.refresh_from_db()
    assert (delivery.state, delivery.attempts, webhook.failure_count) == ("succeeded", 4, 0)
    assert receiver.events() == ["update.submitted"]


def test_a_delivery_failing_past_the_retry_window_is_failed_and_the_record_goes_on(world, receiver, settings):
    hook(receiver, world.officer)
    receiver.fail_next = 1
    update = submitted(world)
    updates.approve_update(by=world.officer, update=update)
    first, second = Delivery.objects.order_by("id")
    Delivery.objects.filter(pk=first.pk).update(created_at=timezone.now() - timedelta(hours=25))

    assert webhooks.deliver(delivery_id=first.pk) == "failed"

    assert webhooks.deliver(delivery_id=second.pk) == "succeeded"
    assert receiver.events() == ["update.approved"]


def test_a_records_events_arrive_in_order_a_later_one_waits_for_the_earlier(world, receiver):
    hook(receiver, world.officer)
    update = submitted(world)
    updates.approve_update(by=world.officer, update=update)
    first, second = Delivery.objects.order_by("id")
    receiver.fail_next = 1

    assert webhooks.deliver(delivery_id=first.pk) == "retry"
    due_now(first)
    assert webhooks.deliver(delivery_id=second.pk) == "skipped"  # the submission is still pending
    # The sweep likewise hands over the first only.
    assert list(webhooks._sendable(timezone.now()).values_list("pk", flat=True)) == [first.pk]

    assert webhooks.deliver(delivery_id=first.pk) == "succeeded"
    # Its success hands the next one over at once (through the outbox).
    assert Message.objects.filter(kwargs={"delivery_id": second.pk}).count() == 2
    assert webhooks.deliver(delivery_id=second.pk) == "succeeded"
    assert receiver.events() == ["update.submitted", "update.approved"]


def test_a_webhook_failing_max_failures_times_is_switched_off_and_its_owner_emailed(
    world, receiver, settings, django_capture_on_commit_callbacks
):
    settings.WEBHOOK_MAX_FAILURES = 3
    webhook = hook(receiver, world.officer)
    receiver.always_fail = True
    submitted(world)
    [delivery] = Delivery.objects.all()

    with django_capture_on_commit_callbacks(execute=True):
        for _ in range(3):
            assert webhooks.deliver(delivery_id=delivery.pk) == "retry"
            due_now(delivery)

    webhook.refresh_from_db()
    assert not webhook.active and webhook.switched_off_at is not None
    [email] = mail.outbox
    assert email.to == [world.officer.email] and "Partner" in email.subject
    # Off: nothing more is sent, but a new event is written for it, to wait (not lost).
    assert webhooks.deliver(delivery_id=delivery.pk) == "skipped"
    updates.approve_update(by=world.officer, update=delivery_update(delivery))
    waiting = Delivery.objects.exclude(pk=delivery.pk).get()
    assert waiting.state == "pending" and waiting.event == "update.approved"
    due_now(waiting)
    assert webhooks.deliver(delivery_id=waiting.pk) == "skipped"
    assert webhooks.send_due() == 0

    # Switched on by its owner: the delivery that waited goes, then the event written while it was off.
    receiver.always_fail = False
    webhooks.switch_webhook(by=world.officer, webhook=webhook, active=True)
    assert webhooks.deliver(delivery_id=delivery.pk) == "succeeded"
    assert webhooks.deliver(delivery_id=waiting.pk) == "succeeded"
    assert receiver.events() == ["update.submitted", "update.approved"]


def test_an_event_while_a_webhook_is_switched_off_is_delivered_after_it_is_switched_on(world, receiver):
    webhook = hook(receiver, world.officer)
    webhooks.switch_webhook(by=world.officer, webhook=webhook, active=False)
    submitted(world)
    [delivery] = Delivery.objects.all()
    assert webhooks.deliver(delivery_id=delivery.pk) == "skipped"
    assert receiver.received == []

    webhooks.switch_webhook(by=world.officer, webhook=webhook, active=True)
    assert webhooks.deliver(delivery_id=delivery.pk) == "succeeded"
    assert receiver.events() == ["update.submitted"]


def delivery_update(delivery):
    from actionplan.models import ProgressUpdate

    return ProgressUpdate.objects.get(pk=delivery.record_id)


def test_only_events_on_records_the_owner_may_see_are_written(world, receiver):
    officers = hook(receiver, world.officer, path="/officer")
    # An officer since moved to the other office as a reporter: the webhook stays, its reach shrinks.
    other = hook(receiver, world.officer, path="/other")
    Webhook.objects.filter(pk=other.pk).update(owner=world.other_reporter)

    submitted(world)

    assert list(Delivery.objects.values_list("webhook", flat=True)) == [officers.pk]


def test_only_the_chosen_events_are_written(world, receiver):
    hook(receiver, world.officer, events=[Event.UPDATE_APPROVED])
    update = submitted(world)
    assert not Delivery.objects.exists()

    updates.approve_update(by=world.officer, update=update)

    assert list(Delivery.objects.values_list("event", flat=True)) == ["update.approved"]


def test_a_returned_update_is_sent_as_returned(world, receiver):
    hook(receiver, world.officer)
    update = submitted(world)
    updates.return_update(by=world.officer, update=update, comment="Add the figures.")

    assert list(Delivery.objects.order_by("id").values_list("event", flat=True)) == [
        "update.submitted",
        "update.returned",
    ]


def test_an_action_item_assigned_and_changed_is_sent(committee_world, receiver):
    from steering import services as steering
    from steering.models import ActionItem

    world = committee_world
    hook(receiver, world.officer)
    item = steering.add_action_item(
        by=world.secretary, meeting=world.meeting, description="Prepare a note", due_on=world.meeting.date,
        owner_user=world.officer,
    )  # fmt: skip
    steering.add_note(by=world.officer, item=item, text="Done.", state=ActionItem.State.DONE)

    first, second = Delivery.objects.order_by("id")
    assert (first.event, second.event) == ("action_item.changed", "action_item.changed")
    assert (first.payload["record"]["state"], second.payload["record"]["state"]) == ("open", "done")


def test_a_compiled_report_is_sent_as_succeeded_with_its_id(committee_world, receiver, settings, tmp_path):
    from steering.models import ProgressReport
    from steering.reports import services as reports

    settings.MEDIA_ROOT = tmp_path / "media"
    world = committee_world
    hook(receiver, world.officer)
    report = ProgressReport.objects.create(plan=world.plan, period=world.period, requested_by=world.officer)

    assert reports.compile_report(report_id=report.pk) == "succeeded"

    [delivery] = Delivery.objects.all()
    assert (delivery.event, delivery.record_kind, delivery.record_id) == ("report.succeeded", "report", str(report.pk))
    assert delivery.payload["record"]["id"] == str(report.pk)
    assert delivery.payload["record"]["state"] == "succeeded"
    assert webhooks.deliver(delivery_id=delivery.pk) == "succeeded"
    [(_path, headers, payload)] = receiver.received
    assert headers["X-JAP-Event"] == "report.succeeded" and payload["record"]["id"] == str(report.pk)


def test_updates_submitted_through_the_bulk_api_are_sent_as_submitted(world, receiver, api):
    from tests.factories import ActivityFactory

    hook(receiver, world.officer)
    second = ActivityFactory(objective=world.objective)
    second.implementing_offices.add(world.office)
    items = [
        {"client_key": key, "activity": activity.code, "period": world.period.code, "rag": "on_track",
         "percent_complete": 30, "submit": submit}
        for key, activity, submit in [("a", world.activity, True), ("b", second, True)]
    ] + [{"client_key": "c", "activity": second.code, "period": world.locked_period.code, "rag": "on_track",
          "percent_complete": 30, "submit": True}]  # fmt: skip

    response = api(world.reporter).post("/api/v1/updates/bulk/", items, format="json")

    results = response.json()
    assert [r["status"] for r in results] == [201, 201, 409]
    deliveries = Delivery.objects.order_by("record_id")
    assert sorted((d.event, d.record_id) for d in deliveries) == sorted(
        ("update.submitted", str(r["id"])) for r in results[:2]
    )
    for delivery in deliveries:
        assert webhooks.deliver(delivery_id=delivery.pk) == "succeeded"
    assert receiver.events() == ["update.submitted", "update.submitted"]


def test_a_change_rolled_back_writes_and_sends_nothing(transactional_db, world, receiver):
    hook(receiver, world.officer)
    update = draft(world)

    with pytest.raises(RuntimeError), transaction.atomic():
        updates.submit_update(by=world.reporter, update=update)
        raise RuntimeError("the change failed")

    assert not Delivery.objects.exists() and not Message.objects.exists()
    assert webhooks.send_due() == 0
    assert receiver.received == []


@pytest.mark.parametrize(
    ("url", "says"),
    [
        ("ftp://partner.example.org/hook", "http://"),
        ("javascript:alert(1)", "http://"),
        ("partner.example.org/hook", "http://"),
        ("http://127.0.0.1:8000/hook", "portal itself"),  # PORTAL_URL
        ("https://portal.example.org/hook", "portal itself"),  # ALLOWED_HOSTS
        ("https://eu.portal.example.org/hook", "portal itself"),  # ALLOWED_HOSTS, a subdomain pattern
        ("http://localhost:9000/hook", "loopback"),
        ("http://127.0.0.2:9000/hook", "loopback"),
        ("http://[::1]:9000/hook", "loopback"),
        ("http://0.0.0.0:9000/hook", "loopback"),
        ("http://10.1.2.3/hook", "private or reserved"),
        ("http://192.168.0.10/hook", "private or reserved"),
        ("http://169.254.169.254/latest/meta-data/", "private or reserved"),  # a cloud's metadata service
        ("http://224.0.0.1/hook", "private or reserved"),  # multicast
        ("http://240.0.0.1/hook", "private or reserved"),  # reserved
        ("http://[fe80::1]/hook", "private or reserved"),  # link-local
        ("http://[fd00::1]/hook", "private or reserved"),  # unique local
        ("http://[::ffff:10.0.0.1]/hook", "private or reserved"),  # IPv4 written as IPv6
    ],
)
def test_a_bad_url_is_refused_naming_the_field(world, settings, as_user, url, says):
    settings.ALLOWED_HOSTS = ["portal.example.org", ".portal.example.org", "127.0.0.1", "localhost", "testserver"]
    settings.PORTAL_URL = "http://127.0.0.1:8000"

    with pytest.raises(InvalidInput) as refused:
        webhooks.check_url(url)
    assert refused.value.field == "url" and says in refused.value.message

    page = as_user(world.officer).post("/webhooks/", {"name": "P", "url": url, "events": ALL})
    assert page.status_code == 200 and says in page.context["form"].errors["url"][0]
    assert not Webhook.objects.exists()


def test_the_portals_own_address_stays_refused_with_loopback_allowed(settings):
    settings.WEBHOOK_ALLOW_LOOPBACK, settings.PORTAL_URL = True, "http://127.0.0.1:8000"

    with pytest.raises(InvalidInput):
        webhooks.check_url("http://127.0.0.1:8000/api/v1/")
    webhooks.check_url("http://127.0.0.1:8001/hook")


def test_an_officer_registers_a_webhook_and_sees_its_secret_once(world, as_user, receiver):
    client = as_user(world.officer)

    page = client.post("/webhooks/", {"name": "Partner", "url": receiver.url + "/hook", "events": ALL})

    webhook = Webhook.objects.get()
    assert webhook.owner == world.officer and webhook.events == ALL
    assert webhook.secret in page.content.decode()
    assert webhook.secret not in client.get("/webhooks/").content.decode()


def test_only_officers_reach_the_webhooks_page(world, as_user):
    assert as_user(world.reporter).get("/webhooks/").status_code == 403


def test_the_page_lists_deliveries_in_a_fixed_number_of_queries(world, as_user, receiver, django_assert_num_queries):
    for path in ("/a", "/b"):
        hook(receiver, world.officer, path=path)
    update = submitted(world)
    updates.approve_update(by=world.officer, update=update)
    client = as_user(world.officer)
    client.get("/webhooks/")

    # Session, user, groups (the role), notifications count; the webhooks; their latest deliveries.
    with django_assert_num_queries(6):
        page = client.get("/webhooks/")
    assert page.content.decode().count("data-delivery=") == 4


def test_resend_writes_a_new_delivery_of_the_same_event_and_only_for_the_owner(world, as_user, receiver):
    hook(receiver, world.officer)
    submitted(world)
    [delivery] = Delivery.objects.all()
    webhooks.deliver(delivery_id=delivery.pk)

    assert as_user(world.committee).post(f"/webhooks/deliveries/{delivery.pk}/resend/").status_code == 403
    as_user(world.officer).post(f"/webhooks/deliveries/{delivery.pk}/resend/")

    again = Delivery.objects.exclude(pk=delivery.pk).get()
    assert again.payload == delivery.payload and again.delivery_id != delivery.delivery_id
    assert webhooks.deliver(delivery_id=again.pk) == "succeeded"
    assert [headers["X-JAP-Delivery"] for _p, headers, _b in receiver.received] == [
        str(delivery.delivery_id),
        str(again.delivery_id),
    ]
    assert uuid.UUID(str(again.delivery_id))


def test_the_purge_removes_finished_deliveries_past_the_retention_only(world, receiver, settings):
    from webhooks.tasks import purge_old_deliveries

    settings.WEBHOOK_KEEP_DAYS = 30
    hook(receiver, world.officer)
    submitted(world)
    old_succeeded = Delivery.objects.get()
    old_failed, recent, old_pending = (webhooks.resend(by=world.officer, delivery=old_succeeded) for _ in range(3))
    long_ago = timezone.now() - timedelta(days=31)
    Delivery.objects.filter(pk=old_succeeded.pk).update(state="succeeded", finished_at=long_ago)
    Delivery.objects.filter(pk=old_failed.pk).update(state="failed", finished_at=long_ago)
    Delivery.objects.filter(pk=recent.pk).update(state="succeeded", finished_at=timezone.now() - timedelta(days=29))
    Delivery.objects.filter(pk=old_pending.pk).update(created_at=long_ago)

    assert purge_old_deliveries() == 2

    assert set(Delivery.objects.values_list("pk", flat=True)) == {recent.pk, old_pending.pk}


def test_the_purge_is_scheduled_daily(db):
    from django_celery_beat.models import PeriodicTask

    from portal.reference import load_reference_data

    load_reference_data()
    job = PeriodicTask.objects.get(task="webhooks.tasks.purge_old_deliveries")
    assert job.crontab is not None and job.enabled


@pytest.mark.parametrize(
    ("url", "says"),
    [
        ("ftp://partner.example.org/hook", "http://"),
        ("http://10.1.2.3/hook", "private or reserved"),
        ("https://partner.example.org/hook", None),
    ],
)
def test_the_admin_checks_a_webhooks_url_as_the_page_does(world, client, url, says):
    from tests import factories

    webhook = Webhook.objects.create(
        owner=world.officer, name="Partner", url="https://partner.example.org/old", events=ALL, secret="s"
    )
    client.force_login(factories.UserFactory(username="root", is_staff=True, is_superuser=True))
    form = {
        "owner": world.officer.pk, "name": "Partner", "url": url, "events": json.dumps(ALL),
        "active": "on", "failure_count": 0, "switched_off_at_0": "", "switched_off_at_1": "",
    }  # fmt: skip

    page = client.post(reverse("admin:webhooks_webhook_change", args=[webhook.pk]), form)

    webhook.refresh_from_db()
    if says:
        assert page.status_code == 200 and says in page.context["adminform"].form.errors["url"][0]
        assert webhook.url == "https://partner.example.org/old"
    else:
        assert page.status_code == 302 and webhook.url == url


@pytest.fixture
def dns(monkeypatch):
    """Names resolved as the test says (others as usual)."""
    import socket

    names = {}
    real = socket.getaddrinfo

    def getaddrinfo(host, port, *args, **kwargs):
        if host in names:
            return [(socket.AF_INET, socket.SOCK_STREAM, 6, "", (names[host], port))]
        return real(host, port, *args, **kwargs)

    monkeypatch.setattr(socket, "getaddrinfo", getaddrinfo)
    return names


def test_a_name_resolving_to_the_portals_own_address_is_refused_when_sent(world, settings, dns):
    settings.PORTAL_URL, settings.ALLOWED_HOSTS = "https://portal.example.org", ["portal.example.org", "*"]
    dns.update({"portal.example.org": "93.184.216.34", "partner.example.org": "93.184.216.34"})
    webhook = webhooks.create_webhook(
        by=world.officer, name="Partner", url="https://partner.example.org/hook", events=ALL
    )  # the name is not the portal's: let through at registration
    submitted(world)
    [delivery] = Delivery.objects.filter(webhook=webhook)

    assert webhooks.deliver(delivery_id=delivery.pk) == "retry"

    delivery.refresh_from_db()
    assert delivery.last_status_code is None
    assert delivery.last_response == (
        "Refused: partner.example.org resolves to 93.184.216.34, the portal's own address: not sent"
    )


def test_the_portals_own_addresses_are_those_of_its_url_and_allowed_hosts(settings, dns):
    settings.PORTAL_URL = "https://portal.example.org"
    settings.ALLOWED_HOSTS = ["www.example.org", ".wild.example.org", "*"]
    dns.update({"portal.example.org": "93.184.216.34", "www.example.org": "93.184.216.35", "x": "93.184.216.36"})
    dns.update({"partner.example.org": "93.184.216.36"})

    for own in ("93.184.216.34", "93.184.216.35"):
        dns["x"] = own
        with pytest.raises(webhooks._Refused, match="the portal's own address"):
            webhooks._resolve("x", 443)
    dns["x"] = "93.184.216.36"
    assert webhooks._resolve("x", 443) == "93.184.216.36"


def test_loopback_allowed_lets_the_portals_loopback_address_through_but_at_its_own_port(settings, dns):
    settings.WEBHOOK_ALLOW_LOOPBACK = True
    settings.PORTAL_URL, settings.ALLOWED_HOSTS = "http://127.0.0.1:8000", ["localhost", "127.0.0.1"]
    dns["sneaky.example.org"] = "127.0.0.1"

    assert webhooks._resolve("sneaky.example.org", 9000) == "127.0.0.1"  # the tests' receiver
    with pytest.raises(webhooks._Refused, match="the portal's own address"):
        webhooks._resolve("sneaky.example.org", 8000)


def test_another_officer_can_neither_see_switch_nor_resend_a_webhook_not_theirs(world, as_user, receiver):
    from django.contrib.auth.models import Group

    from portal.models import Role
    from tests.factories import UserFactory

    theirs = hook(receiver, world.officer)
    submitted(world)
    [delivery] = Delivery.objects.all()
    other = UserFactory(username="officer.two")
    other.groups.add(Group.objects.get(name=Role.PROGRAMME_OFFICER.value))
    client = as_user(other)

    assert theirs.name not in client.get("/webhooks/").content.decode()
    assert client.post(f"/webhooks/{theirs.pk}/switch/", {"active": "0"}).status_code == 404
    assert client.post(f"/webhooks/deliveries/{delivery.pk}/resend/").status_code == 404
    assert Delivery.objects.count() == 1 and Webhook.objects.get().active
