from django.db import migrations

from ledger import database_rules


def install(apps, schema_editor):
    connection = schema_editor.connection
    if connection.vendor == "postgresql":
        schema_editor.execute(database_rules.POSTGRES_INSTALL, params=None)
    elif connection.vendor == "sqlite":
        for statement in database_rules.sqlite_install():
            schema_editor.execute(statement)


def remove(apps, schema_editor):
    connection = schema_editor.connection
    if connection.vendor == "postgresql":
        schema_editor.execute(database_rules.POSTGRES_REMOVE, params=None)
    elif connection.vendor == "sqlite":
        for statement in database_rules.sqlite_remove():
            schema_editor.execute(statement)


class Migration(migrations.Migration):
    dependencies = [("ledger", "0001_initial")]

    operations = [migrations.RunPython(install, remove)]
