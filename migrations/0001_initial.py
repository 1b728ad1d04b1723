from tortoise import migrations
from tortoise.migrations import operations as ops
from models.notes import NoteKind
from orjson import loads
from tortoise.fields.base import OnDelete
from tortoise.fields.data import JSON_DUMPS
from tortoise import fields
from tortoise.indexes import Index

class Migration(migrations.Migration):
    initial = True

    operations = [
        ops.CreateModel(
            name='Topic',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('name', fields.CharField(unique=True, max_length=64)),
                ('note_count', fields.IntField(default=0)),
                ('view_count', fields.IntField(default=0)),
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=True)),
            ],
            options={'table': 'topics', 'app': 'models', 'pk_attr': 'id'},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='User',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('email', fields.CharField(unique=True, max_length=254)),
                ('handle', fields.CharField(unique=True, max_length=30)),
                ('display_name', fields.CharField(max_length=50)),
                ('bio', fields.CharField(default='', max_length=500)),
                ('avatar_url', fields.CharField(null=True, max_length=2048)),
                ('languages', fields.JSONField(default=list, encoder=JSON_DUMPS, decoder=loads)),
                ('interests', fields.JSONField(default=list, encoder=JSON_DUMPS, decoder=loads)),
                ('password_hash', fields.CharField(max_length=255)),
                ('follower_count', fields.IntField(default=0)),
                ('following_count', fields.IntField(default=0)),
                ('note_count', fields.IntField(default=0)),
                ('likes_and_collects_count', fields.IntField(default=0)),
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=True)),
            ],
            options={'table': 'users', 'app': 'models', 'pk_attr': 'id'},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='Board',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('owner', fields.ForeignKeyField('models.User', source_field='owner_id', db_constraint=True, to_field='id', related_name='boards', on_delete=OnDelete.CASCADE)),
                ('name', fields.CharField(max_length=50)),
                ('description', fields.CharField(default='', max_length=500)),
                ('is_private', fields.BooleanField(default=False)),
                ('is_default', fields.BooleanField(default=False)),
                ('note_count', fields.IntField(default=0)),
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=True)),
            ],
            options={'table': 'boards', 'app': 'models', 'indexes': [Index(fields=['owner_id', 'id'])], 'pk_attr': 'id'},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='Follow',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('follower', fields.ForeignKeyField('models.User', source_field='follower_id', db_constraint=True, to_field='id', related_name='following_links', on_delete=OnDelete.CASCADE)),
                ('followee', fields.ForeignKeyField('models.User', source_field='followee_id', db_constraint=True, to_field='id', related_name='follower_links', on_delete=OnDelete.CASCADE)),
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=True)),
            ],
            options={'table': 'follows', 'app': 'models', 'unique_together': (('follower_id', 'followee_id'),), 'indexes': [Index(fields=['followee_id', 'follower_id'])], 'pk_attr': 'id'},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='Product',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('merchant', fields.ForeignKeyField('models.User', source_field='merchant_id', db_constraint=True, to_field='id', related_name='products', on_delete=OnDelete.RESTRICT)),
                ('title', fields.CharField(max_length=200)),
                ('description', fields.TextField(default='', unique=False)),
                ('review_count', fields.IntField(default=0)),
                ('rating_sum', fields.IntField(default=0)),
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=True)),
                ('updated_at', fields.DatetimeField(auto_now=True, auto_now_add=False)),
            ],
            options={'table': 'products', 'app': 'models', 'indexes': [Index(fields=['merchant_id', 'id'])], 'pk_attr': 'id'},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='Note',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('author', fields.ForeignKeyField('models.User', source_field='author_id', db_constraint=True, to_field='id', related_name='notes', on_delete=OnDelete.CASCADE)),
                ('kind', fields.CharEnumField(description='IMAGE: IMAGE\nVIDEO: VIDEO\nTEXT: TEXT', enum_type=NoteKind, max_length=8)),
                ('title', fields.CharField(max_length=100)),
                ('body', fields.TextField(unique=False)),
                ('language', fields.CharField(default='und', max_length=8)),
                ('media', fields.JSONField(default=list, encoder=JSON_DUMPS, decoder=loads)),
                ('review_product', fields.ForeignKeyField('models.Product', source_field='review_product_id', null=True, db_constraint=True, to_field='id', related_name='review_notes', on_delete=OnDelete.SET_NULL)),
                ('review_rating', fields.SmallIntField(null=True)),
                ('like_count', fields.IntField(default=0)),
                ('collect_count', fields.IntField(default=0)),
                ('comment_count', fields.IntField(default=0)),
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=True)),
                ('updated_at', fields.DatetimeField(auto_now=True, auto_now_add=False)),
                ('deleted_at', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
            ],
            options={'table': 'notes', 'app': 'models', 'indexes': [Index(fields=['author_id', 'id']), Index(fields=['review_product_id', 'id'])], 'pk_attr': 'id'},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='Collect',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('user', fields.ForeignKeyField('models.User', source_field='user_id', db_constraint=True, to_field='id', related_name='collects', on_delete=OnDelete.CASCADE)),
                ('note', fields.ForeignKeyField('models.Note', source_field='note_id', db_constraint=True, to_field='id', related_name='collects', on_delete=OnDelete.CASCADE)),
                ('board', fields.ForeignKeyField('models.Board', source_field='board_id', db_constraint=True, to_field='id', related_name='collects', on_delete=OnDelete.CASCADE)),
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=True)),
            ],
            options={'table': 'collects', 'app': 'models', 'unique_together': (('user_id', 'note_id'),), 'indexes': [Index(fields=['board_id', 'id']), Index(fields=['note_id', 'user_id'])], 'pk_attr': 'id'},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='Comment',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('note', fields.ForeignKeyField('models.Note', source_field='note_id', db_constraint=True, to_field='id', related_name='comments', on_delete=OnDelete.CASCADE)),
                ('author', fields.ForeignKeyField('models.User', source_field='author_id', db_constraint=True, to_field='id', related_name='comments', on_delete=OnDelete.CASCADE)),
                ('body', fields.CharField(max_length=1000)),
                ('root', fields.ForeignKeyField('models.Comment', source_field='root_id', null=True, db_constraint=True, to_field='id', related_name='replies', on_delete=OnDelete.CASCADE)),
                ('reply_to', fields.ForeignKeyField('models.Comment', source_field='reply_to_id', null=True, db_constraint=True, to_field='id', related_name='answers', on_delete=OnDelete.SET_NULL)),
                ('reply_count', fields.IntField(default=0)),
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=True)),
                ('deleted_at', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
            ],
            options={'table': 'comments', 'app': 'models', 'indexes': [Index(fields=['note_id', 'root_id', 'id']), Index(fields=['root_id', 'id'])], 'pk_attr': 'id'},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='Like',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('user', fields.ForeignKeyField('models.User', source_field='user_id', db_constraint=True, to_field='id', related_name='likes', on_delete=OnDelete.CASCADE)),
                ('note', fields.ForeignKeyField('models.Note', source_field='note_id', db_constraint=True, to_field='id', related_name='likes', on_delete=OnDelete.CASCADE)),
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=True)),
            ],
            options={'table': 'likes', 'app': 'models', 'unique_together': (('user_id', 'note_id'),), 'indexes': [Index(fields=['note_id', 'user_id'])], 'pk_attr': 'id'},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='NoteProduct',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('note', fields.ForeignKeyField('models.Note', source_field='note_id', db_constraint=True, to_field='id', related_name='product_links', on_delete=OnDelete.CASCADE)),
                ('product', fields.ForeignKeyField('models.Product', source_field='product_id', db_constraint=True, to_field='id', related_name='note_links', on_delete=OnDelete.CASCADE)),
                ('position', fields.SmallIntField(default=0)),
            ],
            options={'table': 'note_products', 'app': 'models', 'unique_together': (('note_id', 'product_id'),), 'indexes': [Index(fields=['product_id', 'note_id'])], 'pk_attr': 'id'},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='NoteTopic',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('note', fields.ForeignKeyField('models.Note', source_field='note_id', db_constraint=True, to_field='id', related_name='topic_links', on_delete=OnDelete.CASCADE)),
                ('topic', fields.ForeignKeyField('models.Topic', source_field='topic_id', db_constraint=True, to_field='id', related_name='note_links', on_delete=OnDelete.CASCADE)),
                ('position', fields.SmallIntField(default=0)),
            ],
            options={'table': 'note_topics', 'app': 'models', 'unique_together': (('note_id', 'topic_id'),), 'indexes': [Index(fields=['topic_id', 'note_id'])], 'pk_attr': 'id'},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='ProductVariant',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('product', fields.ForeignKeyField('models.Product', source_field='product_id', db_constraint=True, to_field='id', related_name='variants', on_delete=OnDelete.CASCADE)),
                ('sku', fields.CharField(max_length=64)),
                ('name', fields.CharField(max_length=100)),
                ('price_minor_units', fields.BigIntField()),
                ('currency', fields.CharField(max_length=3)),
                ('stock', fields.IntField(default=0)),
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=True)),
            ],
            options={'table': 'product_variants', 'app': 'models', 'unique_together': (('product_id', 'sku'),), 'pk_attr': 'id'},
            bases=['Model'],
        ),
    ]
