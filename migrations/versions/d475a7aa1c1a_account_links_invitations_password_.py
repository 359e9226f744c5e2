"""account links: invitations, password resets, e-mail verification

The single-use links of accounts (only their SHA-256 stored) with their place in the
outbox, the requests for account e-mails that limit how many one address gets, and
when an account's address was confirmed.

Revision ID: d475a7aa1c1a
Revises: 71e8b1a881df
Create Date: 2026-12-06 02:07:14.260346

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'd475a7aa1c1a'
down_revision = '71e8b1a881df'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('account_mail_request',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('email', sa.String(length=254), nullable=False),
    sa.Column('ip', sa.String(length=64), nullable=True),
    sa.Column('kind', sa.String(length=40), nullable=False),
    sa.Column('at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_account_mail_request'))
    )
    with op.batch_alter_table('account_mail_request', schema=None) as batch_op:
        batch_op.create_index('ix_account_mail_request_email_at', ['email', 'at'], unique=False)
        batch_op.create_index(batch_op.f('ix_account_mail_request_ip'), ['ip'], unique=False)

    op.create_table('account_token',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('purpose', sa.String(length=32), nullable=False),
    sa.Column('mail_kind', sa.String(length=40), nullable=False),
    sa.Column('token_hash', sa.String(length=64), nullable=False),
    sa.Column('salt', sa.String(length=64), nullable=False),
    sa.Column('created_by_id', sa.Integer(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('expires_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('used_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('revoked_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('sent_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('attempts', sa.Integer(), server_default='0', nullable=False),
    sa.Column('last_error', sa.String(length=500), server_default='', nullable=False),
    sa.ForeignKeyConstraint(['created_by_id'], ['user_account.id'], name=op.f('fk_account_token_created_by_id_user_account'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['user_id'], ['user_account.id'], name=op.f('fk_account_token_user_id_user_account'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_account_token')),
    sa.UniqueConstraint('token_hash', name=op.f('uq_account_token_token_hash'))
    )
    with op.batch_alter_table('account_token', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_account_token_created_by_id'), ['created_by_id'], unique=False)
        batch_op.create_index('ix_account_token_user_id_purpose', ['user_id', 'purpose'], unique=False)

    # Accounts made before this revision count as unconfirmed, as new ones do.
    with op.batch_alter_table('user_account', schema=None) as batch_op:
        batch_op.add_column(sa.Column('email_verified_at', sa.DateTime(timezone=True), nullable=True))


def downgrade():
    with op.batch_alter_table('user_account', schema=None) as batch_op:
        batch_op.drop_column('email_verified_at')

    with op.batch_alter_table('account_token', schema=None) as batch_op:
        batch_op.drop_index('ix_account_token_user_id_purpose')
        batch_op.drop_index(batch_op.f('ix_account_token_created_by_id'))

    op.drop_table('account_token')
    with op.batch_alter_table('account_mail_request', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_account_mail_request_ip'))
        batch_op.drop_index('ix_account_mail_request_email_at')

    op.drop_table('account_mail_request')
