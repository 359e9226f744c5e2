"""aftercare: follow-up schedules, follow-ups and answers

Revision ID: b1a7e55a9e02
Revises: b1a7e55a9e01
Create Date: 2026-12-06 07:20:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'b1a7e55a9e02'
down_revision = 'b1a7e55a9e01'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('aftercare_schedule',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('offer_id', sa.Integer(), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_by_id', sa.Integer(), nullable=True),
    sa.ForeignKeyConstraint(['offer_id'], ['offer.id'], name=op.f('fk_aftercare_schedule_offer_id_offer'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['updated_by_id'], ['user_account.id'], name=op.f('fk_aftercare_schedule_updated_by_id_user_account'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_aftercare_schedule')),
    sa.UniqueConstraint('offer_id', name=op.f('uq_aftercare_schedule_offer_id'))
    )
    op.create_table('aftercare_step',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('schedule_id', sa.Integer(), nullable=False),
    sa.Column('position', sa.Integer(), nullable=False),
    sa.Column('kind', sa.String(length=32), nullable=False),
    sa.Column('offset', sa.Integer(), nullable=False),
    sa.Column('photo', sa.Boolean(), nullable=False),
    sa.ForeignKeyConstraint(['schedule_id'], ['aftercare_schedule.id'], name=op.f('fk_aftercare_step_schedule_id_aftercare_schedule'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_aftercare_step')),
    sa.UniqueConstraint('schedule_id', 'position', name=op.f('uq_aftercare_step_schedule_id'))
    )
    with op.batch_alter_table('aftercare_step', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_aftercare_step_schedule_id'), ['schedule_id'], unique=False)

    op.create_table('aftercare_followup',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('journey_id', sa.Integer(), nullable=False),
    sa.Column('booking_line_id', sa.Integer(), nullable=False),
    sa.Column('offer_id', sa.Integer(), nullable=False),
    sa.Column('provider_id', sa.Integer(), nullable=False),
    sa.Column('step_key', sa.String(length=40), nullable=False),
    sa.Column('step_kind', sa.String(length=32), nullable=False),
    sa.Column('offset', sa.Integer(), nullable=False),
    sa.Column('photo', sa.Boolean(), nullable=False),
    sa.Column('due_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('timezone', sa.String(length=64), nullable=False),
    sa.Column('state', sa.String(length=32), nullable=False),
    sa.Column('task_id', sa.Integer(), nullable=True),
    sa.Column('sent_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('wellbeing', sa.Integer(), nullable=True),
    sa.Column('pain', sa.Integer(), nullable=True),
    sa.Column('complications', sa.Boolean(), nullable=True),
    sa.Column('complications_text', sa.Text(), nullable=False),
    sa.Column('photo_document_id', sa.Integer(), nullable=True),
    sa.Column('answered_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('answered_by_id', sa.Integer(), nullable=True),
    sa.Column('escalated_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('closed_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('closed_by_id', sa.Integer(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['answered_by_id'], ['user_account.id'], name=op.f('fk_aftercare_followup_answered_by_id_user_account'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['booking_line_id'], ['booking_line.id'], name=op.f('fk_aftercare_followup_booking_line_id_booking_line'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['closed_by_id'], ['user_account.id'], name=op.f('fk_aftercare_followup_closed_by_id_user_account'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['journey_id'], ['journey.id'], name=op.f('fk_aftercare_followup_journey_id_journey'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['offer_id'], ['offer.id'], name=op.f('fk_aftercare_followup_offer_id_offer'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['photo_document_id'], ['case_document.id'], name=op.f('fk_aftercare_followup_photo_document_id_case_document'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['provider_id'], ['provider.id'], name=op.f('fk_aftercare_followup_provider_id_provider'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['task_id'], ['task.id'], name=op.f('fk_aftercare_followup_task_id_task'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_aftercare_followup')),
    sa.UniqueConstraint('booking_line_id', 'step_key', name=op.f('uq_aftercare_followup_booking_line_id'))
    )
    with op.batch_alter_table('aftercare_followup', schema=None) as batch_op:
        batch_op.create_index('ix_aftercare_followup_due', ['state', 'due_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_aftercare_followup_journey_id'), ['journey_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_aftercare_followup_provider_id'), ['provider_id'], unique=False)


def downgrade():
    with op.batch_alter_table('aftercare_followup', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_aftercare_followup_provider_id'))
        batch_op.drop_index(batch_op.f('ix_aftercare_followup_journey_id'))
        batch_op.drop_index('ix_aftercare_followup_due')

    op.drop_table('aftercare_followup')
    with op.batch_alter_table('aftercare_step', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_aftercare_step_schedule_id'))

    op.drop_table('aftercare_step')
    op.drop_table('aftercare_schedule')
