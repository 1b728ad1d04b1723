"""Search's concept layer: topic families (filled from search/data/topic_families.txt) and the index's
vocabulary with each token's document count (filled by search.terms.refresh_terms)."""

from tortoise import fields, migrations
from tortoise.migrations import operations as ops
from tortoise.migrations.schema_editor.base import BaseSchemaEditor


async def _fill(apps: object, schema_editor: BaseSchemaEditor) -> None:
    from search.families import install_seed_families
    from search.terms import refresh_terms

    await install_seed_families(schema_editor.client)
    await refresh_terms(schema_editor.client)


class Migration(migrations.Migration):
    dependencies = [("models", "0012_earnings")]

    initial = False

    operations = [
        ops.CreateModel(
            name="TopicAlias",
            fields=[
                ("id", fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ("name", fields.CharField(unique=True, max_length=64)),
                ("family", fields.CharField(db_index=True, max_length=64)),
                ("created_at", fields.DatetimeField(auto_now=False, auto_now_add=True)),
            ],
            options={
                "table": "topic_aliases",
                "app": "models",
                "pk_attr": "id",
                "table_description": "A topic name and the family it belongs to.",
            },
            bases=["Model"],
        ),
        ops.CreateModel(
            name="SearchTerm",
            fields=[
                ("term", fields.CharField(primary_key=True, unique=True, db_index=True, max_length=128)),
                ("documents", fields.IntField()),
            ],
            options={
                "table": "search_terms",
                "app": "models",
                "pk_attr": "term",
                "table_description": "A token of the search index and how many documents hold it.",
            },
            bases=["Model"],
        ),
        ops.RunPython(_fill),
    ]
