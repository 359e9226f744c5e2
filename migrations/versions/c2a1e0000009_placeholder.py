"""user_account.other_languages: the other languages a person reads (issue 17)

Revision ID: c2a1e0000009
Revises: c2a1e0000008
Create Date: 2026-12-06 10:15:00

"""
import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = 'c2a1e0000009'
down_revision = 'c2a1e0000008'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('user_account', schema=None) as batch_op:
        batch_op.add_column(sa.Column('other_languages', sa.JSON(), nullable=False,
                                      server_default='[]'))


def downgrade():
    with op.batch_alter_table('user_account', schema=None) as batch_op:
        batch_op.drop_column('other_languages')
