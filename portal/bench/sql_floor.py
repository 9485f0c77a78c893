"""The database floor of a computation: the SQL it runs, replayed alone with psycopg2 and timed.

The statements are captured as the code runs them (``CaptureQueriesContext``), with their
parameters in place, then sent again on connections of their own, each read to its last row. No
ORM, no Python work on the rows: what is left is PostgreSQL's time and the transfer, the least
the computation could cost with the queries it has.
"""

import contextlib
import re
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor

import psycopg2
from django.db import connection
from django.test.utils import CaptureQueriesContext

from .harness import Measured

# A queryset read with iterator() on PostgreSQL is a server-side cursor; its query is replayed plainly.
SERVER_SIDE_CURSOR = re.compile(r'^DECLARE "[^"]+" NO SCROLL CURSOR WITH(?:OUT)? HOLD FOR ', re.IGNORECASE)


def capture(compute: Callable[[], object]) -> list[str]:
    """Run ``compute`` and return the reading statements it sent, in order."""
    with CaptureQueriesContext(connection) as captured:
        compute()
    statements = [SERVER_SIDE_CURSOR.sub("", query["sql"]) for query in captured.captured_queries]
    return [statement for statement in statements if statement.lstrip().upper().startswith(("SELECT", "WITH"))]


def _connect():
    # The portal's own connection parameters (jit=off among them) and time zone.
    replay = psycopg2.connect(**connection.get_connection_params())
    replay.autocommit = True
    with replay.cursor() as cursor:
        cursor.execute("SET TIME ZONE 'UTC'")
    return replay


def _replay(replay, statements: list[str]) -> float:
    started = time.perf_counter()
    with replay.cursor() as cursor:
        for statement in statements:
            cursor.execute(statement)
            if cursor.description is not None:
                cursor.fetchall()
    return (time.perf_counter() - started) * 1000


def replay(statements: list[str], users: int, per_user: int) -> Measured:
    """Replay the statements ``per_user`` times on each of ``users`` connections at once; time each replay."""
    with contextlib.ExitStack() as stack:
        connections = [stack.enter_context(contextlib.closing(_connect())) for _ in range(users)]
        _replay(connections[0], statements)  # once untimed: the tables' pages in PostgreSQL's cache

        def work(replay_connection) -> list[float]:
            return [_replay(replay_connection, statements) for _ in range(per_user)]

        started = time.perf_counter()
        with ThreadPoolExecutor(max_workers=users) as pool:
            timings = [ms for future in [pool.submit(work, c) for c in connections] for ms in future.result()]
        return Measured(timings, time.perf_counter() - started, users)
