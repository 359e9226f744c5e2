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
    op.create_table('bearing_request',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('journey_id', sa.Integer(), nullable=False),
    sa.Column('item_id', sa.Integer(), nullable=True),
    sa.Column('provider_id', sa.Integer(), nullable=False),
    sa.Column('amount_minor', sa.BigInteger(), nullable=False),
    sa.Column('currency', sa.String(length=3), nullable=False),
    sa.Column('note', sa.String(length=500), nullable=False),
    sa.Column('status', sa.String(length=32), nullable=False),
    sa.Column('requested_by_id', sa.Integer(), nullable=False),
    sa.Column('decided_by_id', sa.Integer(), nullable=True),
    sa.Column('decided_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['decided_by_id'], ['user_account.id'], name=op.f('fk_bearing_request_decided_by_id_user_account')),
    sa.ForeignKeyConstraint(['item_id'], ['journey_item.id'], name=op.f('fk_bearing_request_item_id_journey_item'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['journey_id'], ['journey.id'], name=op.f('fk_bearing_request_journey_id_journey'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['provider_id'], ['provider.id'], name=op.f('fk_bearing_request_provider_id_provider')),
    sa.ForeignKeyConstraint(['requested_by_id'], ['user_account.id'], name=op.f('fk_bearing_request_requested_by_id_user_account')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_bearing_request'))
    )
    with op.batch_alter_table('bearing_request', schema=None) as batch_op:
        batch_op.create_index('ix_bearing_request_provider', ['provider_id', 'status'], unique=False)
        batch_op.create_index(batch_op.f('ix_bearing_request_item_id'), ['item_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_bearing_request_journey_id'), ['journey_id'], unique=False)

    # Payouts: several per booking and member (transfers as the money comes in, and
    # reversals after a refund).
    with op.batch_alter_table('payout', schema=None) as batch_op:
        batch_op.add_column(sa.Column('kind', sa.String(length=32), server_default='transfer',
                                      nullable=False))
        batch_op.add_column(sa.Column('reverses_id', sa.Integer(), nullable=True))
        batch_op.create_foreign_key(batch_op.f('fk_payout_reverses_id_payout'), 'payout',
                                    ['reverses_id'], ['id'])
        batch_op.drop_constraint('uq_payout_booking_id', type_='unique')
        batch_op.create_index('ix_payout_booking_member', ['booking_id', 'provider_id'],
                              unique=False)


def downgrade():
    with op.batch_alter_table('payout', schema=None) as batch_op:
        batch_op.drop_index('ix_payout_booking_member')
        batch_op.create_unique_constraint('uq_payout_booking_id', ['booking_id', 'provider_id'])
        batch_op.drop_constraint(batch_op.f('fk_payout_reverses_id_payout'), type_='foreignkey')
        batch_op.drop_column('reverses_id')
        batch_op.drop_column('kind')
    with op.batch_alter_table('bearing_request', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_bearing_request_journey_id'))
        batch_op.drop_index(batch_op.f('ix_bearing_request_item_id'))
        batch_op.drop_index('ix_bearing_request_provider')
    op.drop_table('bearing_request')
