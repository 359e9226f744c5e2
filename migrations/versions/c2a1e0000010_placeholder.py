"""reviews: verified reviews of members, their replies and the moderation log

Revision ID: c2a1e0000010
Revises: c2a1e0000009
Create Date: 2026-12-06 10:50:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'c2a1e0000010'
down_revision = 'c2a1e0000009'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('review',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('journey_id', sa.Integer(), nullable=False),
    sa.Column('provider_id', sa.Integer(), nullable=False),
    sa.Column('author_id', sa.Integer(), nullable=False),
    sa.Column('overall', sa.Integer(), nullable=False),
    sa.Column('ratings', sa.JSON(), nullable=False),
    sa.Column('text', sa.Text(), nullable=False),
    sa.Column('language', sa.String(length=20), nullable=False),
    sa.Column('anonymous', sa.Boolean(), nullable=False),
    sa.Column('country', sa.String(length=2), nullable=True),
    sa.Column('chain_link', sa.String(length=32), nullable=False),
    sa.Column('chain_links', sa.JSON(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('edited_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('state', sa.String(length=32), nullable=False),
    sa.Column('hidden_reason', sa.String(length=32), nullable=True),
    sa.Column('hidden_note', sa.String(length=500), nullable=False),
    sa.Column('hidden_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('reply_text', sa.Text(), nullable=True),
    sa.Column('reply_language', sa.String(length=20), nullable=True),
    sa.Column('replied_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('replied_by_id', sa.Integer(), nullable=True),
    sa.CheckConstraint('overall >= 1 AND overall <= 5', name=op.f('ck_review_overall_one_to_five')),
    sa.ForeignKeyConstraint(['author_id'], ['user_account.id'], name=op.f('fk_review_author_id_user_account')),
    sa.ForeignKeyConstraint(['journey_id'], ['journey.id'], name=op.f('fk_review_journey_id_journey'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['provider_id'], ['provider.id'], name=op.f('fk_review_provider_id_provider'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['replied_by_id'], ['user_account.id'], name=op.f('fk_review_replied_by_id_user_account'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_review')),
    sa.UniqueConstraint('journey_id', 'provider_id', name='uq_review_journey_provider')
    )
    with op.batch_alter_table('review', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_review_author_id'), ['author_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_review_journey_id'), ['journey_id'], unique=False)
        batch_op.create_index('ix_review_provider_state', ['provider_id', 'state'], unique=False)

    op.create_table('review_moderation',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('review_id', sa.Integer(), nullable=False),
    sa.Column('action', sa.String(length=32), nullable=False),
    sa.Column('reason', sa.String(length=32), nullable=True),
    sa.Column('note', sa.String(length=500), nullable=False),
    sa.Column('actor_id', sa.Integer(), nullable=True),
    sa.Column('at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['actor_id'], ['user_account.id'], name=op.f('fk_review_moderation_actor_id_user_account'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['review_id'], ['review.id'], name=op.f('fk_review_moderation_review_id_review'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_review_moderation'))
    )
    with op.batch_alter_table('review_moderation', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_review_moderation_review_id'), ['review_id'], unique=False)


def downgrade():
    with op.batch_alter_table('review_moderation', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_review_moderation_review_id'))

    op.drop_table('review_moderation')
    with op.batch_alter_table('review', schema=None) as batch_op:
        batch_op.drop_index('ix_review_provider_state')
        batch_op.drop_index(batch_op.f('ix_review_journey_id'))
        batch_op.drop_index(batch_op.f('ix_review_author_id'))

    op.drop_table('review')
