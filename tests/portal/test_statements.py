"""Statements written once a model (``portal.statements``) give the rows the ORM gives (on PostgreSQL: elsewhere
the ORM reads them itself)."""

import pytest

from actionplan.models import ReportingPeriod
from portal.models import Office
from portal.statements import rows_where_in


@pytest.mark.parametrize(("model", "named"), [(ReportingPeriod, "period"), (Office, "office")])
def test_rows_looked_up_by_code_are_the_orms_rows_field_for_field(world, model, named, postgres):
    wanted = getattr(world, named)
    [row] = rows_where_in(model, "code", {wanted.code, "NOT-A-CODE"})
    stored = model.objects.get(pk=wanted.pk)
    for field in model._meta.concrete_fields:
        assert getattr(row, field.attname) == getattr(stored, field.attname), field.name
    assert not row._state.adding and row._state.db == stored._state.db


def test_rows_looked_up_by_several_codes_are_each_read_once_and_none_for_no_code(world, postgres):
    codes = {world.period.code, world.locked_period.code}
    assert sorted(row.code for row in rows_where_in(ReportingPeriod, "code", codes)) == sorted(codes)
    assert rows_where_in(Office, "code", set()) == []
