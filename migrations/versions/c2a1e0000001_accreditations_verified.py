"""accreditations: evidence, verification by an admin, expiry warnings

Revision ID: c2a1e0000001
Revises: b1a7e55a9e03
Create Date: 2026-12-06 07:30:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'c2a1e0000001'
down_revision = 'b1a7e55a9e03'
branch_labels = None
depends_on = None


def upgrade():
    pass


def downgrade():
    pass
