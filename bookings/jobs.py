"""Scheduled work of the booking engine. Each job is idempotent: running it twice, or
after a crash half-way, leaves the same state as running it once. Each takes the
Stripe gateway (whether it needs it or not) so the scheduler calls them alike."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import select

from bookings.models import Booking, BookingStatus, Payment, PaymentStatus
from bookings.payments import ConnectGateway, GatewayError, StripeGateway
from bookings.services.access import lock_booking
from bookings.services.audit import move
from bookings.services.balance import send_balance_reminders
from bookings.services.cancellation import retry_refunds
from bookings.services.confirmation import chase_deadlines
from bookings.services.holds import release_holds
from bookings.services.saga import OPEN_PAYMENT, advance_all, apply_intent
from bookings.services.settlement import run_payouts
from journey.core.extensions import db
from journey.core.persistence import commit_unit
from journey.core.reasons import why
from journey.core.types import utcnow

#: A payment row without an intent, this old, may have lost Stripe's answer in a crash
#: (a request to Stripe takes far less; its search index lags up to a minute) ...
LOST_AFTER = timedelta(minutes=2)
#: ... and is looked for at Stripe this long (an authorisation lapses after 7 days).
LOST_WITHIN = timedelta(days=7)


def reconcile_payments(gateway: StripeGateway, *, now: datetime | None = None) -> int:
    """Fetch every intent still waiting and take its state into account, so a lost
    webhook changes nothing; then let every booking take the step it may have missed
    (a capture cut off by a crash, say). Returns how many payments and bookings moved."""
    now = now or utcnow()
    moved = find_lost_intents(gateway, now=now)
    payments = db.session.scalars(select(Payment).where(
        Payment.status.in_(OPEN_PAYMENT + (PaymentStatus.AUTHORISED,)),
        Payment.intent_id.is_not(None))).all()
    for payment in payments:
        try:
            intent = gateway.retrieve(payment.intent_id)
        except GatewayError:
            continue  # Stripe unreachable: the next run tries again
        moved += apply_intent(payment, intent, actor="job:reconcile", now=now)
        commit_unit()
    moved += advance_all(gateway, now=now)
    retry_refunds(gateway, now=now)
    return moved


def find_lost_intents(gateway: StripeGateway, *, now: datetime) -> int:
    """Payment rows committed before Stripe was asked whose answer a crash lost: the
    intent Stripe made of one (authorised, perhaps) is recorded and applied, so that
    the booking goes on (the next :func:`~bookings.services.saga.advance` captures a
    balance, or releases it for a booking that ended). Returns how many moved."""
    moved = 0
    ids = db.session.scalars(select(Payment.id).where(
        Payment.status == PaymentStatus.CREATED, Payment.intent_id.is_(None),
        Payment.created_at <= now - LOST_AFTER,
        Payment.created_at > now - LOST_WITHIN).order_by(Payment.id)).all()
    for payment_id in ids:
        try:
            intent = gateway.find_intent(db.session.get(Payment, payment_id))
        except GatewayError:
            continue  # the next run tries again
        if intent is None:
            continue
        lock_booking(db.session.get(Payment, payment_id).booking_id)
        payment = db.session.get(Payment, payment_id, populate_existing=True)
        if payment.intent_id is None and payment.status == PaymentStatus.CREATED:
            payment.intent_id, payment.client_secret = intent.id, intent.client_secret
            moved += 1
            apply_intent(payment, intent, actor="job:reconcile", now=now)
        commit_unit()
    return moved


def expire_unpaid(gateway: StripeGateway, *, now: datetime | None = None) -> int:
    """Bookings whose card was never authorised before their expiry: release the holds
    (they stopped counting at expiry anyway), cancel the intent, mark them expired."""
    now = now or utcnow()
    expired = 0
    bookings = db.session.scalars(select(Booking).where(
        Booking.status == BookingStatus.PENDING_PAYMENT, Booking.expires_at <= now)).all()
    for booking in bookings:
        lock_booking(booking.id)
        db.session.refresh(booking)
        if booking.status == BookingStatus.PENDING_PAYMENT and _release_open_payments(
                booking, gateway, now=now) and booking.status == BookingStatus.PENDING_PAYMENT:
            release_holds(booking.hold_group, now=now)
            move(booking, booking, BookingStatus.EXPIRED, actor="job:expire", now=now,
                 reason=why("not_paid_in_time"))
            expired += 1
        commit_unit()
    commit_unit()
    return expired


def _release_open_payments(booking: Booking, gateway: StripeGateway, *,
                           now: datetime) -> bool:
    """Cancel every open intent of an unpaid booking; False when Stripe could not be
    told (the booking then stays pending, and the next run tries again) or when the
    card turned out authorised meanwhile (the booking goes on)."""
    for payment in booking.payments:
        if payment.status not in OPEN_PAYMENT:
            continue
        if payment.intent_id is None:  # Stripe asked, its answer lost in a crash?
            try:
                lost = gateway.find_intent(payment)
            except GatewayError:
                return False
            if lost is not None:
                payment.intent_id, payment.client_secret = lost.id, lost.client_secret
        if payment.intent_id is not None:
            try:
                intent = gateway.retrieve(payment.intent_id)
                if intent.status == PaymentStatus.AUTHORISED:  # authorised meanwhile
                    apply_intent(payment, intent, actor="job:expire", now=now)
                    return False
                gateway.cancel(payment.intent_id)
            except GatewayError:
                return False
        move(booking, payment, PaymentStatus.CANCELLED, actor="job:expire", now=now,
             reason=why("not_authorised_in_time"))
    return True


def chase_member_deadlines(gateway: StripeGateway, *, now: datetime | None = None) -> int:
    return chase_deadlines(now=now)


def balance_reminders(gateway: StripeGateway, *, now: datetime | None = None) -> int:
    return send_balance_reminders(now=now)


def pay_members(_gateway: StripeGateway, *, now: datetime | None = None) -> int:
    """Pay each member what its delivered lines earned of the money received, and take
    back what a refund since has made too much (Connect: its own client)."""
    return run_payouts(ConnectGateway.from_config(), now=now)
