"""Reads of the busiest calls in statements written once a model, from its tables and columns.

Building a statement with the ORM costs the processor more than PostgreSQL spends answering it, for the small
reads every API write makes: the caller's token, the rows its body names. These are written here once a process
and their rows made into instances as the ORM makes them. Who may see a row is not decided here: only rows that
anyone may see are read this way (``rows_where_in``'s callers), and the token's read hands the roles on.
"""

import functools

from django.db import connection


def instance_from_row(model, fields, values):
    """An instance of ``model`` from a row of ``fields``' columns, as the ORM makes one: each value through its
    field's converters, the instance marked as read from the database."""
    values = list(values)
    for index, field in enumerate(fields):
        for converter in field.get_db_converters(connection):
            values[index] = converter(values[index], field, connection)
    return model.from_db(connection.alias, [field.attname for field in fields], values)


def rows_where_in(model, field_name: str, values) -> list:
    """The rows of ``model`` whose ``field_name`` is one of ``values``, unordered; on PostgreSQL in a statement
    written once, elsewhere by the ORM."""
    if connection.vendor != "postgresql":
        return list(model._default_manager.order_by().filter(**{f"{field_name}__in": values}))
    statement, fields = _where_in_statement(model, field_name)
    with connection.cursor() as cursor:
        cursor.execute(statement, [list(values)])
        return [instance_from_row(model, fields, row) for row in cursor.fetchall()]


@functools.cache
def _where_in_statement(model, field_name: str) -> tuple[str, list]:
    name, fields = connection.ops.quote_name, list(model._meta.concrete_fields)
    columns = ", ".join(name(field.column) for field in fields)
    column = name(model._meta.get_field(field_name).column)
    # The values are one parameter, an array: one statement however many they are.
    return f"SELECT {columns} FROM {name(model._meta.db_table)} WHERE {column} = ANY(%s)", fields  # noqa: S608  # nosec B608  # names from the model
