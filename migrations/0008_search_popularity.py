"""Search on PostgreSQL: the head's own full-text index, and each note document's popularity kept by
triggers (search/schema.py), so the relevance statement reads no note per match. Nothing changes on SQLite."""

from tortoise import migrations
from tortoise.migrations import operations as ops
from tortoise.migrations.schema_editor.base import BaseSchemaEditor


async def _install(apps: object, schema_editor: BaseSchemaEditor) -> None:
    from search.schema import install

    await install(schema_editor.client)


class Migration(migrations.Migration):
    dependencies = [("models", "0007_notification_groups")]

    initial = False

    operations = [ops.RunPython(_install)]
