"""Make a signature unchangeable in PostgreSQL: an UPDATE of a recorded signature or decline is refused.

A round's history is kept by adding rows, never by changing them. DELETE stays possible: a
signature goes with its subject when a meeting or report is deleted. SQLite (the embedded
default) has no such trigger; the application never updates a signature.
"""

from django.db import migrations

CREATE = """
CREATE FUNCTION steering_signature_unchangeable() RETURNS trigger AS $$
BEGIN
    RAISE EXCEPTION 'a signature is never changed once recorded: % refused', TG_OP
        USING ERRCODE = 'restrict_violation',
              HINT = 'A decline closes the round; submitting again opens a new one.';
END;
$$ LANGUAGE plpgsql;

CREATE TRIGGER steering_signature_unchangeable
    BEFORE UPDATE ON steering_signature
    FOR EACH ROW EXECUTE FUNCTION steering_signature_unchangeable();
"""

DROP = """
DROP TRIGGER IF EXISTS steering_signature_unchangeable ON steering_signature;
DROP FUNCTION IF EXISTS steering_signature_unchangeable();
"""


def _on_postgresql(sql):
    def run(apps, schema_editor):
        if schema_editor.connection.vendor == "postgresql":
            # No parameters: the "%" in the RAISE message is PL/pgSQL's, not a placeholder.
            schema_editor.execute(sql, params=None)

    return run


class Migration(migrations.Migration):
    dependencies = [("steering", "0004_two_party_signoff")]

    operations = [migrations.RunPython(_on_postgresql(CREATE), _on_postgresql(DROP))]
