from tortoise import migrations
from tortoise.migrations import operations as ops
from models.commerce import AttemptStatus, CartStatus, OrderStatus, PaymentEventKind, RefundStatus, StockState
from orjson import loads
from tortoise.fields.base import OnDelete
from tortoise.fields.data import JSON_DUMPS
from uuid import uuid4
from tortoise import fields
from tortoise.indexes import Index

class Migration(migrations.Migration):
    dependencies = [('models', '0002_notifications')]

    initial = False

    operations = [
        ops.CreateModel(
            name='Cart',
            fields=[
                ('id', fields.UUIDField(primary_key=True, default=uuid4, unique=True, db_index=True)),
                ('owner', fields.ForeignKeyField('models.User', source_field='owner_id', null=True, db_constraint=True, to_field='id', related_name='carts', on_delete=OnDelete.CASCADE)),
                ('status', fields.CharEnumField(default=CartStatus.OPEN, description='OPEN: OPEN\nORDERED: ORDERED\nCLOSED: CLOSED\nMERGED: MERGED', enum_type=CartStatus, max_length=8)),
                ('currency', fields.CharField(null=True, max_length=3)),
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=True)),
                ('updated_at', fields.DatetimeField(auto_now=True, auto_now_add=False)),
            ],
            options={'table': 'carts', 'app': 'models', 'indexes': [Index(fields=['owner_id', 'status'])], 'pk_attr': 'id'},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='CartLine',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('cart', fields.ForeignKeyField('models.Cart', source_field='cart_id', db_constraint=True, to_field='id', related_name='lines', on_delete=OnDelete.CASCADE)),
                ('variant', fields.ForeignKeyField('models.ProductVariant', source_field='variant_id', db_constraint=True, to_field='id', related_name='cart_lines', on_delete=OnDelete.CASCADE)),
                ('quantity', fields.IntField()),
                ('source_note', fields.ForeignKeyField('models.Note', source_field='source_note_id', null=True, db_constraint=True, to_field='id', related_name='cart_lines', on_delete=OnDelete.SET_NULL)),
                ('unit_price_minor_units', fields.BigIntField()),
            ],
            options={'table': 'cart_lines', 'app': 'models', 'unique_together': (('cart_id', 'variant_id'),), 'pk_attr': 'id'},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='Order',
            fields=[
                ('id', fields.UUIDField(primary_key=True, default=uuid4, unique=True, db_index=True)),
                ('cart', fields.OneToOneField('models.Cart', source_field='cart_id', db_constraint=True, to_field='id', related_name='order', on_delete=OnDelete.RESTRICT)),
                ('buyer', fields.ForeignKeyField('models.User', source_field='buyer_id', null=True, db_constraint=True, to_field='id', related_name='orders', on_delete=OnDelete.SET_NULL)),
                ('idempotency_key', fields.CharField(max_length=200)),
                ('email', fields.CharField(max_length=254)),
                ('shipping_address', fields.JSONField(encoder=JSON_DUMPS, decoder=loads)),
                ('currency', fields.CharField(max_length=3)),
                ('total_minor_units', fields.BigIntField()),
                ('paid_minor_units', fields.BigIntField(default=0)),
                ('refunded_minor_units', fields.BigIntField(default=0)),
                ('status', fields.CharEnumField(default=OrderStatus.PENDING_PAYMENT, description='PENDING_PAYMENT: PENDING_PAYMENT\nPAID: PAID\nFULFILLED: FULFILLED\nCANCELLED: CANCELLED\nREFUNDED: REFUNDED\nPARTIALLY_REFUNDED: PARTIALLY_REFUNDED', enum_type=OrderStatus, max_length=20)),
                ('stock_state', fields.CharEnumField(default=StockState.RESERVED, description='RESERVED: RESERVED\nRELEASED: RELEASED\nSOLD: SOLD\nSHORT: SHORT', enum_type=StockState, max_length=8)),
                ('reserved_until', fields.DatetimeField(auto_now=False, auto_now_add=False)),
                ('attention', fields.CharField(null=True, max_length=300)),
                ('cancel_reason', fields.CharField(null=True, max_length=20)),
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=True)),
                ('updated_at', fields.DatetimeField(auto_now=True, auto_now_add=False)),
                ('paid_at', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
            ],
            options={'table': 'orders', 'app': 'models', 'indexes': [Index(fields=['buyer_id', 'created_at']), Index(fields=['status', 'reserved_until'])], 'pk_attr': 'id'},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='OrderLine',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('order', fields.ForeignKeyField('models.Order', source_field='order_id', db_constraint=True, to_field='id', related_name='lines', on_delete=OnDelete.CASCADE)),
                ('variant', fields.ForeignKeyField('models.ProductVariant', source_field='variant_id', db_constraint=True, to_field='id', related_name='order_lines', on_delete=OnDelete.RESTRICT)),
                ('product', fields.ForeignKeyField('models.Product', source_field='product_id', db_constraint=True, to_field='id', related_name='order_lines', on_delete=OnDelete.RESTRICT)),
                ('merchant', fields.ForeignKeyField('models.User', source_field='merchant_id', db_constraint=True, to_field='id', related_name='sold_lines', on_delete=OnDelete.RESTRICT)),
                ('source_note', fields.ForeignKeyField('models.Note', source_field='source_note_id', null=True, db_constraint=True, to_field='id', related_name='order_lines', on_delete=OnDelete.SET_NULL)),
                ('product_title', fields.CharField(max_length=200)),
                ('variant_name', fields.CharField(max_length=100)),
                ('sku', fields.CharField(max_length=64)),
                ('quantity', fields.IntField()),
                ('unit_price_minor_units', fields.BigIntField()),
            ],
            options={'table': 'order_lines', 'app': 'models', 'indexes': [Index(fields=['merchant_id', 'order_id']), Index(fields=['source_note_id', 'order_id']), Index(fields=['product_id', 'order_id'])], 'pk_attr': 'id'},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='PaymentAttempt',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('order', fields.ForeignKeyField('models.Order', source_field='order_id', db_constraint=True, to_field='id', related_name='attempts', on_delete=OnDelete.CASCADE)),
                ('stripe_idempotency_key', fields.UUIDField(default=uuid4, unique=True)),
                ('status', fields.CharEnumField(default=AttemptStatus.CREATING, description='CREATING: CREATING\nCREATED: CREATED\nFAILED: FAILED\nREPLACED: REPLACED', enum_type=AttemptStatus, max_length=8)),
                ('claimed_at', fields.DatetimeField(auto_now=False, auto_now_add=False)),
                ('payment_intent_id', fields.CharField(null=True, unique=True, max_length=255)),
                ('client_secret', fields.CharField(null=True, max_length=255)),
                ('amount_minor_units', fields.BigIntField()),
                ('currency', fields.CharField(max_length=3)),
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=True)),
            ],
            options={'table': 'payment_attempts', 'app': 'models', 'indexes': [Index(fields=['order_id', 'id'])], 'pk_attr': 'id', 'table_description': 'One Stripe PaymentIntent of an order, created with its own random idempotency key.'},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='PaymentEvent',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('order', fields.ForeignKeyField('models.Order', source_field='order_id', db_constraint=True, to_field='id', related_name='payment_events', on_delete=OnDelete.RESTRICT)),
                ('kind', fields.CharEnumField(description='PAYMENT_INTENT_CREATED: PAYMENT_INTENT_CREATED\nPAYMENT_SUCCEEDED: PAYMENT_SUCCEEDED\nPAYMENT_FAILED: PAYMENT_FAILED\nREFUND_SUCCEEDED: REFUND_SUCCEEDED\nREFUND_FAILED: REFUND_FAILED\nEXTERNAL_REFUND: EXTERNAL_REFUND', enum_type=PaymentEventKind, max_length=24)),
                ('amount_minor_units', fields.BigIntField(default=0)),
                ('currency', fields.CharField(max_length=3)),
                ('reference', fields.CharField(max_length=255)),
                ('stripe_event_id', fields.CharField(null=True, max_length=255)),
                ('detail', fields.CharField(null=True, max_length=300)),
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=True)),
            ],
            options={'table': 'payment_events', 'app': 'models', 'unique_together': (('kind', 'reference'),), 'indexes': [Index(fields=['order_id', 'id'])], 'pk_attr': 'id', 'table_description': 'The append-only payment ledger: rows are inserted, never updated or deleted.'},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='Refund',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('order', fields.ForeignKeyField('models.Order', source_field='order_id', db_constraint=True, to_field='id', related_name='refunds', on_delete=OnDelete.CASCADE)),
                ('merchant', fields.ForeignKeyField('models.User', source_field='merchant_id', db_constraint=True, to_field='id', related_name='refunds_given', on_delete=OnDelete.RESTRICT)),
                ('amount_minor_units', fields.BigIntField()),
                ('idempotency_key', fields.CharField(max_length=200)),
                ('stripe_idempotency_key', fields.UUIDField(default=uuid4, unique=True)),
                ('stripe_refund_id', fields.CharField(null=True, unique=True, max_length=255)),
                ('status', fields.CharEnumField(default=RefundStatus.PENDING, description='PENDING: PENDING\nSUCCEEDED: SUCCEEDED\nFAILED: FAILED', enum_type=RefundStatus, max_length=9)),
                ('failure', fields.CharField(null=True, max_length=300)),
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=True)),
            ],
            options={'table': 'refunds', 'app': 'models', 'unique_together': (('order_id', 'idempotency_key'),), 'pk_attr': 'id'},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='StripeEvent',
            fields=[
                ('id', fields.CharField(primary_key=True, unique=True, db_index=True, max_length=255)),
                ('type', fields.CharField(max_length=100)),
                ('received_at', fields.DatetimeField(auto_now=False, auto_now_add=True)),
            ],
            options={'table': 'stripe_events', 'app': 'models', 'pk_attr': 'id', 'table_description': 'Every Stripe webhook event id processed, so a redelivery is recognised and changes nothing.'},
            bases=['Model'],
        ),
    ]
