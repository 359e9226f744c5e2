"""what an offer treats: offer.procedure (issue 17)

Revision ID: c2a1e0000008
Revises: c2a1e0000007
Create Date: 2026-12-06 10:15:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'c2a1e0000008'
down_revision = 'c2a1e0000007'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('offer', schema=None) as batch_op:
        batch_op.add_column(sa.Column('procedure', sa.String(length=32), nullable=True))
        batch_op.create_index(batch_op.f('ix_offer_procedure'), ['procedure'], unique=False)


def downgrade():
    with op.batch_alter_table('offer', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_offer_procedure'))
        batch_op.drop_column('procedure')
