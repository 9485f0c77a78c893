"""Tell people what concerns them: a notification listed in the portal, and e-mailed as each chose.

Each kind of event has a default; a user's profile may choose, per kind, an e-mail at once,
a daily digest, or none. Submissions for review are never e-mailed one by one: an officer
gets them batched, at most one e-mail an hour. Sending is at least once: the rows to send
are claimed with a conditional update, and given back when the mail server refuses.
"""

import logging
from collections.abc import Callable
from dataclasses import dataclass

from django.conf import settings
from django.core.mail import send_mail
from django.db import transaction
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from . import languages
from .models import Notification, Profile

logger = logging.getLogger(__name__)

IMMEDIATE, DAILY, NONE = "immediate", "daily", "none"
CHOICES = [
    (IMMEDIATE, gettext_lazy("at once")),
    (DAILY, gettext_lazy("in a daily digest")),
    (NONE, gettext_lazy("no e-mail (listed in the portal only)")),
]


@dataclass(frozen=True)
class Kind:
    key: str
    label: str
    # At once means within the hour, several together, for kinds that come in numbers.
    batched: bool = False


KINDS = {
    kind.key: kind
    for kind in (
        Kind("update_submitted", gettext_lazy("An update is submitted for your review"), batched=True),
        Kind("update_reviewed", gettext_lazy("Your office's update is approved or returned")),
        Kind("comment", gettext_lazy("Someone writes on an update you follow")),
        Kind("action_item", gettext_lazy("An action item is assigned to you or your office")),
        Kind("webhook_switched_off", gettext_lazy("A webhook of yours is switched off after failing")),
        Kind("signature_awaited", gettext_lazy("Minutes or a report await your signature as co-chair")),
        Kind(
            "signoff_outcome", gettext_lazy("What you submitted for signature is signed by both parties, or declined")
        ),
    )
}


def _delivery(user, kind: Kind, choices: dict) -> str:
    choice = choices.get(kind.key, IMMEDIATE)
    if choice == NONE or not user.email:
        return Notification.Delivery.NONE
    if choice == DAILY:
        return Notification.Delivery.DAILY
    return Notification.Delivery.HOURLY if kind.batched else Notification.Delivery.NOW


Text = str | Callable[[], str]


def _written(text: Text, language: str) -> str:
    """The text in the recipient's language: a callable is called with that language active."""
    if not callable(text):
        return text
    with translation.override(language):
        return text()


@dataclass(frozen=True)
class Event:
    """Something to tell ``recipients``: ``notify``'s arguments."""

    recipients: list
    kind: str
    subject: Text
    body: Text = ""
    url: str = ""


def notify(*, recipients, kind: str, subject: Text, body: Text = "", url: str = "") -> list[Notification]:
    """List the event for each recipient (once each), and e-mail those who want it at once, after commit.

    ``subject`` and ``body`` are best given as callables that build the text, so that each
    recipient reads it in the language of their profile.
    """
    return notify_all([Event(recipients=recipients, kind=kind, subject=subject, body=body, url=url)])


def notify_all(events: list[Event]) -> list[Notification]:
    """Notify of each event as ``notify`` does, all of them in two queries (the profiles, the insert)."""
    everyone = {pk: user for event in events for pk, user in _reached(event).items()}
    profiles = {
        user_id: (choices, language)
        for user_id, choices, language in Profile.objects.filter(user__in=list(everyone)).values_list(
            "user_id", "email_choices", "language"
        )
    }

    def notification(event, user):
        choices, language = profiles.get(user.pk, ({}, ""))
        language = languages.supported(language) or settings.LANGUAGE_CODE
        return Notification(
            recipient=user, kind=event.kind, subject=_written(event.subject, language)[:300],
            body=_written(event.body, language), url=event.url,
            delivery=_delivery(user, KINDS[event.kind], choices or {}),
        )  # fmt: skip

    made = Notification.objects.bulk_create(
        notification(event, user) for event in events for user in _reached(event).values()
    )
    now = [notification.pk for notification in made if notification.delivery == Notification.Delivery.NOW]
    if now:
        transaction.on_commit(lambda: send_due(Notification.Delivery.NOW, only=now))
    return made


def _reached(event: Event) -> dict:
    """The event's recipients who can be told, once each, by id."""
    return {user.pk: user for user in event.recipients if user is not None and user.is_active}


def _link(path: str) -> str:
    return settings.PORTAL_URL.rstrip("/") + path if path else ""


def _email(user, notifications: list[Notification]):
    with translation.override(languages.user_language(user)):
        _send(user, notifications)


def _send(user, notifications: list[Notification]):
    if len(notifications) == 1:
        [single] = notifications
        subject = single.subject
        body = "\n".join(filter(None, [single.body, "", _link(single.url)]))
    else:
        subject = _("%(count)d notifications from the Joint Action Plan Portal") % {"count": len(notifications)}
        body = "\n\n".join("\n".join(filter(None, [n.subject, n.body, _link(n.url)])) for n in notifications)
    footer = _("Choose which e-mails you receive: %(link)s") % {"link": _link("/accounts/profile/")}
    send_mail(subject, f"{body}\n\n-- \n{footer}", None, [user.email])


def send_due(delivery: str, *, only=None) -> int:
    """E-mail what waits to be e-mailed this way, one e-mail per recipient; return how many e-mails went.

    The rows are claimed first (a run beside this one finds them taken); a recipient the
    mail server refuses gets its rows back for the next run, and holds up no one else.
    """
    waiting = Notification.objects.filter(delivery=delivery, emailed_at__isnull=True)
    if only is not None:
        waiting = waiting.filter(pk__in=only)
    sent = 0
    for recipient in waiting.order_by().values_list("recipient", flat=True).distinct():
        claimed_at = timezone.now()
        ids = list(waiting.filter(recipient=recipient).values_list("pk", flat=True))
        if not Notification.objects.filter(pk__in=ids, emailed_at__isnull=True).update(emailed_at=claimed_at):
            continue
        mine = list(Notification.objects.filter(pk__in=ids, emailed_at=claimed_at).select_related("recipient__profile"))
        try:
            _email(mine[0].recipient, mine)
        except Exception:
            logger.exception("Notifications %s not e-mailed; the next run tries again", ids)
            Notification.objects.filter(pk__in=ids, emailed_at=claimed_at).update(emailed_at=None)
            continue
        sent += 1
    return sent


def mark_read(user, notifications) -> int:
    """Mark the user's notifications shown as read."""
    return Notification.objects.filter(
        recipient=user, pk__in=[n.pk for n in notifications], read_at__isnull=True
    ).update(read_at=timezone.now())
