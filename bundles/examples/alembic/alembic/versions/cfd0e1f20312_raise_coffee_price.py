"""Raise coffee price

Revision ID: cfd0e1f20312
Revises: becfd0e1f211
Create Date: 2024-01-01 00:12:00.000000

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'cfd0e1f20312'
down_revision = 'becfd0e1f211'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute(
        """
        UPDATE products SET price_cents = price_cents + 10 WHERE sku = 'coffee'
        """
    )


def downgrade() -> None:
    op.execute(
        """
        UPDATE products SET price_cents = price_cents - 10 WHERE sku = 'coffee'
        """
    )
