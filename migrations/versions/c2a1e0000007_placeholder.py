"""pictures of members and offers (issue 17)

Revision ID: c2a1e0000007
Revises: c2a1e0000006
Create Date: 2026-12-06 10:15:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'c2a1e0000007'
down_revision = 'c2a1e0000006'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        'picture',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('provider_id', sa.Integer(), nullable=False),
        sa.Column('offer_id', sa.Integer(), nullable=True),
        sa.Column('position', sa.Integer(), nullable=False),
        sa.Column('mime_type', sa.String(length=40), nullable=False),
        sa.Column('large_key', sa.String(length=64), nullable=False),
        sa.Column('width', sa.Integer(), nullable=False),
        sa.Column('height', sa.Integer(), nullable=False),
        sa.Column('thumb_key', sa.String(length=64), nullable=False),
        sa.Column('thumb_width', sa.Integer(), nullable=False),
        sa.Column('thumb_height', sa.Integer(), nullable=False),
        sa.Column('alt_texts', sa.JSON(), nullable=False),
        sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint('position >= 0', name=op.f('ck_picture_position_not_negative')),
        sa.CheckConstraint('width > 0 AND height > 0 AND thumb_width > 0 AND thumb_height > 0',
                           name=op.f('ck_picture_sizes_positive')),
        sa.ForeignKeyConstraint(['offer_id'], ['offer.id'],
                                name=op.f('fk_picture_offer_id_offer'), ondelete='CASCADE'),
        sa.ForeignKeyConstraint(['provider_id'], ['provider.id'],
                                name=op.f('fk_picture_provider_id_provider'),
                                ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_picture')),
    )
    with op.batch_alter_table('picture', schema=None) as batch_op:
        batch_op.create_index('ix_picture_owner', ['provider_id', 'offer_id', 'position'],
                              unique=False)
        batch_op.create_index(batch_op.f('ix_picture_offer_id'), ['offer_id'], unique=False)


def downgrade():
    with op.batch_alter_table('picture', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_picture_offer_id'))
        batch_op.drop_index('ix_picture_owner')
    op.drop_table('picture')
