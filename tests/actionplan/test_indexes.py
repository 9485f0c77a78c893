"""The updates' lookups by activity and by period are each served by an index leading with it."""

import pytest
from django.db import connection

from actionplan.models import ProgressUpdate

pytestmark = pytest.mark.django_db


def leading_columns(model) -> list[list[str]]:
    with connection.cursor() as cursor:
        found = connection.introspection.get_constraints(cursor, model._meta.db_table)
    return [spec["columns"] for spec in found.values() if spec["index"] or spec["unique"]]


@pytest.mark.parametrize("column", ["activity_id", "period_id"])
def test_updates_are_found_by_their_activity_or_period_through_an_index_leading_with_it(column):
    assert any(columns[0] == column for columns in leading_columns(ProgressUpdate))


@pytest.mark.parametrize("column", ["activity_id", "period_id"])
def test_updates_have_no_lone_index_on_their_activity_or_period_beside_those(column):
    assert [column] not in leading_columns(ProgressUpdate)
