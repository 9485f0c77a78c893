from django.db import migrations

# The expression of ActivityQuerySet.search, so that PostgreSQL answers a search from the index.
CREATE = """
CREATE INDEX IF NOT EXISTS activity_search_idx ON actionplan_activity USING gin (
    to_tsvector('english'::regconfig, COALESCE(code, '') || ' ' || COALESCE(title, '') || ' ' || COALESCE(description, ''))
)
"""
DROP = "DROP INDEX IF EXISTS activity_search_idx"


def run_on_postgresql(statement):
    def run(apps, schema_editor):
        if schema_editor.connection.vendor == "postgresql":
            schema_editor.execute(statement)

    return run


class Migration(migrations.Migration):
    dependencies = [("actionplan", "0003_plan_item_versions")]

    operations = [migrations.RunPython(run_on_postgresql(CREATE), run_on_postgresql(DROP))]
