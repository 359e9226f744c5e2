"""who ended a booking line

Revision ID: 71e8b1a881df
Revises: 64e7be857cdd
Create Date: 2026-12-06 01:24:49.327505

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '71e8b1a881df'
down_revision = '64e7be857cdd'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('booking_line', schema=None) as batch_op:
        batch_op.add_column(sa.Column('ended_by', sa.String(length=32), nullable=True))
    # Until now a line its member cancelled was told by a non-empty decline reason; who
    # ended the other lines was not recorded (they stay unknown).
    op.execute("UPDATE booking_line SET ended_by = 'member' WHERE status = 'declined' "
               "OR (status = 'cancelled' AND decline_reason <> '')")


def downgrade():
    with op.batch_alter_table('booking_line', schema=None) as batch_op:
        batch_op.drop_column('ended_by')
