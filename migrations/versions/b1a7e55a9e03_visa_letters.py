"""visa invitation letters

Revision ID: b1a7e55a9e03
Revises: b1a7e55a9e02
Create Date: 2026-12-06 07:20:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'b1a7e55a9e03'
down_revision = 'b1a7e55a9e02'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('provider', schema=None) as batch_op:
        batch_op.add_column(sa.Column('street_address', sa.String(length=300), nullable=True))
        batch_op.add_column(sa.Column('legal_name', sa.String(length=200), nullable=True))
        batch_op.add_column(sa.Column('registration_number', sa.String(length=40),
                                      nullable=True))
        batch_op.add_column(sa.Column('vat_number', sa.String(length=40), nullable=True))

    op.create_table('visa_letter',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('journey_id', sa.Integer(), nullable=False),
    sa.Column('traveller_id', sa.Integer(), nullable=True),
    sa.Column('provider_id', sa.Integer(), nullable=False),
    sa.Column('number', sa.String(length=20), nullable=False),
    sa.Column('code', sa.String(length=16), nullable=False),
    sa.Column('content', sa.JSON(), nullable=False),
    sa.Column('status', sa.String(length=32), nullable=False),
    sa.Column('issued_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('issued_by_id', sa.Integer(), nullable=True),
    sa.Column('ended_at', sa.DateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['issued_by_id'], ['user_account.id'], name=op.f('fk_visa_letter_issued_by_id_user_account')),
    sa.ForeignKeyConstraint(['journey_id'], ['journey.id'], name=op.f('fk_visa_letter_journey_id_journey'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['provider_id'], ['provider.id'], name=op.f('fk_visa_letter_provider_id_provider')),
    sa.ForeignKeyConstraint(['traveller_id'], ['traveller.id'], name=op.f('fk_visa_letter_traveller_id_traveller'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_visa_letter')),
    sa.UniqueConstraint('code', name=op.f('uq_visa_letter_code')),
    sa.UniqueConstraint('number', name=op.f('uq_visa_letter_number'))
    )
    with op.batch_alter_table('visa_letter', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_visa_letter_journey_id'), ['journey_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_visa_letter_traveller_id'), ['traveller_id'], unique=False)
        batch_op.create_index('uq_visa_letter_valid', ['traveller_id'], unique=True,
                              sqlite_where=sa.text("status = 'valid'"),
                              postgresql_where=sa.text("status = 'valid'"))


def downgrade():
    with op.batch_alter_table('visa_letter', schema=None) as batch_op:
        batch_op.drop_index('uq_visa_letter_valid')
        batch_op.drop_index(batch_op.f('ix_visa_letter_traveller_id'))
        batch_op.drop_index(batch_op.f('ix_visa_letter_journey_id'))
    op.drop_table('visa_letter')
    with op.batch_alter_table('provider', schema=None) as batch_op:
        batch_op.drop_column('vat_number')
        batch_op.drop_column('registration_number')
        batch_op.drop_column('legal_name')
        batch_op.drop_column('street_address')
