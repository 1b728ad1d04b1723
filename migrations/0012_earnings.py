from tortoise import migrations
from tortoise.migrations import operations as ops
from models.earnings import EarningKind, PayoutStatus
from tortoise.fields.base import OnDelete
from tortoise import fields
from tortoise.indexes import Index


class Migration(migrations.Migration):
    dependencies = [("models", "0011_selling")]

    initial = False

    operations = [
        ops.CreateModel(
            name="Payout",
            fields=[
                ("id", fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                (
                    "creator",
                    fields.ForeignKeyField(
                        "models.User",
                        source_field="creator_id",
                        db_constraint=True,
                        to_field="id",
                        related_name="payouts",
                        on_delete=OnDelete.RESTRICT,
                    ),
                ),
                ("currency", fields.CharField(max_length=3)),
                ("amount_minor_units", fields.BigIntField()),
                (
                    "status",
                    fields.CharEnumField(
                        default=PayoutStatus.REQUESTED,
                        description="REQUESTED: REQUESTED\nPAID: PAID\nCANCELLED: CANCELLED",
                        enum_type=PayoutStatus,
                        max_length=9,
                    ),
                ),
                ("open_key", fields.CharField(null=True, unique=True, max_length=40)),
                ("reference", fields.CharField(default="", max_length=255)),
                ("stripe_transfer_id", fields.CharField(null=True, unique=True, max_length=255)),
                ("requested_at", fields.DatetimeField(auto_now=False, auto_now_add=True)),
                ("settled_at", fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
            ],
            options={
                "table": "payouts",
                "app": "models",
                "indexes": [Index(fields=["creator_id", "id"]), Index(fields=["status", "id"])],
                "pk_attr": "id",
                "table_description": "A creator's request to be paid their available earnings in one currency.",
            },
            bases=["Model"],
        ),
        ops.CreateModel(
            name="EarningEntry",
            fields=[
                ("id", fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                (
                    "creator",
                    fields.ForeignKeyField(
                        "models.User",
                        source_field="creator_id",
                        db_constraint=True,
                        to_field="id",
                        related_name="earning_entries",
                        on_delete=OnDelete.RESTRICT,
                    ),
                ),
                (
                    "kind",
                    fields.CharEnumField(
                        description="COMMISSION: COMMISSION\nREVERSAL: REVERSAL\nRELEASE: RELEASE\nPAYOUT_REQUESTED: PAYOUT_REQUESTED\nPAYOUT_PAID: PAYOUT_PAID\nPAYOUT_CANCELLED: PAYOUT_CANCELLED",
                        enum_type=EarningKind,
                        max_length=16,
                    ),
                ),
                ("currency", fields.CharField(max_length=3)),
                ("pending", fields.BigIntField(default=0)),
                ("available", fields.BigIntField(default=0)),
                ("in_payout", fields.BigIntField(default=0)),
                ("paid_out", fields.BigIntField(default=0)),
                (
                    "order",
                    fields.ForeignKeyField(
                        "models.Order",
                        source_field="order_id",
                        null=True,
                        db_constraint=True,
                        to_field="id",
                        related_name="earning_entries",
                        on_delete=OnDelete.RESTRICT,
                    ),
                ),
                (
                    "order_line",
                    fields.ForeignKeyField(
                        "models.OrderLine",
                        source_field="order_line_id",
                        null=True,
                        db_constraint=True,
                        to_field="id",
                        related_name="earning_entries",
                        on_delete=OnDelete.RESTRICT,
                    ),
                ),
                ("note_id", fields.IntField(null=True)),
                (
                    "payout",
                    fields.ForeignKeyField(
                        "models.Payout",
                        source_field="payout_id",
                        null=True,
                        db_constraint=True,
                        to_field="id",
                        related_name="entries",
                        on_delete=OnDelete.RESTRICT,
                    ),
                ),
                ("reference", fields.CharField(max_length=100)),
                ("detail", fields.CharField(default="", max_length=300)),
                ("created_at", fields.DatetimeField(auto_now=False, auto_now_add=True)),
            ],
            options={
                "table": "earning_entries",
                "app": "models",
                "unique_together": (("kind", "reference"),),
                "indexes": [Index(fields=["creator_id", "currency", "id"]), Index(fields=["order_line_id"])],
                "pk_attr": "id",
                "table_description": "One movement of a creator's earnings between balances (columns are signed deltas).",
            },
            bases=["Model"],
        ),
        ops.AddField(
            model_name="OrderLine",
            name="commission_basis_points",
            field=fields.SmallIntField(default=0),
        ),
        ops.AddField(
            model_name="OrderLine",
            name="commission_creator_id",
            field=fields.IntField(null=True),
        ),
        ops.AddField(
            model_name="Product",
            name="creator_commission_basis_points",
            field=fields.SmallIntField(null=True),
        ),
        ops.AddField(
            model_name="User",
            name="default_commission_basis_points",
            field=fields.SmallIntField(default=0),
        ),
        ops.AddField(
            model_name="User",
            name="stripe_account_id",
            field=fields.CharField(null=True, max_length=255),
        ),
    ]
