"""Create order items

Revision ID: 5e6f7a8b9c05
Revises: 4d5e6f7a8b04
Create Date: 2024-01-01 00:05:00.000000

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '5e6f7a8b9c05'
down_revision = '4d5e6f7a8b04'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute(
        """
        CREATE TABLE order_items (
            order_id bigint NOT NULL REFERENCES orders (id) ON DELETE CASCADE,
            product_id bigint NOT NULL REFERENCES products (id),
            quantity integer NOT NULL CHECK (quantity > 0),
            PRIMARY KEY (order_id, product_id)
        )
        """
    )


def downgrade() -> None:
    op.execute(
        """
        DROP TABLE order_items
        """
    )
