"""Hold a PostgreSQL advisory lock on a report (or one of its renderings) while a worker writes its files."""

import uuid
from contextlib import contextmanager

from django.db import connection


@contextmanager
def exclusive(key_id):
    """Hold an advisory lock keyed on the UUID ``key_id``; yield whether it was taken.

    A redelivered task whose first delivery still runs elsewhere finds the lock taken
    and stops; a dead worker's lock goes with its connection.
    """
    if connection.vendor != "postgresql":
        yield True
        return
    key = int.from_bytes(uuid.UUID(str(key_id)).bytes[:8], "big", signed=True)
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_try_advisory_lock(%s)", [key])
        locked = cursor.fetchone()[0]
    try:
        yield locked
    finally:
        if locked:
            with connection.cursor() as cursor:
                cursor.execute("SELECT pg_advisory_unlock(%s)", [key])
