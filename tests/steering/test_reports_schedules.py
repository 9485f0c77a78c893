"""The scheduled jobs act once however often they run: one report per period or meeting, one e-mail per person."""

import datetime
import smtplib

import pytest
from django.contrib.auth.models import Group
from django.core import mail
from django_celery_beat.models import PeriodicTask

from portal.models import Role
from portal.reference import load_reference_data
from steering import schedules
from steering.models import CommitteeMember, Meeting, ProgressReport, SentNotification
from steering.reports import services
from tests import factories


def test_a_period_that_ended_gets_one_whole_plan_report_however_often_the_job_runs(reported):
    day_after = reported.period.ends_on + datetime.timedelta(days=1)

    assert schedules.compile_period_reports(today=day_after) == 1
    assert schedules.compile_period_reports(today=day_after) == 0
    assert schedules.compile_period_reports(today=day_after + datetime.timedelta(days=3)) == 0

    report = ProgressReport.objects.get()
    assert (report.period, report.focus_area, report.requested_by) == (reported.period, None, None)
    assert SentNotification.objects.get(kind="period_report").report == report


def test_a_period_report_that_failed_or_is_gone_is_compiled_again(reported):
    day_after = reported.period.ends_on + datetime.timedelta(days=1)
    schedules.compile_period_reports(today=day_after)
    first = ProgressReport.objects.get()
    ProgressReport.objects.filter(pk=first.pk).update(state="failed", error="The worker stopped.")

    assert schedules.compile_period_reports(today=day_after) == 1
    first.refresh_from_db()
    assert (first.state, first.error) == ("queued", "")
    assert schedules.compile_period_reports(today=day_after) == 0

    ProgressReport.objects.all().delete()
    assert schedules.compile_period_reports(today=day_after) == 1
    new = ProgressReport.objects.get()
    assert (new.state, SentNotification.objects.get(kind="period_report").report) == ("queued", new)


def test_periods_that_ended_long_ago_are_not_compiled_on_a_first_run(reported):
    assert schedules.compile_period_reports(today=datetime.date(2026, 1, 1), catch_up_days=30) == 0
    assert not ProgressReport.objects.exists()


def test_a_meeting_a_week_away_gets_its_report_then_each_member_one_email(reported):
    meeting = Meeting.objects.create(
        committee=reported.committee_body, title="Autumn meeting", date=datetime.date(2020, 11, 10), place="Vienna"
    )
    today = datetime.date(2020, 11, 4)

    assert schedules.compile_meeting_reports(today=today) == 1
    assert schedules.compile_meeting_reports(today=today) == 0
    report = ProgressReport.objects.get()
    assert report.period == reported.q3  # the latest period that ended before today
    assert mail.outbox == []

    assert services.compile_report(report_id=report.pk) == "succeeded"
    sent = schedules.compile_meeting_reports(today=today)
    again = schedules.compile_meeting_reports(today=today + datetime.timedelta(days=1))

    members = sorted(meeting.committee.members.values_list("email", flat=True))
    assert (sent, again) == (len(members), 0)
    assert sorted(message.to[0] for message in mail.outbox) == members
    assert str(report.pk) in mail.outbox[0].body and report.content_hash in mail.outbox[0].body
    assert ProgressReport.objects.count() == 1


def test_a_failed_meeting_report_is_compiled_again_and_then_sent(reported):
    Meeting.objects.create(
        committee=reported.committee_body, title="Autumn meeting", date=datetime.date(2020, 11, 10), place="Vienna"
    )
    today = datetime.date(2020, 11, 4)
    schedules.compile_meeting_reports(today=today)
    report = ProgressReport.objects.get()
    ProgressReport.objects.filter(pk=report.pk).update(state="failed", error="The worker stopped.")

    assert schedules.compile_meeting_reports(today=today) == 1
    assert ProgressReport.objects.get().state == "queued" and mail.outbox == []
    assert services.compile_report(report_id=report.pk) == "succeeded"
    assert schedules.compile_meeting_reports(today=today) == len(mail.outbox) > 0


def test_the_meeting_report_goes_only_to_members_who_may_open_it(reported):
    meeting = Meeting.objects.create(
        committee=reported.committee_body, title="Autumn meeting", date=datetime.date(2020, 11, 10), place="Vienna"
    )
    # A seat holder without the committee role (or the officer's) would be refused the report's page.
    seat_only = factories.UserFactory(username="observer", email="observer@example.org")
    CommitteeMember.objects.create(committee=meeting.committee, user=seat_only, role=CommitteeMember.Role.MEMBER)
    today = datetime.date(2020, 11, 4)
    schedules.compile_meeting_reports(today=today)
    services.compile_report(report_id=ProgressReport.objects.get().pk)

    schedules.compile_meeting_reports(today=today)

    recipients = {message.to[0] for message in mail.outbox}
    assert recipients and seat_only.email not in recipients
    assert not SentNotification.objects.filter(recipient=seat_only.email).exists()


def test_a_meeting_further_away_or_held_gets_no_report(reported):
    assert schedules.compile_meeting_reports(today=reported.meeting.date - datetime.timedelta(days=30)) == 0
    Meeting.objects.filter(pk=reported.meeting.pk).update(state=Meeting.State.HELD)
    assert schedules.compile_meeting_reports(today=reported.meeting.date - datetime.timedelta(days=3)) == 0
    assert not ProgressReport.objects.exists()


@pytest.fixture
def due_soon(reported):
    """2020-Q2 is open and due in five days; ROSEAP's reporter has nothing missing, NBO's two activities."""
    second = factories.UserFactory(username="reporter2.nbo", email="second@nbo.example.org")
    second.groups.add(Group.objects.get(name=Role.FIELD_REPORTER))
    factories.MembershipFactory(user=second, office=reported.other_office)
    reported.second_nbo_reporter = second
    return reported.period.due_on - datetime.timedelta(days=5)


def test_reporters_whose_updates_are_due_and_missing_are_reminded_once(due_soon, reported):
    assert schedules.remind_due_updates(today=due_soon) == 2
    assert schedules.remind_due_updates(today=due_soon + datetime.timedelta(days=1)) == 0

    assert sorted(message.to[0] for message in mail.outbox) == sorted(
        [reported.other_reporter.email, reported.second_nbo_reporter.email]
    )
    assert "CYB-1.3, CYB-1.4" in mail.outbox[0].body and "2020-Q2" in mail.outbox[0].subject


def test_no_reminder_before_the_week_or_for_a_locked_period(due_soon, reported):
    assert schedules.remind_due_updates(today=reported.period.due_on - datetime.timedelta(days=8)) == 0
    reported.period.state = "locked"
    reported.period.save()
    assert schedules.remind_due_updates(today=due_soon) == 0
    assert mail.outbox == []


def test_a_failed_send_is_not_recorded_and_goes_out_on_the_next_run(due_soon, reported, monkeypatch):
    def down(*args, **kwargs):
        raise ConnectionRefusedError("SMTP server down")

    monkeypatch.setattr("steering.schedules.send_mail", down)
    assert schedules.remind_due_updates(today=due_soon) == 0
    assert not SentNotification.objects.exists()
    monkeypatch.undo()
    assert schedules.remind_due_updates(today=due_soon) == 2


def test_a_refused_recipient_holds_up_no_one_else_and_is_tried_again(due_soon, reported, monkeypatch):
    real_send_mail = schedules.send_mail
    refused = min(reported.other_reporter.email, reported.second_nbo_reporter.email)  # the first one sent to

    def picky(subject, body, sender, recipients):
        if recipients == [refused]:
            raise smtplib.SMTPRecipientsRefused({refused: (550, b"No such user")})
        return real_send_mail(subject, body, sender, recipients)

    monkeypatch.setattr("steering.schedules.send_mail", picky)
    assert schedules.remind_due_updates(today=due_soon) == 1
    assert [message.to for message in mail.outbox] == [
        [max(reported.other_reporter.email, reported.second_nbo_reporter.email)]
    ]
    assert not SentNotification.objects.filter(recipient=refused).exists()

    monkeypatch.undo()
    assert schedules.remind_due_updates(today=due_soon) == 1
    assert mail.outbox[-1].to == [refused]


def test_officers_get_the_weekly_digest_of_overdue_updates_once_a_week(reported):
    monday = datetime.date(2020, 7, 20)  # 2020-Q2 was due on 15 July and is still open

    assert schedules.send_overdue_digest(today=monday) == 1
    assert schedules.send_overdue_digest(today=monday + datetime.timedelta(days=2)) == 0
    assert schedules.send_overdue_digest(today=monday + datetime.timedelta(days=7)) == 1

    assert [message.to for message in mail.outbox] == [[reported.officer.email]] * 2
    assert "2020-Q2" in mail.outbox[0].body and "INTERPOL-RB-NBO: 2" in mail.outbox[0].body


def test_the_jobs_are_registered_with_beat_once(db):
    load_reference_data()
    load_reference_data()
    tasks = set(PeriodicTask.objects.values_list("task", flat=True))
    assert {
        "steering.tasks.fail_stale_reports",
        "steering.tasks.compile_period_reports",
        "steering.tasks.compile_meeting_reports",
        "steering.tasks.remind_due_updates",
        "steering.tasks.send_overdue_digest",
    } <= tasks
    assert PeriodicTask.objects.filter(task__startswith="steering.").count() == 5


# Each recipient's language ---------------------------------------------------------------------------


def speaks(user, language):
    from portal.models import Profile

    Profile.objects.update_or_create(user=user, defaults={"language": language})


def test_the_meeting_report_goes_to_a_french_member_in_french_and_to_the_others_in_english(reported):
    from django.utils import translation
    from django.utils.translation import gettext

    from portal.dates import show_date
    from steering.models import ReportRendering

    meeting = Meeting.objects.create(
        committee=reported.committee_body, title="Autumn meeting", date=datetime.date(2020, 11, 10), place="Vienna"
    )
    speaks(reported.cochair, "fr")
    today = datetime.date(2020, 11, 4)
    schedules.compile_meeting_reports(today=today)
    report = ProgressReport.objects.get()
    services.compile_report(report_id=report.pk)

    schedules.compile_meeting_reports(today=today)

    subject = "Progress report for the committee meeting of %(date)s"
    with translation.override("fr"):
        in_french = gettext(subject) % {"date": show_date(meeting.date, language="fr")}
    in_english = subject % {"date": show_date(meeting.date, language="en")}
    sent = {message.to[0]: message for message in mail.outbox}
    assert sent[reported.cochair.email].subject == in_french and "10 novembre 2020" in in_french
    assert sent[reported.secretary.email].subject == in_english
    assert f"/steering/reports/{report.pk}/pdf/?language=fr" in sent[reported.cochair.email].body
    assert f"/steering/reports/{report.pk}/pdf/?language=en" in sent[reported.secretary.email].body
    # Their files in French are being prepared, so that the link serves them.
    assert ReportRendering.objects.get(report=report).language == "fr"


def test_a_reporter_who_chose_french_is_reminded_in_french(due_soon, reported):
    from django.utils import translation
    from django.utils.translation import gettext

    from portal.dates import show_date

    speaks(reported.other_reporter, "fr")

    schedules.remind_due_updates(today=due_soon)

    subject = "Reminder: updates for %(period)s are due on %(due)s"
    with translation.override("fr"):
        in_french = gettext(subject) % {"period": "2020-Q2", "due": show_date(reported.period.due_on, language="fr")}
    sent = {message.to[0]: message.subject for message in mail.outbox}
    assert sent[reported.other_reporter.email] == in_french and "15 juillet 2020" in in_french
    assert sent[reported.second_nbo_reporter.email] == subject % {"period": "2020-Q2", "due": "15 July 2020"}


def test_an_officer_who_chose_french_gets_the_digest_in_french(reported):
    from django.utils import translation
    from django.utils.translation import gettext

    speaks(reported.officer, "fr")

    schedules.send_overdue_digest(today=datetime.date(2020, 7, 20))

    with translation.override("fr"):
        subject = gettext("Overdue updates, week %(week)s") % {"week": "2020-W30"}
        line = gettext("%(period)s (due %(due)s): %(n)d updates overdue") % {
            "period": "2020-Q2",
            "due": "15 juillet 2020",
            "n": 2,
        }
    [message] = mail.outbox
    assert message.subject == subject and line in message.body


def test_the_recipients_languages_cost_no_query_per_recipient(reported):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from steering.models import ReportRendering

    Meeting.objects.create(
        committee=reported.committee_body, title="Autumn meeting", date=datetime.date(2020, 11, 10), place="Vienna"
    )
    today = datetime.date(2020, 11, 4)
    schedules.compile_meeting_reports(today=today)
    report = ProgressReport.objects.get()
    services.compile_report(report_id=report.pk)
    ReportRendering.objects.create(report=report, language="fr")

    def queries_to_send():
        SentNotification.objects.filter(kind="meeting_report_mail").delete()
        with CaptureQueriesContext(connection) as captured:
            assert schedules.compile_meeting_reports(today=today) == 3
        return len(captured)

    without_profiles = queries_to_send()
    for member in (reported.cochair, reported.committee, reported.secretary):
        speaks(member, "fr")
    assert queries_to_send() == without_profiles
