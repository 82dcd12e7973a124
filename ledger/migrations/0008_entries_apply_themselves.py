from django.db import migrations

from ledger import database_rules


def install(apps, schema_editor):
    """Reinstall the rules: an entry now applies itself to its account, and the
    posting function locks and reads the accounts in one query."""
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(database_rules.POSTGRES_REMOVE, params=None)
        schema_editor.execute(database_rules.POSTGRES_INSTALL, params=None)
        schema_editor.execute(database_rules.POSTGRES_TRANSFER_FUNCTION, params=None)


class Migration(migrations.Migration):
    dependencies = [("ledger", "0007_lighter_transfer_rows")]

    operations = [migrations.RunPython(install, migrations.RunPython.noop)]
