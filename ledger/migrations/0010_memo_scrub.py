"""A transfer's description (memo) may be emptied, and nothing else about it changes.

When a member has their data erased (privacy.services.member_erase), the free
text they wrote goes, also the descriptions of the transfers they made or
received; amounts, accounts, dates and keys stay. Until now the database
refused every UPDATE of a transfer. From here an UPDATE is allowed when it sets
the memo to the empty string and leaves every other column as it was; any
other UPDATE, and every DELETE, is still refused (ledger/database_rules.py,
rule 1).

PostgreSQL compares the whole row except the memo (to_jsonb), so a column added
later is covered too. SQLite compares each column that the table has when this
migration runs.

On SQLite, migration 0007 rebuilt the transfer and entry tables (SQLite alters a
column by copying the table), which dropped their append-only triggers. This
migration puts them back, so an SQLite database (``make run``) refuses changes
to the books again.
"""

from django.db import migrations

POSTGRES_FORWARD = r"""
CREATE OR REPLACE FUNCTION ledger_transfer_refuse_change() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'UPDATE' AND NEW.memo = ''
       AND (to_jsonb(NEW) - 'memo') = (to_jsonb(OLD) - 'memo') THEN
        RETURN NEW;  -- a description emptied, and nothing else changed
    END IF;
    RAISE EXCEPTION 'ledger: % on % is not allowed: the books are append-only '
                    '(only a transfer''s description may be emptied)',
        TG_OP, TG_TABLE_NAME USING ERRCODE = '23514';
END $$;

DROP TRIGGER IF EXISTS ledger_transfer_append_only ON ledger_transfer;
CREATE TRIGGER ledger_transfer_append_only BEFORE UPDATE OR DELETE ON ledger_transfer
    FOR EACH ROW EXECUTE FUNCTION ledger_transfer_refuse_change();
"""

POSTGRES_BACKWARD = r"""
DROP TRIGGER IF EXISTS ledger_transfer_append_only ON ledger_transfer;
CREATE TRIGGER ledger_transfer_append_only BEFORE UPDATE OR DELETE ON ledger_transfer
    FOR EACH ROW EXECUTE FUNCTION ledger_refuse_change();
DROP FUNCTION IF EXISTS ledger_transfer_refuse_change();
"""

SQLITE_TRIGGER = "ledger_transfer_no_update"
SQLITE_REFUSAL = "SELECT RAISE(ABORT, 'ledger: the books are append-only'); END"
# The other journal triggers of ledger.database_rules.sqlite_install that 0007 dropped.
SQLITE_RESTORED = {
    "ledger_transfer_no_delete": "DELETE ON ledger_transfer",
    "ledger_entry_no_update": "UPDATE ON ledger_entry",
    "ledger_entry_no_delete": "DELETE ON ledger_entry",
}


def _sqlite_columns(schema_editor) -> list[str]:
    with schema_editor.connection.cursor() as cursor:
        cursor.execute("SELECT name FROM pragma_table_info('ledger_transfer') ORDER BY cid")
        return [name for (name,) in cursor.fetchall()]


def forward(apps, schema_editor):
    vendor = schema_editor.connection.vendor
    if vendor == "postgresql":
        schema_editor.execute(POSTGRES_FORWARD, params=None)
    elif vendor == "sqlite":
        unchanged = " AND ".join(
            f'NEW."{column}" IS OLD."{column}"'
            for column in _sqlite_columns(schema_editor)
            if column != "memo"
        )
        schema_editor.execute(f"DROP TRIGGER IF EXISTS {SQLITE_TRIGGER}")
        schema_editor.execute(
            f"CREATE TRIGGER {SQLITE_TRIGGER} BEFORE UPDATE ON ledger_transfer "
            f"WHEN NOT (NEW.memo = '' AND {unchanged}) BEGIN {SQLITE_REFUSAL}"
        )
        for name, event in SQLITE_RESTORED.items():
            schema_editor.execute(
                f"CREATE TRIGGER IF NOT EXISTS {name} BEFORE {event} BEGIN {SQLITE_REFUSAL}"
            )


def backward(apps, schema_editor):
    vendor = schema_editor.connection.vendor
    if vendor == "postgresql":
        schema_editor.execute(POSTGRES_BACKWARD, params=None)
    elif vendor == "sqlite":
        schema_editor.execute(f"DROP TRIGGER IF EXISTS {SQLITE_TRIGGER}")
        schema_editor.execute(
            f"CREATE TRIGGER {SQLITE_TRIGGER} BEFORE UPDATE ON ledger_transfer BEGIN {SQLITE_REFUSAL}"
        )


class Migration(migrations.Migration):
    dependencies = [("ledger", "0009_transfer_occurred_on")]

    operations = [migrations.RunPython(forward, backward)]
