"""Notifications: the officers of a submission, the author of a review, the other side of a message;
listed in the portal and e-mailed as each chose, submissions batched by the hour."""

import pytest
from django.core import mail
from django.urls import reverse

from actionplan import services
from portal import notifications
from portal.models import Notification, Profile
from portal.profiles import save_profile
from portal.tasks import send_batched_notifications, send_notification_digests


@pytest.fixture
def emails(world):
    for user in (world.reporter, world.officer, world.other_reporter):
        user.email = f"{user.username}@example.org"
        user.save()
    return world


def submit(world):
    update = services.create_update(
        by=world.reporter, activity=world.activity, period=world.period, office=world.office, rag="on_track",
        percent_complete=20,
    )  # fmt: skip
    return services.submit_update(by=world.reporter, update=update)


def test_the_activitys_officer_is_told_of_a_submission_within_the_hour(emails, django_capture_on_commit_callbacks):
    world = emails
    world.activity.responsible_officer = world.officer
    world.activity.save()
    with django_capture_on_commit_callbacks(execute=True):
        submit(world)
    [notification] = Notification.objects.all()
    assert (notification.recipient, notification.kind, notification.delivery) == (
        world.officer, "update_submitted", "hourly",
    )  # fmt: skip
    assert mail.outbox == []
    assert send_batched_notifications() == 1
    [sent] = mail.outbox
    assert sent.to == ["officer@example.org"] and "Submitted for review: CYB-1.1" in sent.subject


def test_several_submissions_make_one_e_mail_and_a_second_run_sends_nothing(emails, django_capture_on_commit_callbacks):
    world = emails
    world.area.lead_officers.add(world.officer)
    with django_capture_on_commit_callbacks(execute=True):
        submit(world)
        update = services.create_update(
            by=world.reporter, activity=world.restricted, period=world.period, office=world.office, rag="on_track",
            percent_complete=20, submit=True,
        )  # fmt: skip
    assert update.state == "submitted"
    send_batched_notifications()
    send_batched_notifications()
    [sent] = mail.outbox
    assert sent.subject == "2 notifications from the Joint Action Plan Portal"


def test_every_officer_is_told_when_no_one_is_named(emails, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        submit(emails)
    assert list(Notification.objects.values_list("recipient__username", flat=True)) == ["officer"]


def test_the_author_is_told_of_the_review_at_once(emails, django_capture_on_commit_callbacks):
    world = emails
    update = submit(world)
    with django_capture_on_commit_callbacks(execute=True):
        services.return_update(by=world.officer, update=update, comment="Add numbers by sex.")
    [sent] = mail.outbox
    assert sent.to == ["reporter.roseap@example.org"] and "Add numbers by sex." in sent.body
    assert Notification.objects.get(recipient=world.reporter).emailed_at is not None


def test_a_reporter_who_wants_no_e_mail_finds_it_in_the_portal_only(
    emails, django_capture_on_commit_callbacks, as_user
):
    world = emails
    save_profile(user=world.reporter, first_name="Rita", last_name="Reporter", language="",
                 email_choices={"update_reviewed": notifications.NONE})  # fmt: skip
    update = submit(world)
    with django_capture_on_commit_callbacks(execute=True):
        services.approve_update(by=world.officer, update=update)
    assert mail.outbox == []
    client = as_user(world.reporter)
    assert "1 new" in client.get(reverse("home")).content.decode()
    page = client.get(reverse("notifications")).content.decode()
    assert "Approved: your update on CYB-1.1" in page
    assert "1 new" not in client.get(reverse("home")).content.decode()


def test_a_daily_digest_gathers_the_days_notifications(emails, django_capture_on_commit_callbacks):
    world = emails
    save_profile(user=world.reporter, first_name="Rita", last_name="Reporter", language="",
                 email_choices={"update_reviewed": notifications.DAILY, "comment": notifications.DAILY})  # fmt: skip
    update = submit(world)
    with django_capture_on_commit_callbacks(execute=True):
        services.return_update(by=world.officer, update=update, comment="Which workshop?")
        services.add_comment(by=world.officer, update=update, text="See the attendance list.")
    assert mail.outbox == []
    assert send_notification_digests() == 1
    assert mail.outbox[0].subject == "2 notifications from the Joint Action Plan Portal"


def test_a_reporters_message_goes_to_the_officers_and_an_officers_to_the_author(
    emails, django_capture_on_commit_callbacks
):
    world = emails
    update = submit(world)
    Notification.objects.all().delete()
    with django_capture_on_commit_callbacks(execute=True):
        services.add_comment(by=world.reporter, update=update, text="Figures corrected.")
        services.add_comment(by=world.officer, update=update, text="Thank you.")
    assert sorted(Notification.objects.values_list("recipient__username", "kind")) == [
        ("officer", "comment"), ("reporter.roseap", "comment"),
    ]  # fmt: skip


def test_a_refused_recipient_gets_its_notifications_back_for_the_next_run(emails, settings, monkeypatch):
    world = emails
    notifications.notify(recipients=[world.officer], kind="update_submitted", subject="One", url="/")

    def refuse(*args, **kwargs):
        raise ConnectionRefusedError("mail server down")

    monkeypatch.setattr(notifications, "send_mail", refuse)
    assert send_batched_notifications() == 0
    assert Notification.objects.get().emailed_at is None
    monkeypatch.undo()
    assert send_batched_notifications() == 1


def test_the_profile_saves_the_name_language_and_e_mail_choices(as_user, world):
    client = as_user(world.reporter)
    data = {"first_name": "Rita", "last_name": "Rossi", "language": "fr"}
    data.update({f"email_{key}": "immediate" for key in notifications.KINDS})
    data["email_comment"] = "none"
    assert client.post(reverse("profile"), data).status_code == 302
    world.reporter.refresh_from_db()
    profile = Profile.objects.get(user=world.reporter)
    assert (world.reporter.get_full_name(), profile.language, profile.email_choices["comment"]) == (
        "Rita Rossi", "fr", "none",
    )  # fmt: skip


def test_a_name_is_required_and_the_choices_kept(as_user, world):
    response = as_user(world.reporter).post(reverse("profile"), {"first_name": "", "last_name": "Rossi"})
    assert response.status_code == 200 and "This field is required." in response.content.decode()
    assert 'value="Rossi"' in response.content.decode()
