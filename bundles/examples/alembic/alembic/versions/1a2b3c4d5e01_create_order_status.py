"""Create order status enum

Revision ID: 1a2b3c4d5e01
Revises: 
Create Date: 2024-01-01 00:01:00.000000

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '1a2b3c4d5e01'
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute(
        """
        CREATE TYPE order_status AS ENUM ('new', 'paid', 'shipped')
        """
    )


def downgrade() -> None:
    op.execute(
        """
        DROP TYPE order_status
        """
    )
