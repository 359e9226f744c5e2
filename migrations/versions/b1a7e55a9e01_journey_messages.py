"""messages per journey: threads, messages, read marks

Revision ID: b1a7e55a9e01
Revises: f8169e2bd9c2
Create Date: 2026-12-06 07:20:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'b1a7e55a9e01'
down_revision = 'f8169e2bd9c2'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('message_thread',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('journey_id', sa.Integer(), nullable=False),
    sa.Column('subject', sa.String(length=200), nullable=False),
    sa.Column('opened_by_id', sa.Integer(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('last_message_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['journey_id'], ['journey.id'], name=op.f('fk_message_thread_journey_id_journey'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['opened_by_id'], ['user_account.id'], name=op.f('fk_message_thread_opened_by_id_user_account'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_message_thread'))
    )
    with op.batch_alter_table('message_thread', schema=None) as batch_op:
        batch_op.create_index('ix_message_thread_journey', ['journey_id', 'last_message_at'], unique=False)

    op.create_table('message',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('thread_id', sa.Integer(), nullable=False),
    sa.Column('author_id', sa.Integer(), nullable=True),
    sa.Column('author_role', sa.String(length=40), nullable=False),
    sa.Column('author_provider_id', sa.Integer(), nullable=True),
    sa.Column('body', sa.Text(), nullable=False),
    sa.Column('document_ids', sa.JSON(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['author_id'], ['user_account.id'], name=op.f('fk_message_author_id_user_account'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['author_provider_id'], ['provider.id'], name=op.f('fk_message_author_provider_id_provider'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['thread_id'], ['message_thread.id'], name=op.f('fk_message_thread_id_message_thread'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_message'))
    )
    with op.batch_alter_table('message', schema=None) as batch_op:
        batch_op.create_index('ix_message_thread', ['thread_id', 'id'], unique=False)

    op.create_table('message_thread_member',
    sa.Column('thread_id', sa.Integer(), nullable=False),
    sa.Column('provider_id', sa.Integer(), nullable=False),
    sa.Column('added_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['provider_id'], ['provider.id'], name=op.f('fk_message_thread_member_provider_id_provider'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['thread_id'], ['message_thread.id'], name=op.f('fk_message_thread_member_thread_id_message_thread'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('thread_id', 'provider_id', name=op.f('pk_message_thread_member'))
    )
    with op.batch_alter_table('message_thread_member', schema=None) as batch_op:
        batch_op.create_index('ix_message_thread_member_provider', ['provider_id', 'thread_id'], unique=False)

    op.create_table('message_thread_read',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('thread_id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('last_read_message_id', sa.Integer(), nullable=False),
    sa.Column('read_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['thread_id'], ['message_thread.id'], name=op.f('fk_message_thread_read_thread_id_message_thread'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['user_id'], ['user_account.id'], name=op.f('fk_message_thread_read_user_id_user_account'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_message_thread_read')),
    sa.UniqueConstraint('user_id', 'thread_id', name='uq_message_thread_read_user')
    )
    with op.batch_alter_table('message_thread_read', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_message_thread_read_thread_id'), ['thread_id'], unique=False)


def downgrade():
    with op.batch_alter_table('message_thread_read', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_message_thread_read_thread_id'))
    op.drop_table('message_thread_read')
    with op.batch_alter_table('message_thread_member', schema=None) as batch_op:
        batch_op.drop_index('ix_message_thread_member_provider')
    op.drop_table('message_thread_member')
    with op.batch_alter_table('message', schema=None) as batch_op:
        batch_op.drop_index('ix_message_thread')
    op.drop_table('message')
    with op.batch_alter_table('message_thread', schema=None) as batch_op:
        batch_op.drop_index('ix_message_thread_journey')
    op.drop_table('message_thread')
