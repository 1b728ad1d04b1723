from tortoise import migrations
from tortoise.migrations import operations as ops
from models.safety import AppealStatus, CaseSource, CaseStatus, ExportStatus, FilterAction, ModerationActionKind, ModerationState, ReportCategory, ReportStatus, Role, SubjectKind
from orjson import loads
from tortoise.fields.base import OnDelete
from tortoise.fields.data import JSON_DUMPS
from tortoise import fields
from tortoise.indexes import Index
from models.notifications import NotificationKind
from core.migration_ops import AlterFieldState


class Migration(migrations.Migration):
    dependencies = [('models', '0009_media')]

    initial = False

    operations = [
        ops.CreateModel(
            name='Block',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('blocker', fields.ForeignKeyField('models.User', source_field='blocker_id', db_constraint=True, to_field='id', related_name='blocks_made', on_delete=OnDelete.CASCADE)),
                ('blocked', fields.ForeignKeyField('models.User', source_field='blocked_id', db_constraint=True, to_field='id', related_name='blocks_received', on_delete=OnDelete.CASCADE)),
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=True)),
            ],
            options={'table': 'blocks', 'app': 'models', 'unique_together': (('blocker_id', 'blocked_id'),), 'indexes': [Index(fields=['blocked_id', 'blocker_id'])], 'pk_attr': 'id', 'table_description': 'The blocker never sees the blocked person again, who can no longer see or reach the blocker.'},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='ContentFilter',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('owner', fields.ForeignKeyField('models.User', source_field='owner_id', db_constraint=True, to_field='id', related_name='content_filters', on_delete=OnDelete.CASCADE)),
                ('phrase', fields.CharField(max_length=100)),
                ('contexts', fields.JSONField(default=list, encoder=JSON_DUMPS, decoder=loads)),
                ('action', fields.CharEnumField(default=FilterAction.HIDE, description='HIDE: HIDE\nWARN: WARN', enum_type=FilterAction, max_length=8)),
                ('expires_at', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=True)),
            ],
            options={'table': 'content_filters', 'app': 'models', 'indexes': [Index(fields=['owner_id', 'id'])], 'pk_attr': 'id', 'table_description': 'A phrase a person does not want to see, in some contexts, hidden or behind a warning.'},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='DataExport',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('user', fields.ForeignKeyField('models.User', source_field='user_id', db_constraint=True, to_field='id', related_name='data_exports', on_delete=OnDelete.CASCADE)),
                ('status', fields.CharEnumField(default=ExportStatus.PENDING, description='PENDING: PENDING\nREADY: READY\nFAILED: FAILED', enum_type=ExportStatus, max_length=8)),
                ('storage_key', fields.CharField(null=True, max_length=255)),
                ('token', fields.CharField(unique=True, max_length=32)),
                ('byte_size', fields.BigIntField(null=True)),
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=True)),
                ('ready_at', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
                ('expires_at', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
            ],
            options={'table': 'data_exports', 'app': 'models', 'indexes': [Index(fields=['user_id', 'id']), Index(fields=['expires_at'])], 'pk_attr': 'id', 'table_description': "A person's archive of their data, built by a job and downloadable until it expires."},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='ModerationAction',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('case_id', fields.IntField(null=True)),
                ('moderator_id', fields.IntField(null=True)),
                ('target_user_id', fields.IntField(null=True)),
                ('subject_kind', fields.CharEnumField(description='NOTE: NOTE\nCOMMENT: COMMENT\nUSER: USER\nPRODUCT: PRODUCT', enum_type=SubjectKind, max_length=8)),
                ('subject_id', fields.IntField()),
                ('action', fields.CharEnumField(description='DISMISS: DISMISS\nHIDE: HIDE\nREMOVE: REMOVE\nRESTORE: RESTORE\nWARN: WARN\nSUSPEND: SUSPEND\nUNSUSPEND: UNSUSPEND\nDELIST_PRODUCT: DELIST_PRODUCT\nAPPEAL_APPROVED: APPEAL_APPROVED\nAPPEAL_REJECTED: APPEAL_REJECTED\nASSIGN: ASSIGN\nROLE_GRANTED: ROLE_GRANTED', enum_type=ModerationActionKind, max_length=16)),
                ('reason', fields.CharField(default='', max_length=1000)),
                ('report_ids', fields.JSONField(default=list, encoder=JSON_DUMPS, decoder=loads)),
                ('duration_days', fields.IntField(null=True)),
                ('expires_at', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=True)),
            ],
            options={'table': 'moderation_actions', 'app': 'models', 'indexes': [Index(fields=['case_id', 'id']), Index(fields=['target_user_id', 'id']), Index(fields=['moderator_id', 'created_at'])], 'pk_attr': 'id', 'table_description': 'The append-only audit log: every moderation decision, role grant and appeal outcome, never changed'},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='Appeal',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('action', fields.OneToOneField('models.ModerationAction', source_field='action_id', db_constraint=True, to_field='id', related_name='appeal', on_delete=OnDelete.CASCADE)),
                ('appellant', fields.ForeignKeyField('models.User', source_field='appellant_id', db_constraint=True, to_field='id', related_name='appeals', on_delete=OnDelete.CASCADE)),
                ('text', fields.CharField(max_length=2000)),
                ('status', fields.CharEnumField(default=AppealStatus.PENDING, description='PENDING: PENDING\nAPPROVED: APPROVED\nREJECTED: REJECTED', enum_type=AppealStatus, max_length=8)),
                ('resolver_id', fields.IntField(null=True)),
                ('resolution', fields.CharField(default='', max_length=1000)),
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=True)),
                ('resolved_at', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
            ],
            options={'table': 'appeals', 'app': 'models', 'indexes': [Index(fields=['status', 'id'])], 'pk_attr': 'id', 'table_description': "A person's appeal of an action taken against them: one per action, decided by another moderator."},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='ModerationCase',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('subject_kind', fields.CharEnumField(description='NOTE: NOTE\nCOMMENT: COMMENT\nUSER: USER\nPRODUCT: PRODUCT', enum_type=SubjectKind, max_length=8)),
                ('subject_id', fields.IntField()),
                ('subject_owner', fields.ForeignKeyField('models.User', source_field='subject_owner_id', null=True, db_constraint=True, to_field='id', related_name='cases_about', on_delete=OnDelete.SET_NULL)),
                ('status', fields.CharEnumField(default=CaseStatus.OPEN, description='OPEN: OPEN\nRESOLVED: RESOLVED', enum_type=CaseStatus, max_length=8)),
                ('source', fields.CharEnumField(default=CaseSource.REPORTS, description='REPORTS: REPORTS\nFAKE_REVIEW_RULE: FAKE_REVIEW_RULE', enum_type=CaseSource, max_length=20)),
                ('open_report_count', fields.IntField(default=0)),
                ('report_count', fields.IntField(default=0)),
                ('top_category', fields.CharEnumField(null=True, description='SPAM: SPAM\nHARASSMENT: HARASSMENT\nHATE: HATE\nMISLEADING: MISLEADING\nCOUNTERFEIT: COUNTERFEIT\nPROHIBITED_ITEM: PROHIBITED_ITEM\nFAKE_REVIEW: FAKE_REVIEW\nIP: IP\nOTHER: OTHER', enum_type=ReportCategory, max_length=16)),
                ('signal', fields.JSONField(default=dict, encoder=JSON_DUMPS, decoder=loads)),
                ('assignee', fields.ForeignKeyField('models.User', source_field='assignee_id', null=True, db_constraint=True, to_field='id', related_name='assigned_cases', on_delete=OnDelete.SET_NULL)),
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=True)),
                ('updated_at', fields.DatetimeField(auto_now=True, auto_now_add=False)),
                ('resolved_at', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
            ],
            options={'table': 'moderation_cases', 'app': 'models', 'unique_together': (('subject_kind', 'subject_id'),), 'indexes': [Index(fields=['status', 'open_report_count', 'id']), Index(fields=['status', 'top_category', 'id'])], 'pk_attr': 'id', 'table_description': 'One subject in the moderation queue: every report on it (however many) joins this one case.'},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='Mute',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('muter', fields.ForeignKeyField('models.User', source_field='muter_id', db_constraint=True, to_field='id', related_name='mutes_made', on_delete=OnDelete.CASCADE)),
                ('muted', fields.ForeignKeyField('models.User', source_field='muted_id', db_constraint=True, to_field='id', related_name='mutes_received', on_delete=OnDelete.CASCADE)),
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=True)),
            ],
            options={'table': 'mutes', 'app': 'models', 'unique_together': (('muter_id', 'muted_id'),), 'pk_attr': 'id', 'table_description': "The muter stops seeing the muted person's content, and the muted person is never told."},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='Report',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('reporter', fields.ForeignKeyField('models.User', source_field='reporter_id', null=True, db_constraint=True, to_field='id', related_name='reports_made', on_delete=OnDelete.SET_NULL)),
                ('case', fields.ForeignKeyField('models.ModerationCase', source_field='case_id', db_constraint=True, to_field='id', related_name='reports', on_delete=OnDelete.CASCADE)),
                ('category', fields.CharEnumField(description='SPAM: SPAM\nHARASSMENT: HARASSMENT\nHATE: HATE\nMISLEADING: MISLEADING\nCOUNTERFEIT: COUNTERFEIT\nPROHIBITED_ITEM: PROHIBITED_ITEM\nFAKE_REVIEW: FAKE_REVIEW\nIP: IP\nOTHER: OTHER', enum_type=ReportCategory, max_length=16)),
                ('comment', fields.CharField(default='', max_length=1000)),
                ('status', fields.CharEnumField(default=ReportStatus.OPEN, description='OPEN: OPEN\nRESOLVED: RESOLVED', enum_type=ReportStatus, max_length=8)),
                ('open_case_id', fields.IntField(null=True)),
                ('outcome', fields.CharEnumField(null=True, description='DISMISS: DISMISS\nHIDE: HIDE\nREMOVE: REMOVE\nRESTORE: RESTORE\nWARN: WARN\nSUSPEND: SUSPEND\nUNSUSPEND: UNSUSPEND\nDELIST_PRODUCT: DELIST_PRODUCT\nAPPEAL_APPROVED: APPEAL_APPROVED\nAPPEAL_REJECTED: APPEAL_REJECTED\nASSIGN: ASSIGN\nROLE_GRANTED: ROLE_GRANTED', enum_type=ModerationActionKind, max_length=16)),
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=True)),
                ('resolved_at', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
            ],
            options={'table': 'reports', 'app': 'models', 'unique_together': (('reporter_id', 'open_case_id'),), 'indexes': [Index(fields=['case_id', 'id']), Index(fields=['reporter_id', 'id'])], 'pk_attr': 'id', 'table_description': "One person's report of one subject, filed into the subject's case."},
            bases=['Model'],
        ),
        ops.AddField(
            model_name='Comment',
            name='moderation',
            field=fields.CharEnumField(default=ModerationState.NONE, description='NONE: NONE\nHIDDEN: HIDDEN\nREMOVED: REMOVED\nDELISTED: DELISTED', enum_type=ModerationState, max_length=8),
        ),
        ops.AddField(
            model_name='Comment',
            name='moderation_reason',
            field=fields.CharField(default='', max_length=1000),
        ),
        ops.AddField(
            model_name='Comment',
            name='withheld',
            field=fields.BooleanField(default=False),
        ),
        ops.AddField(
            model_name='Note',
            name='moderation',
            field=fields.CharEnumField(default=ModerationState.NONE, description='NONE: NONE\nHIDDEN: HIDDEN\nREMOVED: REMOVED\nDELISTED: DELISTED', enum_type=ModerationState, max_length=8),
        ),
        ops.AddField(
            model_name='Note',
            name='moderation_reason',
            field=fields.CharField(default='', max_length=1000),
        ),
        ops.AddField(
            model_name='Note',
            name='withheld',
            field=fields.BooleanField(default=False),
        ),
        ops.AddField(
            model_name='Notification',
            name='moderation_action_id',
            field=fields.IntField(null=True),
        ),
        ops.AddField(
            model_name='Product',
            name='moderation',
            field=fields.CharEnumField(default=ModerationState.NONE, description='NONE: NONE\nHIDDEN: HIDDEN\nREMOVED: REMOVED\nDELISTED: DELISTED', enum_type=ModerationState, max_length=8),
        ),
        ops.AddField(
            model_name='Product',
            name='moderation_reason',
            field=fields.CharField(default='', max_length=1000),
        ),
        ops.AddField(
            model_name='Product',
            name='withheld',
            field=fields.BooleanField(default=False),
        ),
        ops.AddField(
            model_name='User',
            name='deleted_at',
            field=fields.DatetimeField(null=True, auto_now=False, auto_now_add=False),
        ),
        ops.AddField(
            model_name='User',
            name='deletion_requested_at',
            field=fields.DatetimeField(null=True, auto_now=False, auto_now_add=False),
        ),
        ops.AddField(
            model_name='User',
            name='role',
            field=fields.CharEnumField(default=Role.USER, description='USER: USER\nMODERATOR: MODERATOR\nADMIN: ADMIN', enum_type=Role, max_length=10),
        ),
        ops.AddField(
            model_name='User',
            name='suspended_until',
            field=fields.DatetimeField(null=True, auto_now=False, auto_now_add=False),
        ),
        ops.AddField(
            model_name='User',
            name='suspension_reason',
            field=fields.CharField(default='', max_length=1000),
        ),
        ops.AddIndex(
            model_name='User',
            index=Index(fields=['deletion_requested_at']),
        ),
        AlterFieldState(
            model_name='Notification',
            name='kind',
            field=fields.CharEnumField(description='LIKE: LIKE\nCOLLECT: COLLECT\nCOMMENT: COMMENT\nREPLY: REPLY\nFOLLOW: FOLLOW\nORDER_PAID: ORDER_PAID\nORDER_FULFILLED: ORDER_FULFILLED\nORDER_REFUNDED: ORDER_REFUNDED\nSALE: SALE\nNOTE_SALE: NOTE_SALE\nMODERATION: MODERATION\nREPORT_RESOLVED: REPORT_RESOLVED\nAPPEAL_RESOLVED: APPEAL_RESOLVED\nEXPORT_READY: EXPORT_READY', enum_type=NotificationKind, max_length=16),
        ),
    ]
