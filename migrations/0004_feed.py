from tortoise import migrations
from tortoise.migrations import operations as ops
from models.feed import FeedEventKind
from orjson import loads
from tortoise.fields.base import OnDelete
from tortoise.fields.data import JSON_DUMPS
from tortoise import fields
from tortoise.indexes import Index

class Migration(migrations.Migration):
    dependencies = [('models', '0003_commerce')]

    initial = False

    operations = [
        ops.CreateModel(
            name='FeedEvent',
            fields=[
                ('id', fields.BigIntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('user', fields.ForeignKeyField('models.User', source_field='user_id', db_constraint=True, to_field='id', related_name='feed_events', on_delete=OnDelete.CASCADE)),
                ('note', fields.ForeignKeyField('models.Note', source_field='note_id', db_constraint=True, to_field='id', related_name='feed_events', on_delete=OnDelete.CASCADE)),
                ('kind', fields.CharEnumField(description='OPEN: OPEN\nNOT_INTERESTED: NOT_INTERESTED', enum_type=FeedEventKind, max_length=16)),
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=False)),
            ],
            options={'table': 'feed_events', 'app': 'models', 'indexes': [Index(fields=['user_id', 'created_at']), Index(fields=['user_id', 'note_id', 'kind'])], 'pk_attr': 'id', 'table_description': 'Signals the social tables do not already hold: opens (noteView) and "not interested".'},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='FeedImpression',
            fields=[
                ('id', fields.BigIntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('user', fields.ForeignKeyField('models.User', source_field='user_id', db_constraint=True, to_field='id', related_name='feed_impressions', on_delete=OnDelete.CASCADE)),
                ('note', fields.ForeignKeyField('models.Note', source_field='note_id', db_constraint=True, to_field='id', related_name='feed_impressions', on_delete=OnDelete.CASCADE)),
                ('served_at', fields.DatetimeField(auto_now=False, auto_now_add=False)),
            ],
            options={'table': 'feed_impressions', 'app': 'models', 'indexes': [Index(fields=['user_id', 'note_id', 'served_at'])], 'pk_attr': 'id', 'table_description': 'A note the feed served to someone (written in batches, after the response).'},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='FeedSnapshot',
            fields=[
                ('id', fields.CharField(primary_key=True, unique=True, db_index=True, max_length=40)),
                ('user_id', fields.IntField(null=True)),
                ('document', fields.JSONField(encoder=JSON_DUMPS, decoder=loads)),
                ('expires_at', fields.DatetimeField(auto_now=False, auto_now_add=False)),
            ],
            options={'table': 'feed_snapshots', 'app': 'models', 'indexes': [Index(fields=['expires_at'])], 'pk_attr': 'id', 'table_description': "A feed session's ranked note ids, so paging never repeats or skips (Redis holds them instead"},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='NoteNeighbour',
            fields=[
                ('id', fields.BigIntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('note', fields.ForeignKeyField('models.Note', source_field='note_id', db_constraint=True, to_field='id', related_name='neighbour_links', on_delete=OnDelete.CASCADE)),
                ('neighbour', fields.ForeignKeyField('models.Note', source_field='neighbour_id', db_constraint=True, to_field='id', related_name='neighbour_of_links', on_delete=OnDelete.CASCADE)),
                ('score', fields.FloatField()),
            ],
            options={'table': 'note_neighbours', 'app': 'models', 'indexes': [Index(fields=['note_id', 'score'])], 'pk_attr': 'id', 'table_description': 'Co-engagement: notes engaged with by the same people, precomputed by `vermilion feed rebuild`.'},
            bases=['Model'],
        ),
        ops.AddIndex(
            model_name='Comment',
            index=Index(fields=['author_id', 'created_at']),
        ),
        ops.AddField(
            model_name='Note',
            name='impression_count',
            field=fields.IntField(default=0),
        ),
        ops.AddField(
            model_name='Note',
            name='view_count',
            field=fields.IntField(default=0),
        ),
        ops.AddIndex(
            model_name='Note',
            index=Index(fields=['created_at']),
        ),
    ]
