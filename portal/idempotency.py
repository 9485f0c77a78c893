"""Run a request once per idempotency key, however often and however concurrently it is retried.

The key's row is inserted in the same transaction as the work it guards. A concurrent
retry's insert waits on the unique index until the first request commits, then finds
the stored answer and replays it; if the first request failed, its row is gone with
its rollback and the retry runs afresh. Only successful answers are stored, so a
request refused for a reason that can go away (a locked period) may be retried.
"""

import datetime
import hashlib
import json
from collections.abc import Callable

from django.conf import settings
from django.db import connection, transaction
from django.utils import timezone
from rest_framework.renderers import JSONRenderer
from rest_framework.response import Response

from .errors import IdempotencyKeyReused
from .models import IdempotencyKey

REPLAYED_HEADERS = ("ETag", "Location")


def fingerprint(*parts: bytes | str) -> str:
    digest = hashlib.sha256()
    for part in parts:
        digest.update(part.encode() if isinstance(part, str) else part)
        digest.update(b"\0")
    return digest.hexdigest()


def canonical_json(data) -> str:
    return json.dumps(data, sort_keys=True, separators=(",", ":"), default=str)


def replay_or_run(*, user, key: str, request_fingerprint: str, run: Callable[[], Response]) -> Response:
    """Return the stored answer for ``key``, or run the request and store its answer if it succeeds."""
    with transaction.atomic():
        claimed = _claim(user=user, key=key, request_fingerprint=request_fingerprint)
        if claimed is None:
            record = IdempotencyKey.objects.get(user=user, key=key)
            if record.fingerprint != request_fingerprint:
                raise reused(key)
            response = Response(record.body, status=record.status_code, headers=record.headers)
            response["Idempotent-Replayed"] = "true"
            return response
        response = run()
        if not 200 <= response.status_code < 300:
            transaction.set_rollback(True)
            return response
        _store(claimed, response)
        return response


def _claim(*, user, key: str, request_fingerprint: str) -> int | None:
    """Insert the user's key and return its row's id; None when the key is stored already.

    ON CONFLICT DO NOTHING waits on the unique index for a request holding the key to end, as a
    plain insert would, but answers "not inserted" instead of failing: no savepoint to recover
    from the failure, two statements fewer on every request sent with a key.
    """
    table = IdempotencyKey._meta.db_table
    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {table} (user_id, key, fingerprint, headers, created_at) VALUES (%s, %s, %s, %s, %s) "  # noqa: S608  # nosec B608  # the model's table; values are parameters
            "ON CONFLICT (user_id, key) DO NOTHING RETURNING id",
            [user.pk, key, request_fingerprint, "{}", timezone.now()],
        )
        row = cursor.fetchone()
    return row[0] if row else None


def _store(claimed: int, response: Response) -> None:
    """Keep the answer of the claimed key's request: its status, its body as JSON renders it, the headers replayed.

    Written as the claim is, in SQL of its own: the body goes in as the renderer's text, where the ORM's
    update parsed it back and encoded it again, on every request sent with a key.
    """
    headers = {name: response[name] for name in REPLAYED_HEADERS if response.has_header(name)}
    body = (JSONRenderer().render(response.data) or b"null").decode()
    with connection.cursor() as cursor:
        cursor.execute(
            f"UPDATE {IdempotencyKey._meta.db_table} SET status_code = %s, body = %s, headers = %s WHERE id = %s",  # noqa: S608  # nosec B608  # the model's table; values are parameters
            [response.status_code, body, json.dumps(headers), claimed],
        )


def reused(key: str) -> IdempotencyKeyReused:
    """The refusal of a key sent again with another request."""
    return IdempotencyKeyReused(
        f"Idempotency-Key {key!r} was already used with another request; send a new key for a new request.",
        field="Idempotency-Key",
    )


# Many requests' keys at once, for a call that answers many (the bulk create): the same rows, read and
# written a few statements for all rather than a transaction each.


def stored_answers(*, user, keys) -> dict[str, IdempotencyKey]:
    """The user's stored keys among ``keys``, by key: one query."""
    return {record.key: record for record in IdempotencyKey.objects.filter(user=user, key__in=list(keys))}


def store_answers(*, user, answers: dict[str, tuple[str, int, object]]) -> None:
    """Store each {key: (request fingerprint, status code, body)} answer, unless its key is stored already.

    The caller's transaction must hold the work the answers stand for, as ``replay_or_run``'s does. A key
    another request holds is left to it (ON CONFLICT DO NOTHING, waiting for that request's transaction
    to end first): read the keys back (``stored_answers``) to tell which answers are the caller's. The
    rows go in the keys' order, so that two calls storing the same keys wait on each other, never deadlock.
    """
    IdempotencyKey.objects.bulk_create(
        [
            IdempotencyKey(user=user, key=key, fingerprint=fingerprint, status_code=status, body=body)
            for key, (fingerprint, status, body) in sorted(answers.items())
        ],
        ignore_conflicts=True,
    )


def forget_answers(*, user, keys) -> None:
    """Delete the user's stored answers for ``keys``: their work was not done after all."""
    IdempotencyKey.objects.filter(user=user, key__in=list(keys)).delete()


def purge_expired_keys() -> int:
    """Delete keys older than ``IDEMPOTENCY_KEY_HOURS``; return how many."""
    cutoff = timezone.now() - datetime.timedelta(hours=settings.IDEMPOTENCY_KEY_HOURS)
    deleted, _ = IdempotencyKey.objects.filter(created_at__lt=cutoff).delete()
    return deleted
