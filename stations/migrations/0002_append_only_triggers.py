"""The audit log and the cash ledger are append-only in the database too
(PostgreSQL): a trigger refuses UPDATE and DELETE on audit events, and on
cash entries refuses DELETE and any UPDATE other than a day close stamping
an entry that had none. Other databases rely on the models' own refusal."""

from django.db import migrations

FORWARD = """
CREATE OR REPLACE FUNCTION stations_audit_append_only() RETURNS trigger AS $$
BEGIN
    RAISE EXCEPTION 'stations_auditevent is append-only';
END;
$$ LANGUAGE plpgsql;

CREATE TRIGGER stations_auditevent_append_only
    BEFORE UPDATE OR DELETE ON stations_auditevent
    FOR EACH ROW EXECUTE FUNCTION stations_audit_append_only();

CREATE OR REPLACE FUNCTION stations_cash_append_only() RETURNS trigger AS $$
BEGIN
    IF TG_OP = 'UPDATE'
       AND OLD.day_close_id IS NULL AND NEW.day_close_id IS NOT NULL
       AND (to_jsonb(NEW) - 'day_close_id') = (to_jsonb(OLD) - 'day_close_id') THEN
        RETURN NEW;
    END IF;
    RAISE EXCEPTION 'stations_cashentry is append-only';
END;
$$ LANGUAGE plpgsql;

CREATE TRIGGER stations_cashentry_append_only
    BEFORE UPDATE OR DELETE ON stations_cashentry
    FOR EACH ROW EXECUTE FUNCTION stations_cash_append_only();

CREATE OR REPLACE FUNCTION stations_dayclose_final() RETURNS trigger AS $$
BEGIN
    RAISE EXCEPTION 'stations_dayclose rows are final';
END;
$$ LANGUAGE plpgsql;

CREATE TRIGGER stations_dayclose_final
    BEFORE UPDATE OR DELETE ON stations_dayclose
    FOR EACH ROW EXECUTE FUNCTION stations_dayclose_final();
"""

BACKWARD = """
DROP TRIGGER IF EXISTS stations_auditevent_append_only ON stations_auditevent;
DROP FUNCTION IF EXISTS stations_audit_append_only();
DROP TRIGGER IF EXISTS stations_cashentry_append_only ON stations_cashentry;
DROP FUNCTION IF EXISTS stations_cash_append_only();
DROP TRIGGER IF EXISTS stations_dayclose_final ON stations_dayclose;
DROP FUNCTION IF EXISTS stations_dayclose_final();
"""


def forward(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(FORWARD)


def backward(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(BACKWARD)


class Migration(migrations.Migration):
    dependencies = [("stations", "0001_initial")]

    operations = [migrations.RunPython(forward, backward)]
