"""The balance: what is still owed after the deposit, due some days before the start.

The reminder job asks for it (a payment row and a message to the patient, once), the
patient pays it with a new PaymentIntent (captured at once: the lines are confirmed),
and a failed or missing payment goes to a coordinator.
"""

from __future__ import annotations

import contextlib
from datetime import datetime, timedelta

from flask import current_app
from flask_babel import lazy_gettext as _l
from sqlalchemy import select

from bookings.models import (
    Booking,
    BookingEvent,
    BookingStatus,
    EscalationKind,
    Payment,
    PaymentKind,
    PaymentStatus,
)
from bookings.payments import GatewayError, StripeGateway
from bookings.services.access import actor_ref, is_customer, lock_booking, patients_booking
from bookings.services.amounts import balance_minor
from bookings.services.audit import move, record
from bookings.services.checkout import request_payment
from bookings.services.escalations import escalate, notify
from bookings.services.saga import OPEN_PAYMENT, advance
from journey.core.accounts.permissions import is_cluster
from journey.core.errors import Conflict, DomainError, Forbidden, refuse
from journey.core.extensions import db
from journey.core.persistence import commit_unit
from journey.core.reasons import Why, why
from journey.core.types import today_in, utcnow

#: How long a balance payment that a payer sent to Stripe counts as under way (longer
#: than a request to Stripe takes, with its retries). A second payer meanwhile is told
#: so (409); after it (the first payer's worker died before Stripe's answer), the next
#: payer sends the same row again, under the same Stripe idempotency key, and gets the
#: intent Stripe made of the first, if any, instead of authorising the card twice.
UNDER_WAY = timedelta(minutes=2)


def open_balance_payment(booking: Booking, *, now: datetime, actor: str,
                         gateway: StripeGateway | None = None,
                         keep_intent: bool = False) -> Payment | None:
    """The balance payment row to pay, created (or renewed at the right amount) when a
    balance is owed. With ``keep_intent`` an open PaymentIntent for the right amount is
    kept, so that asking again without a card gives the same client secret; a row that
    is replaced has its intent cancelled at Stripe (when it can be told)."""
    amount = balance_minor(booking)
    current = next((p for p in booking.payments if p.kind == PaymentKind.BALANCE
                    and p.status in OPEN_PAYMENT), None)
    if current is not None and current.amount_minor == amount and (
            current.intent_id is None or keep_intent):
        return current
    if current is not None:
        if current.intent_id is not None and gateway is not None:
            with contextlib.suppress(GatewayError):
                gateway.cancel(current.intent_id)
        move(booking, current, PaymentStatus.CANCELLED, actor=actor, now=now,
             reason=why("balance_replaced"))
    if amount <= 0:
        return None
    payment = Payment(booking_id=booking.id, kind=PaymentKind.BALANCE, amount_minor=amount,
                      currency=booking.currency, status=PaymentStatus.CREATED, created_at=now)
    db.session.add(payment)
    db.session.flush()
    record(booking, "payment", payment.id, None, PaymentStatus.CREATED, actor=actor, now=now,
           reason=why("balance_requested"))
    return payment


def balance_refusal(actor, booking: Booking) -> DomainError | None:
    """Why ``actor`` may not pay the balance of ``booking`` now (None when they may):
    the patient (or the cluster for them) pays it once the booking is confirmed and
    while something is owed."""
    if not (is_customer(actor, booking) or is_cluster(actor)):
        return Forbidden(_l("The patient pays (or a coordinator for them)."))
    if booking.status != BookingStatus.CONFIRMED:
        return Conflict(_l("The balance is paid once the booking is confirmed."))
    if balance_minor(booking) <= 0:
        return Conflict(_l("Nothing is owed on this booking."))
    return None


def pay_balance(actor, booking_id: int, *, payment_method: str | None,
                gateway: StripeGateway | None = None, now: datetime | None = None) -> Payment:
    """Pay the balance as checkout pays the deposit: with a payment method, authorised
    and captured now (a refused card is 409 and goes to a coordinator); without one,
    the open PaymentIntent and its client secret, for the client to confirm with
    Stripe.js (the webhook or the reconcile job then captures it)."""
    now = now or utcnow()
    gateway = gateway or StripeGateway.from_config()
    booking = patients_booking(actor, booking_id,
                               _l("The patient pays (or a coordinator for them)."))
    refuse(balance_refusal(actor, booking))
    who = actor_ref(actor)
    if under_way(booking, now=now) is not None:
        raise Conflict(_l("A payment of the balance is already under way; reload in a "
                          "moment to see it."))
    payment = open_balance_payment(booking, now=now, actor=who, gateway=gateway,
                                   keep_intent=payment_method is None)
    if payment is None:  # not reached: balance_refusal refused a zero balance on the
        # booking, which is locked; None is the reminder job's answer.
        raise Conflict(_l("Nothing is owed on this booking."))
    if payment.intent_id is None:  # a second payer waits for Stripe's answer to this one
        record(booking, "payment", payment.id, payment.status, payment.status, actor=who,
               now=now, reason=why("balance_sent"))
    commit_unit()  # the payment row exists before Stripe is called
    # A refused card fails the row and escalates inside request_payment (409).
    request_payment(payment, gateway, actor=who, payment_method=payment_method, now=now)
    if payment.status == PaymentStatus.CANCELLED:  # dropped meanwhile (a cancellation
        # changed what is owed); request_payment released what Stripe authorised
        raise Conflict(_l("The amount owed changed while your card was being checked; "
                          "nothing was charged. Reload to see what is owed."))
    if payment_method is None or payment.status == PaymentStatus.REQUIRES_ACTION:
        return payment  # the client confirms (or the bank asks the patient) with Stripe.js
    if payment.status == PaymentStatus.CAPTURED:  # by a webhook's step meanwhile
        return payment
    if payment.status != PaymentStatus.AUTHORISED:
        _failed(booking, payment, actor=who, now=now, reason=why("not_authorised"))
        commit_unit()
        raise Conflict(_l("The card was not authorised; try another card."))
    advance(booking, gateway, actor=who, now=now)
    return payment


def under_way(booking: Booking, *, now: datetime) -> Payment | None:
    """The balance payment of ``booking`` (locked) that a payer sent to Stripe less than
    :data:`UNDER_WAY` ago and whose answer is not recorded yet, if any. (A second payer
    who took that row too sent it to Stripe again and, getting the intent back, found it
    captured by the first or failed by it: a 409 that explained nothing.)"""
    current = next((p for p in booking.payments if p.kind == PaymentKind.BALANCE
                    and p.status == PaymentStatus.CREATED and p.intent_id is None), None)
    if current is None:
        return None
    last = db.session.scalars(select(BookingEvent).where(
        BookingEvent.booking_id == booking.id, BookingEvent.subject == "payment",
        BookingEvent.subject_id == current.id)
        .order_by(BookingEvent.id.desc()).limit(1)).first()
    if last is None or last.reason_code != "balance_sent" or last.at <= now - UNDER_WAY:
        return None
    return current


def _failed(booking: Booking, payment: Payment, *, actor: str, now: datetime,
            reason: Why) -> None:
    move(booking, payment, PaymentStatus.FAILED, actor=actor, now=now, reason=reason)
    escalate(booking, EscalationKind.PAYMENT_FAILED, payment=payment, now=now, detail=reason)


def send_balance_reminders(*, now: datetime | None = None) -> int:
    """Remind patients whose balance falls due within the reminder window (once per
    request), and escalate balances unpaid after their due date. Returns reminders.
    Each booking under its lock (:func:`_remind`), one unit of work each."""
    now = now or utcnow()
    today = today_in(now=now)
    window = timedelta(days=current_app.config["BALANCE_REMINDER_DAYS"])
    sent = 0
    booking_ids = db.session.scalars(select(Booking.id).where(
        Booking.status == BookingStatus.CONFIRMED, Booking.balance_due_on.is_not(None),
        Booking.balance_due_on <= today + window).order_by(Booking.id)).all()
    for booking_id in booking_ids:
        sent += _remind(booking_id, now=now, today=today)
        commit_unit()
    return sent


def _remind(booking_id: int, *, now: datetime, today) -> int:
    """One booking's reminder, under the booking's lock, as a payer and a cancellation
    write its balance row: not while a payer's payment is under way at Stripe (the
    patient is paying; the row is theirs), and not for a booking that a cancellation
    ended or a payment settled meanwhile. Returns the reminders sent (0 or 1)."""
    booking = lock_booking(booking_id)
    if booking is None or booking.status != BookingStatus.CONFIRMED or \
            balance_minor(booking) <= 0 or under_way(booking, now=now) is not None:
        return 0
    payment = open_balance_payment(booking, now=now, actor="job:balance")
    if payment is None:
        return 0
    sent = notify(booking, booking.customer_ref, "balance_reminder",
                  f"payment:{payment.id}", now=now,
                  payload={"amount_minor": payment.amount_minor,
                           "currency": payment.currency,
                           "due_on": booking.balance_due_on.isoformat()})
    if booking.balance_due_on < today:
        escalate(booking, EscalationKind.BALANCE_UNPAID, now=now,
                 detail=why("balance_due", due_on=booking.balance_due_on))
    return sent
