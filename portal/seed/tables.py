"""Write many rows at once: PostgreSQL's COPY on PostgreSQL, the ORM's ``bulk_create`` elsewhere.

At the demo's larger scales most of the loading time went into ``bulk_create`` itself: a model
instance built for every row, then an INSERT of thousands of rows compiled value by value and
sent as megabytes of SQL. COPY takes the rows as CSV text instead. The rows are the same either
way: each table's other columns take their model defaults, timestamps that the model sets itself
are set as a save would, and the primary keys a caller needs before writing (to refer to the
rows) are drawn from the table's own sequence, so that the ORM's later inserts go on from there.
"""

import csv
import io
import json
from collections.abc import Iterable, Sequence
from contextlib import contextmanager, nullcontext

from django.db import connection, models
from django.utils import timezone
from simple_history.utils import bulk_create_with_history

BATCH = 5_000
TIMESTAMPS = ("created_at", "updated_at")


# How COPY's CSV is told a NULL from an empty string: None is written as this, "" as nothing.
NULL = "\\N"


def copying() -> bool:
    """Tell whether rows go in with COPY: PostgreSQL through psycopg2 (whose cursors have ``copy_expert``)."""
    return connection.vendor == "postgresql" and connection.Database.__name__ == "psycopg2"


@contextmanager
def timestamps_as_given(*models_):
    """Let bulk-created rows keep the creation and change times given, instead of "now"."""
    fields = [field for model in models_ for field in model._meta.concrete_fields if field.name in TIMESTAMPS]
    saved = [(field.auto_now, field.auto_now_add) for field in fields]
    for field in fields:
        field.auto_now = field.auto_now_add = False
    try:
        yield
    finally:
        for field, (auto_now, auto_now_add) in zip(fields, saved, strict=True):
            field.auto_now, field.auto_now_add = auto_now, auto_now_add


def _stamped(field) -> bool:
    return bool(getattr(field, "auto_now", False) or getattr(field, "auto_now_add", False))


class Table:
    """Write rows of one model, each a tuple of the values of ``columns`` (attnames: ``update_id``).

    The model's other concrete fields take their defaults, and its ``auto_now`` timestamps the
    moment of writing; an automatic primary key left out is numbered by the database.
    """

    def __init__(self, model: type[models.Model], columns: Sequence[str]):
        self.model = model
        self.columns = list(columns)
        fields = {field.attname: field for field in model._meta.concrete_fields}
        unknown = set(self.columns) - set(fields)
        if unknown:
            raise ValueError(f"{model.__name__} has no column {', '.join(sorted(unknown))}")
        self.stamped, self.defaults = [], {}
        for attname, field in fields.items():
            if attname in self.columns:
                continue
            if field.primary_key:
                if not isinstance(field, models.AutoField):
                    raise ValueError(f"{model.__name__}: give its primary key {attname}, it is not numbered")
            elif _stamped(field):
                self.stamped.append(attname)
            elif field.has_default() or not field.has_db_default():
                # A callable default (list, dict) is read once: the same empty value for every row.
                self.defaults[attname] = field.get_default()
        self.fields = fields
        self.json = [index for index, name in enumerate(self.columns) if isinstance(fields[name], models.JSONField)]
        self.moments = [
            index for index, name in enumerate(self.columns) if isinstance(fields[name], models.DateTimeField)
        ]
        self.nullable = [
            index for index, name in enumerate(self.columns) if fields[name].null and index not in self.moments
        ]

    def write(self, rows: Iterable[tuple]) -> int:
        """Write the rows; return how many."""
        now = timezone.now()
        if copying():
            return self._copy(rows, now)
        names = [*self.columns, *self.stamped, *self.defaults]
        rest = (*(now for _ in self.stamped), *self.defaults.values())
        objects = [self.model(**dict(zip(names, (*row, *rest), strict=True))) for row in rows]
        given = [name for name in self.columns if name in TIMESTAMPS]
        with timestamps_as_given(self.model) if given else nullcontext():
            self.model.objects.bulk_create(objects, batch_size=BATCH)
        return len(objects)

    def _copy(self, rows: Iterable[tuple], now) -> int:
        rest = [now for _ in self.stamped]
        rest += [NULL if value is None else json.dumps(value) if isinstance(self.fields[name], models.JSONField)
                 else value for name, value in self.defaults.items()]  # fmt: skip
        rest = tuple(rest)
        buffer = io.StringIO()
        out = csv.writer(buffer)
        count = 0
        # An aware datetime takes several microseconds to write as text, and the rows share few of them.
        moments = {None: NULL}
        for row in rows:
            if self.json or self.moments or self.nullable:
                row = list(row)
                for index in self.json:
                    row[index] = json.dumps(row[index])
                for index in self.nullable:
                    if row[index] is None:
                        row[index] = NULL
                for index in self.moments:
                    moment = row[index]
                    try:
                        row[index] = moments[moment]
                    except KeyError:
                        row[index] = moments[moment] = str(moment)
            out.writerow((*row, *rest))
            count += 1
        if not count:
            return 0
        names = [*self.columns, *self.stamped, *self.defaults]
        quote = connection.ops.quote_name
        table = quote(self.model._meta.db_table)
        statement = f"COPY {table} ({', '.join(map(quote, names))}) FROM STDIN WITH (FORMAT csv, NULL '{NULL}')"
        buffer.seek(0)
        with connection.cursor() as cursor:
            cursor.copy_expert(statement, buffer)
        return count


@contextmanager
def loading(*models_: type[models.Model]):
    """Load the models' tables in bulk: their indexes and constraints made once, after the load.

    A row written into a table with its indexes costs an entry in each (sixteen for an update),
    and Django's foreign keys, deferred to the commit, queue a check of every key of every row,
    run one by one: at scale M these took three quarters of the load. As ``pg_restore`` does, the
    tables' foreign keys, unique constraints and indexes (all but the primary keys) are dropped
    here and made again at the end as they were (``pg_get_constraintdef``, ``pg_get_indexdef``):
    an index is then built in one sort, a unique constraint checked by that sort, a foreign key
    checked in one join. All in the caller's transaction, so that no one sees the tables without
    them; nothing may read the tables meanwhile (without their indexes every query scans).

    A table is altered only with no check pending: the checks queued before are run first (``SET
    CONSTRAINTS ALL IMMEDIATE``), and checking goes back to the commit afterwards (every foreign key
    of the schema is deferrable and initially deferred, as Django makes them). Elsewhere than on
    PostgreSQL nothing changes.
    """
    if not copying():
        yield
        return
    tables = [model._meta.db_table for model in models_]
    quote = connection.ops.quote_name
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT conrelid::regclass::text, conname, contype, pg_get_constraintdef(oid) FROM pg_constraint "
            "WHERE contype IN ('f', 'u', 'x') AND conrelid = ANY(%s::regclass[]) "
            "ORDER BY contype = 'f', conrelid::regclass::text, conname",
            [tables],
        )
        constraints = cursor.fetchall()
        cursor.execute(
            "SELECT indexrelid::regclass::text, pg_get_indexdef(indexrelid) FROM pg_index "
            "WHERE indrelid = ANY(%s::regclass[]) AND NOT indisprimary "
            "AND indexrelid NOT IN (SELECT conindid FROM pg_constraint WHERE contype IN ('p', 'u', 'x')) "
            "ORDER BY 1",
            [tables],
        )
        indexes = cursor.fetchall()
        cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
        # The foreign keys first: one may need a unique constraint of these.
        for table, name, _kind, _definition in sorted(constraints, key=lambda row: row[2] != "f"):
            cursor.execute(f"ALTER TABLE {table} DROP CONSTRAINT {quote(name)}")
        for name, _definition in indexes:
            cursor.execute(f"DROP INDEX {name}")
        cursor.execute("SET CONSTRAINTS ALL DEFERRED")
    yield
    with connection.cursor() as cursor:
        cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
        # More memory for the sorts of the index builds, for the rest of the transaction only.
        cursor.execute("SELECT set_config('maintenance_work_mem', '256MB', true)")
        for _name, definition in indexes:
            cursor.execute(definition)
        # Unique constraints, then the foreign keys (the order of the query).
        for table, name, _kind, definition in constraints:
            cursor.execute(f"ALTER TABLE {table} ADD CONSTRAINT {quote(name)} {definition}")
        cursor.execute("SET CONSTRAINTS ALL DEFERRED")


def draw_ids(model: type[models.Model], count: int) -> list[int]:
    """Take ``count`` numbers from the sequence of the model's primary key, as inserts would."""
    if not count:
        return []
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT nextval(pg_get_serial_sequence(%s, %s)) FROM generate_series(1, %s)",
            [model._meta.db_table, model._meta.pk.column, count],
        )
        return [number for (number,) in cursor.fetchall()]


def write_objects(
    model: type[models.Model], objects: list[models.Model], *, history_reason: str | None = None
) -> list[models.Model]:
    """Write unsaved model instances, their primary keys set as saved ones' are; with ``history_reason``, each
    with its first history row (django-simple-history's, as ``bulk_create_with_history`` writes it).
    """
    if not copying():
        if history_reason is not None:
            return bulk_create_with_history(objects, model, batch_size=BATCH, default_change_reason=history_reason)
        return model.objects.bulk_create(objects, batch_size=BATCH)
    fields = model._meta.concrete_fields
    now = timezone.now()
    unsaved = [obj for obj in objects if obj.pk is None]
    for obj, number in zip(unsaved, draw_ids(model, len(unsaved)), strict=True):
        obj.pk = number
    for obj in objects:
        for field in fields:
            if _stamped(field) and (field.auto_now or getattr(obj, field.attname) is None):
                setattr(obj, field.attname, now)
        obj._state.adding, obj._state.db = False, connection.alias
    columns = [field.attname for field in fields]
    Table(model, columns).write(tuple(getattr(obj, name) for name in columns) for obj in objects)
    if history_reason is not None:
        history = model.history.model
        tracked = [field.attname for field in history.tracked_fields]
        marks = ["history_date", "history_change_reason", "history_type", "history_user_id"]
        Table(history, [*tracked, *marks]).write(
            (*(getattr(obj, name) for name in tracked), now, history_reason, "+", None) for obj in objects
        )
    return objects
