"""reason codes on audit rows, escalations and refunds

Rows written before this keep their English text as the note (no code); new rows store
a code and its parameters, translated when read (journey/reasons.py).

Revision ID: e8ed5a527997
Revises: f4d40204d551
Create Date: 2026-11-22 22:30:40.326843

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'e8ed5a527997'
down_revision = 'f4d40204d551'
branch_labels = None
depends_on = None

TABLES = ("booking_event", "escalation", "journey_transition", "refund")


def upgrade():
    for table in TABLES:
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.add_column(sa.Column('reason_code', sa.String(length=40),
                                          server_default='', nullable=False))
            batch_op.add_column(sa.Column('reason_params', sa.JSON(), nullable=True))


def downgrade():
    for table in reversed(TABLES):
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.drop_column('reason_params')
            batch_op.drop_column('reason_code')
