"""Order summaries view

Revision ID: 8b9cadbecf08
Revises: 7a8b9cadbe07
Create Date: 2024-01-01 00:08:00.000000

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '8b9cadbecf08'
down_revision = '7a8b9cadbe07'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute(
        """
        CREATE VIEW order_summaries AS
            SELECT o.id, o.customer_id, o.status, order_total(o.id) AS total_cents
            FROM orders o
        """
    )


def downgrade() -> None:
    op.execute(
        """
        DROP VIEW order_summaries
        """
    )
