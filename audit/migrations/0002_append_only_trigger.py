"""Make the access log append-only in PostgreSQL: UPDATE and DELETE are refused, except by the purge.

The purge sets ``audit.purge`` for its own transaction (``SET LOCAL``). TRUNCATE is left alone: the
test database is emptied with it, and only the database owner can run it.
SQLite (the embedded default) has no such trigger; the application never updates or deletes events.
"""

from django.db import migrations

CREATE = """
CREATE FUNCTION audit_accessevent_append_only() RETURNS trigger AS $$
BEGIN
    IF TG_OP = 'DELETE' AND current_setting('audit.purge', true) = 'on' THEN
        RETURN OLD;
    END IF;
    RAISE EXCEPTION 'the access log is append-only: % refused', TG_OP
        USING ERRCODE = 'restrict_violation',
              HINT = 'Old events are removed by manage.py purge_access_log only.';
END;
$$ LANGUAGE plpgsql;

CREATE TRIGGER audit_accessevent_append_only
    BEFORE UPDATE OR DELETE ON audit_accessevent
    FOR EACH ROW EXECUTE FUNCTION audit_accessevent_append_only();
"""

DROP = """
DROP TRIGGER IF EXISTS audit_accessevent_append_only ON audit_accessevent;
DROP FUNCTION IF EXISTS audit_accessevent_append_only();
"""


def _on_postgresql(sql):
    def run(apps, schema_editor):
        if schema_editor.connection.vendor == "postgresql":
            # No parameters: the "%" in the RAISE message is PL/pgSQL's, not a placeholder.
            schema_editor.execute(sql, params=None)

    return run


class Migration(migrations.Migration):
    dependencies = [("audit", "0001_initial")]

    operations = [migrations.RunPython(_on_postgresql(CREATE), _on_postgresql(DROP))]
