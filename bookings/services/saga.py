"""The booking saga after the checkout: authorisation, the members' answers, capture.

:func:`advance` is the one step function: it looks at a booking as it stands in the
database and takes the next step, if any. Webhooks, member answers, the patient's
decision and the reconciliation job all call it, so a crash between two steps is
repaired by the next call, and calling it twice does nothing more than calling it once.

Capture happens only when every remaining line is confirmed.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from flask import current_app
from sqlalchemy import and_, inspect, or_, select

from bookings.models import (
    Booking,
    BookingStatus,
    EscalationKind,
    LineEndedBy,
    LineStatus,
    Payment,
    PaymentKind,
    PaymentStatus,
)
from bookings.payments import GatewayError, Intent, StripeGateway
from bookings.services.access import lock_booking
from bookings.services.audit import end_line, move, record
from bookings.services.availability import Line
from bookings.services.escalations import escalate, notify
from bookings.services.holds import lock_capacity_of, release_holds
from bookings.services.settlement import post_confirmed_lines
from journey.core.errors import Conflict
from journey.core.extensions import db
from journey.core.persistence import commit_unit
from journey.core.reasons import why
from journey.core.types import utcnow

#: Payment states a payment may still leave (a late or repeated event never goes back).
PAYMENT_ORDER = [PaymentStatus.CREATED, PaymentStatus.REQUIRES_PAYMENT_METHOD,
                 PaymentStatus.REQUIRES_ACTION, PaymentStatus.AUTHORISED,
                 PaymentStatus.CAPTURED]
FINAL_PAYMENT = {PaymentStatus.CAPTURED, PaymentStatus.FAILED, PaymentStatus.CANCELLED}
OPEN_PAYMENT = (PaymentStatus.CREATED, PaymentStatus.REQUIRES_PAYMENT_METHOD,
                PaymentStatus.REQUIRES_ACTION)
ENDED = (BookingStatus.CANCELLED, BookingStatus.EXPIRED, BookingStatus.FAILED)
#: A booking in these states has not been confirmed (nor captured: capture comes with
#: the confirmation), and never was: confirmed leads only to cancelled.
BEFORE_CAPTURE = (BookingStatus.PENDING_PAYMENT, BookingStatus.AUTHORISED,
                  BookingStatus.ACTION_REQUIRED)


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
    booking = payment.booking
    if new == PaymentStatus.CAPTURED:
        # Captured by us (the answer lost in a crash) or, for real Stripe, by itself.
        payment.captured_minor = intent.amount_received if intent.amount_received is not None \
            else capture_amount(payment)
    move(booking, payment, new, actor=actor, now=now,
         reason=why("payment_refused", note=intent.error) if intent.error else "")
    if new == PaymentStatus.AUTHORISED and booking.status == BookingStatus.PENDING_PAYMENT:
        _authorise(booking, actor=actor, now=now)
    elif new == PaymentStatus.FAILED:
        escalate(booking, EscalationKind.PAYMENT_FAILED, payment=payment, now=now,
                 detail=why("payment_refused", note=intent.error))
    db.session.flush()
    return True


def _authorise(booking: Booking, *, actor: str, now: datetime) -> None:
    """The card is authorised: the holds become booked lines in one transaction, so
    the units never stop counting (they would, once the holds expire). Instant lines
    confirm; the others go to their member's inbox with a deadline."""
    lines = [Line(line.offer_id, line.start_on, line.days, line.quantity)
             for line in booking.lines]
    lapsed = booking.expires_at <= now  # the holds no longer keep the units
    try:
        lock_capacity_of(lines, check_free_at=now if lapsed else None)
    except Conflict:
        _too_late(booking, actor=actor, now=now)
        return
    move(booking, booking, BookingStatus.AUTHORISED, actor=actor, now=now,
         reason=why("card_authorised"))
    respond_by = now + timedelta(hours=current_app.config["MEMBER_RESPONSE_HOURS"])
    for line in booking.lines:
        if line.instant:
            move(booking, line, LineStatus.CONFIRMED, actor=actor, now=now,
                 reason=why("instant_confirmation"))
            line.decided_at = now
        else:
            line.respond_by = respond_by
            move(booking, line, LineStatus.REQUESTED, actor=actor, now=now,
                 reason=why("waiting_for_member"))
            notify(booking, f"provider:{line.provider_id}", "request", f"line:{line.id}",
                   now=now, payload={"line_id": line.id, "respond_by": respond_by.isoformat()})
    db.session.flush()
    release_holds(booking.hold_group, now=now)


def _too_late(booking: Booking, *, actor: str, now: datetime) -> None:
    """Authorised after the holds lapsed and the units went to someone else: the
    booking fails; :func:`advance` releases the authorisation."""
    for line in booking.lines:
        if line.active:
            end_line(booking, line, LineStatus.CANCELLED, ended_by=LineEndedBy.SYSTEM,
                     actor=actor, now=now, reason=why("sold_out_before_authorisation"))
    move(booking, booking, BookingStatus.FAILED, actor=actor, now=now,
         reason=why("sold_out_before_authorisation"))
    release_holds(booking.hold_group, now=now)
    notify(booking, booking.customer_ref, "sold_out", f"booking:{booking.id}:sold_out",
           now=now)


def deposit_payment(booking: Booking) -> Payment | None:
    return next((p for p in booking.payments if p.kind == PaymentKind.DEPOSIT
                 and p.status not in (PaymentStatus.FAILED, PaymentStatus.CANCELLED)), None)


def capture_amount(payment: Payment) -> int:
    """What to capture of an authorised payment: the deposit as it stands after any
    declined lines were dropped, or a balance payment in full."""
    if payment.kind == PaymentKind.BALANCE:
        return payment.amount_minor
    return min(payment.amount_minor, payment.booking.due_now_minor)


def advance(booking: Booking, gateway: StripeGateway, *, actor: str,
            now: datetime | None = None) -> None:
    """Take the next step of ``booking``, if there is one (see the module), and commit
    it: what Stripe was told must be on record at once. The caller has committed what
    it did; the booking is read again under its row lock."""
    # one step of one booking at a time; its id read without reloading the row that
    # the caller's commit expired (the lock reads it afresh)
    locked = lock_booking(inspect(booking).identity[0])
    _step(locked, gateway, actor=actor, now=now or utcnow())
    # Written under the lock, so what the caller shows next is as it stands; a next
    # step locks the booking again, which reads it afresh (lock_booking).
    commit_unit(keep_loaded=True)


def _step(booking: Booking, gateway: StripeGateway, *, actor: str, now: datetime) -> None:
    if booking.status in ENDED:  # an authorisation left behind is released
        for payment in booking.payments:
            if payment.status == PaymentStatus.AUTHORISED and payment.intent_id:
                try:
                    gateway.cancel(payment.intent_id)
                except GatewayError:
                    continue  # the next sweep tries again
                move(booking, payment, PaymentStatus.CANCELLED, actor=actor, now=now,
                     reason=why("authorisation_released_ended"))
        return
    if booking.status == BookingStatus.AUTHORISED:
        lines = [line for line in booking.lines
                 if line.status not in (LineStatus.CANCELLED,)]
        if any(line.status == LineStatus.REQUESTED for line in lines):
            return  # members still to answer
        if any(line.status == LineStatus.DECLINED for line in lines):
            move(booking, booking, BookingStatus.ACTION_REQUIRED, actor=actor, now=now,
                 reason=why("patient_decides"))
            notify(booking, booking.customer_ref, "declined", f"booking:{booking.id}:declined",
                   now=now)
            escalate(booking, EscalationKind.LINE_DECLINED, now=now)
            return
        payment = deposit_payment(booking)
        if payment is None:
            return
        if payment.status == PaymentStatus.AUTHORISED:
            if _capture(payment, gateway, actor=actor, now=now):
                confirm(booking, actor=actor, now=now)
        elif payment.status == PaymentStatus.CAPTURED:  # captured, the answer lost
            confirm(booking, actor=actor, now=now)
    elif booking.status == BookingStatus.CONFIRMED:
        for payment in booking.payments:  # a balance authorised since
            if payment.status == PaymentStatus.AUTHORISED:
                _capture(payment, gateway, actor=actor, now=now)


def confirm(booking: Booking, *, actor: str, now: datetime) -> None:
    move(booking, booking, BookingStatus.CONFIRMED, actor=actor, now=now,
         reason=why("all_confirmed"))
    post_confirmed_lines(booking, now=now)
    notify(booking, booking.customer_ref, "confirmed", f"booking:{booking.id}:confirmed",
           now=now)


def _capture(payment: Payment, gateway: StripeGateway, *, actor: str,
             now: datetime) -> bool:
    """Capture the payment (Stripe releases what is not captured). A Stripe error
    leaves it authorised for the next :func:`advance`."""
    amount = capture_amount(payment)
    if amount == 0:  # nothing left to charge (every remaining line is borne)
        try:
            gateway.cancel(payment.intent_id)
        except GatewayError:
            return False
        move(payment.booking, payment, PaymentStatus.CANCELLED, actor=actor, now=now,
             reason=why("nothing_to_capture"))
        return True
    try:
        intent = gateway.capture(payment, amount)
    except GatewayError as error:
        # Captured already (by an attempt whose answer was lost: its idempotency key is
        # the same) or no longer capturable: what Stripe holds now decides.
        intent = _intent_now(payment, gateway)
        if intent is None or intent.status == PaymentStatus.AUTHORISED:
            record(payment.booking, "payment", payment.id, payment.status, payment.status,
                   actor=actor, now=now, reason=why("capture_failed", note=str(error)))
            return False
    if intent.status != PaymentStatus.CAPTURED:
        return apply_intent(payment, intent, actor=actor, now=now) and False
    if intent.amount_received is None:
        intent = Intent(intent.id, intent.status, intent.client_secret, intent.amount, amount)
    apply_intent(payment, intent, actor=actor, now=now)
    return True


def _intent_now(payment: Payment, gateway: StripeGateway) -> Intent | None:
    try:
        return gateway.retrieve(payment.intent_id)
    except GatewayError:
        return None


def advance_all(gateway: StripeGateway, *, now: datetime | None = None) -> int:
    """The recovery sweep: every booking that may have a step to take takes it."""
    now = now or utcnow()
    ids = db.session.scalars(select(Booking.id).where(or_(
        Booking.status.in_((BookingStatus.AUTHORISED, BookingStatus.CONFIRMED)),
        and_(Booking.status.in_(ENDED), Booking.id.in_(
            select(Payment.booking_id).where(Payment.status == PaymentStatus.AUTHORISED)))
    ))).all()
    moved = 0
    for booking_id in ids:
        booking = db.session.get(Booking, booking_id)
        before = (booking.status, tuple(p.status for p in booking.payments))
        advance(booking, gateway, actor="job:advance", now=now)
        moved += before != (booking.status, tuple(p.status for p in booking.payments))
    return moved
