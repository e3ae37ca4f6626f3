"""report indexes: leads and sales by time (covering, for admins), per publisher, per buyer

Revision ID: a7c3e9d2b415
Revises: 55432f6ff9ba
Create Date: 2026-11-22 16:00:00.000000

"""

from alembic import op

# revision identifiers, used by Alembic.
revision = "a7c3e9d2b415"
down_revision = "55432f6ff9ba"
branch_labels = None
depends_on = None

LEAD_REPORT = ["created_at", "niche_id", "status", "publisher_id", "region", "sub_id"]
SALE_REPORT = [
    "created_at",
    "niche_id",
    "publisher_id",
    "buyer_id",
    "currency",
    "status",
    "pipeline_status",
    "price",
    "publisher_amount",
    "lead_id",
]


def upgrade():
    with op.batch_alter_table("lead", schema=None) as batch_op:
        batch_op.create_index("ix_lead_created_report", LEAD_REPORT, unique=False)
    with op.batch_alter_table("sale", schema=None) as batch_op:
        batch_op.create_index("ix_sale_created_report", SALE_REPORT, unique=False)
        batch_op.create_index(
            "ix_sale_publisher_created", ["publisher_id", "created_at"], unique=False
        )
        batch_op.create_index("ix_sale_buyer_created", ["buyer_id", "created_at"], unique=False)


def downgrade():
    with op.batch_alter_table("sale", schema=None) as batch_op:
        batch_op.drop_index("ix_sale_buyer_created")
        batch_op.drop_index("ix_sale_publisher_created")
        batch_op.drop_index("ix_sale_created_report")
    with op.batch_alter_table("lead", schema=None) as batch_op:
        batch_op.drop_index("ix_lead_created_report")
