from tortoise import migrations
from tortoise.migrations import operations as ops
from models.search import SearchKind
from tortoise import fields
from tortoise.migrations.schema_editor.base import BaseSchemaEditor

class Migration(migrations.Migration):
    dependencies = [('models', '0004_feed')]

    initial = False

    operations = [
        ops.CreateModel(
            name='SearchDocument',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('kind', fields.CharEnumField(description='NOTE: NOTE\nUSER: USER\nPRODUCT: PRODUCT\nTOPIC: TOPIC', enum_type=SearchKind, max_length=8)),
                ('object_id', fields.IntField()),
                ('head', fields.TextField(unique=False)),
                ('body', fields.TextField(unique=False)),
                ('updated_at', fields.DatetimeField(auto_now=False, auto_now_add=False)),
            ],
            options={'table': 'search_documents', 'app': 'models', 'unique_together': (('kind', 'object_id'),), 'pk_attr': 'id', 'table_description': '`head` (title, name, topics) and `body` are space-separated tokens from `search.text.index_text`.'},
            bases=['Model'],
        ),
    ]


async def _install_full_text_index(apps: object, schema_editor: BaseSchemaEditor) -> None:
    """The tsvector/GIN (PostgreSQL) or FTS5 (SQLite) index, then documents for rows written before it existed."""
    from search.documents import rebuild_index
    from search.schema import install

    await install(schema_editor.client)
    await rebuild_index(schema_editor.client, progress=False, vocabulary=False)


Migration.operations.append(ops.RunPython(_install_full_text_index))
