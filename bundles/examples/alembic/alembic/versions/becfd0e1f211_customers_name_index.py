"""Customers name index

Revision ID: becfd0e1f211
Revises: adbecfd0e110
Create Date: 2024-01-01 00:11:00.000000

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'becfd0e1f211'
down_revision = 'adbecfd0e110'
branch_labels = None
depends_on = None


def upgrade() -> None:
    # CONCURRENTLY cannot run in a transaction: Alembic commits, runs it, begins again.
    with op.get_context().autocommit_block():
        op.execute(
            """
            CREATE INDEX CONCURRENTLY customers_name_idx ON customers (name)
            """
        )


def downgrade() -> None:
    # CONCURRENTLY cannot run in a transaction: Alembic commits, runs it, begins again.
    with op.get_context().autocommit_block():
        op.execute(
            """
            DROP INDEX CONCURRENTLY customers_name_idx
            """
        )
