"""Holds on capacity (the booking engine's first piece).

A hold reserves ``quantity`` units of an offer on each local day of
``[start_on, end_on)`` until ``expires_at``. It counts against availability only while
it is unexpired and unreleased, so an expired hold stops counting at once, whether or
not a job has cleaned it up yet.
"""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import CheckConstraint, Date, ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column

from journey.extensions import db
from journey.types import UTCDateTime, utcnow


class Hold(db.Model):
    __tablename__ = "hold"
    __table_args__ = (
        CheckConstraint("quantity >= 1", name="quantity_positive"),
        CheckConstraint("end_on > start_on", name="range_ordered"),
        CheckConstraint("renewals >= 0", name="renewals_not_negative"),
        Index("ix_hold_offer_live", "offer_id", "start_on", "end_on", "expires_at"),
        Index("ix_hold_group", "group_key"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    group_key: Mapped[str] = mapped_column(String(100))  # all-or-nothing set, e.g. a checkout
    offer_id: Mapped[int] = mapped_column(ForeignKey("offer.id", ondelete="CASCADE"))
    start_on: Mapped[date] = mapped_column(Date)
    end_on: Mapped[date] = mapped_column(Date)  # exclusive
    quantity: Mapped[int] = mapped_column()
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime())
    released_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    renewals: Mapped[int] = mapped_column(default=0)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
