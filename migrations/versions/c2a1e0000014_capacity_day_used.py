"""The units used of each capacity day, kept with the holds and the bookings
(issue 15, part 2: availability that scales)

``capacity_day.used``: the units of every hold not yet released (expired or not) and
of every booked line (requested or confirmed) of a live booking (authorised, waiting
for the patient's decision, confirmed), over the days ``[start_on, end_on)``. Filled
here from the holds and lines already there (only the days that have usage are
written); the covering index carries it next to the capacity.

Revision ID: c2a1e0000014
Revises: c2a1e0000013
Create Date: 2026-12-07 10:00:00

"""
import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = 'c2a1e0000014'
down_revision = 'c2a1e0000013'
branch_labels = None
depends_on = None

#: Holds not yet released, and booked lines (requested, confirmed) of live bookings
#: (authorised, waiting for the patient's decision, confirmed), per day they cover.
BACKFILL = """
UPDATE capacity_day SET used = u.units
FROM (SELECT cd.offer_id AS offer_id, cd.day AS day, SUM(r.quantity) AS units
      FROM (SELECT h.offer_id, h.start_on, h.end_on, h.quantity
            FROM hold h WHERE h.released_at IS NULL
            UNION ALL
            SELECT l.offer_id, l.start_on, l.end_on, l.quantity
            FROM booking_line l JOIN booking b ON b.id = l.booking_id
            WHERE l.status IN ('requested', 'confirmed')
              AND b.status IN ('authorised', 'action_required', 'confirmed')) r
      JOIN capacity_day cd ON cd.offer_id = r.offer_id
                          AND cd.day >= r.start_on AND cd.day < r.end_on
      GROUP BY cd.offer_id, cd.day) u
WHERE capacity_day.offer_id = u.offer_id AND capacity_day.day = u.day
"""


def upgrade():
    dialect = op.get_bind().dialect.name
    with op.batch_alter_table('capacity_day') as batch:
        batch.drop_index('ix_capacity_day_covering', postgresql_include=['capacity'])
        batch.add_column(sa.Column('used', sa.Integer(), server_default='0', nullable=False))
    if dialect == 'postgresql':
        # Checked without holding the table's exclusive lock during the scan.
        op.execute("ALTER TABLE capacity_day ADD CONSTRAINT ck_capacity_day_used_not_negative "
                   "CHECK (used >= 0) NOT VALID")
    else:
        with op.batch_alter_table('capacity_day') as batch:
            batch.create_check_constraint('used_not_negative', 'used >= 0')
    op.execute(backfill(dialect))
    if dialect == 'postgresql':
        op.execute("ALTER TABLE capacity_day VALIDATE CONSTRAINT "
                   "ck_capacity_day_used_not_negative")
    with op.batch_alter_table('capacity_day') as batch:
        batch.create_index('ix_capacity_day_covering', ['offer_id', 'day'],
                           postgresql_include=['capacity', 'used'])


def backfill(dialect: str) -> str:
    """The UPDATE that sets ``used`` of every capacity day that has usage (the others
    keep their 0): one statement, on SQLite (3.33+) as on PostgreSQL."""
    return BACKFILL


def downgrade():
    with op.batch_alter_table('capacity_day') as batch:
        batch.drop_index('ix_capacity_day_covering', postgresql_include=['capacity', 'used'])
        batch.drop_constraint(op.f('ck_capacity_day_used_not_negative'), type_='check')
        batch.drop_column('used')
        batch.create_index('ix_capacity_day_covering', ['offer_id', 'day'],
                           postgresql_include=['capacity'])
