"""aftercare: follow-up schedules, follow-ups and answers

Revision ID: b1a7e55a9e02
Revises: b1a7e55a9e01
Create Date: 2026-12-06 07:20:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'b1a7e55a9e02'
down_revision = 'b1a7e55a9e01'
branch_labels = None
depends_on = None


def upgrade():
    pass


def downgrade():
    pass
