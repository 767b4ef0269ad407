"""Create orders

Revision ID: 4d5e6f7a8b04
Revises: 3c4d5e6f7a03
Create Date: 2024-01-01 00:04:00.000000

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '4d5e6f7a8b04'
down_revision = '3c4d5e6f7a03'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute(
        """
        CREATE TABLE orders (
            id bigserial PRIMARY KEY,
            customer_id bigint NOT NULL REFERENCES customers (id) ON DELETE CASCADE,
            status order_status NOT NULL DEFAULT 'new',
            created_at timestamptz NOT NULL DEFAULT now()
        )
        """
    )
    op.execute(
        """
        CREATE INDEX orders_customer_idx ON orders (customer_id)
        """
    )


def downgrade() -> None:
    op.execute(
        """
        DROP TABLE orders
        """
    )
