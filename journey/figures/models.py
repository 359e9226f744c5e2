"""The figures' monthly sums of the settlement ledger (see :mod:`journey.figures.rollup`).

Each ledger posting adds a row to :class:`SalesMonth` (and, for what a member sold on
a journey another member opened, to :class:`WindowMonth`) in the transaction that
posts it: an insert, never an update, so concurrent postings never wait for each
other. The scheduled compaction merges a month's rows into one per key. Whatever the
state of the compaction, the rows of a month add up to the ledger's postings of that
month, which is what lets the dashboard read a year from a few thousand rows instead
of every posting.
"""

from __future__ import annotations

from sqlalchemy import BigInteger, Boolean, ForeignKey, Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from journey.core.extensions import db


class SalesMonth(db.Model):
    """Ledger postings of one month (``YYYY-MM``, UTC) per member, chain link, kind and
    currency: their sum, and how many were a line's gross (lines booked)."""

    __tablename__ = "sales_month"
    __table_args__ = (
        Index("ix_sales_month_key", "month", "provider_id", "chain_link", "kind", "currency"),
        Index("ix_sales_month_unmerged", "merged", "month"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    month: Mapped[str] = mapped_column(String(7))
    provider_id: Mapped[int] = mapped_column(ForeignKey("provider.id"))
    chain_link: Mapped[str] = mapped_column(String(40), default="")  # "" without a line
    kind: Mapped[str] = mapped_column(String(20))
    currency: Mapped[str] = mapped_column(String(3))
    amount_minor: Mapped[int] = mapped_column(BigInteger)
    lines: Mapped[int] = mapped_column(Integer, default=0)
    #: False for a posting's own row, true for a compaction's sum.
    merged: Mapped[bool] = mapped_column(Boolean, default=False)


class WindowMonth(db.Model):
    """What members sold in one month on journeys another member opened (its one
    window): the sales postings per opening member, selling member and currency."""

    __tablename__ = "window_month"
    __table_args__ = (
        Index("ix_window_month_key", "month", "entry_provider_id", "provider_id", "currency"),
        Index("ix_window_month_unmerged", "merged", "month"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    month: Mapped[str] = mapped_column(String(7))
    entry_provider_id: Mapped[int] = mapped_column(ForeignKey("provider.id"))
    provider_id: Mapped[int] = mapped_column(ForeignKey("provider.id"))
    currency: Mapped[str] = mapped_column(String(3))
    amount_minor: Mapped[int] = mapped_column(BigInteger)
    lines: Mapped[int] = mapped_column(Integer, default=0)
    merged: Mapped[bool] = mapped_column(Boolean, default=False)
