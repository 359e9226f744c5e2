"""the cluster's payout delay, set by its admin

Revision ID: c2a1e0000006
Revises: c2a1e0000005
Create Date: 2026-12-06 09:00:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'c2a1e0000006'
down_revision = 'c2a1e0000005'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('cluster_settings', schema=None) as batch_op:
        batch_op.add_column(sa.Column('payout_delay_days', sa.Integer(), server_default='7',
                                      nullable=False))


def downgrade():
    with op.batch_alter_table('cluster_settings', schema=None) as batch_op:
        batch_op.drop_column('payout_delay_days')
