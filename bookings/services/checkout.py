"""The first steps of the checkout saga: holds, the booking, the payment row, the
PaymentIntent, and what Stripe later says about it (webhook or re-fetch).

Every transition is a :class:`~bookings.models.BookingEvent` row.
"""

from __future__ import annotations

import contextlib
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from flask import current_app
from flask_babel import lazy_gettext as _l
from sqlalchemy import select

from bookings.models import (
    Booking,
    BookingLine,
    BookingStatus,
    EscalationKind,
    LineStatus,
    Payment,
    PaymentStatus,
)
from bookings.payments import (
    ActionRequired,
    CardRefused,
    GatewayError,
    StripeGateway,
)
from bookings.services.access import (
    actor_ref,
    lock_booking,
    patients_booking,
)
from bookings.services.audit import move, record
from bookings.services.availability import Line
from bookings.services.escalations import escalate
from bookings.services.holds import place_holds, renew_holds
from bookings.services.saga import ENDED, FINAL_PAYMENT, OPEN_PAYMENT, advance, apply_intent
from journey.core.errors import Busy, Conflict, InvalidInput
from journey.core.extensions import db
from journey.core.persistence import commit_unit
from journey.core.reasons import why
from journey.core.types import utcnow

#: The 409 of a checkout or payment whose booking expired while Stripe was asked (its
#: holds ran out; the expiry job ended it): the authorisation was released.
LAPSED_WHILE_PAYING = _l("This booking lapsed while your card was being checked; nothing "
                         "was charged. Ask for a new quote.")


class BookingLapsed(Conflict):
    code = "booking_lapsed"
    default_message = LAPSED_WHILE_PAYING


@dataclass(frozen=True)
class CheckoutLine:
    offer_id: int
    provider_id: int
    start_on: date
    days: int
    quantity: int
    amount_minor: int
    instant: bool
    chain_link: str | None = None
    value_minor: int | None = None  # what a borne line is worth (its amount is 0)
    borne_by_provider_id: int | None = None
    covered_minor: int = 0  # the insurer's share (not in the amount; in the value)
    covered_by_provider_id: int | None = None


def start_checkout(*, reference: str, customer_ref: str, currency: str,
                   lines: list[CheckoutLine], due_now_minor: int, ttl: timedelta,
                   actor: str, balance_due_on: date | None = None,
                   now: datetime | None = None) -> Booking:
    """Hold every line (all or nothing) and write the booking and its payment row.

    A second checkout of the same ``reference`` while the first is alive returns it,
    under its row lock and read afresh (:func:`~bookings.services.access.lock_booking`):
    the caller decides which payment row to try on the booking as it stands. (Read
    without the lock, a second tab saw the booking still waiting for its payment and,
    a moment later, that payment authorised by the first tab: it cancelled that
    authorisation and authorised the card a second time.)
    """
    now = now or utcnow()
    found = db.session.scalar(select(Booking.id).where(Booking.reference == reference))
    existing = lock_booking(found) if found is not None else None
    if existing is not None:
        if existing.status not in ENDED:
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
                      expires_at=now + ttl, created_at=now,
                      start_on=min(line.start_on for line in lines),
                      balance_due_on=balance_due_on if due_now_minor < total else None)
    booking.lines = [BookingLine(offer_id=line.offer_id, provider_id=line.provider_id,
                                 start_on=line.start_on, days=line.days,
                                 end_on=line.start_on + timedelta(days=line.days),
                                 quantity=line.quantity, amount_minor=line.amount_minor,
                                 instant=line.instant, status=LineStatus.HELD,
                                 chain_link=line.chain_link,
                                 value_minor=line.amount_minor if line.value_minor is None
                                 else line.value_minor,
                                 borne_by_provider_id=line.borne_by_provider_id,
                                 covered_minor=line.covered_minor,
                                 covered_by_provider_id=line.covered_by_provider_id)
                     for line in lines]
    booking.payments = [Payment(amount_minor=due_now_minor, currency=currency,
                                status=PaymentStatus.CREATED, created_at=now)]
    db.session.add(booking)
    db.session.flush()
    record(booking, "booking", booking.id, None, booking.status, actor=actor, now=now,
           reason=why("checkout_started"))
    record(booking, "payment", booking.payments[0].id, None, PaymentStatus.CREATED,
           actor=actor, now=now)
    db.session.flush()
    return booking


def request_payment(payment: Payment, gateway: StripeGateway, *, actor: str,
                    payment_method: str | None = None, now: datetime | None = None) -> Payment:
    """Create the PaymentIntent for a payment row that is already committed, and commit
    what Stripe answered. A refused card fails the row for good (it is committed
    before the 409 is raised): the next attempt is a new row with a new idempotency
    key, since Stripe answers a reused key with its first answer.

    Any other Stripe error (a timeout, Stripe down) may have come after Stripe created
    and authorised the intent, so the row is left as it is: a retry sends the same
    idempotency key and gets that intent back instead of authorising the card twice."""
    now = now or utcnow()
    if payment.intent_id is not None:
        return payment
    try:
        intent = gateway.create_intent(payment, payment_method=payment_method)
    except (CardRefused, ActionRequired) as error:
        lock_booking(payment.booking_id)  # see below
        _refused(payment, actor=actor, now=now, reason=str(error))
    except GatewayError as error:
        record(payment.booking, "payment", payment.id, payment.status, payment.status,
               actor=actor, now=now, reason=why("stripe_unanswered", note=str(error)))
        commit_unit()
        raise Busy(_l("The payment service did not answer; please try again.")) from error
    # Stripe's answer is applied under the booking's lock, to the booking as it stands
    # then: a second checkout of the same quote (another tab, another key) found this
    # booking and payment, sent the same idempotency key and got the same intent; the
    # first to apply it moves the booking, the other finds it moved (a webhook, a
    # return from the bank and the sweep take the same lock).
    lock_booking(payment.booking_id)
    payment.intent_id = intent.id
    payment.client_secret = intent.client_secret
    if payment.status in (PaymentStatus.CANCELLED, PaymentStatus.FAILED):
        # Ended while Stripe was asked (a cancellation dropped the balance it was for,
        # the expiry job ended the booking): whatever Stripe made of it is released,
        # else the authorisation stays held on the card (the row is final, so neither
        # the webhook nor the reconcile job would look at it again).
        _release_late_intent(payment, intent, gateway, actor=actor, now=now)
        commit_unit()
        return payment
    apply_intent(payment, intent, actor=actor, now=now)
    if intent.error and payment.status == PaymentStatus.REQUIRES_PAYMENT_METHOD:
        _refused(payment, actor=actor, now=now, reason=intent.error)
    commit_unit()
    return payment


def refuse_ended_meanwhile(booking: Booking) -> None:
    """409 when ``booking`` ended while its card was being checked (after
    :func:`request_payment` released what Stripe authorised late): the caller would
    otherwise answer with an ended booking, or a cancelled payment, as if paid."""
    if booking.status == BookingStatus.EXPIRED:
        raise BookingLapsed()
    if booking.status in ENDED:
        raise Conflict(_l("This booking has ended; ask for a new quote."))


def _release_late_intent(payment: Payment, intent, gateway: StripeGateway, *, actor: str,
                         now: datetime) -> None:
    if intent.status in FINAL_PAYMENT:
        return
    try:
        gateway.cancel(intent.id)
    except GatewayError as error:  # nothing tries again: it lapses at Stripe on its own
        record(payment.booking, "payment", payment.id, payment.status, payment.status,
               actor=actor, now=now, reason=why("late_authorisation_kept", note=str(error)))
        return
    record(payment.booking, "payment", payment.id, payment.status, payment.status,
           actor=actor, now=now, reason=why("late_authorisation_released"))


def _refused(payment: Payment, *, actor: str, now: datetime, reason: str):
    """Stripe's ``reason`` (in Stripe's words) is kept as the note of the refusal."""
    booking = payment.booking
    refused = why("payment_refused", note=reason)
    move(booking, payment, PaymentStatus.FAILED, actor=actor, now=now, reason=refused)
    escalate(booking, EscalationKind.PAYMENT_FAILED, payment=payment, now=now,
             detail=refused)
    commit_unit()
    raise Conflict(_l("The card was refused; try another card."))


def next_attempt(booking: Booking, *, actor: str, now: datetime,
                 gateway: StripeGateway | None = None) -> Payment:
    """The payment row to try now: the last one while Stripe has not been asked, else a
    new one for the same amount (the earlier intent, if still open, is cancelled)."""
    payment = booking.payments[-1]
    if payment.intent_id is None and payment.status == PaymentStatus.CREATED:
        return payment
    if payment.intent_id is not None and payment.status not in FINAL_PAYMENT:
        # If Stripe cannot be told, the intent lapses on its own; ours ends here.
        if gateway is not None:
            with contextlib.suppress(GatewayError):
                gateway.cancel(payment.intent_id)
        move(booking, payment, PaymentStatus.CANCELLED, actor=actor, now=now,
             reason=why("payment_replaced"))
    fresh = Payment(booking_id=booking.id, kind=payment.kind, amount_minor=payment.amount_minor,
                    currency=booking.currency, status=PaymentStatus.CREATED, created_at=now)
    db.session.add(fresh)
    db.session.flush()
    record(booking, "payment", fresh.id, None, PaymentStatus.CREATED, actor=actor, now=now)
    return fresh


def awaiting_bank(booking: Booking) -> Payment | None:
    """The payment of ``booking`` whose card waits for the bank's check (3-D Secure),
    if any: the cardholder confirms with Stripe.js, then :func:`finish_payment`."""
    return next((p for p in reversed(booking.payments)
                 if p.status == PaymentStatus.REQUIRES_ACTION and p.intent_id), None)


def bank_step(payment: Payment, gateway: StripeGateway | None = None) -> dict | None:
    """What a client must do for a payment in ``requires_action`` (None otherwise): let
    Stripe.js (``confirmCardPayment`` with the ``client_secret``) show the bank's step,
    then ask us to finish; a bank that redirects sends the patient to ``return_url``."""
    if payment.status != PaymentStatus.REQUIRES_ACTION or not payment.intent_id:
        return None
    gateway = gateway or StripeGateway.from_config()
    return {"type": "use_stripe_sdk", "client_secret": payment.client_secret,
            "return_url": gateway.return_url}


def finish_payment(actor, booking_id: int, *, intent_id: str | None = None,
                   gateway: StripeGateway | None = None,
                   now: datetime | None = None) -> Payment:
    """The patient is back from their bank's step (Stripe.js's confirmation, or the
    bank's redirect to our return URL). The intent is read again from Stripe (the
    client's word is never taken) and applied as the webhook applies it: authorised,
    the booking moves on exactly as after a direct authorisation; still waiting, it
    stays pending with its holds. Under the booking's lock, so a webhook arriving
    at the same time, or a second finish, completes it once.

    A bank that refused the check fails this attempt for good: the intent is cancelled
    at Stripe (it can no longer authorise behind our back), a coordinator is told, and
    the booking keeps its holds until they expire, so that the patient may try again
    or with another card meanwhile (409 says so). ``intent_id`` (the bank's redirect
    names it) picks the payment; else the newest one waiting for the bank."""
    now = now or utcnow()
    gateway = gateway or StripeGateway.from_config()
    booking = patients_booking(actor, booking_id,
                               _l("The patient pays (or a coordinator for them)."))
    who = actor_ref(actor)
    lock_booking(booking.id)  # not while the webhook (or another finish) takes its step
    db.session.refresh(booking)
    payment = next((p for p in reversed(booking.payments) if p.intent_id and (
        p.intent_id == intent_id if intent_id else p.status in OPEN_PAYMENT)), None)
    if payment is None:
        if booking.status in ENDED:  # expired (the bank's step abandoned) or cancelled
            raise Conflict(_l("This booking has ended; ask for a new quote."))
        if intent_id is None and booking.payments and booking.payments[-1].intent_id:
            return booking.payments[-1]  # finished already (a webhook, a second call)
        raise Conflict(_l("No payment of this booking is waiting for your bank."))
    db.session.refresh(payment)
    try:
        intent = gateway.retrieve(payment.intent_id)
    except GatewayError as error:
        raise Busy(_l("The payment service did not answer; please try again.")) from error
    apply_intent(payment, intent, actor=who, now=now)
    if payment.status in OPEN_PAYMENT and intent.status in (
            PaymentStatus.REQUIRES_PAYMENT_METHOD, PaymentStatus.CANCELLED) and intent.error:
        _authentication_failed(booking, payment, gateway, actor=who, now=now,
                               reason=intent.error)
    commit_unit()  # the payment's new state stands before the next step
    advance(booking, gateway, actor=who, now=now)
    return payment


def _authentication_failed(booking: Booking, payment: Payment, gateway: StripeGateway, *,
                           actor: str, now: datetime, reason: str):
    with contextlib.suppress(GatewayError):  # else it lapses at Stripe on its own
        gateway.cancel(payment.intent_id)
    refused = why("payment_refused", note=reason)
    move(booking, payment, PaymentStatus.FAILED, actor=actor, now=now, reason=refused)
    escalate(booking, EscalationKind.PAYMENT_FAILED, payment=payment, now=now,
             detail=refused)
    commit_unit()
    raise Conflict(_l("Your bank did not confirm the payment. Try again, or pay with "
                      "another card."))


def checkout_ttl() -> timedelta:
    """How long a web checkout holds its units."""
    return timedelta(minutes=current_app.config["CHECKOUT_HOLD_MINUTES"])


def payment_link_ttl() -> timedelta:
    """How long a coordinator's payment link holds them (at most 72 hours)."""
    return timedelta(hours=current_app.config["PAYMENT_LINK_HOLD_HOURS"])


def pay_now(actor, booking_id: int, *, payment_method: str | None,
            gateway: StripeGateway | None = None, now: datetime | None = None) -> Payment:
    """Pay a booking still waiting for its card: after a payment link, or with another
    card after a refusal. Holds that lapsed meanwhile are renewed first (availability
    is checked again; a limited number of times). localstripe cannot confirm an intent
    with a new card, so a new card means a new payment row and intent."""
    now = now or utcnow()
    gateway = gateway or StripeGateway.from_config()
    ttl = checkout_ttl()
    booking = patients_booking(actor, booking_id,
                               _l("The patient pays (or a coordinator for them)."))
    if booking.status != BookingStatus.PENDING_PAYMENT:
        raise Conflict(_l("This booking is not waiting for a payment."))
    who = actor_ref(actor)
    if booking.expires_at <= now:
        renew_holds(booking.hold_group, ttl=ttl, now=now)
        booking.expires_at = now + ttl
        record(booking, "booking", booking.id, booking.status, booking.status, actor=who,
               now=now, reason=why("holds_renewed"))
    payment = next_attempt(booking, actor=who, now=now, gateway=gateway)
    commit_unit()  # the payment row exists before Stripe is called
    request_payment(payment, gateway, actor=who, payment_method=payment_method, now=now)
    commit_unit()
    refuse_ended_meanwhile(booking)
    advance(booking, gateway, actor=who, now=now)
    return payment
