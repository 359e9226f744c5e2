"""Scheduled work of the booking engine. Each job is idempotent: running it twice, or
after a crash half-way, leaves the same state as running it once."""

from __future__ import annotations

from datetime import datetime

import stripe
from sqlalchemy import select

from bookings.checkout import apply_intent, record
from bookings.holds import release_holds
from bookings.models import Booking, BookingStatus, Payment, PaymentStatus
from bookings.payments import StripeGateway
from journey.extensions import db
from journey.types import utcnow

OPEN_PAYMENT = (PaymentStatus.CREATED, PaymentStatus.REQUIRES_PAYMENT_METHOD,
                PaymentStatus.REQUIRES_ACTION)


def reconcile_payments(gateway: StripeGateway, *, now: datetime | None = None) -> int:
    """Fetch every intent still waiting and take its state into account, so a lost
    webhook changes nothing. Returns how many payments moved."""
    now = now or utcnow()
    moved = 0
    payments = db.session.scalars(select(Payment).where(
        Payment.status.in_(OPEN_PAYMENT), Payment.intent_id.is_not(None))).all()
    for payment in payments:
        try:
            intent = gateway.retrieve(payment.intent_id)
        except stripe.StripeError:
            continue  # Stripe unreachable: the next run tries again
        moved += apply_intent(payment, intent, actor="job:reconcile", now=now)
    db.session.commit()
    return moved


def expire_unpaid(gateway: StripeGateway, *, now: datetime | None = None) -> int:
    """Bookings whose card was never authorised before their expiry: release the holds
    (they stopped counting at expiry anyway), cancel the intent, mark them expired."""
    now = now or utcnow()
    expired = 0
    bookings = db.session.scalars(select(Booking).where(
        Booking.status == BookingStatus.PENDING_PAYMENT, Booking.expires_at <= now)).all()
    for booking in bookings:
        for payment in booking.payments:
            if payment.status not in OPEN_PAYMENT:
                continue
            if payment.intent_id is not None:
                try:
                    intent = gateway.retrieve(payment.intent_id)
                    if intent.status == PaymentStatus.AUTHORISED:  # authorised meanwhile
                        apply_intent(payment, intent, actor="job:expire", now=now)
                        break
                    gateway.cancel(payment.intent_id)
                except stripe.StripeError:
                    continue  # try again on the next run; the booking stays pending
            record(booking, "payment", payment.id, payment.status, PaymentStatus.CANCELLED,
                   actor="job:expire", now=now, reason="not authorised in time")
            payment.status = PaymentStatus.CANCELLED
        if booking.status != BookingStatus.PENDING_PAYMENT:
            continue
        release_holds(booking.hold_group, now=now)
        record(booking, "booking", booking.id, booking.status, BookingStatus.EXPIRED,
               actor="job:expire", now=now, reason="not paid before the holds expired")
        booking.status = BookingStatus.EXPIRED
        expired += 1
    db.session.commit()
    return expired
