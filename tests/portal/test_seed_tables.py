"""Rows written in bulk (portal.seed.tables): the same rows as the ORM's, the schema as it was."""

import datetime
import uuid

import pytest
from django.db import connection

from actionplan.models import ProgressUpdate
from portal.demo import seed_demo
from portal.reference import load_reference_data
from portal.seed.tables import Table
from tests.factories import OfficeFactory, ProgressUpdateFactory

pytestmark = pytest.mark.django_db


def test_rows_written_in_bulk_keep_an_empty_text_apart_from_null_and_take_the_model_defaults():
    first = ProgressUpdateFactory()
    moment = datetime.datetime(2026, 1, 5, 9, tzinfo=datetime.UTC)
    ids = [uuid.uuid4(), uuid.uuid4()]
    columns = ["id", "activity_id", "period_id", "office_id", "author_id", "rag", "percent_complete", "client_key",
               "submitted_at", "created_at", "updated_at"]  # fmt: skip
    rows = [
        (str(ids[0]), first.activity_id, first.period_id, OfficeFactory().pk, first.author_id, "on_track", 10, "",
         None, moment, moment),
        (str(ids[1]), first.activity_id, first.period_id, OfficeFactory().pk, first.author_id, "at_risk", 20, None,
         moment, moment, moment),
    ]  # fmt: skip

    assert Table(ProgressUpdate, columns).write(rows) == 2

    empty, null = ProgressUpdate.objects.get(pk=ids[0]), ProgressUpdate.objects.get(pk=ids[1])
    assert (empty.client_key, null.client_key) == ("", None)
    assert (empty.submitted_at, null.submitted_at) == (None, moment)
    # What the row does not say is the model's default; the times given are kept.
    assert (empty.state, empty.version, empty.warnings, empty.narrative) == (ProgressUpdate.State.DRAFT, 1, [], "")
    assert empty.created_at == empty.updated_at == moment


def test_a_demo_load_leaves_every_index_and_constraint_as_the_migrations_made_them(postgres):
    def schema():
        with connection.cursor() as cursor:
            cursor.execute("SELECT indexname, indexdef FROM pg_indexes WHERE schemaname = 'public' ORDER BY 1")
            indexes = cursor.fetchall()
            cursor.execute(
                "SELECT conrelid::regclass::text, conname, pg_get_constraintdef(oid), condeferrable, condeferred "
                "FROM pg_constraint WHERE connamespace = 'public'::regnamespace ORDER BY 1, 2"
            )
            return indexes, cursor.fetchall()

    load_reference_data()
    before = schema()
    seed_demo(scale="XS", seed=1, password="pw")

    assert schema() == before
