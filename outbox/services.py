"""Jobs handed to the Celery workers only once the change that asks for them is committed, and
handed again until the queue has taken them: a stopped Redis delays jobs, it loses none.

``enqueue`` writes a message in the caller's transaction and, once it commits, tries to
send it at once. If the queue is unreachable, the message stays pending and ``drain`` (a
beat job, every minute) sends it when the queue is back. Each sending claims its message
with a conditional update first, so two processes never send one message together. A
process that dies after the queue took a message but before marking it sent lets it be
sent again after ``CLAIM``: the tasks sent this way must be safe to run twice.
"""

import logging
from datetime import timedelta
from enum import Enum

from django.conf import settings
from django.db import transaction
from django.db.models import F, Q
from django.utils import timezone
from django.utils.module_loading import import_string

from .models import Message

logger = logging.getLogger(__name__)

# How long a sending process holds its message; far longer than publishing takes.
CLAIM = timedelta(minutes=2)
# How many messages one drain sends at most; the next minute's drain takes the rest.
DRAIN_BATCH = 500


class Sent(Enum):
    SENT = "sent"
    TAKEN = "taken"  # sent already, or being sent by another process
    FAILED = "failed"  # the queue refused it; still pending


def enqueue(sender: str, **kwargs) -> Message:
    """Record a job in the current transaction; send it to the queue as soon as that commits.

    ``sender`` is the dotted path of a function publishing the task; ``kwargs`` must be JSON.
    """
    message = Message.objects.create(sender=sender, kwargs=kwargs)
    # robust: a failure to send must not turn a committed change into an error for the user.
    transaction.on_commit(lambda: send(message_id=message.pk), robust=True)
    return message


def send(*, message_id: int) -> Sent:
    """Send one pending message unless another process holds it; on failure leave it pending."""
    now = timezone.now()
    claimed_until = now + CLAIM
    free = Q(claimed_until__isnull=True) | Q(claimed_until__lt=now)
    claimed = Message.objects.filter(free, pk=message_id, sent_at__isnull=True).update(
        claimed_until=claimed_until, attempts=F("attempts") + 1
    )
    if not claimed:
        return Sent.TAKEN
    message = Message.objects.get(pk=message_id)
    mine = Message.objects.filter(pk=message_id, claimed_until=claimed_until)
    try:
        import_string(message.sender)(**message.kwargs)
    except Exception as error:
        logger.warning("Outbox message %s (%s) not sent; it waits for the next drain: %s", message_id, message, error)
        mine.update(claimed_until=None, last_error=f"{type(error).__name__}: {error}"[:2000])
        return Sent.FAILED
    mine.update(sent_at=timezone.now(), claimed_until=None, last_error="")
    return Sent.SENT


def drain(*, batch: int = DRAIN_BATCH) -> int:
    """Send the pending messages, oldest first, until the queue refuses one; return how many went.

    Sent messages older than ``OUTBOX_KEEP_DAYS`` are deleted.
    """
    pending = Message.objects.filter(sent_at__isnull=True).order_by("created_at", "pk")
    sent = 0
    for message_id in list(pending.values_list("pk", flat=True)[:batch]):
        outcome = send(message_id=message_id)
        if outcome is Sent.FAILED:
            break  # the queue is down: the rest would fail the same way
        sent += outcome is Sent.SENT
    kept_since = timezone.now() - timedelta(days=settings.OUTBOX_KEEP_DAYS)
    Message.objects.filter(sent_at__lt=kept_since).delete()
    return sent
