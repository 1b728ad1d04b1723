"""Grouped notifications: `notifications` becomes one row per entry of a person's list, with its activities
in `notification_activities` (models/notifications.py, social/notifications.py).

The table is made anew rather than altered: on SQLite an altered table loses its indexes and keeps no
UNIQUE constraint, so the migrated schema would differ from the models'. The rows written before grouping
(one per activity) are kept aside, become entries and activities, and are dropped.
"""

from tortoise import fields, migrations
from tortoise.fields.base import OnDelete
from tortoise.indexes import Index
from tortoise.migrations import operations as ops

from models.notifications import NotificationKind

KEEP_OLD_ROWS = "CREATE TABLE notifications_before_groups AS SELECT * FROM notifications"

# One statement per item, the same text on both databases (`||` joins text and numbers on both).
GROUP_OLD_ROWS = [
    "ALTER TABLE notifications_before_groups ADD COLUMN group_key VARCHAR(128)",
    # The key social.notifications.group_key gives each kind that existed before this migration.
    "UPDATE notifications_before_groups SET group_key = CASE"
    " WHEN kind IN ('LIKE', 'COLLECT') AND note_id IS NOT NULL THEN kind || ':note:' || note_id"
    " WHEN kind = 'FOLLOW' THEN 'FOLLOW:user:' || actor_id"
    " WHEN kind IN ('COMMENT', 'REPLY') AND comment_id IS NOT NULL THEN kind || ':comment:' || comment_id"
    " ELSE kind || ':row:' || id END",
    # One entry per key, read once every row of it was read; ids grow with the latest activity.
    "INSERT INTO notifications (recipient_id, group_key, kind, note_id, comment_id, actor_count, position,"
    " created_at, updated_at, read_at)"
    " SELECT recipient_id, group_key, MAX(kind), MAX(note_id), MAX(comment_id), 0, 0, MIN(created_at),"
    " MAX(created_at), CASE WHEN COUNT(*) = COUNT(read_at) THEN MAX(read_at) END"
    " FROM notifications_before_groups GROUP BY recipient_id, group_key ORDER BY MAX(created_at), MAX(id)",
    # One activity per person and entry, oldest first.
    "INSERT INTO notification_activities (notification_id, actor_id, created_at)"
    " SELECT n.id, o.actor_id, MIN(o.created_at) FROM notifications_before_groups o"
    " JOIN notifications n ON n.recipient_id = o.recipient_id AND n.group_key = o.group_key"
    " GROUP BY n.id, o.actor_id ORDER BY MIN(o.created_at), n.id, o.actor_id",
    "UPDATE notifications SET"
    " actor_count = (SELECT COUNT(*) FROM notification_activities a WHERE a.notification_id = notifications.id),"
    " position = (SELECT MAX(a.id) FROM notification_activities a WHERE a.notification_id = notifications.id),"
    " actor_id = (SELECT a.actor_id FROM notification_activities a WHERE a.notification_id = notifications.id"
    "             ORDER BY a.id DESC LIMIT 1)",
    "DROP TABLE notifications_before_groups",
]


class Migration(migrations.Migration):
    dependencies = [('models', '0006_accounts')]

    initial = False

    operations = [
        ops.RunSQL(KEEP_OLD_ROWS),
        ops.DeleteModel(name='Notification'),
        ops.CreateModel(
            name='Notification',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('recipient', fields.ForeignKeyField('models.User', source_field='recipient_id', db_constraint=True, to_field='id', related_name='notifications', on_delete=OnDelete.CASCADE)),
                ('group_key', fields.CharField(max_length=128)),
                ('kind', fields.CharEnumField(description='LIKE: LIKE\nCOLLECT: COLLECT\nCOMMENT: COMMENT\nREPLY: REPLY\nFOLLOW: FOLLOW\nORDER_PAID: ORDER_PAID\nORDER_FULFILLED: ORDER_FULFILLED\nORDER_REFUNDED: ORDER_REFUNDED\nSALE: SALE\nNOTE_SALE: NOTE_SALE', enum_type=NotificationKind, max_length=16)),
                ('actor', fields.ForeignKeyField('models.User', source_field='actor_id', null=True, db_constraint=True, to_field='id', related_name='caused_notifications', on_delete=OnDelete.CASCADE)),
                ('note', fields.ForeignKeyField('models.Note', source_field='note_id', null=True, db_constraint=True, to_field='id', related_name='notifications', on_delete=OnDelete.CASCADE)),
                ('comment', fields.ForeignKeyField('models.Comment', source_field='comment_id', null=True, db_constraint=True, to_field='id', related_name='notifications', on_delete=OnDelete.CASCADE)),
                ('order', fields.ForeignKeyField('models.Order', source_field='order_id', null=True, db_constraint=True, to_field='id', related_name='notifications', on_delete=OnDelete.CASCADE)),
                ('actor_count', fields.IntField(default=0)),
                ('position', fields.IntField(default=0)),
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=True)),
                ('updated_at', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
                ('read_at', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
            ],
            options={'table': 'notifications', 'app': 'models', 'unique_together': (('recipient_id', 'group_key'),), 'indexes': [Index(fields=['recipient_id', 'position']), Index(fields=['recipient_id', 'read_at'])], 'pk_attr': 'id', 'table_description': "One entry of a person's notification list (a group of one or more activities)."},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='NotificationActivity',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('notification', fields.ForeignKeyField('models.Notification', source_field='notification_id', db_constraint=True, to_field='id', related_name='activities', on_delete=OnDelete.CASCADE)),
                ('actor', fields.ForeignKeyField('models.User', source_field='actor_id', null=True, db_constraint=True, to_field='id', related_name='notification_activities', on_delete=OnDelete.CASCADE)),
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=True)),
            ],
            options={'table': 'notification_activities', 'app': 'models', 'unique_together': (('notification_id', 'actor_id'),), 'indexes': [Index(fields=['notification_id', 'id'])], 'pk_attr': 'id', 'table_description': 'One thing that happened within a notification: who did it, and when.'},
            bases=['Model'],
        ),
        ops.RunSQL(GROUP_OLD_ROWS),
    ]
