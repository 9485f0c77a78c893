"""The access log: restricted views, downloads, exports and tokens are written once, with who, what and where."""

import pytest
from django.core.files.base import ContentFile
from django.urls import reverse

from audit.models import AccessEvent
from portal.models import ApiToken
from steering.models import ProgressReport
from tests import factories

ADDRESS = "203.0.113.7"


@pytest.fixture
def media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
    return settings.MEDIA_ROOT


def only_event():
    events = list(AccessEvent.objects.all())
    assert len(events) == 1, events
    return events[0]


def test_viewing_a_restricted_activity_writes_one_event_with_user_address_and_object(as_user, world):
    response = as_user(world.reporter).get(
        reverse("activity-detail", args=[world.restricted.code]), REMOTE_ADDR=ADDRESS
    )

    assert response.status_code == 200
    event = only_event()
    assert (event.user, event.username, event.kind) == (world.reporter, "reporter.roseap", "restricted_view")
    assert (event.object_type, event.object_id, event.address) == ("activity", "CYB-1.2", ADDRESS)
    assert event.label == world.restricted.title and event.at is not None


def test_viewing_an_internal_activity_writes_nothing(as_user, world):
    as_user(world.reporter).get(reverse("activity-detail", args=[world.activity.code]))
    assert not AccessEvent.objects.exists()


def test_a_refused_view_of_a_restricted_activity_writes_nothing(as_user, world):
    response = as_user(world.other_reporter).get(reverse("activity-detail", args=[world.restricted.code]))
    assert response.status_code == 404
    assert not AccessEvent.objects.exists()


def test_the_address_behind_trusted_proxies_is_the_one_logged(as_user, world, settings):
    settings.TRUSTED_PROXY_COUNT = 1
    as_user(world.officer).get(
        reverse("activity-detail", args=[world.restricted.code]),
        REMOTE_ADDR="10.0.0.2",
        HTTP_X_FORWARDED_FOR=f"198.51.100.1, {ADDRESS}",
    )
    assert only_event().address == ADDRESS


def test_the_api_logs_a_restricted_activity_read(api, world):
    response = api(world.officer).get(f"/api/v1/activities/{world.restricted.code}/", REMOTE_ADDR=ADDRESS)
    assert response.status_code == 200
    event = only_event()
    assert (event.username, event.kind, event.object_id, event.address) == (
        "officer",
        "restricted_view",
        "CYB-1.2",
        ADDRESS,
    )


def test_an_update_of_a_restricted_activity_is_logged_on_its_pages_and_in_the_api(as_user, api, world):
    update = factories.ProgressUpdateFactory(
        activity=world.restricted, period=world.period, office=world.office, author=world.reporter
    )
    as_user(world.reporter).get(reverse("update-detail", args=[update.pk]))
    as_user(world.reporter).get(reverse("update-edit", args=[update.pk]))
    api(world.reporter).get(f"/api/v1/updates/{update.pk}/")

    events = AccessEvent.objects.order_by("id")
    assert [(e.kind, e.object_type, e.object_id) for e in events] == [
        ("restricted_view", "progressupdate", str(update.pk))
    ] * 3


def test_an_indicator_of_a_restricted_activity_is_logged_on_its_page_and_in_the_api(as_user, api, world):
    indicator = factories.IndicatorFactory(activity=world.restricted, code="CYB-1.2-I1")
    as_user(world.officer).get(reverse("indicator", args=[indicator.code]))
    client = api(world.officer)
    assert client.get(f"/api/v1/indicators/{indicator.code}/").status_code == 200
    assert client.get(f"/api/v1/indicators/{indicator.code}/figures/").status_code == 200

    events = AccessEvent.objects.order_by("id")
    assert [(e.kind, e.object_type, e.object_id) for e in events] == [
        ("restricted_view", "indicator", "CYB-1.2-I1")
    ] * 3


def test_an_evidence_download_writes_one_event(as_user, world, media):
    update = factories.ProgressUpdateFactory(
        activity=world.activity, period=world.period, office=world.office, author=world.reporter
    )
    evidence = factories.EvidenceFactory(
        update=update, file=ContentFile(b"a,b\n", name="list.csv"), original_name="list.csv"
    )
    response = as_user(world.officer).get(reverse("evidence-download", args=[evidence.pk]), REMOTE_ADDR=ADDRESS)

    assert response.status_code == 200
    event = only_event()
    assert (event.username, event.kind, event.object_type, event.object_id) == (
        "officer", "evidence_download", "evidence", str(evidence.pk)
    )  # fmt: skip
    assert (event.label, event.address) == ("list.csv", ADDRESS)


@pytest.fixture
def report(world, media):
    report = ProgressReport(
        plan=world.plan, period=world.period, state=ProgressReport.State.SUCCEEDED, snapshot={}, content_hash="0" * 64
    )
    report.pdf.save("progress-report.pdf", ContentFile(b"%PDF-1.4 test"), save=False)
    report.xlsx.save("progress-report.xlsx", ContentFile(b"PK test"), save=False)
    report.save()
    return report


def test_a_report_file_download_writes_one_event_in_the_browser(as_user, world, report):
    response = as_user(world.committee).get(reverse("report-pdf", args=[report.pk]), REMOTE_ADDR=ADDRESS)

    assert response.status_code == 200
    event = only_event()
    assert (event.username, event.kind, event.object_type, event.object_id, event.address) == (
        "committee", "report_download", "progressreport", str(report.pk), ADDRESS
    )  # fmt: skip
    assert event.label.endswith(".pdf")


def test_a_report_file_download_writes_one_event_in_the_api(api, world, report):
    response = api(world.officer).get(f"/api/v1/reports/{report.pk}/xlsx/")
    assert response.status_code == 200
    event = only_event()
    assert (event.kind, event.object_id) == ("report_download", str(report.pk)) and event.label.endswith(".xlsx")


def test_a_register_export_writes_one_event_with_its_filters(as_user, world):
    response = as_user(world.officer).get(reverse("activity-list"), {"export": "csv", "status": "ongoing"})
    b"".join(response.streaming_content)

    event = only_event()
    assert (event.username, event.kind, event.object_type) == ("officer", "export", "activity register")
    assert event.object_id.endswith(".csv") and "status=ongoing" in event.label


def test_the_register_page_itself_writes_no_export_only_its_restricted_rows_shown(as_user, world):
    as_user(world.officer).get(reverse("activity-list"))
    events = AccessEvent.objects.order_by("object_id")
    assert [(e.kind, e.object_type, e.object_id) for e in events] == [
        ("restricted_view", "activity", "CYB-1.2"),
        ("restricted_view", "activity", "CYB-1.4"),
    ]


def test_creating_a_token_on_the_tokens_page_writes_one_event(as_user, world):
    as_user(world.reporter).post(
        reverse("tokens"), {"name": "office system", "expires_in_days": 30}, REMOTE_ADDR=ADDRESS
    )

    token = ApiToken.objects.get(user=world.reporter)
    event = only_event()
    assert (event.username, event.kind, event.object_type) == ("reporter.roseap", "token_created", "api token")
    assert (event.object_id, event.label, event.address) == (token.token_key, "office system", ADDRESS)


def test_revoking_a_token_writes_one_event_and_an_unknown_one_none(as_user, world):
    from portal.tokens import issue_token

    token, _key = issue_token(user=world.reporter, name="old system")
    client = as_user(world.reporter)
    client.post(reverse("revoke-token", args=["0" * 128]))
    assert not AccessEvent.objects.exists()

    client.post(reverse("revoke-token", args=[token.digest]), REMOTE_ADDR=ADDRESS)
    event = only_event()
    assert (event.kind, event.object_id, event.label, event.address) == (
        "token_revoked", token.token_key, "old system", ADDRESS
    )  # fmt: skip


def test_the_issue_token_command_writes_one_event_without_an_address(world):
    from django.core.management import call_command

    call_command("issue_token", world.reporter.username, "--name", "nightly sync", stdout=open("/dev/null", "w"))
    event = only_event()
    assert (event.username, event.kind, event.label, event.address) == (
        "reporter.roseap", "token_created", "nightly sync (command line)", ""
    )  # fmt: skip


def test_tokens_revoked_by_a_password_change_are_each_logged(world):
    from portal.tokens import issue_token

    first, _key = issue_token(user=world.reporter, name="office system")
    second, _key = issue_token(user=world.reporter, name="laptop script")
    world.reporter.set_password("a new password for the reporter")
    world.reporter.save()

    events = AccessEvent.objects.order_by("label")
    assert [(e.username, e.kind, e.object_id, e.label) for e in events] == [
        ("reporter.roseap", "token_revoked", second.token_key, "laptop script (password changed)"),
        ("reporter.roseap", "token_revoked", first.token_key, "office system (password changed)"),
    ]
