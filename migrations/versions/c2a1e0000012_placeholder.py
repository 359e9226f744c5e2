"""The figures' monthly sums of the settlement ledger (issue 14, a year in 300 ms)

``sales_month`` per member, chain link, kind and currency; ``window_month`` per
member that opened the journey, member that sold and currency. Filled here from the
ledger already posted (merged rows); from now on each posting adds its own rows and
the scheduler's ``compact_figures`` merges them.

Revision ID: c2a1e0000012
Revises: c2a1e0000011
Create Date: 2026-12-06 13:30:00

"""
import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = 'c2a1e0000012'
down_revision = 'c2a1e0000011'
branch_labels = None
depends_on = None

SALES = """
INSERT INTO sales_month (month, provider_id, chain_link, kind, currency, amount_minor,
                         lines, merged)
SELECT {month}, e.provider_id, COALESCE(l.chain_link, ''), e.kind, e.currency,
       SUM(e.amount_minor),
       SUM(CASE WHEN e.kind = 'gross' AND e.amount_minor > 0 THEN 1 ELSE 0 END), {true}
FROM ledger_entry e LEFT OUTER JOIN booking_line l ON l.id = e.line_id
GROUP BY {month}, e.provider_id, COALESCE(l.chain_link, ''), e.kind, e.currency
"""
WINDOW = """
INSERT INTO window_month (month, entry_provider_id, provider_id, currency, amount_minor,
                          lines, merged)
SELECT {month}, j.entry_provider_id, e.provider_id, e.currency, SUM(e.amount_minor),
       SUM(CASE WHEN e.kind = 'gross' AND e.amount_minor > 0 THEN 1 ELSE 0 END), {true}
FROM ledger_entry e
JOIN booking b ON b.id = e.booking_id
JOIN quote q ON b.reference = 'quote:' || CAST(q.id AS VARCHAR)
JOIN journey j ON j.id = q.journey_id
WHERE e.kind IN ('gross', 'discount', 'fee') AND j.entry_provider_id IS NOT NULL
  AND e.provider_id <> j.entry_provider_id
GROUP BY {month}, j.entry_provider_id, e.provider_id, e.currency
"""


def upgrade():
    op.create_table(
        'sales_month',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('month', sa.String(length=7), nullable=False),
        sa.Column('provider_id', sa.Integer(), nullable=False),
        sa.Column('chain_link', sa.String(length=40), nullable=False),
        sa.Column('kind', sa.String(length=20), nullable=False),
        sa.Column('currency', sa.String(length=3), nullable=False),
        sa.Column('amount_minor', sa.BigInteger(), nullable=False),
        sa.Column('lines', sa.Integer(), nullable=False),
        sa.Column('merged', sa.Boolean(), nullable=False),
        sa.ForeignKeyConstraint(['provider_id'], ['provider.id'],
                                name=op.f('fk_sales_month_provider_id_provider')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_sales_month')))
    with op.batch_alter_table('sales_month') as batch:
        batch.create_index('ix_sales_month_key',
                           ['month', 'provider_id', 'chain_link', 'kind', 'currency'])
        batch.create_index('ix_sales_month_unmerged', ['merged', 'month'])
    op.create_table(
        'window_month',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('month', sa.String(length=7), nullable=False),
        sa.Column('entry_provider_id', sa.Integer(), nullable=False),
        sa.Column('provider_id', sa.Integer(), nullable=False),
        sa.Column('currency', sa.String(length=3), nullable=False),
        sa.Column('amount_minor', sa.BigInteger(), nullable=False),
        sa.Column('lines', sa.Integer(), nullable=False),
        sa.Column('merged', sa.Boolean(), nullable=False),
        sa.ForeignKeyConstraint(['entry_provider_id'], ['provider.id'],
                                name=op.f('fk_window_month_entry_provider_id_provider')),
        sa.ForeignKeyConstraint(['provider_id'], ['provider.id'],
                                name=op.f('fk_window_month_provider_id_provider')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_window_month')))
    with op.batch_alter_table('window_month') as batch:
        batch.create_index('ix_window_month_key',
                           ['month', 'entry_provider_id', 'provider_id', 'currency'])
        batch.create_index('ix_window_month_unmerged', ['merged', 'month'])
    for statement in backfill(op.get_bind().dialect.name):
        op.execute(statement)


def backfill(dialect: str) -> list[str]:
    """The statements that fill both tables from the ledger (merged rows)."""
    if dialect == 'postgresql':
        month, true = "to_char(timezone('UTC', e.at), 'YYYY-MM')", "true"
    else:
        month, true = "strftime('%Y-%m', e.at)", "1"
    return [statement.format(month=month, true=true) for statement in (SALES, WINDOW)]


def downgrade():
    op.drop_table('window_month')
    op.drop_table('sales_month')
