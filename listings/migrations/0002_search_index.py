from django.db import migrations

# On PostgreSQL each listing keeps its search text as a Dutch full-text
# document, computed by the database whenever the text changes, with a GIN
# index over it (see listings.search). Stored, not computed per search: a
# search then never has to rebuild documents row by row. The column is not a
# model field; only the search selector reads it.
CREATE = [
    "ALTER TABLE listings_listing ADD COLUMN search_document tsvector "
    "GENERATED ALWAYS AS (to_tsvector('dutch'::regconfig, search_text)) STORED",
    "CREATE INDEX listings_search ON listings_listing USING gin (search_document)",
]
DROP = [
    "DROP INDEX IF EXISTS listings_search",
    "ALTER TABLE listings_listing DROP COLUMN IF EXISTS search_document",
]


def install(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        for statement in CREATE:
            schema_editor.execute(statement)


def remove(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        for statement in DROP:
            schema_editor.execute(statement)


class Migration(migrations.Migration):
    """Full-text search for listings, on PostgreSQL only (see listings.search)."""

    dependencies = [("listings", "0001_initial")]

    operations = [migrations.RunPython(install, remove)]
