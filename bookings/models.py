"""The booking engine's records: holds on capacity, bookings, payments, their audit.

A hold reserves ``quantity`` units of an offer on each local day of
``[start_on, end_on)`` until ``expires_at``. It counts against availability only while
it is unexpired and unreleased, so an expired hold stops counting at once, whether or
not a job has cleaned it up yet.
"""

from __future__ import annotations

import enum
from datetime import date, datetime
from decimal import Decimal

from sqlalchemy import (
    JSON,
    BigInteger,
    CheckConstraint,
    Date,
    ForeignKey,
    Index,
    Numeric,
    String,
    UniqueConstraint,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from journey.core.extensions import db
from journey.core.reasons import Reasoned
from journey.core.types import StrEnumType, UTCDateTime, utcnow


class Hold(db.Model):
    __tablename__ = "hold"
    __table_args__ = (
        CheckConstraint("quantity >= 1", name="quantity_positive"),
        CheckConstraint("end_on > start_on", name="range_ordered"),
        CheckConstraint("renewals >= 0", name="renewals_not_negative"),
        # the unreleased holds only (every reader of holds by offer asks for those): it
        # stays as small as the live holds while released ones pile up
        Index("ix_hold_offer_live", "offer_id", "start_on", "end_on", "expires_at",
              postgresql_where=text("released_at IS NULL"),
              sqlite_where=text("released_at IS NULL")),
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
    ACTION_REQUIRED = "action_required"  # a member declined: the patient decides
    CONFIRMED = "confirmed"  # every remaining line confirmed and the deposit captured
    CANCELLED = "cancelled"
    EXPIRED = "expired"
    FAILED = "failed"


class LineStatus(enum.StrEnum):
    HELD = "held"
    REQUESTED = "requested"  # waiting for the member's answer
    CONFIRMED = "confirmed"
    DECLINED = "declined"
    CANCELLED = "cancelled"


class LineEndedBy(enum.StrEnum):
    """Who ended a line (declined or cancelled it)."""

    MEMBER = "member"  # its member declined or cancelled it: the patient gets alternatives
    PATIENT = "patient"
    CLUSTER = "cluster"  # a coordinator or admin
    SYSTEM = "system"  # nobody: sold out before the authorisation, not paid in time


class PaymentStatus(enum.StrEnum):
    CREATED = "created"  # our row, committed before Stripe is called
    REQUIRES_PAYMENT_METHOD = "requires_payment_method"
    REQUIRES_ACTION = "requires_action"
    AUTHORISED = "authorised"  # Stripe: requires_capture
    CAPTURED = "captured"
    FAILED = "failed"
    CANCELLED = "cancelled"


class PaymentKind(enum.StrEnum):
    DEPOSIT = "deposit"  # or the whole amount, when the cluster asks no deposit
    BALANCE = "balance"


class RefundStatus(enum.StrEnum):
    CREATED = "created"  # our row, committed before Stripe is called
    SUCCEEDED = "succeeded"
    FAILED = "failed"


class PayoutStatus(enum.StrEnum):
    CREATED = "created"
    PAID = "paid"
    FAILED = "failed"


class PayoutKind(enum.StrEnum):
    TRANSFER = "transfer"  # to the member's Connect account
    REVERSAL = "reversal"  # taken back from a transfer: a refund after it was paid


class EscalationKind(enum.StrEnum):
    MEMBER_DEADLINE = "member_deadline"  # a member did not answer in time
    PAYMENT_FAILED = "payment_failed"
    BALANCE_UNPAID = "balance_unpaid"
    INSURER_UNPAID = "insurer_unpaid"  # an insurer has not paid its share by the due day
    LINE_DECLINED = "line_declined"


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
    start_on: Mapped[date | None] = mapped_column(Date)  # the first line's day
    balance_due_on: Mapped[date | None] = mapped_column(Date)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, index=True)

    lines: Mapped[list[BookingLine]] = relationship(
        back_populates="booking", cascade="all, delete-orphan", order_by="BookingLine.id")
    payments: Mapped[list[Payment]] = relationship(
        back_populates="booking", cascade="all, delete-orphan", order_by="Payment.id")


class BookingLine(db.Model):
    __tablename__ = "booking_line"
    __table_args__ = (
        CheckConstraint("amount_minor >= 0", name="amount_not_negative"),
        Index("ix_booking_line_offer_dates", "offer_id", "start_on", "end_on"),
        # the figures' response times: the requests each member answered, read from
        # the index alone (PostgreSQL)
        Index("ix_booking_line_answered", "provider_id", "decided_at",
              postgresql_include=["respond_by"],
              postgresql_where=text("respond_by IS NOT NULL AND decided_at IS NOT NULL"),
              sqlite_where=text("respond_by IS NOT NULL AND decided_at IS NOT NULL")),
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
    chain_link: Mapped[str | None] = mapped_column(String(40))
    #: What the line is worth to its member: the amount, or for a line another member
    #: bears (amount 0 to the patient) the quoted value, which the bearer owes.
    value_minor: Mapped[int] = mapped_column(BigInteger, default=0)
    borne_by_provider_id: Mapped[int | None] = mapped_column(ForeignKey("provider.id"))
    respond_by: Mapped[datetime | None] = mapped_column(UTCDateTime())
    decided_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), index=True)
    decline_reason: Mapped[str] = mapped_column(String(500), default="")
    ended_by: Mapped[LineEndedBy | None] = mapped_column(StrEnumType(LineEndedBy))
    #: What the member keeps of a cancelled line under its cancellation terms.
    kept_minor: Mapped[int] = mapped_column(BigInteger, default=0)
    #: The insurer's share of the line (``covered_by_provider_id``; see
    #: :class:`InsurerReceivable`): value = amount (the patient's) + covered + the
    #: discount its member funds. Of a cancelled line, ``covered_kept_minor`` is the
    #: insurer's part of the fee kept (``kept_minor`` the patient's).
    covered_minor: Mapped[int] = mapped_column(BigInteger, default=0, server_default="0")
    covered_by_provider_id: Mapped[int | None] = mapped_column(ForeignKey("provider.id"))
    covered_kept_minor: Mapped[int] = mapped_column(BigInteger, default=0,
                                                    server_default="0")

    booking: Mapped[Booking] = relationship(back_populates="lines")

    @property
    def withdrawn_by_member(self) -> bool:
        """Its member will not deliver it (declined, or cancelled it): the patient is
        offered alternatives."""
        return self.status in (LineStatus.DECLINED, LineStatus.CANCELLED) and \
            self.ended_by == LineEndedBy.MEMBER

    @property
    def active(self) -> bool:
        return self.active_state(self.status)

    @staticmethod
    def active_state(status: LineStatus) -> bool:
        return status in (LineStatus.HELD, LineStatus.REQUESTED, LineStatus.CONFIRMED)


class Payment(db.Model):
    """One attempt to collect money; its id is the Stripe idempotency key."""

    __tablename__ = "payment"
    __table_args__ = (
        CheckConstraint("amount_minor > 0", name="amount_positive"),
        CheckConstraint("captured_minor >= 0 AND captured_minor <= amount_minor",
                        name="captured_within_amount"),
        CheckConstraint("refunded_minor >= 0 AND refunded_minor <= captured_minor",
                        name="refunded_within_captured"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    booking_id: Mapped[int] = mapped_column(ForeignKey("booking.id", ondelete="CASCADE"),
                                            index=True)
    kind: Mapped[PaymentKind] = mapped_column(StrEnumType(PaymentKind),
                                              default=PaymentKind.DEPOSIT)
    amount_minor: Mapped[int] = mapped_column(BigInteger)
    currency: Mapped[str] = mapped_column(String(3))
    status: Mapped[PaymentStatus] = mapped_column(StrEnumType(PaymentStatus))
    captured_minor: Mapped[int] = mapped_column(BigInteger, default=0)
    refunded_minor: Mapped[int] = mapped_column(BigInteger, default=0)
    intent_id: Mapped[str | None] = mapped_column(String(100), unique=True)
    client_secret: Mapped[str | None] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, onupdate=utcnow)

    booking: Mapped[Booking] = relationship(back_populates="payments")

    @property
    def refundable_minor(self) -> int:
        return self.captured_minor - self.refunded_minor


class Refund(Reasoned, db.Model):
    """Money given back from one captured payment; its id is the Stripe idempotency key.

    ``refunded_minor`` on the payment counts refunds from the moment their row exists,
    so two refunds can never together pass what was captured."""

    __tablename__ = "refund"
    __table_args__ = (CheckConstraint("amount_minor > 0", name="amount_positive"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    booking_id: Mapped[int] = mapped_column(ForeignKey("booking.id", ondelete="CASCADE"),
                                            index=True)
    payment_id: Mapped[int] = mapped_column(ForeignKey("payment.id", ondelete="CASCADE"),
                                            index=True)
    line_id: Mapped[int | None] = mapped_column(ForeignKey("booking_line.id"))
    amount_minor: Mapped[int] = mapped_column(BigInteger)
    currency: Mapped[str] = mapped_column(String(3))
    status: Mapped[RefundStatus] = mapped_column(StrEnumType(RefundStatus))
    stripe_refund_id: Mapped[str | None] = mapped_column(String(100), unique=True)
    reason: Mapped[str] = mapped_column(String(500), default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    payment: Mapped[Payment] = relationship()


class CommissionRate(db.Model):
    """The cluster's commission on a chain link, in percent of the line's value."""

    __tablename__ = "commission_rate"
    __table_args__ = (CheckConstraint("percent >= 0 AND percent <= 100",
                                      name="percent_range"),)

    chain_link: Mapped[str] = mapped_column(String(40), primary_key=True)
    percent: Mapped[Decimal] = mapped_column(Numeric(5, 2))
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, onupdate=utcnow)


class LedgerEntry(db.Model):
    """One posting of the settlement ledger, signed from the member's side: what the
    cluster owes the member (+) or the member owes (-). Never updated; a cancellation
    posts the reversal. ``posting`` names the fact, so posting it twice is refused."""

    __tablename__ = "ledger_entry"

    id: Mapped[int] = mapped_column(primary_key=True)
    posting: Mapped[str] = mapped_column(String(120), unique=True)
    booking_id: Mapped[int] = mapped_column(ForeignKey("booking.id", ondelete="CASCADE"),
                                            index=True)
    line_id: Mapped[int | None] = mapped_column(ForeignKey("booking_line.id"))
    provider_id: Mapped[int] = mapped_column(ForeignKey("provider.id"), index=True)
    kind: Mapped[str] = mapped_column(String(20))  # gross, commission, borne_in, borne_out
    amount_minor: Mapped[int] = mapped_column(BigInteger)
    currency: Mapped[str] = mapped_column(String(3))
    at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, index=True)


class Payout(db.Model):
    """A Stripe Connect transfer of what a booking owes one member, or the reversal of
    part of one; a member's payouts for a booking add up to what it was due then."""

    __tablename__ = "payout"
    __table_args__ = (Index("ix_payout_booking_member", "booking_id", "provider_id"),
                      CheckConstraint("amount_minor > 0", name="amount_positive"))

    id: Mapped[int] = mapped_column(primary_key=True)
    booking_id: Mapped[int] = mapped_column(ForeignKey("booking.id", ondelete="CASCADE"))
    provider_id: Mapped[int] = mapped_column(ForeignKey("provider.id"), index=True)
    amount_minor: Mapped[int] = mapped_column(BigInteger)
    currency: Mapped[str] = mapped_column(String(3))
    status: Mapped[PayoutStatus] = mapped_column(StrEnumType(PayoutStatus))
    transfer_id: Mapped[str | None] = mapped_column(String(100))
    kind: Mapped[PayoutKind] = mapped_column(StrEnumType(PayoutKind),
                                             default=PayoutKind.TRANSFER,
                                             server_default=PayoutKind.TRANSFER.value)
    reverses_id: Mapped[int | None] = mapped_column(ForeignKey("payout.id"))
    error: Mapped[str] = mapped_column(String(500), default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class ReceivableStatus(enum.StrEnum):
    OPEN = "open"  # written at confirmation, before its invoice
    INVOICED = "invoiced"  # the invoice to the insurer is issued
    PAID = "paid"  # the insurer's transfers cover what it owes
    OVERDUE = "overdue"  # past its due day, unpaid: the coordinators are told
    CANCELLED = "cancelled"  # nothing is owed any more (cancelled before it paid)


class InsurerReceivable(db.Model):
    """What an insurer owes for a booking's covered shares (one per booking), paid by
    bank transfer and recorded by the cluster. ``amount_minor`` is what it owes now
    (the covered shares of the confirmed lines plus its part of the fees kept on
    cancelled ones); ``paid_minor`` what it transferred; a cancellation after it paid
    leaves ``paid_minor - amount_minor`` owed back (``credit_minor``, recorded when the
    cluster transfers it back)."""

    __tablename__ = "insurer_receivable"
    __table_args__ = (
        CheckConstraint("amount_minor >= 0", name="amount_not_negative"),
        CheckConstraint("paid_minor >= 0", name="paid_not_negative"),
        CheckConstraint("credited_minor >= 0", name="credited_not_negative"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    booking_id: Mapped[int] = mapped_column(ForeignKey("booking.id", ondelete="CASCADE"),
                                            unique=True)
    provider_id: Mapped[int] = mapped_column(ForeignKey("provider.id"), index=True)
    amount_minor: Mapped[int] = mapped_column(BigInteger)
    paid_minor: Mapped[int] = mapped_column(BigInteger, default=0)
    credited_minor: Mapped[int] = mapped_column(BigInteger, default=0)
    currency: Mapped[str] = mapped_column(String(3))
    status: Mapped[ReceivableStatus] = mapped_column(StrEnumType(ReceivableStatus),
                                                     default=ReceivableStatus.OPEN)
    due_on: Mapped[date] = mapped_column(Date)
    paid_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    reference: Mapped[str] = mapped_column(String(100), default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    booking: Mapped[Booking] = relationship()

    @property
    def received_minor(self) -> int:
        """What the insurer's money funds: its transfers, at most what it owes."""
        return min(self.paid_minor, self.amount_minor)

    @property
    def credit_minor(self) -> int:
        """Owed back to the insurer and not yet transferred."""
        return max(0, self.paid_minor - self.amount_minor - self.credited_minor)

    @property
    def outstanding_minor(self) -> int:
        return max(0, self.amount_minor - self.paid_minor)


class Escalation(Reasoned, db.Model):
    """Something a coordinator must look at. ``key`` names the fact (one per fact)."""

    __tablename__ = "escalation"
    note_column = "detail"  # the reason's note; ``note`` is the coordinator's on resolving
    __table_args__ = (Index("ix_escalation_open", "resolved_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    key: Mapped[str] = mapped_column(String(120), unique=True)
    kind: Mapped[EscalationKind] = mapped_column(StrEnumType(EscalationKind))
    booking_id: Mapped[int] = mapped_column(ForeignKey("booking.id", ondelete="CASCADE"),
                                            index=True)
    line_id: Mapped[int | None] = mapped_column(ForeignKey("booking_line.id"))
    payment_id: Mapped[int | None] = mapped_column(ForeignKey("payment.id"))
    detail: Mapped[str] = mapped_column(String(500), default="")
    opened_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    resolved_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    resolved_by: Mapped[str | None] = mapped_column(String(100))
    note: Mapped[str] = mapped_column(String(500), default="")


class Notification(db.Model):
    """The outbox of messages to people (a request for a member, a balance reminder).
    ``key`` names the fact, so a job run twice sends once."""

    __tablename__ = "notification"

    id: Mapped[int] = mapped_column(primary_key=True)
    key: Mapped[str] = mapped_column(String(120), unique=True)
    recipient: Mapped[str] = mapped_column(String(100), index=True)  # user:7, provider:3
    kind: Mapped[str] = mapped_column(String(40))
    #: The booking it is about; None for a message about a journey's case (the
    #: journey in ``payload``).
    booking_id: Mapped[int | None] = mapped_column(
        ForeignKey("booking.id", ondelete="CASCADE"), index=True)
    payload: Mapped[dict] = mapped_column(JSON, default=dict)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    #: Failed sending attempts and the last error (journey/mail.py gives up after a few).
    attempts: Mapped[int] = mapped_column(default=0, server_default="0")
    last_error: Mapped[str] = mapped_column(String(500), default="", server_default="")


class BookingEvent(Reasoned, db.Model):
    """The audit trail: every transition of a booking, a line or a payment."""

    __tablename__ = "booking_event"

    id: Mapped[int] = mapped_column(primary_key=True)
    booking_id: Mapped[int] = mapped_column(ForeignKey("booking.id", ondelete="CASCADE"),
                                            index=True)
    subject: Mapped[str] = mapped_column(String(20))  # booking, line, payment, refund, payout
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
    """A request made with an ``Idempotency-Key``: reserved, then its first answer
    (see :mod:`bookings.idempotency`)."""

    __tablename__ = "idempotent_request"
    __table_args__ = (UniqueConstraint("scope", "key"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    scope: Mapped[str] = mapped_column(String(200))  # who and which endpoint
    key: Mapped[str] = mapped_column(String(200))
    request_hash: Mapped[str] = mapped_column(String(64))
    # Empty while the first request runs (the key is reserved); then its answer.
    status_code: Mapped[int | None] = mapped_column()
    body: Mapped[dict | None] = mapped_column(JSON)
    locked_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
