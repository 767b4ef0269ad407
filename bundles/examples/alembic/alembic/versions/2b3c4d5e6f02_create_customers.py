"""Create customers

Revision ID: 2b3c4d5e6f02
Revises: 1a2b3c4d5e01
Create Date: 2024-01-01 00:02:00.000000

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '2b3c4d5e6f02'
down_revision = '1a2b3c4d5e01'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute(
        """
        CREATE TABLE customers (
            id bigserial PRIMARY KEY,
            email text NOT NULL UNIQUE,
            name text NOT NULL,
            created_at timestamptz NOT NULL DEFAULT now()
        )
        """
    )


def downgrade() -> None:
    op.execute(
        """
        DROP TABLE customers
        """
    )
