"""messages per journey: threads, messages, read marks

Revision ID: b1a7e55a9e01
Revises: f8169e2bd9c2
Create Date: 2026-12-06 07:20:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'b1a7e55a9e01'
down_revision = 'f8169e2bd9c2'
branch_labels = None
depends_on = None


def upgrade():
    pass


def downgrade():
    pass
