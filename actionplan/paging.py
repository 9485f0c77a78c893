"""Pages of long sorted lists (the review queue, the activity register) read in two steps: their ids, then the
rows shown."""

from django.core.exceptions import EmptyResultSet
from django.core.paginator import Page, Paginator
from django.db import connection
from django.db.models import F

# PostgreSQL's largest OFFSET (a bigint).
LARGEST_OFFSET = 2**63 - 1


class ReadInTwoSteps:
    """A queue (or another list: the register sorted by RAG) read as a page of its ids first, then those rows
    alone, for ``Paginator`` and slices.

    Sorting thousands of waiting updates by their period's start to show the first ten read each whole
    row, its narrative and comments included; their ids come from ``update_waiting_idx`` alone, and only
    the rows shown are read whole.
    """

    ordered = True

    def __init__(self, queryset):
        self.queryset = queryset

    def count(self) -> int:
        return self.queryset.count()

    def __getitem__(self, window: slice) -> list:
        ids = list(self.queryset.values_list("pk", flat=True)[window])
        return list(self.queryset.filter(pk__in=ids)) if ids else []

    def counted_slice(self, start: int, size: int) -> tuple[int, list]:
        """How many there are and the ``size`` rows from ``start``, as ``count()`` and ``[start:start + size]``
        give them.

        The ids and their order's keys are read once into a materialized list that is counted and cut:
        counting and cutting the queue apart would join and filter every waiting update twice. A window past
        the last row is counted apart.
        """
        terms = self.queryset.query.order_by
        if not terms or not all(isinstance(term, str) for term in terms):
            # An order from the model's Meta, or by expressions: counted and cut apart.
            count = self.count()
            return count, self[start : start + size] if start < count else []
        keys = [f"key{index}" for index in range(len(terms))]
        listed = self.queryset.annotate(**{key: F(term.lstrip("-")) for key, term in zip(keys, terms, strict=True)})
        order = ", ".join(
            f"{key} {'DESC' if term.startswith('-') else 'ASC'}" for key, term in zip(keys, terms, strict=True)
        )
        try:
            sql, params = listed.values_list("pk", *keys).order_by().query.sql_with_params()
        except EmptyResultSet:
            return 0, []
        with connection.cursor() as cursor:
            cursor.execute(
                f"WITH listed (row_id, {', '.join(keys)}) AS MATERIALIZED ({sql}) "  # noqa: S608  # nosec B608  # the ORM's own SQL and the keys' names
                f"SELECT (SELECT COUNT(*) FROM listed), row_id FROM listed ORDER BY {order} LIMIT %s OFFSET %s",
                # An offset beyond PostgreSQL's bigint (?page=99999999999999999999) is past the end all the same.
                [*params, size, min(start, LARGEST_OFFSET)],
            )
            rows = cursor.fetchall()
        if not rows:
            return (self.count() if start else 0), []
        return rows[0][0], list(self.queryset.filter(pk__in=[row_id for _count, row_id in rows]))


def page_of(items, per_page: int, number) -> Page:
    """The page ``Paginator(items, per_page).get_page(number)`` gives; of ``ReadInTwoSteps`` items, counted and
    cut in one pass (``counted_slice``) where the page asked for holds rows."""
    paginator = Paginator(items, per_page)
    try:
        wanted = int(number)
    except (TypeError, ValueError):
        wanted = 1
    if isinstance(items, ReadInTwoSteps) and wanted >= 1:
        paginator.count, rows = items.counted_slice((wanted - 1) * per_page, per_page)
        if rows or wanted == 1:
            return Page(rows, wanted, paginator)
    # Rows not read in two steps, a page before the first or past the last: as ``get_page`` gives them (the
    # last page for the last two).
    return paginator.get_page(number)
