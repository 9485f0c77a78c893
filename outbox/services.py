"""Jobs handed to the Celery workers only once the change that asks for them is committed, and
handed again until the queue has taken them: a stopped Redis delays jobs, it loses none.

``enqueue`` writes a message in the caller's transaction and, once it commits, tries to
send it at once. If the queue is unreachable, the message stays pending and ``drain`` (a
beat job, every minute) sends it when the queue is back. Each sending claims its message
with a conditional update first, so two processes never send one message together. A
process that dies after the queue took a message but before marking it sent lets it be
sent again after ``CLAIM``: the tasks sent this way must be safe to run twice.

Only the queue being unreachable (``BROKER_ERRORS``) stops a drain, since every later
message would fail the same way. A message failing for a reason of its own (its sender no
longer importable, arguments it refuses) keeps its error and its count of failures, and
the drain goes on to the next one; after ``MAX_FAILURES`` it is given up (``failed_at``),
listed in the admin with its last error, and no longer tried.
"""

import logging
from datetime import timedelta
from enum import Enum

from django.conf import settings
from django.db import transaction
from django.db.models import F, Q
from django.utils import timezone
from django.utils.module_loading import import_string
from kombu.exceptions import OperationalError as BrokerOperationalError
from redis.exceptions import RedisError

from .models import PENDING, Message

logger = logging.getLogger(__name__)

# How long a sending process holds its message; far longer than publishing takes.
CLAIM = timedelta(minutes=2)
# How many messages one drain sends at most; the next minute's drain takes the rest.
DRAIN_BATCH = 500
# How many times a message may fail for a reason of its own before it is given up. A drain
# runs every minute: a fault fixed within minutes (a deploy that renamed a task) still lets
# it go; one that lasts means the message never will, and it must not be tried for ever.
MAX_FAILURES = 5
# The queue unreachable or refusing every message: the message is fine, and every later one
# would fail the same way. Kombu reports a lost connection as OperationalError; Redis's own
# errors (connection lost, time-out, but also out of memory, read-only replica, wrong
# password) reach here unwrapped; sockets raise OSError. A message's own fault is none of
# these: ImportError, TypeError, kombu's EncodeError for arguments it cannot serialise.
BROKER_ERRORS = (BrokerOperationalError, RedisError, OSError)


class Sent(Enum):
    SENT = "sent"
    TAKEN = "taken"  # sent already, or being sent by another process
    FAILED = "failed"  # the queue is unreachable; still pending
    BROKEN = "broken"  # it failed for a reason of its own; still pending, until MAX_FAILURES
    GIVEN_UP = "given_up"  # it failed for a reason of its own MAX_FAILURES times; no longer tried


def enqueue(sender: str, **kwargs) -> Message:
    """Record a job in the current transaction; send it to the queue as soon as that commits.

    ``sender`` is the dotted path of a function publishing the task; ``kwargs`` must be JSON.
    """
    message = Message.objects.create(sender=sender, kwargs=kwargs)
    # robust: a failure to send must not turn a committed change into an error for the user.
    transaction.on_commit(lambda: send(message_id=message.pk), robust=True)
    return message


def send(*, message_id: int) -> Sent:
    """Send one pending message unless another process holds it; on failure leave it pending,
    or give it up once it failed ``MAX_FAILURES`` times for a reason of its own."""
    now = timezone.now()
    claimed_until = now + CLAIM
    free = Q(claimed_until__isnull=True) | Q(claimed_until__lt=now)
    claimed = Message.objects.filter(free, PENDING, pk=message_id).update(
        claimed_until=claimed_until, attempts=F("attempts") + 1
    )
    if not claimed:
        return Sent.TAKEN
    message = Message.objects.get(pk=message_id)
    mine = Message.objects.filter(pk=message_id, claimed_until=claimed_until)
    try:
        import_string(message.sender)(**message.kwargs)
    except BROKER_ERRORS as error:
        logger.warning("Outbox message %s (%s) not sent; it waits for the next drain: %s", message_id, message, error)
        mine.update(claimed_until=None, last_error=_described(error))
        return Sent.FAILED
    except Exception as error:
        failures = message.failures + 1
        given_up = failures >= MAX_FAILURES
        log = logger.error if given_up else logger.warning
        log(
            "Outbox message %s (%s) failed (%d of %d times)%s: %s",
            message_id, message, failures, MAX_FAILURES, "; given up" if given_up else "", error, exc_info=True,
        )  # fmt: skip
        mine.update(
            claimed_until=None,
            last_error=_described(error),
            failures=F("failures") + 1,
            failed_at=timezone.now() if given_up else None,
        )
        return Sent.GIVEN_UP if given_up else Sent.BROKEN
    mine.update(sent_at=timezone.now(), claimed_until=None, last_error="")
    return Sent.SENT


def _described(error: Exception) -> str:
    return f"{type(error).__name__}: {error}"[:2000]


def drain(*, batch: int = DRAIN_BATCH) -> int:
    """Send the pending messages, oldest first, until the queue is found unreachable; return how many went.

    A message failing for a reason of its own is passed over (and given up after
    ``MAX_FAILURES``); those after it are sent. Sent messages older than
    ``OUTBOX_KEEP_DAYS`` are deleted; given-up ones are kept for the admin to see.
    """
    pending = Message.objects.filter(PENDING).order_by("created_at", "pk")
    sent = 0
    for message_id in list(pending.values_list("pk", flat=True)[:batch]):
        outcome = send(message_id=message_id)
        if outcome is Sent.FAILED:
            break  # the queue is down: the rest would fail the same way
        sent += outcome is Sent.SENT
    kept_since = timezone.now() - timedelta(days=settings.OUTBOX_KEEP_DAYS)
    Message.objects.filter(sent_at__lt=kept_since).delete()
    return sent
