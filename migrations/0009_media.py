from tortoise import migrations
from tortoise.migrations import operations as ops
from models.media import FailureReason, MediaKind, MediaStatus, MediaUse
from orjson import loads
from tortoise.fields.base import OnDelete
from tortoise.fields.data import JSON_DUMPS
from tortoise import fields
from tortoise.indexes import Index

class Migration(migrations.Migration):
    dependencies = [('models', '0008_search_popularity')]

    initial = False

    operations = [
        ops.CreateModel(
            name='Media',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('owner', fields.ForeignKeyField('models.User', source_field='owner_id', db_constraint=True, to_field='id', related_name='media', on_delete=OnDelete.CASCADE)),
                ('kind', fields.CharEnumField(description='IMAGE: IMAGE\nVIDEO: VIDEO', enum_type=MediaKind, max_length=8)),
                ('status', fields.CharEnumField(default=MediaStatus.UPLOADING, description='UPLOADING: UPLOADING\nPENDING: PENDING\nREADY: READY\nFAILED: FAILED', enum_type=MediaStatus, max_length=12)),
                ('content_type', fields.CharField(max_length=100)),
                ('byte_size', fields.BigIntField()),
                ('filename', fields.CharField(default='', max_length=255)),
                ('upload_key', fields.CharField(unique=True, max_length=255)),
                ('token', fields.CharField(unique=True, max_length=32)),
                ('upload_expires_at', fields.DatetimeField(auto_now=False, auto_now_add=False)),
                ('width', fields.IntField(null=True)),
                ('height', fields.IntField(null=True)),
                ('blurhash', fields.CharField(null=True, max_length=64)),
                ('dominant_color', fields.CharField(null=True, max_length=7)),
                ('duration_seconds', fields.FloatField(null=True)),
                ('files', fields.JSONField(default=dict, encoder=JSON_DUMPS, decoder=loads)),
                ('failure_reason', fields.CharEnumField(null=True, description='UNSUPPORTED_TYPE: UNSUPPORTED_TYPE\nWRONG_KIND: WRONG_KIND\nTOO_LARGE: TOO_LARGE\nTOO_MANY_PIXELS: TOO_MANY_PIXELS\nTOO_LONG: TOO_LONG\nCORRUPT: CORRUPT\nMISSING: MISSING\nPROCESSING_ERROR: PROCESSING_ERROR', enum_type=FailureReason, max_length=20)),
                ('alt_text', fields.CharField(default='', max_length=1500)),
                ('attached_at', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
                ('attached_to', fields.CharEnumField(null=True, description='NOTE: NOTE\nPRODUCT: PRODUCT\nAVATAR: AVATAR', enum_type=MediaUse, max_length=8)),
                ('attempts', fields.SmallIntField(default=0)),
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=True)),
                ('processed_at', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
            ],
            options={'table': 'media', 'app': 'models', 'indexes': [Index(fields=['owner_id', 'id']), Index(fields=['status', 'created_at'])], 'pk_attr': 'id'},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='NoteMedia',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('note', fields.ForeignKeyField('models.Note', source_field='note_id', db_constraint=True, to_field='id', related_name='media_links', on_delete=OnDelete.CASCADE)),
                ('media', fields.OneToOneField('models.Media', source_field='media_id', db_constraint=True, to_field='id', related_name='note_link', on_delete=OnDelete.CASCADE)),
                ('position', fields.SmallIntField(default=0)),
            ],
            options={'table': 'note_media', 'app': 'models', 'indexes': [Index(fields=['note_id', 'position'])], 'pk_attr': 'id', 'table_description': "A note's pictures (or its one video), in order."},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='ProductMedia',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('product', fields.ForeignKeyField('models.Product', source_field='product_id', db_constraint=True, to_field='id', related_name='media_links', on_delete=OnDelete.CASCADE)),
                ('media', fields.OneToOneField('models.Media', source_field='media_id', db_constraint=True, to_field='id', related_name='product_link', on_delete=OnDelete.CASCADE)),
                ('position', fields.SmallIntField(default=0)),
            ],
            options={'table': 'product_media', 'app': 'models', 'indexes': [Index(fields=['product_id', 'position'])], 'pk_attr': 'id', 'table_description': "A product's images, in order."},
            bases=['Model'],
        ),
    ]
