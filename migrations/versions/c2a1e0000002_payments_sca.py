"""payments: 3-D Secure (SCA) confirmation

Revision ID: c2a1e0000002
Revises: c2a1e0000001
Create Date: 2026-12-06 07:30:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'c2a1e0000002'
down_revision = 'c2a1e0000001'
branch_labels = None
depends_on = None


def upgrade():
    pass


def downgrade():
    pass
