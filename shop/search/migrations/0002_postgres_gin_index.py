from django.db import migrations

INDEX_NAME = "search_doc_tsvector_gin"
CREATE = f"""
CREATE INDEX IF NOT EXISTS {INDEX_NAME} ON search_productsearchdocument USING gin (
    (setweight(array_to_tsvector(array_remove(string_to_array(search_productsearchdocument.title_terms, ' '), '')), 'A')
     || setweight(array_to_tsvector(array_remove(string_to_array(search_productsearchdocument.body_terms, ' '), '')), 'B'))
)
"""
DROP = f"DROP INDEX IF EXISTS {INDEX_NAME}"


def create(apps, schema_editor):
    # The expression must match shop.search.backends.PG_VECTOR exactly for
    # PostgreSQL to use the index. SQLite has no tsvector: nothing to do.
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(CREATE)


def drop(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(DROP)


class Migration(migrations.Migration):
    dependencies = [("search", "0001_initial")]
    operations = [migrations.RunPython(create, drop)]
