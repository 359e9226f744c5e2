"""The members' published ratings, kept with the reviews (issue 15: a search no longer
counts the reviews of every member it matches)

``member_rating``: per member, how many of its reviews are published and the sum of
their overall ratings; filled here from the reviews already there.

Revision ID: c2a1e0000015
Revises: c2a1e0000014
Create Date: 2026-12-07 00:45:00

"""
import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = 'c2a1e0000015'
down_revision = 'c2a1e0000014'
branch_labels = None
depends_on = None

BACKFILL = """
INSERT INTO member_rating (provider_id, review_count, rating_total)
SELECT provider_id, COUNT(id), SUM(overall) FROM review
WHERE state = 'published' GROUP BY provider_id
"""


def upgrade():
    op.create_table(
        'member_rating',
        sa.Column('provider_id', sa.Integer(), autoincrement=False, nullable=False),
        sa.Column('review_count', sa.Integer(), nullable=False),
        sa.Column('rating_total', sa.Integer(), nullable=False),
        sa.CheckConstraint('review_count >= 0 AND rating_total >= 0',
                           name=op.f('ck_member_rating_not_negative')),
        sa.ForeignKeyConstraint(['provider_id'], ['provider.id'],
                                name=op.f('fk_member_rating_provider_id_provider'),
                                ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('provider_id', name=op.f('pk_member_rating')),
    )
    op.execute(BACKFILL)


def downgrade():
    op.drop_table('member_rating')
