from tortoise import migrations
from tortoise.migrations import operations as ops
from models.commerce import PaymentEventKind
from models.fulfilment import DiscountKind, RedemptionStatus, ReturnStatus, ShipmentStatus
from models.notifications import NotificationKind
from orjson import loads
from tortoise.fields.base import OnDelete
from tortoise.fields.data import JSON_DUMPS
from tortoise import fields
from tortoise.indexes import Index
from core.migration_ops import AlterFieldState

class Migration(migrations.Migration):
    dependencies = [('models', '0010_safety')]

    initial = False

    operations = [
        ops.CreateModel(
            name='DiscountCode',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('merchant', fields.ForeignKeyField('models.User', source_field='merchant_id', db_constraint=True, to_field='id', related_name='discount_codes', on_delete=OnDelete.CASCADE)),
                ('code', fields.CharField(unique=True, max_length=32)),
                ('kind', fields.CharEnumField(description='PERCENT: PERCENT\nFIXED: FIXED\nFREE_SHIPPING: FREE_SHIPPING', enum_type=DiscountKind, max_length=16)),
                ('value', fields.BigIntField(default=0)),
                ('currency', fields.CharField(null=True, max_length=3)),
                ('min_subtotal_minor_units', fields.BigIntField(default=0)),
                ('starts_at', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
                ('ends_at', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
                ('usage_limit', fields.IntField(null=True)),
                ('per_customer_limit', fields.IntField(null=True)),
                ('uses', fields.IntField(default=0)),
                ('product_ids', fields.JSONField(default=list, encoder=JSON_DUMPS, decoder=loads)),
                ('active', fields.BooleanField(default=True)),
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=True)),
            ],
            options={'table': 'discount_codes', 'app': 'models', 'indexes': [Index(fields=['merchant_id', 'id'])], 'pk_attr': 'id', 'table_description': "A merchant's code. Codes are stored upper case (a shopper's code matches whatever its case) and"},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='DiscountRedemption',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('code', fields.ForeignKeyField('models.DiscountCode', source_field='code_id', db_constraint=True, to_field='id', related_name='redemptions', on_delete=OnDelete.RESTRICT)),
                ('order', fields.ForeignKeyField('models.Order', source_field='order_id', db_constraint=True, to_field='id', related_name='redemptions', on_delete=OnDelete.CASCADE)),
                ('customer', fields.ForeignKeyField('models.User', source_field='customer_id', null=True, db_constraint=True, to_field='id', related_name='redemptions', on_delete=OnDelete.SET_NULL)),
                ('customer_email', fields.CharField(max_length=254)),
                ('status', fields.CharEnumField(default=RedemptionStatus.RESERVED, description='RESERVED: RESERVED\nUSED: USED\nRELEASED: RELEASED', enum_type=RedemptionStatus, max_length=8)),
                ('amount_minor_units', fields.BigIntField(default=0)),
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=True)),
            ],
            options={'table': 'discount_redemptions', 'app': 'models', 'unique_together': (('code_id', 'order_id'),), 'indexes': [Index(fields=['code_id', 'status']), Index(fields=['customer_email', 'code_id'])], 'pk_attr': 'id', 'table_description': "One use of a code by one order, reserved and released with the order's stock."},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='OrderDeliveryGroup',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('order', fields.ForeignKeyField('models.Order', source_field='order_id', db_constraint=True, to_field='id', related_name='delivery_groups', on_delete=OnDelete.CASCADE)),
                ('merchant', fields.ForeignKeyField('models.User', source_field='merchant_id', db_constraint=True, to_field='id', related_name='delivery_groups', on_delete=OnDelete.RESTRICT)),
                ('rate_id', fields.IntField(null=True)),
                ('rate_name', fields.CharField(default='', max_length=100)),
                ('min_delivery_days', fields.SmallIntField(null=True)),
                ('max_delivery_days', fields.SmallIntField(null=True)),
                ('subtotal_minor_units', fields.BigIntField(default=0)),
                ('shipping_minor_units', fields.BigIntField(default=0)),
                ('discount_minor_units', fields.BigIntField(default=0)),
                ('shipping_discount_minor_units', fields.BigIntField(default=0)),
                ('discount_code', fields.CharField(null=True, max_length=32)),
            ],
            options={'table': 'order_delivery_groups', 'app': 'models', 'unique_together': (('order_id', 'merchant_id'),), 'pk_attr': 'id', 'table_description': "One merchant's part of an order: the rate chosen and what shipping and discounts came to."},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='ReturnRequest',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('order', fields.ForeignKeyField('models.Order', source_field='order_id', db_constraint=True, to_field='id', related_name='returns', on_delete=OnDelete.CASCADE)),
                ('merchant', fields.ForeignKeyField('models.User', source_field='merchant_id', db_constraint=True, to_field='id', related_name='returns_received', on_delete=OnDelete.RESTRICT)),
                ('status', fields.CharEnumField(default=ReturnStatus.REQUESTED, description='REQUESTED: REQUESTED\nAPPROVED: APPROVED\nREJECTED: REJECTED\nRECEIVED: RECEIVED\nREFUNDED: REFUNDED', enum_type=ReturnStatus, max_length=10)),
                ('reason', fields.CharField(default='', max_length=1000)),
                ('merchant_note', fields.CharField(default='', max_length=1000)),
                ('lines', fields.JSONField(default=dict, encoder=JSON_DUMPS, decoder=loads)),
                ('amount_minor_units', fields.BigIntField(default=0)),
                ('restock', fields.BooleanField(default=False)),
                ('refund', fields.ForeignKeyField('models.Refund', source_field='refund_id', null=True, db_constraint=True, to_field='id', related_name='returns', on_delete=OnDelete.SET_NULL)),
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=True)),
                ('decided_at', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
                ('received_at', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
            ],
            options={'table': 'return_requests', 'app': 'models', 'indexes': [Index(fields=['order_id', 'id']), Index(fields=['merchant_id', 'status', 'id'])], 'pk_attr': 'id', 'table_description': "A buyer's return of some of one merchant's lines, refunded through the refund path once received."},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='Shipment',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('order', fields.ForeignKeyField('models.Order', source_field='order_id', db_constraint=True, to_field='id', related_name='shipments', on_delete=OnDelete.CASCADE)),
                ('merchant', fields.ForeignKeyField('models.User', source_field='merchant_id', db_constraint=True, to_field='id', related_name='shipments', on_delete=OnDelete.RESTRICT)),
                ('status', fields.CharEnumField(default=ShipmentStatus.SHIPPED, description='SHIPPED: SHIPPED\nDELIVERED: DELIVERED', enum_type=ShipmentStatus, max_length=10)),
                ('tracking_number', fields.CharField(default='', max_length=100)),
                ('carrier', fields.CharField(default='', max_length=100)),
                ('lines', fields.JSONField(default=dict, encoder=JSON_DUMPS, decoder=loads)),
                ('shipped_at', fields.DatetimeField(auto_now=False, auto_now_add=True)),
                ('delivered_at', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
            ],
            options={'table': 'shipments', 'app': 'models', 'indexes': [Index(fields=['order_id', 'id']), Index(fields=['merchant_id', 'id'])], 'pk_attr': 'id', 'table_description': 'A parcel a merchant sent: some or all of their lines of an order, with its tracking.'},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='ShippingRate',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('merchant', fields.ForeignKeyField('models.User', source_field='merchant_id', db_constraint=True, to_field='id', related_name='shipping_rates', on_delete=OnDelete.CASCADE)),
                ('name', fields.CharField(max_length=100)),
                ('countries', fields.JSONField(default=list, encoder=JSON_DUMPS, decoder=loads)),
                ('price_minor_units', fields.BigIntField()),
                ('currency', fields.CharField(max_length=3)),
                ('free_over_minor_units', fields.BigIntField(null=True)),
                ('min_delivery_days', fields.SmallIntField()),
                ('max_delivery_days', fields.SmallIntField()),
                ('archived_at', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=True)),
            ],
            options={'table': 'shipping_rates', 'app': 'models', 'indexes': [Index(fields=['merchant_id', 'id'])], 'pk_attr': 'id', 'table_description': 'How a merchant ships to some countries, for how much, and how fast.'},
            bases=['Model'],
        ),
        ops.AddField(
            model_name='Cart',
            name='delivery_rate_ids',
            field=fields.JSONField(default=dict, encoder=JSON_DUMPS, decoder=loads),
        ),
        ops.AddField(
            model_name='Cart',
            name='discount_code_ids',
            field=fields.JSONField(default=dict, encoder=JSON_DUMPS, decoder=loads),
        ),
        ops.AddField(
            model_name='Cart',
            name='shipping_address',
            field=fields.JSONField(null=True, encoder=JSON_DUMPS, decoder=loads),
        ),
        AlterFieldState(
            model_name='Notification',
            name='kind',
            field=fields.CharEnumField(description='LIKE: LIKE\nCOLLECT: COLLECT\nCOMMENT: COMMENT\nREPLY: REPLY\nFOLLOW: FOLLOW\nORDER_PAID: ORDER_PAID\nORDER_FULFILLED: ORDER_FULFILLED\nORDER_REFUNDED: ORDER_REFUNDED\nSALE: SALE\nNOTE_SALE: NOTE_SALE\nMODERATION: MODERATION\nREPORT_RESOLVED: REPORT_RESOLVED\nAPPEAL_RESOLVED: APPEAL_RESOLVED\nEXPORT_READY: EXPORT_READY\nSHIPMENT_UPDATED: SHIPMENT_UPDATED\nRETURN_UPDATED: RETURN_UPDATED', enum_type=NotificationKind, max_length=16),
        ),
        ops.AddField(
            model_name='Order',
            name='discount_minor_units',
            field=fields.BigIntField(default=0),
        ),
        ops.AddField(
            model_name='Order',
            name='shipping_minor_units',
            field=fields.BigIntField(default=0),
        ),
        ops.AddField(
            model_name='Order',
            name='subtotal_minor_units',
            field=fields.BigIntField(default=0),
        ),
        # Orders placed before shipping and discounts cost their lines alone: their subtotal is their total.
        ops.RunSQL("UPDATE orders SET subtotal_minor_units = total_minor_units"),
        ops.AddField(
            model_name='OrderLine',
            name='discount_minor_units',
            field=fields.BigIntField(default=0),
        ),
        ops.AddField(
            model_name='OrderLine',
            name='returned_quantity',
            field=fields.IntField(default=0),
        ),
        ops.AddField(
            model_name='OrderLine',
            name='shipped_quantity',
            field=fields.IntField(default=0),
        ),
        AlterFieldState(
            model_name='PaymentEvent',
            name='kind',
            field=fields.CharEnumField(description='PAYMENT_INTENT_CREATED: PAYMENT_INTENT_CREATED\nPAYMENT_SUCCEEDED: PAYMENT_SUCCEEDED\nPAYMENT_FAILED: PAYMENT_FAILED\nREFUND_SUCCEEDED: REFUND_SUCCEEDED\nREFUND_FAILED: REFUND_FAILED\nEXTERNAL_REFUND: EXTERNAL_REFUND\nRETURN_REQUESTED: RETURN_REQUESTED\nRETURN_APPROVED: RETURN_APPROVED\nRETURN_REJECTED: RETURN_REJECTED\nRETURN_RECEIVED: RETURN_RECEIVED', enum_type=PaymentEventKind, max_length=24),
        ),
    ]
