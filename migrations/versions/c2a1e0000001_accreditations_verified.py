"""accreditations: evidence, verification by an admin, expiry warnings

Revision ID: c2a1e0000001
Revises: b1a7e55a9e03
Create Date: 2026-12-06 07:30:00

"""
import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = 'c2a1e0000001'
down_revision = 'b1a7e55a9e03'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('accreditation', schema=None) as batch_op:
        batch_op.add_column(sa.Column('status', sa.String(length=32), server_default='pending',
                                      nullable=False))
        batch_op.add_column(sa.Column('status_reason', sa.Text(), nullable=True))
        batch_op.add_column(sa.Column('submitted_at', sa.DateTime(timezone=True),
                                      nullable=True))
        batch_op.add_column(sa.Column('submitted_by_id', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('decided_at', sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column('decided_by_id', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('evidence_key', sa.String(length=200), nullable=True))
        batch_op.add_column(sa.Column('evidence_filename', sa.String(length=200),
                                      nullable=True))
        batch_op.add_column(sa.Column('evidence_content_type', sa.String(length=100),
                                      nullable=True))
        batch_op.add_column(sa.Column('evidence_size', sa.BigInteger(), nullable=True))
        batch_op.create_check_constraint(
            op.f('ck_accreditation_evidence_size_positive'),
            'evidence_size IS NULL OR evidence_size > 0')
        batch_op.create_foreign_key(
            batch_op.f('fk_accreditation_submitted_by_id_user_account'), 'user_account',
            ['submitted_by_id'], ['id'], ondelete='SET NULL')
        batch_op.create_foreign_key(
            batch_op.f('fk_accreditation_decided_by_id_user_account'), 'user_account',
            ['decided_by_id'], ['id'], ondelete='SET NULL')
        batch_op.create_index(batch_op.f('ix_accreditation_status'), ['status'], unique=False)
    # The accreditations on record were declared by the members and never checked: they
    # wait in the admins' queue as pending (hidden from the public until an admin
    # verifies them), rather than be vouched for by the cluster unseen. None is deleted.
    op.execute("UPDATE accreditation SET status = 'pending', "
               "submitted_at = CURRENT_TIMESTAMP")


def downgrade():
    with op.batch_alter_table('accreditation', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_accreditation_status'))
        batch_op.drop_constraint(batch_op.f('fk_accreditation_decided_by_id_user_account'),
                                 type_='foreignkey')
        batch_op.drop_constraint(batch_op.f('fk_accreditation_submitted_by_id_user_account'),
                                 type_='foreignkey')
        batch_op.drop_constraint(op.f('ck_accreditation_evidence_size_positive'),
                                 type_='check')
        for column in ('evidence_size', 'evidence_content_type', 'evidence_filename',
                       'evidence_key', 'decided_by_id', 'decided_at', 'submitted_by_id',
                       'submitted_at', 'status_reason', 'status'):
            batch_op.drop_column(column)
