from tortoise import migrations
from tortoise.migrations import operations as ops
from models.notifications import NotificationKind
from tortoise.fields.base import OnDelete
from tortoise import fields
from tortoise.indexes import Index

class Migration(migrations.Migration):
    dependencies = [('models', '0001_initial')]

    initial = False

    operations = [
        ops.CreateModel(
            name='Notification',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('recipient', fields.ForeignKeyField('models.User', source_field='recipient_id', db_constraint=True, to_field='id', related_name='notifications', on_delete=OnDelete.CASCADE)),
                ('actor', fields.ForeignKeyField('models.User', source_field='actor_id', db_constraint=True, to_field='id', related_name='caused_notifications', on_delete=OnDelete.CASCADE)),
                ('kind', fields.CharEnumField(description='LIKE: LIKE\nCOLLECT: COLLECT\nCOMMENT: COMMENT\nREPLY: REPLY\nFOLLOW: FOLLOW', enum_type=NotificationKind, max_length=8)),
                ('note', fields.ForeignKeyField('models.Note', source_field='note_id', null=True, db_constraint=True, to_field='id', related_name='notifications', on_delete=OnDelete.CASCADE)),
                ('comment', fields.ForeignKeyField('models.Comment', source_field='comment_id', null=True, db_constraint=True, to_field='id', related_name='notifications', on_delete=OnDelete.CASCADE)),
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=True)),
                ('read_at', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
            ],
            options={'table': 'notifications', 'app': 'models', 'indexes': [Index(fields=['recipient_id', 'id']), Index(fields=['recipient_id', 'read_at']), Index(fields=['actor_id', 'kind', 'note_id'])], 'pk_attr': 'id'},
            bases=['Model'],
        ),
    ]
