from django.db import migrations

# The same expression the search selector filters on (SearchVector with the
# Dutch configuration), so PostgreSQL answers from this index.
CREATE = (
    "CREATE INDEX listings_search ON listings_listing "
    "USING gin (to_tsvector('dutch'::regconfig, COALESCE(search_text, ''::text)))"
)


def install(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(CREATE)


def remove(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute("DROP INDEX IF EXISTS listings_search")


class Migration(migrations.Migration):
    """A full-text index for listing search, on PostgreSQL only (see listings.search)."""

    dependencies = [("listings", "0001_initial")]

    operations = [migrations.RunPython(install, remove)]
