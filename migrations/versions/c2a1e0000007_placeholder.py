"""placeholder 7 (issue 17): filled by the helper that owns it

Revision ID: c2a1e0000007
Revises: c2a1e0000006
Create Date: 2026-12-06 10:15:00

"""
from alembic import op  # noqa: F401
import sqlalchemy as sa  # noqa: F401


# revision identifiers, used by Alembic.
revision = 'c2a1e0000007'
down_revision = 'c2a1e0000006'
branch_labels = None
depends_on = None


def upgrade():
    pass


def downgrade():
    pass
