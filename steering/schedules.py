"""The jobs Celery beat runs: reports when a period ends and before meetings, reminders, digests.

Every job may run twice, or twice at once, and still act once: before it compiles or
sends, it inserts a ``SentNotification`` row whose unique constraint lets only one run
through. An e-mail's row is inserted in the transaction that sends it, so a send that
fails leaves no row and the next run tries again; one recipient the mail server refuses
holds up no one else. Delivery is at least once: if the commit fails after the server
took the e-mail, the next run sends it again.

A scheduled report that failed (or was deleted) is compiled again by a later run, at
most once per ``RETRY_FAILED_AFTER``, and its record points at the report compiled.

Each e-mail is written in its recipient's language (``Profile.language``; the portal's
when the recipient chose none), its dates as that language writes them, and the report's
files linked in it.
"""

import datetime
import logging
from collections import defaultdict

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.exceptions import ObjectDoesNotExist
from django.core.mail import send_mail
from django.db import DatabaseError, IntegrityError, transaction
from django.db.models import Exists, OuterRef
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from actionplan.models import Activity, ProgressUpdate, ReportingPeriod
from portal.dates import show_date
from portal.errors import WrongState
from portal.models import Membership, Office, Role
from portal.notifications import record_email_failure
from portal.roles import sees_whole_plan

from .models import Meeting, ProgressReport, ReportRendering, SentNotification
from .reports import languages, renderings, services

logger = logging.getLogger(__name__)

Kind = SentNotification.Kind
# A scheduled report that failed is queued again once its failure is this old: soon, but
# not at every run of an hourly job when it keeps failing.
RETRY_FAILED_AFTER = datetime.timedelta(hours=1)
ActivityOffice = Activity.implementing_offices.through
REPORTED = (ProgressUpdate.State.SUBMITTED, ProgressUpdate.State.APPROVED)
LISTED_PER_OFFICE = 40


def _link(path: str) -> str:
    return settings.PORTAL_URL.rstrip("/") + path


def _language(code) -> str:
    """A recipient's chosen language, or the portal's when none (or one no longer offered) was chosen."""
    return code if code in languages.codes() else settings.LANGUAGE_CODE


def _language_of(user) -> str:
    """The language of a user whose profile was loaded with it (``select_related("profile")``)."""
    try:
        return _language(user.profile.language)
    except ObjectDoesNotExist:
        return settings.LANGUAGE_CODE


def _prepare_renderings(report: ProgressReport, wanted: set[str]):
    """Ask for the report's files in the recipients' languages not asked for yet, so that their links serve them."""
    asked = set(ReportRendering.objects.filter(report=report).values_list("language", flat=True))
    for language in sorted(wanted - asked - {report.language}):
        renderings.request_rendering(report=report, language=language)


def _record(*, kind: str, key: str, recipient: str = "", report=None) -> SentNotification | None:
    """Insert the job's record; return None when a run before (or beside) this one already did."""
    try:
        with transaction.atomic():
            return SentNotification.objects.create(kind=kind, key=key, recipient=recipient, report=report)
    except IntegrityError:
        return None


def _send_once(*, kind: str, key: str, recipient: str, subject: str, body: str) -> bool:
    """Send one e-mail unless it was sent before; return whether it was sent now.

    A send that fails (the server refuses the recipient, or is down) rolls its record
    back and is logged: the next run tries again, and the other recipients are not held up.
    """
    try:
        with transaction.atomic():
            if _record(kind=kind, key=key, recipient=recipient) is None:
                return False
            send_mail(subject, body, None, [recipient])
    except DatabaseError:
        raise
    except Exception:
        logger.exception("E-mail %s %s to %s not sent; the next run tries again", kind, key, recipient)
        record_email_failure(kind=kind)
        return False
    return True


def _compile_again(record: SentNotification, *, plan, period) -> bool:
    """Queue the record's report again if it failed, or a new one if it is gone; return whether it did."""
    report = record.report
    if report is not None:
        if report.state != ProgressReport.State.FAILED:
            return False
        if report.finished_at and report.finished_at > timezone.now() - RETRY_FAILED_AFTER:
            return False
    with transaction.atomic():
        if report is None:
            report, _created = services.queue_report(plan=plan, period=period)
        else:
            try:
                report = services.requeue_report(report=report)
            except WrongState:
                return False  # a run beside this one queued it already
        record.report = report
        record.save(update_fields=["report"])
    return True


def compile_period_reports(*, catch_up_days: int = 30, today=None) -> int:
    """Queue the whole-plan report of each period whose end passed within ``catch_up_days``, once per period."""
    today = today or timezone.localdate()
    queued = 0
    periods = ReportingPeriod.objects.filter(
        ends_on__lt=today, ends_on__gte=today - datetime.timedelta(days=catch_up_days)
    ).select_related("plan")
    for period in periods:
        with transaction.atomic():
            record = _record(kind=Kind.PERIOD_REPORT, key=period.code)
            if record is not None:
                record.report, _created = services.queue_report(plan=period.plan, period=period)
                record.save(update_fields=["report"])
                queued += 1
                continue
        record = (
            SentNotification.objects.filter(kind=Kind.PERIOD_REPORT, key=period.code).select_related("report").get()
        )
        queued += _compile_again(record, plan=period.plan, period=period)
    return queued


def _period_for_meeting(meeting: Meeting, today) -> ReportingPeriod | None:
    periods = ReportingPeriod.objects.filter(plan=meeting.committee.plan).order_by("-ends_on")
    return periods.filter(ends_on__lt=today).first() or periods.filter(starts_on__lte=today).first()


def compile_meeting_reports(*, days_before: int = 7, today=None) -> int:
    """Queue a whole-plan report for each meeting ``days_before`` away; once it succeeds, e-mail it to the members.

    Runs often (hourly): the first run queues the report, a later run finds it compiled
    and sends the e-mails, each member once; a report that failed is compiled again.
    Only members who may open the report's page (the committee's and the officers'
    roles) are sent it.
    """
    today = today or timezone.localdate()
    done = 0
    meetings = Meeting.objects.filter(
        state=Meeting.State.SCHEDULED, date__gt=today, date__lte=today + datetime.timedelta(days=days_before)
    ).select_related("committee__plan")
    for meeting in meetings:
        key = str(meeting.pk)
        record = SentNotification.objects.filter(kind=Kind.MEETING_REPORT, key=key).select_related("report").first()
        if record is None:
            period = _period_for_meeting(meeting, today)
            if period is None:
                continue
            with transaction.atomic():
                record = _record(kind=Kind.MEETING_REPORT, key=key)
                if record is not None:
                    record.report, _created = services.queue_report(plan=meeting.committee.plan, period=period)
                    record.save(update_fields=["report"])
                    done += 1
            continue
        if record.report is None or record.report.state == ProgressReport.State.FAILED:
            period = record.report.period if record.report else _period_for_meeting(meeting, today)
            if period is not None:
                done += _compile_again(record, plan=meeting.committee.plan, period=period)
            continue
        report = record.report
        if report.state != ProgressReport.State.SUCCEEDED:
            continue
        members = [
            member
            for member in meeting.committee.members.filter(is_active=True)
            .exclude(email="")
            .select_related("profile")
            .order_by("username")
            if sees_whole_plan(member)
        ]
        _prepare_renderings(report, {_language_of(member) for member in members})
        for member in members:
            language = _language_of(member)
            with translation.override(language):
                subject, body = _meeting_report_mail(meeting, report, language)
                done += _send_once(
                    kind=Kind.MEETING_REPORT_MAIL, key=key, recipient=member.email, subject=subject, body=body
                )
    return done


def _meeting_report_mail(meeting: Meeting, report: ProgressReport, language: str) -> tuple[str, str]:
    """The subject and text of the e-mail that sends the committee its report, in the active language."""
    day = show_date(meeting.date, language=language)
    subject = _("Progress report for the committee meeting of %(date)s") % {"date": day}
    body = _(
        "The progress report on the joint action plan for the meeting of %(date)s in %(place)s is ready "
        "(period %(period)s, content hash %(hash)s):\n\n%(link)s"
    ) % {
        "date": day,
        "place": meeting.place,
        "period": report.period.code,
        "hash": report.content_hash,
        "link": _link(reverse("report-detail", args=[report.pk])),
    }
    files = [_link(f"{reverse(f'report-{kind}', args=[report.pk])}?language={language}") for kind in ("pdf", "xlsx")]
    body += "\n\n" + _("PDF: %(pdf)s\nWorkbook: %(xlsx)s") % {"pdf": files[0], "xlsx": files[1]}
    return subject, body


def _missing_by_office(period: ReportingPeriod) -> dict[int, list[str]]:
    """Activity codes whose update for the period is not yet submitted, per office id (streamed)."""
    received = ProgressUpdate.objects.filter(
        activity=OuterRef("activity_id"), office=OuterRef("office_id"), period=period, state__in=REPORTED
    )
    missing = defaultdict(list)
    rows = (
        ActivityOffice.objects.filter(activity__objective__focus_area__plan=period.plan_id)
        .exclude(activity__status__in=(Activity.Status.COMPLETED, Activity.Status.CANCELLED))
        .exclude(Exists(received))
        .order_by("office_id", "activity__code")
        .values_list("office_id", "activity__code")
        .iterator(chunk_size=5_000)
    )
    for office_id, code in rows:
        missing[office_id].append(code)
    return missing


def remind_due_updates(*, days_before: int = 7, today=None) -> int:
    """E-mail each reporter whose office's updates are due within ``days_before`` days and missing, once per period."""
    today = today or timezone.localdate()
    sent = 0
    periods = ReportingPeriod.objects.filter(
        state=ReportingPeriod.State.OPEN,
        due_on__gte=today,
        due_on__lte=today + datetime.timedelta(days=days_before),
    )
    for period in periods:
        missing = _missing_by_office(period)
        if not missing:
            continue
        offices_of = defaultdict(list)
        language_of = {}
        memberships = (
            Membership.objects.filter(
                office_id__in=missing, user__is_active=True, user__groups__name=Role.FIELD_REPORTER
            )
            .exclude(user__email="")
            .order_by("user__email", "office__code")
            .values_list("user__email", "office_id", "office__code", "user__profile__language")
        )
        for email, office_id, office_code, language in memberships:
            offices_of[email].append((office_id, office_code))
            language_of[email] = _language(language)
        for email, offices in offices_of.items():
            with translation.override(language_of[email]):
                subject, body = _reminder(period, offices, missing, language_of[email])
                sent += _send_once(kind=Kind.DUE_REMINDER, key=period.code, recipient=email, subject=subject, body=body)
    return sent


def _reminder(period: ReportingPeriod, offices, missing, language: str) -> tuple[str, str]:
    """The subject and text of a reminder of the updates missing for the offices, in the active language."""
    due = show_date(period.due_on, language=language)
    lines = [
        _("Updates for period %(period)s are due on %(due)s. These are not submitted yet:")
        % {"period": period.code, "due": due},
        "",
    ]
    for office_id, office_code in offices:
        codes = missing[office_id]
        listed = ", ".join(codes[:LISTED_PER_OFFICE])
        more = len(codes) - LISTED_PER_OFFICE
        lines.append(f"{office_code}: {listed}" + (_(" and %(n)d more") % {"n": more} if more > 0 else ""))
    lines += ["", _link(reverse("my-updates"))]
    subject = _("Reminder: updates for %(period)s are due on %(due)s") % {"period": period.code, "due": due}
    return subject, "\n".join(lines)


def send_overdue_digest(*, today=None) -> int:
    """E-mail each programme officer the week's digest of overdue updates, once per ISO week."""
    today = today or timezone.localdate()
    year, week, _weekday = today.isocalendar()
    key = f"{year}-W{week:02d}"
    overdue = []
    for period in ReportingPeriod.objects.filter(state=ReportingPeriod.State.OPEN, due_on__lt=today).order_by("due_on"):
        missing = _missing_by_office(period)
        if not missing:
            continue
        codes = dict(Office.objects.filter(pk__in=missing).values_list("pk", "code"))
        offices = [
            (codes[office_id], len(activities))
            for office_id, activities in sorted(missing.items(), key=lambda item: (-len(item[1]), codes[item[0]]))
        ]
        overdue.append((period, sum(count for _code, count in offices), offices))
    if not overdue:
        return 0
    officers = (
        get_user_model()
        .objects.filter(is_active=True, groups__name=Role.PROGRAMME_OFFICER)
        .exclude(email="")
        .order_by("email")
        .values_list("email", "profile__language")
        .distinct()
    )
    sent = 0
    for email, language in officers:
        with translation.override(_language(language)):
            subject, body = _digest(key, overdue, _language(language))
            sent += _send_once(kind=Kind.OVERDUE_DIGEST, key=key, recipient=email, subject=subject, body=body)
    return sent


def _digest(week: str, overdue, language: str) -> tuple[str, str]:
    """The subject and text of the week's digest of overdue updates, in the active language."""
    lines = []
    for period, total, offices in overdue:
        lines.append(
            _("%(period)s (due %(due)s): %(n)d updates overdue")
            % {"period": period.code, "due": show_date(period.due_on, language=language), "n": total}
        )
        lines += [f"  {code}: {count}" for code, count in offices]
    lines += ["", _link(reverse("review-queue"))]
    return _("Overdue updates, week %(week)s") % {"week": week}, "\n".join(lines)
