"""The ledger is append-only and balanced in the database too (PostgreSQL):
triggers refuse UPDATE and DELETE on journal entries and postings, and a
constraint trigger deferred to commit refuses a transaction that leaves any
entry's postings not summing to zero (or an entry with fewer than two).
Other databases rely on the models and shop/payment/ledger.py."""

from django.db import migrations

FORWARD = """
CREATE OR REPLACE FUNCTION payment_ledger_append_only() RETURNS trigger AS $$
BEGIN
    RAISE EXCEPTION '% is append-only: post a correction', TG_TABLE_NAME;
END;
$$ LANGUAGE plpgsql;

CREATE TRIGGER payment_journalentry_append_only
    BEFORE UPDATE OR DELETE ON payment_journalentry
    FOR EACH ROW EXECUTE FUNCTION payment_ledger_append_only();

CREATE TRIGGER payment_posting_append_only
    BEFORE UPDATE OR DELETE ON payment_posting
    FOR EACH ROW EXECUTE FUNCTION payment_ledger_append_only();

CREATE OR REPLACE FUNCTION payment_entry_balanced() RETURNS trigger AS $$
DECLARE
    total bigint;
    lines integer;
BEGIN
    SELECT COALESCE(SUM(amount), 0), COUNT(*) INTO total, lines
        FROM payment_posting WHERE entry_id = NEW.entry_id;
    IF total <> 0 OR lines < 2 THEN
        RAISE EXCEPTION 'journal entry % does not balance (sum %, % postings)',
            NEW.entry_id, total, lines;
    END IF;
    RETURN NULL;
END;
$$ LANGUAGE plpgsql;

CREATE CONSTRAINT TRIGGER payment_posting_balanced
    AFTER INSERT ON payment_posting
    DEFERRABLE INITIALLY DEFERRED
    FOR EACH ROW EXECUTE FUNCTION payment_entry_balanced();
"""

BACKWARD = """
DROP TRIGGER IF EXISTS payment_posting_balanced ON payment_posting;
DROP FUNCTION IF EXISTS payment_entry_balanced();
DROP TRIGGER IF EXISTS payment_posting_append_only ON payment_posting;
DROP TRIGGER IF EXISTS payment_journalentry_append_only ON payment_journalentry;
DROP FUNCTION IF EXISTS payment_ledger_append_only();
"""


def forward(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(FORWARD, params=None)


def backward(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(BACKWARD, params=None)


class Migration(migrations.Migration):
    dependencies = [("payment", "0006_ledger")]

    operations = [migrations.RunPython(forward, backward)]
