"""visa invitation letters

Revision ID: b1a7e55a9e03
Revises: b1a7e55a9e02
Create Date: 2026-12-06 07:20:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'b1a7e55a9e03'
down_revision = 'b1a7e55a9e02'
branch_labels = None
depends_on = None


def upgrade():
    pass


def downgrade():
    pass
