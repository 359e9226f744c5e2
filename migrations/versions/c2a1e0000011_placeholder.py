"""The figures' indexes (issue 14) on the period columns the dashboard filters on

Journeys and bookings by when they were made, the ledger by when it was posted,
requests by when they were answered, reviews by when they were written. A journey's
quotes are found by the unique (journey_id, version) index already.

Revision ID: c2a1e0000011
Revises: c2a1e0000010
Create Date: 2026-12-06 11:15:00

"""
from alembic import op

# revision identifiers, used by Alembic.
revision = 'c2a1e0000011'
down_revision = 'c2a1e0000010'
branch_labels = None
depends_on = None

#: (table, index, columns)
INDEXES = (
    ("journey", "ix_journey_created_at", ["created_at"]),
    ("booking", "ix_booking_created_at", ["created_at"]),
    ("ledger_entry", "ix_ledger_entry_at", ["at"]),
    ("booking_line", "ix_booking_line_decided_at", ["decided_at"]),
    ("review", "ix_review_created_at", ["created_at"]),
)


def upgrade():
    for table, name, columns in INDEXES:
        with op.batch_alter_table(table) as batch:
            batch.create_index(name, columns)


def downgrade():
    for table, name, _columns in reversed(INDEXES):
        with op.batch_alter_table(table) as batch:
            batch.drop_index(name)
