from django.db import migrations

from ledger import database_rules


def install(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(database_rules.POSTGRES_TRANSFER_FUNCTION, params=None)


def remove(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(database_rules.POSTGRES_TRANSFER_FUNCTION_REMOVE, params=None)


class Migration(migrations.Migration):
    dependencies = [("ledger", "0003_payment_requests")]

    operations = [migrations.RunPython(install, remove)]
