"""insurers: coverage products, policies, guarantees, receivables, covered shares

Revision ID: c2a1e0000005
Revises: c2a1e0000004
Create Date: 2026-12-06 08:30:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'c2a1e0000005'
down_revision = 'c2a1e0000004'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('quote', schema=None) as batch_op:
        batch_op.add_column(sa.Column('covered_minor', sa.BigInteger(), server_default='0',
                                      nullable=False))
    with op.batch_alter_table('quote_line', schema=None) as batch_op:
        batch_op.add_column(sa.Column('covered_minor', sa.BigInteger(), server_default='0',
                                      nullable=False))
    with op.batch_alter_table('booking_line', schema=None) as batch_op:
        batch_op.add_column(sa.Column('covered_minor', sa.BigInteger(), server_default='0',
                                      nullable=False))
        batch_op.add_column(sa.Column('covered_by_provider_id', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('covered_kept_minor', sa.BigInteger(),
                                      server_default='0', nullable=False))
        batch_op.create_foreign_key(
            batch_op.f('fk_booking_line_covered_by_provider_id_provider'), 'provider',
            ['covered_by_provider_id'], ['id'])

    op.create_table('coverage_product',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('provider_id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('description', sa.Text(), nullable=False),
    sa.Column('chain_links', sa.JSON(), nullable=False),
    sa.Column('offer_ids', sa.JSON(), nullable=False),
    sa.Column('share_percent', sa.Integer(), nullable=True),
    sa.Column('fixed_minor', sa.BigInteger(), nullable=True),
    sa.Column('cap_minor', sa.BigInteger(), nullable=True),
    sa.Column('deductible_minor', sa.BigInteger(), nullable=False),
    sa.Column('currency', sa.String(length=3), nullable=False),
    sa.Column('valid_from', sa.Date(), nullable=False),
    sa.Column('valid_until', sa.Date(), nullable=False),
    sa.Column('status', sa.String(length=32), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.CheckConstraint('share_percent IS NULL OR (share_percent >= 1 AND share_percent <= 100)',
                       name=op.f('ck_coverage_product_share_percent_range')),
    sa.CheckConstraint('fixed_minor IS NULL OR fixed_minor >= 1',
                       name=op.f('ck_coverage_product_fixed_positive')),
    sa.CheckConstraint('(share_percent IS NULL) <> (fixed_minor IS NULL)',
                       name=op.f('ck_coverage_product_share_or_fixed')),
    sa.CheckConstraint('cap_minor IS NULL OR cap_minor >= 1',
                       name=op.f('ck_coverage_product_cap_positive')),
    sa.CheckConstraint('deductible_minor >= 0',
                       name=op.f('ck_coverage_product_deductible_not_negative')),
    sa.CheckConstraint('valid_until >= valid_from',
                       name=op.f('ck_coverage_product_dates_ordered')),
    sa.ForeignKeyConstraint(['provider_id'], ['provider.id'],
                            name=op.f('fk_coverage_product_provider_id_provider'),
                            ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_coverage_product'))
    )
    with op.batch_alter_table('coverage_product', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_coverage_product_provider_id'), ['provider_id'],
                              unique=False)

    op.create_table('insurance_policy',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('journey_id', sa.Integer(), nullable=False),
    sa.Column('product_id', sa.Integer(), nullable=False),
    sa.Column('provider_id', sa.Integer(), nullable=False),
    sa.Column('policy_number', sa.String(length=60), nullable=False),
    sa.Column('holder_name', sa.String(length=200), nullable=False),
    sa.Column('added_by_id', sa.Integer(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('removed_at', sa.DateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['journey_id'], ['journey.id'],
                            name=op.f('fk_insurance_policy_journey_id_journey'),
                            ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['product_id'], ['coverage_product.id'],
                            name=op.f('fk_insurance_policy_product_id_coverage_product')),
    sa.ForeignKeyConstraint(['provider_id'], ['provider.id'],
                            name=op.f('fk_insurance_policy_provider_id_provider')),
    sa.ForeignKeyConstraint(['added_by_id'], ['user_account.id'],
                            name=op.f('fk_insurance_policy_added_by_id_user_account')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_insurance_policy'))
    )
    with op.batch_alter_table('insurance_policy', schema=None) as batch_op:
        batch_op.create_index('ix_insurance_policy_journey', ['journey_id', 'removed_at'],
                              unique=False)

    op.create_table('insurance_guarantee',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('policy_id', sa.Integer(), nullable=False),
    sa.Column('quote_id', sa.Integer(), nullable=False),
    sa.Column('provider_id', sa.Integer(), nullable=False),
    sa.Column('requested_minor', sa.BigInteger(), nullable=False),
    sa.Column('currency', sa.String(length=3), nullable=False),
    sa.Column('line_positions', sa.JSON(), nullable=False),
    sa.Column('status', sa.String(length=32), nullable=False),
    sa.Column('respond_by', sa.DateTime(timezone=True), nullable=False),
    sa.Column('approved_minor', sa.BigInteger(), nullable=True),
    sa.Column('valid_until', sa.DateTime(timezone=True), nullable=True),
    sa.Column('note', sa.String(length=500), nullable=False),
    sa.Column('decided_by_id', sa.Integer(), nullable=True),
    sa.Column('decided_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.CheckConstraint('requested_minor >= 0',
                       name=op.f('ck_insurance_guarantee_requested_not_negative')),
    sa.CheckConstraint('approved_minor IS NULL OR approved_minor >= 0',
                       name=op.f('ck_insurance_guarantee_approved_not_negative')),
    sa.ForeignKeyConstraint(['policy_id'], ['insurance_policy.id'],
                            name=op.f('fk_insurance_guarantee_policy_id_insurance_policy'),
                            ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['quote_id'], ['quote.id'],
                            name=op.f('fk_insurance_guarantee_quote_id_quote'),
                            ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['provider_id'], ['provider.id'],
                            name=op.f('fk_insurance_guarantee_provider_id_provider')),
    sa.ForeignKeyConstraint(['decided_by_id'], ['user_account.id'],
                            name=op.f('fk_insurance_guarantee_decided_by_id_user_account')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_insurance_guarantee')),
    sa.UniqueConstraint('quote_id', name=op.f('uq_insurance_guarantee_quote_id'))
    )
    with op.batch_alter_table('insurance_guarantee', schema=None) as batch_op:
        batch_op.create_index('ix_insurance_guarantee_provider', ['provider_id', 'status'],
                              unique=False)
        batch_op.create_index(batch_op.f('ix_insurance_guarantee_policy_id'), ['policy_id'],
                              unique=False)

    op.create_table('insurer_receivable',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('booking_id', sa.Integer(), nullable=False),
    sa.Column('provider_id', sa.Integer(), nullable=False),
    sa.Column('amount_minor', sa.BigInteger(), nullable=False),
    sa.Column('paid_minor', sa.BigInteger(), nullable=False),
    sa.Column('credited_minor', sa.BigInteger(), nullable=False),
    sa.Column('currency', sa.String(length=3), nullable=False),
    sa.Column('status', sa.String(length=32), nullable=False),
    sa.Column('due_on', sa.Date(), nullable=False),
    sa.Column('paid_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('reference', sa.String(length=100), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.CheckConstraint('amount_minor >= 0',
                       name=op.f('ck_insurer_receivable_amount_not_negative')),
    sa.CheckConstraint('paid_minor >= 0', name=op.f('ck_insurer_receivable_paid_not_negative')),
    sa.CheckConstraint('credited_minor >= 0',
                       name=op.f('ck_insurer_receivable_credited_not_negative')),
    sa.ForeignKeyConstraint(['booking_id'], ['booking.id'],
                            name=op.f('fk_insurer_receivable_booking_id_booking'),
                            ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['provider_id'], ['provider.id'],
                            name=op.f('fk_insurer_receivable_provider_id_provider')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_insurer_receivable')),
    sa.UniqueConstraint('booking_id', name=op.f('uq_insurer_receivable_booking_id'))
    )
    with op.batch_alter_table('insurer_receivable', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_insurer_receivable_provider_id'), ['provider_id'],
                              unique=False)


def downgrade():
    with op.batch_alter_table('insurer_receivable', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_insurer_receivable_provider_id'))
    op.drop_table('insurer_receivable')
    with op.batch_alter_table('insurance_guarantee', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_insurance_guarantee_policy_id'))
        batch_op.drop_index('ix_insurance_guarantee_provider')
    op.drop_table('insurance_guarantee')
    with op.batch_alter_table('insurance_policy', schema=None) as batch_op:
        batch_op.drop_index('ix_insurance_policy_journey')
    op.drop_table('insurance_policy')
    with op.batch_alter_table('coverage_product', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_coverage_product_provider_id'))
    op.drop_table('coverage_product')
    with op.batch_alter_table('booking_line', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('fk_booking_line_covered_by_provider_id_provider'),
                                 type_='foreignkey')
        batch_op.drop_column('covered_kept_minor')
        batch_op.drop_column('covered_by_provider_id')
        batch_op.drop_column('covered_minor')
    with op.batch_alter_table('quote_line', schema=None) as batch_op:
        batch_op.drop_column('covered_minor')
    with op.batch_alter_table('quote', schema=None) as batch_op:
        batch_op.drop_column('covered_minor')
