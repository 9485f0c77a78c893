"""Write the access log. Called from the views and commands that show or hand out what it accounts for."""

import contextlib
import datetime
from contextvars import ContextVar

from django.db import connection, models, transaction
from django.utils import timezone

from actionplan.models import Activity
from portal.addresses import client_address

from .models import AccessEvent

Kind = AccessEvent.Kind

# The request being answered, for what writes the log where no request is passed: the revocation of
# tokens that follows a password change (a model's save), the tokens that go with a deleted user.
_current_request: ContextVar = ContextVar("audit_current_request", default=None)


@contextlib.contextmanager
def answering(request):
    """Make ``request`` the current one while the block runs (``audit.middleware`` does, for each request)."""
    reset = _current_request.set(request)
    try:
        yield request
    finally:
        _current_request.reset(reset)


def current_request():
    """The request being answered, or None (a command, a worker's job)."""
    return _current_request.get()


def _describe(obj) -> tuple[str, str, str]:
    """The object's type, its code (or id) and a short label, as the log shows them."""
    if obj is None:
        return "", "", ""
    object_id = getattr(obj, "code", None) or str(obj.pk)
    label = getattr(obj, "title", None) or getattr(obj, "name", None) or str(obj)
    return obj._meta.model_name, str(object_id)[:64], str(label)[:200]


def record(
    request,
    kind: str,
    obj: models.Model | None = None,
    *,
    label: str = "",
    user=None,
    object_type: str = "",
    object_id: str = "",
) -> AccessEvent:
    """Write one access event: who (the request's user, or ``user``), what, when and from which address.

    The object is ``obj``, or for what is no row (an export) ``object_type`` and ``object_id``.
    ``request`` may be None for a command run on the server; the address is then left empty.
    """
    event = _event(request, kind, obj, label=label, user=user, object_type=object_type, object_id=object_id)
    event.save()
    return event


def _event(request, kind, obj=None, *, label="", user=None, object_type="", object_id="") -> AccessEvent:
    """The event ``record`` writes, not yet saved."""
    if user is None and request is not None and request.user.is_authenticated:
        user = request.user
    described_type, described_id, default_label = _describe(obj)
    object_type, object_id = (object_type or described_type)[:64], (object_id or described_id)[:64]
    return AccessEvent(
        user=user,
        username=user.get_username() if user is not None else "",
        kind=kind,
        object_type=object_type,
        object_id=object_id,
        label=(label or default_label)[:200],
        address=client_address(request)[:64] if request is not None else "",
    )


def record_restricted_view(request, activity, obj: models.Model | None = None) -> None:
    """Log a view of ``obj`` (the activity itself by default) when its activity is restricted.

    ``activity`` is None for an objective's indicator, which no activity restricts: nothing is logged.
    """
    if activity is not None and activity.sensitivity == activity.Sensitivity.RESTRICTED:
        record(request, Kind.RESTRICTED_VIEW, obj or activity)


def _activity_of(row):
    """The row's activity: the row itself when it is one, else its ``activity`` (None for an objective's indicator)."""
    return row if isinstance(row, Activity) else getattr(row, "activity", None)


def record_restricted_rows(request, rows) -> int:
    """Log a view of each row shown (activities, their indicators or updates) whose activity is restricted.

    One event per restricted row, all in one INSERT; no query at all when no row is restricted. The
    rows must carry their activity already (``select_related``), as the lists that show them do.
    Returns how many events were written.
    """
    events = []
    for row in rows:
        activity = _activity_of(row)
        if activity is not None and activity.sensitivity == activity.Sensitivity.RESTRICTED:
            events.append(_event(request, Kind.RESTRICTED_VIEW, row))
    if events:
        AccessEvent.objects.bulk_create(events)
    return len(events)


def record_token(request, kind: str, token, *, label: str = "") -> AccessEvent:
    """Log a token created or revoked, by its public prefix (never its key or its hash) and its name."""
    signed_in = request is not None and request.user.is_authenticated
    return record(
        request,
        kind,
        user=request.user if signed_in else token.user,
        object_type="api token",
        object_id=token.token_key,
        label=label or token.name,
    )


def record_tokens_revoked(tokens, *, why: str, user=None, request=None) -> None:
    """Log tokens revoked together (a password change, the admin, their user deleted), one event each, in one INSERT.

    ``user`` is the tokens' owner (else each token's ``user``). The request is ``request``, else the one
    being answered (``current_request``): its address is logged, and its signed-in user as who revoked
    them, the owner then named in the label when it is someone else (an administrator). Without a
    request (a command) the owner is logged, with no address.
    """
    request = request if request is not None else current_request()
    signed_in = request is not None and getattr(request, "user", None) is not None and request.user.is_authenticated
    events = []
    for token in tokens:
        owner = user if user is not None else token.user
        actor = request.user if signed_in else owner
        whose = "" if actor.pk == owner.pk else f"of {owner.get_username()}, "
        events.append(
            _event(
                request,
                Kind.TOKEN_REVOKED,
                user=actor,
                object_type="api token",
                object_id=token.token_key,
                label=f"{token.name} ({whose}{why})",
            )
        )
    if events:
        AccessEvent.objects.bulk_create(events)


def purge_access_log(*, days: int) -> int:
    """Delete the events older than ``days`` days; return how many.

    The purge is the one writer the append-only trigger lets delete: it says so with a setting
    local to the transaction, and switches it off again at once, since an outer transaction (a
    caller's, a test's) would otherwise carry it on. A failed delete rolls the savepoint back, and
    the setting with it.
    """
    cutoff = timezone.now() - datetime.timedelta(days=days)
    with transaction.atomic():
        _allow_purge(True)
        deleted, _count = AccessEvent.objects.filter(at__lt=cutoff).delete()
        _allow_purge(False)
    return deleted


def _allow_purge(allowed: bool) -> None:
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SELECT set_config('audit.purge', %s, true)", ["on" if allowed else "off"])
