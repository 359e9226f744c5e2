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
    with op.batch_alter_table('offer', schema=None) as batch_op:
        batch_op.add_column(sa.Column('vat_percent', sa.Numeric(precision=5, scale=2),
                                      server_default='0', nullable=False))
    with op.batch_alter_table('cluster_settings', schema=None) as batch_op:
        batch_op.add_column(sa.Column('legal_name', sa.String(length=200), server_default='',
                                      nullable=False))
        batch_op.add_column(sa.Column('legal_address', sa.String(length=300),
                                      server_default='', nullable=False))
        batch_op.add_column(sa.Column('registration_number', sa.String(length=40),
                                      server_default='', nullable=False))
        batch_op.add_column(sa.Column('vat_number', sa.String(length=40), server_default='',
                                      nullable=False))
        batch_op.add_column(sa.Column('invoice_prefix', sa.String(length=10),
                                      server_default='', nullable=False))

    op.create_table('document_counter',
    sa.Column('series', sa.String(length=40), nullable=False),
    sa.Column('last', sa.BigInteger(), nullable=False),
    sa.PrimaryKeyConstraint('series', name=op.f('pk_document_counter'))
    )
    op.create_table('invoice_document',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.String(length=32), nullable=False),
    sa.Column('series', sa.String(length=40), nullable=False),
    sa.Column('sequence', sa.BigInteger(), nullable=False),
    sa.Column('number', sa.String(length=60), nullable=False),
    sa.Column('fact', sa.String(length=120), nullable=False),
    sa.Column('issued_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('booking_id', sa.Integer(), nullable=False),
    sa.Column('journey_id', sa.Integer(), nullable=True),
    sa.Column('payer_user_id', sa.Integer(), nullable=True),
    sa.Column('payer_provider_id', sa.Integer(), nullable=True),
    sa.Column('payment_id', sa.Integer(), nullable=True),
    sa.Column('refund_id', sa.Integer(), nullable=True),
    sa.Column('related_id', sa.Integer(), nullable=True),
    sa.Column('language', sa.String(length=20), nullable=False),
    sa.Column('currency', sa.String(length=3), nullable=False),
    sa.Column('total_minor', sa.BigInteger(), nullable=False),
    sa.Column('vat_minor', sa.BigInteger(), nullable=False),
    sa.Column('content', sa.JSON(), nullable=False),
    sa.ForeignKeyConstraint(['booking_id'], ['booking.id'], name=op.f('fk_invoice_document_booking_id_booking')),
    sa.ForeignKeyConstraint(['journey_id'], ['journey.id'], name=op.f('fk_invoice_document_journey_id_journey')),
    sa.ForeignKeyConstraint(['payer_user_id'], ['user_account.id'], name=op.f('fk_invoice_document_payer_user_id_user_account')),
    sa.ForeignKeyConstraint(['payer_provider_id'], ['provider.id'], name=op.f('fk_invoice_document_payer_provider_id_provider')),
    sa.ForeignKeyConstraint(['payment_id'], ['payment.id'], name=op.f('fk_invoice_document_payment_id_payment')),
    sa.ForeignKeyConstraint(['refund_id'], ['refund.id'], name=op.f('fk_invoice_document_refund_id_refund')),
    sa.ForeignKeyConstraint(['related_id'], ['invoice_document.id'], name=op.f('fk_invoice_document_related_id_invoice_document')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_invoice_document')),
    sa.UniqueConstraint('fact', name=op.f('uq_invoice_document_fact')),
    sa.UniqueConstraint('number', name=op.f('uq_invoice_document_number')),
    sa.UniqueConstraint('series', 'sequence', name='uq_invoice_document_series_sequence')
    )
    with op.batch_alter_table('invoice_document', schema=None) as batch_op:
        batch_op.create_index('ix_invoice_document_booking', ['booking_id', 'kind'], unique=False)
        batch_op.create_index(batch_op.f('ix_invoice_document_journey_id'), ['journey_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_invoice_document_payer_user_id'), ['payer_user_id'], unique=False)

    op.create_table('invoice_document_member',
    sa.Column('document_id', sa.Integer(), nullable=False),
    sa.Column('provider_id', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['document_id'], ['invoice_document.id'], name=op.f('fk_invoice_document_member_document_id_invoice_document')),
    sa.ForeignKeyConstraint(['provider_id'], ['provider.id'], name=op.f('fk_invoice_document_member_provider_id_provider')),
    sa.PrimaryKeyConstraint('document_id', 'provider_id', name=op.f('pk_invoice_document_member'))
    )
    with op.batch_alter_table('invoice_document_member', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_invoice_document_member_provider_id'), ['provider_id'], unique=False)


def downgrade():
    with op.batch_alter_table('invoice_document_member', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_invoice_document_member_provider_id'))
    op.drop_table('invoice_document_member')
    with op.batch_alter_table('invoice_document', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_invoice_document_payer_user_id'))
        batch_op.drop_index(batch_op.f('ix_invoice_document_journey_id'))
        batch_op.drop_index('ix_invoice_document_booking')
    op.drop_table('invoice_document')
    op.drop_table('document_counter')
    with op.batch_alter_table('cluster_settings', schema=None) as batch_op:
        batch_op.drop_column('invoice_prefix')
        batch_op.drop_column('vat_number')
        batch_op.drop_column('registration_number')
        batch_op.drop_column('legal_address')
        batch_op.drop_column('legal_name')
    with op.batch_alter_table('offer', schema=None) as batch_op:
        batch_op.drop_column('vat_percent')
