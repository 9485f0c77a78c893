"""Tell the people an update's workflow concerns: officers of a submission, the author of a review,
the other side of a message. Listed in the portal and e-mailed as each chose (``portal.notifications``)."""

from django.contrib.auth import get_user_model
from django.db.models import prefetch_related_objects
from django.urls import reverse
from django.utils.functional import SimpleLazyObject
from django.utils.translation import gettext as _

from portal.models import Role
from portal.notifications import Event, notify, notify_all
from portal.templatetags.people import display_name

from .models import ProgressUpdate


def officers_of(update: ProgressUpdate, *, everyone=None) -> list:
    """Who reviews an update: its activity's responsible officer and its focus area's leads, else every officer
    (``everyone``, when read already)."""
    activity = update.activity
    named = [activity.responsible_officer, *activity.objective.focus_area.lead_officers.all()]
    named = [user for user in named if user is not None]
    if named:
        return named
    return list(everyone if everyone is not None else _programme_officers())


def _programme_officers():
    return get_user_model().objects.filter(groups__name=Role.PROGRAMME_OFFICER, is_active=True)


def _names(update: ProgressUpdate) -> dict:
    return {"activity": update.activity.code, "period": update.period.code, "office": update.office.name}


def submitted(update: ProgressUpdate, *, again: bool):
    """Tell the update's officers that it waits for their review."""
    submitted_all([update], again=again)


def submitted_all(updates: list[ProgressUpdate], *, again: bool = False):
    """Tell each update's officers that it waits for their review: a few queries however many updates."""
    prefetch_related_objects(
        [update.activity for update in updates], "responsible_officer", "objective__focus_area__lead_officers"
    )
    everyone = SimpleLazyObject(lambda: list(_programme_officers()))
    events = []
    for update in updates:
        names = _names(update)

        def subject(names=names):
            return (
                _("Resubmitted for review: %(activity)s, %(period)s, %(office)s")
                if again
                else _("Submitted for review: %(activity)s, %(period)s, %(office)s")
            ) % names

        events.append(
            Event(
                recipients=officers_of(update, everyone=everyone),
                kind="update_submitted",
                subject=subject,
                body=update.activity.title,
                url=reverse("update-detail", args=[update.pk]),
            )
        )
    notify_all(events)


def reviewed(update: ProgressUpdate):
    """Tell the update's author that it was approved or returned, with the officer's comment."""
    returned = update.state == ProgressUpdate.State.RETURNED
    names = _names(update)

    def subject():
        return (
            _("Returned: your update on %(activity)s for %(period)s")
            if returned
            else _("Approved: your update on %(activity)s for %(period)s")
        ) % names

    def body():
        lines = [
            (_("Your update on %(activity)s for %(period)s (%(office)s) was returned for changes.") if returned
             else _("Your update on %(activity)s for %(period)s (%(office)s) was approved.")) % names,
        ]  # fmt: skip
        if update.review_comment and returned:
            officer = display_name(update.reviewed_by)
            lines += ["", _("Comment from %(officer)s:") % {"officer": officer}, update.review_comment]
        return "\n".join(lines)

    notify(
        recipients=[update.author],
        kind="update_reviewed",
        subject=subject,
        body=body,
        url=reverse("update-detail", args=[update.pk]),
    )


def commented(update: ProgressUpdate, comment):
    """Tell the other side of the conversation: the officers of a reporter's message, the author of an officer's."""
    author = comment.author
    from_office = update.office.memberships.filter(user=author).exists()
    recipients = officers_of(update) if from_office else [update.author]
    notify(
        recipients=[user for user in recipients if user.pk != author.pk],
        kind="comment",
        subject=lambda: (
            _("%(who)s wrote on %(activity)s, %(period)s") % {"who": display_name(author), **_names(update)}
        ),
        body=comment.text,
        url=reverse("update-detail", args=[update.pk]) + "#conversation",
    )
