"""Create products

Revision ID: 3c4d5e6f7a03
Revises: 2b3c4d5e6f02
Create Date: 2024-01-01 00:03:00.000000

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '3c4d5e6f7a03'
down_revision = '2b3c4d5e6f02'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute(
        """
        CREATE TABLE products (
            id bigserial PRIMARY KEY,
            sku text NOT NULL,
            price_cents integer NOT NULL CHECK (price_cents >= 0),
            CONSTRAINT products_sku_key UNIQUE (sku)
        )
        """
    )


def downgrade() -> None:
    op.execute(
        """
        DROP TABLE products
        """
    )
