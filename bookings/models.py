"""The booking engine's records: holds on capacity, bookings, payments, their audit.

A hold reserves ``quantity`` units of an offer on each local day of
``[start_on, end_on)`` until ``expires_at``. It counts against availability only while
it is unexpired and unreleased, so an expired hold stops counting at once, whether or
not a job has cleaned it up yet.
"""

from __future__ import annotations

import enum
from datetime import date, datetime

from sqlalchemy import (
    JSON,
    BigInteger,
    CheckConstraint,
    Date,
    ForeignKey,
    Index,
    String,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from journey.extensions import db
from journey.types import StrEnumType, UTCDateTime, utcnow


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


class BookingStatus(enum.StrEnum):
    PENDING_PAYMENT = "pending_payment"  # holds placed, the card not yet authorised
    AUTHORISED = "authorised"  # the card is authorised; members are asked to confirm
    CONFIRMED = "confirmed"
    CANCELLED = "cancelled"
    EXPIRED = "expired"
    FAILED = "failed"


class LineStatus(enum.StrEnum):
    HELD = "held"
    REQUESTED = "requested"  # waiting for the member's answer
    CONFIRMED = "confirmed"
    DECLINED = "declined"
    CANCELLED = "cancelled"


class PaymentStatus(enum.StrEnum):
    CREATED = "created"  # our row, committed before Stripe is called
    REQUIRES_PAYMENT_METHOD = "requires_payment_method"
    REQUIRES_ACTION = "requires_action"
    AUTHORISED = "authorised"  # Stripe: requires_capture
    CAPTURED = "captured"
    FAILED = "failed"
    CANCELLED = "cancelled"


class Booking(db.Model):
    """A multi-member booking: lines, holds on them and the payments for it.

    It knows nothing of journeys: ``reference`` names what it books (e.g. a quote)."""

    __tablename__ = "booking"
    __table_args__ = (
        CheckConstraint("total_minor >= 0 AND due_now_minor >= 0 AND "
                        "due_now_minor <= total_minor", name="amounts_consistent"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    reference: Mapped[str] = mapped_column(String(100), unique=True)
    customer_ref: Mapped[str] = mapped_column(String(100))
    currency: Mapped[str] = mapped_column(String(3))
    total_minor: Mapped[int] = mapped_column(BigInteger)
    due_now_minor: Mapped[int] = mapped_column(BigInteger)
    status: Mapped[BookingStatus] = mapped_column(StrEnumType(BookingStatus))
    hold_group: Mapped[str] = mapped_column(String(100))
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime())
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    lines: Mapped[list[BookingLine]] = relationship(
        back_populates="booking", cascade="all, delete-orphan", order_by="BookingLine.id")
    payments: Mapped[list[Payment]] = relationship(
        back_populates="booking", cascade="all, delete-orphan", order_by="Payment.id")


class BookingLine(db.Model):
    __tablename__ = "booking_line"
    __table_args__ = (
        CheckConstraint("amount_minor >= 0", name="amount_not_negative"),
        Index("ix_booking_line_offer_dates", "offer_id", "start_on", "end_on"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    booking_id: Mapped[int] = mapped_column(ForeignKey("booking.id", ondelete="CASCADE"),
                                            index=True)
    offer_id: Mapped[int] = mapped_column(ForeignKey("offer.id"))
    provider_id: Mapped[int] = mapped_column(ForeignKey("provider.id"), index=True)
    start_on: Mapped[date] = mapped_column(Date)
    end_on: Mapped[date] = mapped_column(Date)  # exclusive: start_on + days
    days: Mapped[int] = mapped_column()
    quantity: Mapped[int] = mapped_column()
    amount_minor: Mapped[int] = mapped_column(BigInteger)
    instant: Mapped[bool] = mapped_column(default=False)
    status: Mapped[LineStatus] = mapped_column(StrEnumType(LineStatus))

    booking: Mapped[Booking] = relationship(back_populates="lines")


class Payment(db.Model):
    """One attempt to collect money; its id is the Stripe idempotency key."""

    __tablename__ = "payment"
    __table_args__ = (CheckConstraint("amount_minor > 0", name="amount_positive"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    booking_id: Mapped[int] = mapped_column(ForeignKey("booking.id", ondelete="CASCADE"),
                                            index=True)
    amount_minor: Mapped[int] = mapped_column(BigInteger)
    currency: Mapped[str] = mapped_column(String(3))
    status: Mapped[PaymentStatus] = mapped_column(StrEnumType(PaymentStatus))
    intent_id: Mapped[str | None] = mapped_column(String(100), unique=True)
    client_secret: Mapped[str | None] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, onupdate=utcnow)

    booking: Mapped[Booking] = relationship(back_populates="payments")


class BookingEvent(db.Model):
    """The audit trail: every transition of a booking, a line or a payment."""

    __tablename__ = "booking_event"

    id: Mapped[int] = mapped_column(primary_key=True)
    booking_id: Mapped[int] = mapped_column(ForeignKey("booking.id", ondelete="CASCADE"),
                                            index=True)
    subject: Mapped[str] = mapped_column(String(20))  # booking, line, payment
    subject_id: Mapped[int] = mapped_column()
    from_state: Mapped[str | None] = mapped_column(String(40))
    to_state: Mapped[str] = mapped_column(String(40))
    actor: Mapped[str] = mapped_column(String(100))  # "user:7", "stripe", "job:expire"
    at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    reason: Mapped[str] = mapped_column(String(500), default="")


class ProcessedStripeEvent(db.Model):
    """A Stripe webhook event that has taken effect (so a repeat changes nothing)."""

    __tablename__ = "processed_stripe_event"

    id: Mapped[str] = mapped_column(String(100), primary_key=True)
    type: Mapped[str] = mapped_column(String(100))
    received_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class IdempotentRequest(db.Model):
    """The first answer to a request made with an ``Idempotency-Key``."""

    __tablename__ = "idempotent_request"
    __table_args__ = (UniqueConstraint("scope", "key"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    scope: Mapped[str] = mapped_column(String(200))  # who and which endpoint
    key: Mapped[str] = mapped_column(String(200))
    request_hash: Mapped[str] = mapped_column(String(64))
    status_code: Mapped[int] = mapped_column()
    body: Mapped[dict] = mapped_column(JSON)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
