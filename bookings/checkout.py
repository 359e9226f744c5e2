"""The first steps of the checkout saga: holds, the booking, the payment row, the
PaymentIntent, and what Stripe later says about it (webhook or re-fetch).

Every transition is a :class:`~bookings.models.BookingEvent` row.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import date, datetime, timedelta

import stripe
from flask_babel import lazy_gettext as _l
from sqlalchemy import and_, func, select
from sqlalchemy.exc import IntegrityError

from bookings.availability import Line
from bookings.holds import place_holds, release_holds
from bookings.models import (
    Booking,
    BookingEvent,
    BookingLine,
    BookingStatus,
    IdempotentRequest,
    LineStatus,
    Payment,
    PaymentStatus,
    ProcessedStripeEvent,
)
from bookings.payments import Intent, StripeGateway
from journey.errors import Conflict, DomainError, InvalidInput, NotFound
from journey.extensions import db
from journey.types import utcnow
from providers.services.availability import register_usage_source, spread_by_day

#: Payment states a payment may still leave (a late or repeated event never goes back).
PAYMENT_ORDER = [PaymentStatus.CREATED, PaymentStatus.REQUIRES_PAYMENT_METHOD,
                 PaymentStatus.REQUIRES_ACTION, PaymentStatus.AUTHORISED,
                 PaymentStatus.CAPTURED]
FINAL_PAYMENT = {PaymentStatus.CAPTURED, PaymentStatus.FAILED, PaymentStatus.CANCELLED}


@dataclass(frozen=True)
class CheckoutLine:
    offer_id: int
    provider_id: int
    start_on: date
    days: int
    quantity: int
    amount_minor: int
    instant: bool


def record(booking: Booking, subject: str, subject_id: int, from_state, to_state, *,
           actor: str, now: datetime, reason: str = "") -> None:
    db.session.add(BookingEvent(
        booking_id=booking.id, subject=subject, subject_id=subject_id,
        from_state=str(from_state.value if hasattr(from_state, "value") else from_state)
        if from_state is not None else None,
        to_state=str(to_state.value if hasattr(to_state, "value") else to_state),
        actor=actor, at=now, reason=reason))


def start_checkout(*, reference: str, customer_ref: str, currency: str,
                   lines: list[CheckoutLine], due_now_minor: int, ttl: timedelta,
                   actor: str, now: datetime | None = None) -> Booking:
    """Hold every line (all or nothing) and write the booking and its payment row.

    A second checkout of the same ``reference`` while the first is alive returns it.
    """
    now = now or utcnow()
    existing = db.session.scalar(select(Booking).where(Booking.reference == reference))
    if existing is not None:
        if existing.status in (BookingStatus.PENDING_PAYMENT, BookingStatus.AUTHORISED,
                               BookingStatus.CONFIRMED):
            return existing
        raise Conflict(_l("This booking has ended; ask for a new quote."))
    total = sum(line.amount_minor for line in lines)
    if due_now_minor <= 0 or due_now_minor > total:
        raise InvalidInput(fields={"amount": [_l("Nothing to pay now.")]})
    hold_group = f"booking:{reference}"
    place_holds([Line(line.offer_id, line.start_on, line.days, line.quantity)
                 for line in lines], group_key=hold_group, ttl=ttl, now=now)
    booking = Booking(reference=reference, customer_ref=customer_ref, currency=currency,
                      total_minor=total, due_now_minor=due_now_minor,
                      status=BookingStatus.PENDING_PAYMENT, hold_group=hold_group,
                      expires_at=now + ttl, created_at=now)
    booking.lines = [BookingLine(offer_id=line.offer_id, provider_id=line.provider_id,
                                 start_on=line.start_on, days=line.days,
                                 end_on=line.start_on + timedelta(days=line.days),
                                 quantity=line.quantity, amount_minor=line.amount_minor,
                                 instant=line.instant, status=LineStatus.HELD)
                     for line in lines]
    booking.payments = [Payment(amount_minor=due_now_minor, currency=currency,
                                status=PaymentStatus.CREATED, created_at=now)]
    db.session.add(booking)
    db.session.flush()
    record(booking, "booking", booking.id, None, booking.status, actor=actor, now=now,
           reason="checkout started, holds placed")
    record(booking, "payment", booking.payments[0].id, None, PaymentStatus.CREATED,
           actor=actor, now=now)
    db.session.flush()
    return booking


def request_payment(payment: Payment, gateway: StripeGateway, *, actor: str,
                    payment_method: str | None = None, now: datetime | None = None) -> Payment:
    """Create the PaymentIntent for a payment row that is already committed."""
    now = now or utcnow()
    if payment.intent_id is not None:
        return payment
    try:
        intent = gateway.create_intent(payment, payment_method=payment_method)
    except stripe.StripeError as error:  # a declined card, Stripe down: say so, keep the row
        raise Conflict(_l("The payment could not be started: %(reason)s",
                          reason=getattr(error, "user_message", None) or str(error))) from error
    payment.intent_id = intent.id
    payment.client_secret = intent.client_secret
    apply_intent(payment, intent, actor=actor, now=now)
    return payment


def apply_intent(payment: Payment, intent: Intent, *, actor: str,
                 now: datetime | None = None) -> bool:
    """Move the payment (and its booking) to what Stripe says, forward only."""
    now = now or utcnow()
    old, new = payment.status, intent.status
    if old == new or old in FINAL_PAYMENT:
        return False
    if new in PAYMENT_ORDER and old in PAYMENT_ORDER and \
            PAYMENT_ORDER.index(new) < PAYMENT_ORDER.index(old):
        return False  # an older event arriving late
    payment.status = new
    booking = payment.booking
    record(booking, "payment", payment.id, old, new, actor=actor, now=now)
    if new == PaymentStatus.AUTHORISED and booking.status == BookingStatus.PENDING_PAYMENT:
        _authorise(booking, actor=actor, now=now)
    db.session.flush()
    return True


def _authorise(booking: Booking, *, actor: str, now: datetime) -> None:
    """The card is authorised: the holds become booked lines in one transaction, so
    the units never stop counting (they would, once the holds expire)."""
    record(booking, "booking", booking.id, booking.status, BookingStatus.AUTHORISED,
           actor=actor, now=now, reason="card authorised")
    booking.status = BookingStatus.AUTHORISED
    for line in booking.lines:
        to = LineStatus.CONFIRMED if line.instant else LineStatus.REQUESTED
        record(booking, "line", line.id, line.status, to, actor=actor, now=now,
               reason="instant confirmation" if line.instant else "waiting for the member")
        line.status = to
    db.session.flush()
    release_holds(booking.hold_group, now=now)


def handle_stripe_event(payload: bytes, signature: str | None, *, secret: str,
                        gateway: StripeGateway, now: datetime | None = None) -> bool:
    """Take a webhook into account once. The signature must be valid; the intent is
    fetched again from Stripe rather than trusted from the payload. Returns whether
    this delivery changed anything."""
    now = now or utcnow()
    try:
        event = stripe.Webhook.construct_event(payload, signature or "", secret)
    except (ValueError, stripe.SignatureVerificationError) as error:
        raise DomainError(_l("Invalid webhook signature or payload.")) from error
    if db.session.get(ProcessedStripeEvent, event.id) is not None:
        return False
    try:
        with db.session.begin_nested():
            db.session.add(ProcessedStripeEvent(id=event.id, type=event.type, received_at=now))
    except IntegrityError:  # the same event, delivered twice at once
        return False
    if not event.type.startswith("payment_intent."):
        return False
    intent_id = event.data.object.id
    payment = db.session.scalar(select(Payment).where(Payment.intent_id == intent_id))
    if payment is None:
        return False
    return apply_intent(payment, gateway.retrieve(intent_id), actor="stripe", now=now)


class BookedLineUsage:
    """Units that booked lines use (requested or confirmed, while the booking lives);
    a line that is only held counts through its hold."""

    @staticmethod
    def _live():
        return and_(BookingLine.status.in_(BOOKED_LINE_STATES),
                    BookingLine.booking_id == Booking.id,
                    Booking.status.in_(LIVE_BOOKING_STATES))

    def units_by_day(self, offer_id: int, start: date, end: date,
                     now: datetime) -> dict[date, int]:
        return spread_by_day(db.session.execute(
            select(BookingLine.start_on, BookingLine.end_on, BookingLine.quantity).where(
                BookingLine.offer_id == offer_id, BookingLine.start_on <= end,
                BookingLine.end_on > start, self._live())).all(), start, end)

    def units_expr(self, offer_id, day, now: datetime):
        return (select(func.coalesce(func.sum(BookingLine.quantity), 0))
                .where(BookingLine.offer_id == offer_id, BookingLine.start_on <= day,
                       BookingLine.end_on > day, self._live())
                .scalar_subquery())


BOOKED_LINE_STATES = (LineStatus.REQUESTED, LineStatus.CONFIRMED)
LIVE_BOOKING_STATES = (BookingStatus.AUTHORISED, BookingStatus.CONFIRMED)
register_usage_source(BookedLineUsage())


def get_booking(booking_id: int) -> Booking:
    booking = db.session.get(Booking, booking_id)
    if booking is None:
        raise NotFound(_l("No such booking."))
    return booking


# --- Idempotency-Key ---------------------------------------------------------------------

def request_fingerprint(*parts) -> str:
    return hashlib.sha256(repr(parts).encode()).hexdigest()


def stored_answer(scope: str, key: str, fingerprint: str) -> tuple[int, dict] | None:
    """The first answer to this key, or None. The same key with another request is a
    client error, not a replay."""
    row = db.session.scalar(select(IdempotentRequest).where(
        IdempotentRequest.scope == scope, IdempotentRequest.key == key))
    if row is None:
        return None
    if row.request_hash != fingerprint:
        raise InvalidInput(_l("This Idempotency-Key was used for another request."))
    return row.status_code, row.body


def store_answer(scope: str, key: str, fingerprint: str, status_code: int, body: dict) -> None:
    db.session.add(IdempotentRequest(scope=scope, key=key, request_hash=fingerprint,
                                     status_code=status_code, body=body))
    db.session.flush()
