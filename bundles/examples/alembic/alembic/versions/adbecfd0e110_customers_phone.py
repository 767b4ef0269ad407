"""Customers phone

Revision ID: adbecfd0e110
Revises: 9cadbecfd009
Create Date: 2024-01-01 00:10:00.000000

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'adbecfd0e110'
down_revision = '9cadbecfd009'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("customers", sa.Column("phone", sa.Text()))


def downgrade() -> None:
    op.drop_column("customers", "phone")
