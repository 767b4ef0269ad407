"""Seed products

Revision ID: 9cadbecfd009
Revises: 8b9cadbecf08
Create Date: 2024-01-01 00:09:00.000000

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '9cadbecfd009'
down_revision = '8b9cadbecf08'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute(
        """
        INSERT INTO products (sku, price_cents) VALUES
            ('tea', 450),
            ('coffee', 395),
            ('cake', 320)
        """
    )


def downgrade() -> None:
    op.execute(
        """
        DELETE FROM products WHERE sku IN ('tea', 'coffee', 'cake')
        """
    )
