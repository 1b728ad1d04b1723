"""Search on PostgreSQL: each note document carries the note's language, kept by triggers (search/schema.py),
so a language-filtered search reads no note per match. Nothing changes on SQLite."""

from tortoise import migrations
from tortoise.migrations import operations as ops
from tortoise.migrations.schema_editor.base import BaseSchemaEditor


async def _install(apps: object, schema_editor: BaseSchemaEditor) -> None:
    from search.schema import install

    await install(schema_editor.client)


class Migration(migrations.Migration):
    dependencies = [("models", "0013_concepts")]

    initial = False

    operations = [ops.RunPython(_install)]
