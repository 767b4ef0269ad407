"""Customers email lowercase

Revision ID: d0e1f2031413
Revises: cfd0e1f20312
Create Date: 2024-01-01 00:13:00.000000

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'd0e1f2031413'
down_revision = 'cfd0e1f20312'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute(
        """
        ALTER TABLE customers ADD CONSTRAINT customers_email_lower CHECK (email = lower(email))
        """
    )


def downgrade() -> None:
    op.execute(
        """
        ALTER TABLE customers DROP CONSTRAINT customers_email_lower
        """
    )
