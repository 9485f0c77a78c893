"""The access log stays as written: the database refuses changes, the purge keeps the last days, admins read."""

import datetime
from io import StringIO

import pytest
from django.core.management import CommandError, call_command
from django.db import IntegrityError, connection, transaction
from django.urls import reverse
from django.utils import timezone

from audit.models import AccessEvent
from audit.services import Kind, purge_access_log
from tests import factories


def event(days_ago=0, **fields):
    """An event written ``days_ago`` days back."""
    return AccessEvent.objects.create(kind=Kind.EXPORT, at=timezone.now() - datetime.timedelta(days=days_ago), **fields)


def test_the_database_refuses_to_update_an_event(postgres, db):
    made = event(username="officer")
    with pytest.raises(IntegrityError, match="append-only"), transaction.atomic():
        AccessEvent.objects.filter(pk=made.pk).update(username="someone else")
    made.refresh_from_db()
    assert made.username == "officer"


def test_the_database_refuses_to_delete_an_event(postgres, db):
    made = event()
    with pytest.raises(IntegrityError, match="append-only"), transaction.atomic():
        made.delete()
    with pytest.raises(IntegrityError, match="append-only"), transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("DELETE FROM audit_accessevent")
    assert AccessEvent.objects.filter(pk=made.pk).exists()


def test_the_purge_keeps_the_last_days_and_deletes_the_rest(postgres, db):
    old, edge, recent = event(days_ago=400), event(days_ago=31), event(days_ago=29)
    assert purge_access_log(days=30) == 2
    assert list(AccessEvent.objects.values_list("pk", flat=True)) == [recent.pk]
    assert not AccessEvent.objects.filter(pk__in=[old.pk, edge.pk]).exists()


def test_the_purge_leaves_the_log_append_only_after_it(postgres, db):
    purge_access_log(days=30)
    made = event()
    with pytest.raises(IntegrityError), transaction.atomic():
        made.delete()


def test_the_purge_command_keeps_access_log_days_by_default(postgres, db, settings):
    settings.ACCESS_LOG_DAYS = 90
    event(days_ago=100), event(days_ago=10)
    out = StringIO()
    call_command("purge_access_log", stdout=out)
    assert AccessEvent.objects.count() == 1
    assert out.getvalue().strip() == "1 access event older than 90 days deleted"


def test_the_purge_command_refuses_fewer_than_one_day(db):
    with pytest.raises(CommandError, match="--days"):
        call_command("purge_access_log", "--days", "0")


def test_access_log_days_below_one_stops_startup(tmp_path):
    import os
    import subprocess
    import sys

    env = {**os.environ, "DEBUG": "true", "ACCESS_LOG_DAYS": "0"}
    result = subprocess.run(
        [
            sys.executable,
            "-c",
            "import django, os; os.environ['DJANGO_SETTINGS_MODULE']='portal.settings'; django.setup()",
        ],
        env=env,
        capture_output=True,
        text=True,
    )
    assert result.returncode != 0 and "ACCESS_LOG_DAYS" in result.stderr


def test_the_reference_data_schedules_the_daily_purge(db):
    from django_celery_beat.models import PeriodicTask

    from portal.reference import load_reference_data

    load_reference_data()
    job = PeriodicTask.objects.get(task="audit.tasks.purge_old_access_events")
    assert job.enabled and (job.crontab.hour, job.crontab.minute) == ("3", "30")


def test_the_purge_task_keeps_access_log_days(postgres, db, settings):
    from audit.tasks import purge_old_access_events

    settings.ACCESS_LOG_DAYS = 7
    event(days_ago=8), event(days_ago=1)
    assert purge_old_access_events.apply().get() == 1


@pytest.fixture
def admin_client(client, db):
    client.force_login(factories.UserFactory(username="root", is_staff=True, is_superuser=True))
    return client


CHANGELIST = "admin:audit_accessevent_changelist"


def test_administrators_search_the_log_by_user_object_and_address(admin_client):
    event(username="reporter.roseap", object_type="activity", object_id="CYB-1.2", address="203.0.113.7")
    event(username="officer", object_type="activity", object_id="FTF-2.1", address="198.51.100.4")
    for query in ("reporter.roseap", "CYB-1.2", "203.0.113.7"):
        page = admin_client.get(reverse(CHANGELIST), {"q": query}).content.decode()
        assert "CYB-1.2" in page and "FTF-2.1" not in page, query


def test_administrators_filter_the_log_by_kind(admin_client):
    event(object_id="EXPORTED")
    AccessEvent.objects.create(kind=Kind.TOKEN_CREATED, object_id="TOKENMADE")
    page = admin_client.get(reverse(CHANGELIST), {"kind__exact": "token_created"}).content.decode()
    assert "TOKENMADE" in page and "EXPORTED" not in page


def test_the_export_holds_the_filtered_list_with_formulas_neutralised(admin_client):
    event(username="officer", object_id="CYB-1.2", label="=HYPERLINK(1)", address="203.0.113.7")
    event(username="other", object_id="FTF-2.1")
    page = admin_client.get(reverse(CHANGELIST), {"q": "CYB-1.2"}).content.decode()
    export_url = reverse("admin:audit_accessevent_export")
    assert f'href="{export_url}?q=CYB-1.2"' in page

    response = admin_client.get(export_url, {"q": "CYB-1.2"})

    assert response.status_code == 200 and response["Content-Type"].startswith("text/csv")
    text = b"".join(response.streaming_content).decode("utf-8-sig")
    lines = text.strip().splitlines()
    assert lines[0].startswith('"When (UTC)","User","What"')
    assert len(lines) == 2 and '"officer","Export","","CYB-1.2","\'=HYPERLINK(1)","203.0.113.7"' in lines[1]


def test_an_unknown_filter_in_the_export_address_answers_400(admin_client):
    assert admin_client.get(reverse("admin:audit_accessevent_export"), {"no_such__field": "1"}).status_code == 400


def test_the_export_action_exports_the_selected_events(admin_client):
    chosen, _other = event(object_id="CHOSEN"), event(object_id="LEFT")
    response = admin_client.post(reverse(CHANGELIST), {"action": "export_selected", "_selected_action": [chosen.pk]})
    text = b"".join(response.streaming_content).decode("utf-8-sig")
    assert "CHOSEN" in text and "LEFT" not in text


def test_the_admin_cannot_add_change_or_delete_an_event(admin_client):
    made = event(username="officer")
    assert admin_client.get(reverse("admin:audit_accessevent_add")).status_code == 403
    change = admin_client.get(reverse("admin:audit_accessevent_change", args=[made.pk]))
    assert change.status_code == 200 and 'type="submit"' not in change.content.decode().split('id="content-main"')[1]
    assert (
        admin_client.post(reverse("admin:audit_accessevent_change", args=[made.pk]), {"username": "x"}).status_code
        == 403
    )
    assert admin_client.get(reverse("admin:audit_accessevent_delete", args=[made.pk])).status_code == 403
    changelist = admin_client.get(reverse(CHANGELIST)).content.decode()
    assert "delete_selected" not in changelist
    made.refresh_from_db()
    assert made.username == "officer"


def test_a_staff_member_without_the_view_permission_cannot_export(client, db):
    client.force_login(factories.UserFactory(username="staff", is_staff=True))
    assert client.get(reverse("admin:audit_accessevent_export")).status_code == 403


def test_deleting_a_user_keeps_its_events_and_who_it_was(admin_client):
    user = factories.UserFactory(username="leaver")
    made = event(user=user, username="leaver", object_id="CYB-1.2")

    response = admin_client.post(reverse("admin:auth_user_delete", args=[user.pk]), {"post": "yes"})

    assert response.status_code == 302
    assert AccessEvent.objects.filter(pk=made.pk, username="leaver", object_id="CYB-1.2").exists()
    assert "leaver" in admin_client.get(reverse(CHANGELIST)).content.decode()
