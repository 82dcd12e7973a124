from django.db import migrations

from ledger import database_rules


def install(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(database_rules.POSTGRES_TRANSFER_FUNCTION, params=None)


class Migration(migrations.Migration):
    """Look the idempotency key up under the accounts' locks, before the limits."""

    dependencies = [("ledger", "0005_fewer_indexes")]

    operations = [migrations.RunPython(install, migrations.RunPython.noop)]
