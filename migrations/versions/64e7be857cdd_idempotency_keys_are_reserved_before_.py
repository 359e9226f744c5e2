"""idempotency keys are reserved before the effect

Revision ID: 64e7be857cdd
Revises: 2870f456b07c
Create Date: 2026-12-06 01:06:10.633801

"""
from alembic import op
import sqlalchemy as sa

# revision identifiers, used by Alembic.
revision = '64e7be857cdd'
down_revision = '2870f456b07c'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('idempotent_request', schema=None) as batch_op:
        batch_op.add_column(sa.Column('locked_at', sa.DateTime(timezone=True), nullable=True))
        batch_op.alter_column('status_code',
               existing_type=sa.INTEGER(),
               nullable=True)
        batch_op.alter_column('body',
               existing_type=sa.JSON(),
               nullable=True)


def downgrade():
    # Reservations without an answer cannot be kept by the older schema.
    op.execute("DELETE FROM idempotent_request WHERE status_code IS NULL OR body IS NULL")
    with op.batch_alter_table('idempotent_request', schema=None) as batch_op:
        batch_op.alter_column('body',
               existing_type=sa.JSON(),
               nullable=False)
        batch_op.alter_column('status_code',
               existing_type=sa.INTEGER(),
               nullable=False)
        batch_op.drop_column('locked_at')
