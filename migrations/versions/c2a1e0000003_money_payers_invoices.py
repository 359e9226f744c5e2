"""money: payers, invoices and credit notes, payouts after the service

Revision ID: c2a1e0000003
Revises: c2a1e0000002
Create Date: 2026-12-06 07:30:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'c2a1e0000003'
down_revision = 'c2a1e0000002'
branch_labels = None
depends_on = None


def upgrade():
    pass


def downgrade():
    pass
