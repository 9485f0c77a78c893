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
from typing import NamedTuple

import psycopg2
from django.db import connection
from django.test.utils import CaptureQueriesContext

from .harness import Measured

# A queryset read with iterator() on PostgreSQL is a server-side cursor: it is replayed as one, read in chunks.
SERVER_SIDE_CURSOR = re.compile(r'^DECLARE "[^"]+" NO SCROLL CURSOR WITH(?:OUT)? HOLD FOR ', re.IGNORECASE)
CHUNK = 2_000


class Statement(NamedTuple):
    sql: str
    server_side: bool


def capture(compute: Callable[[], object]) -> list[Statement]:
    """Run ``compute`` and return the reading statements it sent, in order."""
    with CaptureQueriesContext(connection) as captured:
        compute()
    statements = []
    for query in captured.captured_queries:
        sql = SERVER_SIDE_CURSOR.sub("", query["sql"])
        if sql.lstrip().upper().startswith(("SELECT", "WITH")):
            statements.append(Statement(sql, server_side=sql != query["sql"]))
    return statements


def _connect():
    # The portal's own connection parameters (jit=off among them) and time zone.
    replay = psycopg2.connect(**connection.get_connection_params())
    replay.autocommit = True
    with replay.cursor() as cursor:
        cursor.execute("SET TIME ZONE 'UTC'")
    return replay


def _replay(replay, statements: list[Statement]) -> float:
    started = time.perf_counter()
    for number, statement in enumerate(statements):
        if statement.server_side:
            # As Django reads it: a cursor held across the autocommit, fetched a chunk at a time.
            with replay.cursor(name=f"floor_{number}", withhold=True) as cursor:
                cursor.execute(statement.sql)
                while cursor.fetchmany(CHUNK):
                    pass
        else:
            with replay.cursor() as cursor:
                cursor.execute(statement.sql)
                if cursor.description is not None:
                    cursor.fetchall()
    return (time.perf_counter() - started) * 1000


def replay(statements: list[Statement], users: int, per_user: int) -> Measured:
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
