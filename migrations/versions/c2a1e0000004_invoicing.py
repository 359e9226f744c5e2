"""invoicing: invoices, receipts, credit notes and their numbering

Revision ID: c2a1e0000004
Revises: c2a1e0000003
Create Date: 2026-12-06 07:40:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'c2a1e0000004'
down_revision = 'c2a1e0000003'
branch_labels = None
depends_on = None


def upgrade():
    pass


def downgrade():
    pass
