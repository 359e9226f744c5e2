"""booking orchestrator: member confirmation, refunds, ledger, payouts, escalations

Revision ID: f4d40204d551
Revises: f6792a344b7f
Create Date: 2026-11-22 19:54:19.759813

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'f4d40204d551'
down_revision = 'f6792a344b7f'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('commission_rate',
    sa.Column('chain_link', sa.String(length=40), nullable=False),
    sa.Column('percent', sa.Numeric(precision=5, scale=2), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.CheckConstraint('percent >= 0 AND percent <= 100', name=op.f('ck_commission_rate_percent_range')),
    sa.PrimaryKeyConstraint('chain_link', name=op.f('pk_commission_rate'))
    )
    op.create_table('notification',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('key', sa.String(length=120), nullable=False),
    sa.Column('recipient', sa.String(length=100), nullable=False),
    sa.Column('kind', sa.String(length=40), nullable=False),
    sa.Column('booking_id', sa.Integer(), nullable=False),
    sa.Column('payload', sa.JSON(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('sent_at', sa.DateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['booking_id'], ['booking.id'], name=op.f('fk_notification_booking_id_booking'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_notification')),
    sa.UniqueConstraint('key', name=op.f('uq_notification_key'))
    )
    with op.batch_alter_table('notification', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_notification_booking_id'), ['booking_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_notification_recipient'), ['recipient'], unique=False)

    op.create_table('payout',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('booking_id', sa.Integer(), nullable=False),
    sa.Column('provider_id', sa.Integer(), nullable=False),
    sa.Column('amount_minor', sa.BigInteger(), nullable=False),
    sa.Column('currency', sa.String(length=3), nullable=False),
    sa.Column('status', sa.String(length=32), nullable=False),
    sa.Column('transfer_id', sa.String(length=100), nullable=True),
    sa.Column('error', sa.String(length=500), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.CheckConstraint('amount_minor > 0', name=op.f('ck_payout_amount_positive')),
    sa.ForeignKeyConstraint(['booking_id'], ['booking.id'], name=op.f('fk_payout_booking_id_booking'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['provider_id'], ['provider.id'], name=op.f('fk_payout_provider_id_provider')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_payout')),
    sa.UniqueConstraint('booking_id', 'provider_id', name=op.f('uq_payout_booking_id'))
    )
    with op.batch_alter_table('payout', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_payout_provider_id'), ['provider_id'], unique=False)

    op.create_table('escalation',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('key', sa.String(length=120), nullable=False),
    sa.Column('kind', sa.String(length=32), nullable=False, server_default='deposit'),
    sa.Column('booking_id', sa.Integer(), nullable=False),
    sa.Column('line_id', sa.Integer(), nullable=True),
    sa.Column('payment_id', sa.Integer(), nullable=True),
    sa.Column('detail', sa.String(length=500), nullable=False),
    sa.Column('opened_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('resolved_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('resolved_by', sa.String(length=100), nullable=True),
    sa.Column('note', sa.String(length=500), nullable=False),
    sa.ForeignKeyConstraint(['booking_id'], ['booking.id'], name=op.f('fk_escalation_booking_id_booking'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['line_id'], ['booking_line.id'], name=op.f('fk_escalation_line_id_booking_line')),
    sa.ForeignKeyConstraint(['payment_id'], ['payment.id'], name=op.f('fk_escalation_payment_id_payment')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_escalation')),
    sa.UniqueConstraint('key', name=op.f('uq_escalation_key'))
    )
    with op.batch_alter_table('escalation', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_escalation_booking_id'), ['booking_id'], unique=False)
        batch_op.create_index('ix_escalation_open', ['resolved_at'], unique=False)

    op.create_table('ledger_entry',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('posting', sa.String(length=120), nullable=False),
    sa.Column('booking_id', sa.Integer(), nullable=False),
    sa.Column('line_id', sa.Integer(), nullable=True),
    sa.Column('provider_id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.String(length=20), nullable=False),
    sa.Column('amount_minor', sa.BigInteger(), nullable=False),
    sa.Column('currency', sa.String(length=3), nullable=False),
    sa.Column('at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['booking_id'], ['booking.id'], name=op.f('fk_ledger_entry_booking_id_booking'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['line_id'], ['booking_line.id'], name=op.f('fk_ledger_entry_line_id_booking_line')),
    sa.ForeignKeyConstraint(['provider_id'], ['provider.id'], name=op.f('fk_ledger_entry_provider_id_provider')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_ledger_entry')),
    sa.UniqueConstraint('posting', name=op.f('uq_ledger_entry_posting'))
    )
    with op.batch_alter_table('ledger_entry', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_ledger_entry_booking_id'), ['booking_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_ledger_entry_provider_id'), ['provider_id'], unique=False)

    op.create_table('refund',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('booking_id', sa.Integer(), nullable=False),
    sa.Column('payment_id', sa.Integer(), nullable=False),
    sa.Column('line_id', sa.Integer(), nullable=True),
    sa.Column('amount_minor', sa.BigInteger(), nullable=False),
    sa.Column('currency', sa.String(length=3), nullable=False),
    sa.Column('status', sa.String(length=32), nullable=False),
    sa.Column('stripe_refund_id', sa.String(length=100), nullable=True),
    sa.Column('reason', sa.String(length=500), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.CheckConstraint('amount_minor > 0', name=op.f('ck_refund_amount_positive')),
    sa.ForeignKeyConstraint(['booking_id'], ['booking.id'], name=op.f('fk_refund_booking_id_booking'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['line_id'], ['booking_line.id'], name=op.f('fk_refund_line_id_booking_line')),
    sa.ForeignKeyConstraint(['payment_id'], ['payment.id'], name=op.f('fk_refund_payment_id_payment'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_refund')),
    sa.UniqueConstraint('stripe_refund_id', name=op.f('uq_refund_stripe_refund_id'))
    )
    with op.batch_alter_table('refund', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_refund_booking_id'), ['booking_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_refund_payment_id'), ['payment_id'], unique=False)

    with op.batch_alter_table('booking', schema=None) as batch_op:
        batch_op.add_column(sa.Column('start_on', sa.Date(), nullable=True))
        batch_op.add_column(sa.Column('balance_due_on', sa.Date(), nullable=True))

    with op.batch_alter_table('booking_line', schema=None) as batch_op:
        batch_op.add_column(sa.Column('chain_link', sa.String(length=40), nullable=True))
        batch_op.add_column(sa.Column('value_minor', sa.BigInteger(), nullable=False, server_default='0'))
        batch_op.add_column(sa.Column('borne_by_provider_id', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('respond_by', sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column('decided_at', sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column('decline_reason', sa.String(length=500), nullable=False, server_default=''))
        batch_op.add_column(sa.Column('kept_minor', sa.BigInteger(), nullable=False, server_default='0'))
        batch_op.create_foreign_key(batch_op.f('fk_booking_line_borne_by_provider_id_provider'), 'provider', ['borne_by_provider_id'], ['id'])

    with op.batch_alter_table('cluster_settings', schema=None) as batch_op:
        batch_op.add_column(sa.Column('languages', sa.JSON(), nullable=False, server_default=sa.text("'[]'")))

    with op.batch_alter_table('payment', schema=None) as batch_op:
        batch_op.add_column(sa.Column('kind', sa.String(length=32), nullable=False, server_default='deposit'))
        batch_op.add_column(sa.Column('captured_minor', sa.BigInteger(), nullable=False, server_default='0'))
        batch_op.add_column(sa.Column('refunded_minor', sa.BigInteger(), nullable=False, server_default='0'))
        batch_op.create_check_constraint(
            'captured_within_amount', 'captured_minor >= 0 AND captured_minor <= amount_minor')
        batch_op.create_check_constraint(
            'refunded_within_captured', 'refunded_minor >= 0 AND refunded_minor <= captured_minor')

    with op.batch_alter_table('provider', schema=None) as batch_op:
        batch_op.add_column(sa.Column('stripe_account_id', sa.String(length=100), nullable=True))

    # Existing rows: a line is worth its amount; the cluster offers every language.
    op.execute("UPDATE booking_line SET value_minor = amount_minor")
    op.execute("""UPDATE cluster_settings SET languages = '["en", "lt", "ru", "de", "pl", "uk", "nb", "sv", "fr", "ar"]'""")
    # ### end Alembic commands ###


def downgrade():
    # ### commands auto generated by Alembic - please adjust! ###
    with op.batch_alter_table('provider', schema=None) as batch_op:
        batch_op.drop_column('stripe_account_id')
    if op.get_bind().dialect.name == 'sqlite':  # the table was rebuilt without it
        with op.batch_alter_table('provider', schema=None) as batch_op:
            batch_op.create_index('ix_provider_lower_city', [sa.text('lower(city)')],
                                  unique=False)

    with op.batch_alter_table('payment', schema=None) as batch_op:
        batch_op.drop_constraint(op.f('ck_payment_refunded_within_captured'), type_='check')
        batch_op.drop_constraint(op.f('ck_payment_captured_within_amount'), type_='check')
        batch_op.drop_column('refunded_minor')
        batch_op.drop_column('captured_minor')
        batch_op.drop_column('kind')

    with op.batch_alter_table('cluster_settings', schema=None) as batch_op:
        batch_op.drop_column('languages')

    with op.batch_alter_table('booking_line', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('fk_booking_line_borne_by_provider_id_provider'), type_='foreignkey')
        batch_op.drop_column('kept_minor')
        batch_op.drop_column('decline_reason')
        batch_op.drop_column('decided_at')
        batch_op.drop_column('respond_by')
        batch_op.drop_column('borne_by_provider_id')
        batch_op.drop_column('value_minor')
        batch_op.drop_column('chain_link')

    with op.batch_alter_table('booking', schema=None) as batch_op:
        batch_op.drop_column('balance_due_on')
        batch_op.drop_column('start_on')

    with op.batch_alter_table('refund', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_refund_payment_id'))
        batch_op.drop_index(batch_op.f('ix_refund_booking_id'))

    op.drop_table('refund')
    with op.batch_alter_table('ledger_entry', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_ledger_entry_provider_id'))
        batch_op.drop_index(batch_op.f('ix_ledger_entry_booking_id'))

    op.drop_table('ledger_entry')
    with op.batch_alter_table('escalation', schema=None) as batch_op:
        batch_op.drop_index('ix_escalation_open')
        batch_op.drop_index(batch_op.f('ix_escalation_booking_id'))

    op.drop_table('escalation')
    with op.batch_alter_table('payout', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_payout_provider_id'))

    op.drop_table('payout')
    with op.batch_alter_table('notification', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_notification_recipient'))
        batch_op.drop_index(batch_op.f('ix_notification_booking_id'))

    op.drop_table('notification')
    op.drop_table('commission_rate')
    # ### end Alembic commands ###
