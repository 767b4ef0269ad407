"""Order total function

Revision ID: 6f7a8b9cad06
Revises: 5e6f7a8b9c05
Create Date: 2024-01-01 00:06:00.000000

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '6f7a8b9cad06'
down_revision = '5e6f7a8b9c05'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute(
        """
        CREATE FUNCTION order_total(p_order bigint) RETURNS bigint
        LANGUAGE sql STABLE AS $$
            SELECT coalesce(sum(oi.quantity * p.price_cents), 0)
            FROM order_items oi JOIN products p ON p.id = oi.product_id
            WHERE oi.order_id = p_order;
        $$
        """
    )


def downgrade() -> None:
    op.execute(
        """
        DROP FUNCTION order_total(bigint)
        """
    )
