"""Customers updated at

Revision ID: 7a8b9cadbe07
Revises: 6f7a8b9cad06
Create Date: 2024-01-01 00:07:00.000000

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '7a8b9cadbe07'
down_revision = '6f7a8b9cad06'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute(
        """
        ALTER TABLE customers ADD COLUMN updated_at timestamptz
        """
    )
    op.execute(
        """
        CREATE FUNCTION touch_updated_at() RETURNS trigger
        LANGUAGE plpgsql AS $$
        BEGIN
            NEW.updated_at := now();
            RETURN NEW;
        END;
        $$
        """
    )
    op.execute(
        """
        CREATE TRIGGER customers_touch BEFORE UPDATE ON customers
            FOR EACH ROW EXECUTE FUNCTION touch_updated_at()
        """
    )


def downgrade() -> None:
    op.execute(
        """
        DROP TRIGGER customers_touch ON customers
        """
    )
    op.execute(
        """
        DROP FUNCTION touch_updated_at()
        """
    )
    op.execute(
        """
        ALTER TABLE customers DROP COLUMN updated_at
        """
    )
