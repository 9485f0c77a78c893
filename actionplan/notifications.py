"""E-mail the people an update's workflow concerns."""

from django.conf import settings
from django.core.mail import send_mail
from django.urls import reverse
from django.utils.translation import gettext as _

from .models import ProgressUpdate


def notify_author_of_review(update: ProgressUpdate):
    """Tell the update's author that it was approved or returned, with the officer's comment."""
    if not update.author.email:
        return
    returned = update.state == ProgressUpdate.State.RETURNED
    values = {"activity": update.activity.code, "period": update.period.code, "office": update.office.code}
    subject = (
        _("Returned: your update on %(activity)s for %(period)s")
        if returned
        else _("Approved: your update on %(activity)s for %(period)s")
    ) % values
    lines = [
        (_("Your update on %(activity)s for %(period)s (%(office)s) was returned for changes.") if returned
         else _("Your update on %(activity)s for %(period)s (%(office)s) was approved.")) % values,
    ]  # fmt: skip
    if update.review_comment:
        lines += [
            "",
            _("Comment from %(officer)s:") % {"officer": update.reviewed_by.get_username()},
            update.review_comment,
        ]
    lines += ["", settings.PORTAL_URL.rstrip("/") + reverse("update-detail", args=[update.pk])]
    send_mail(subject, "\n".join(lines), None, [update.author.email])
