"""The meeting record PDF and the access log's own CSV exports are exports: logged, and the PDF limited."""

import pytest
from django.urls import reverse

from audit.models import AccessEvent
from tests import factories

ADDRESS = "203.0.113.11"


pytestmark = pytest.mark.usefixtures("fresh_counters")


def test_the_meeting_record_pdf_writes_one_export_event(as_user, committee_world):
    world = committee_world
    response = as_user(world.committee).get(reverse("meeting-pdf", args=[world.meeting.pk]), REMOTE_ADDR=ADDRESS)

    assert response.status_code == 200
    events = list(AccessEvent.objects.all())
    assert [(e.username, e.kind, e.object_type, e.object_id, e.label, e.address) for e in events] == [
        ("committee", "export", "meeting", str(world.meeting.pk), "meeting-2020-09-01.pdf", ADDRESS)
    ]


def test_a_refused_meeting_record_pdf_writes_nothing(as_user, committee_world):
    world = committee_world
    assert as_user(world.reporter).get(reverse("meeting-pdf", args=[world.meeting.pk])).status_code == 403
    assert not AccessEvent.objects.exists()


def test_meeting_record_pdfs_are_limited_with_a_page_that_says_when_to_retry(as_user, committee_world, settings):
    settings.RATE_LIMITS = {**settings.RATE_LIMITS, "export": "2/min"}
    world = committee_world
    client = as_user(world.committee)
    url = reverse("meeting-pdf", args=[world.meeting.pk])
    statuses = [client.get(url).status_code for _ in range(3)]
    assert statuses == [200, 200, 429]
    refused = client.get(url)
    assert "Try again in" in refused.content.decode() and 0 < int(refused["Retry-After"]) <= 60
    # The register's exports count against the same limit.
    assert client.get(reverse("activity-list"), {"export": "csv"}).status_code == 429
    assert AccessEvent.objects.filter(kind="export").count() == 2


@pytest.fixture
def admin_client(client, db):
    client.force_login(factories.UserFactory(username="root", is_staff=True, is_superuser=True))
    return client


def test_exporting_the_access_log_list_writes_one_export_event_left_out_of_the_file(admin_client):
    AccessEvent.objects.create(kind="restricted_view", object_id="CYB-1.2", username="officer")
    response = admin_client.get(reverse("admin:audit_accessevent_export"), {"q": "CYB-1.2"}, REMOTE_ADDR=ADDRESS)
    text = b"".join(response.streaming_content).decode("utf-8-sig")

    exported = AccessEvent.objects.get(kind="export")
    assert (exported.username, exported.object_type, exported.label, exported.address) == (
        "root", "access log", "q=CYB-1.2", ADDRESS
    )  # fmt: skip
    assert exported.object_id.startswith("access-log-") and exported.object_id.endswith(".csv")
    assert len(text.strip().splitlines()) == 2 and "access log" not in text


def test_exporting_selected_events_writes_one_export_event(admin_client):
    chosen = AccessEvent.objects.create(kind="restricted_view", object_id="CHOSEN")
    admin_client.post(
        reverse("admin:audit_accessevent_changelist"),
        {"action": "export_selected", "_selected_action": [chosen.pk]},
        REMOTE_ADDR=ADDRESS,
    )
    exported = AccessEvent.objects.get(kind="export")
    assert (exported.username, exported.object_type, exported.label, exported.address) == (
        "root", "access log", "selection of 1", ADDRESS
    )  # fmt: skip
