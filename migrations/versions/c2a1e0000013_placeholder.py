"""The furthest state a journey has reached (journey.reached), for the funnel; the
requests each member answered, indexed for the response times

Filled from each journey's transitions and its state: the furthest of them on the way
draft, quoted, accepted, booked, confirmed, in progress, completed.

Revision ID: c2a1e0000013
Revises: c2a1e0000012
Create Date: 2026-12-06 13:45:00

"""
import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = 'c2a1e0000013'
down_revision = 'c2a1e0000012'
branch_labels = None
depends_on = None

PATH = ('draft', 'quoted', 'accepted', 'booked', 'confirmed', 'in_progress', 'completed')


def upgrade():
    with op.batch_alter_table('journey') as batch:
        batch.add_column(sa.Column('reached', sa.String(length=32), nullable=True))
    op.execute(backfill(op.get_bind().dialect.name))
    with op.batch_alter_table('journey') as batch:
        batch.alter_column('reached', existing_type=sa.String(length=32), nullable=False)
    answered = sa.text("respond_by IS NOT NULL AND decided_at IS NOT NULL")
    with op.batch_alter_table('booking_line') as batch:
        batch.create_index('ix_booking_line_answered', ['provider_id', 'decided_at'],
                           postgresql_include=['respond_by'], postgresql_where=answered,
                           sqlite_where=answered)


def backfill(dialect: str) -> str:
    """The UPDATE that sets every journey's ``reached`` from its transitions and state."""
    greatest = 'GREATEST' if dialect == 'postgresql' else 'MAX'
    furthest = (f"{greatest}(COALESCE((SELECT MAX({_rank('t.to_status')}) "
                "FROM journey_transition t WHERE t.journey_id = journey.id), 0), "
                f"{_rank('journey.status')})")
    return f"UPDATE journey SET reached = CASE {furthest} " + " ".join(
        f"WHEN {n} THEN '{state}'" for n, state in enumerate(PATH)) + " END"


def _rank(column: str) -> str:
    """A state's place on the way (0 for draft and for cancelled)."""
    return "CASE " + " ".join(f"WHEN {column} = '{state}' THEN {n}"
                              for n, state in enumerate(PATH)) + " ELSE 0 END"


def downgrade():
    with op.batch_alter_table('booking_line') as batch:
        batch.drop_index('ix_booking_line_answered')
    with op.batch_alter_table('journey') as batch:
        batch.drop_column('reached')
