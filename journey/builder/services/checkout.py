"""Checkout of an accepted quote: the journey side of the booking saga."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from datetime import datetime, timedelta

from flask import current_app
from flask_babel import lazy_gettext as _l

from bookings.checkout import (
    CheckoutLine,
    request_fingerprint,
    request_payment,
    start_checkout,
    store_answer,
    stored_answer,
)
from bookings.models import Booking
from bookings.payments import StripeGateway
from journey.builder.models import JourneyStatus, QuoteLineKind
from journey.builder.services.quotes import get_quote, latest_version
from journey.errors import Conflict, Forbidden, InvalidInput
from journey.extensions import db
from journey.types import utcnow
from providers.models import ConfirmationMode, Offer


def checkout_quote(actor, quote_id: int, *, gateway: StripeGateway | None = None,
                   payment_method: str | None = None, now: datetime | None = None) -> Booking:
    """Hold every line of the accepted quote and ask Stripe to authorise the amount due
    now (the deposit, or the whole total when there is none), as quoted.

    The booking and its payment row are committed *before* Stripe is called, and the
    payment's id is Stripe's idempotency key, so a crash in between loses nothing and
    a retry cannot charge twice.
    """
    now = now or utcnow()
    quote = get_quote(actor, quote_id)
    journey = quote.journey
    if actor.id != journey.patient_id and not actor.role.is_cluster:
        raise Forbidden(_l("The patient pays (or a coordinator for them)."))
    if quote.accepted_at is None or quote.version != latest_version(journey):
        raise Conflict(_l("Accept the newest quote before paying."))
    if journey.status not in (JourneyStatus.ACCEPTED, JourneyStatus.BOOKED):
        raise Conflict(_l("The journey has changed since this quote; accept the newest "
                          "version."))
    if quote.expires_at <= now:
        raise Conflict(_l("This quote has expired; ask for a new one."))
    lines = []
    for line in quote.lines:
        if line.kind == QuoteLineKind.DISCOUNT:
            continue
        offer = db.session.get(Offer, line.offer_id)
        lines.append(CheckoutLine(
            offer_id=line.offer_id, provider_id=line.provider_id, start_on=line.start_on,
            days=line.days, quantity=line.quantity, amount_minor=line.total_minor,
            instant=offer.confirmation_mode == ConfirmationMode.INSTANT))
    # The package discount lowers what the members' lines add up to; the booking keeps
    # the quoted total, and the first line absorbs the discount for settlement later.
    discount = quote.discount_minor
    for i, line in enumerate(lines):
        take = min(discount, line.amount_minor)
        if take:
            lines[i] = replace(line, amount_minor=line.amount_minor - take)
            discount -= take
    due_now = quote.deposit_minor or quote.total_minor
    booking = start_checkout(
        reference=f"quote:{quote.id}", customer_ref=f"user:{journey.patient_id}",
        currency=quote.currency, lines=lines, due_now_minor=due_now,
        ttl=timedelta(minutes=current_app.config["CHECKOUT_HOLD_MINUTES"]),
        actor=f"user:{actor.id}", now=now)
    db.session.commit()  # the deliberate exception: the payment row exists before Stripe
    payment = booking.payments[-1]
    request_payment(payment, gateway or StripeGateway.from_config(),
                    actor=f"user:{actor.id}", payment_method=payment_method, now=now)
    return booking


def checkout_once(actor, quote_id: int, *, key: str, payment_method: str | None,
                  render: Callable[[Booking], dict]) -> tuple[int, dict]:
    """:func:`checkout_quote` under an ``Idempotency-Key``: a retry with the same key
    gets the first answer, whatever happened in between."""
    if not 8 <= len(key or "") <= 200:
        raise InvalidInput(fields={"Idempotency-Key": [
            _l("Send an Idempotency-Key header of 8 to 200 characters.")]})
    scope = f"user:{actor.id}:checkout"
    fingerprint = request_fingerprint(quote_id, payment_method)
    stored = stored_answer(scope, key, fingerprint)
    if stored is not None:
        return stored
    body = render(checkout_quote(actor, quote_id, payment_method=payment_method))
    store_answer(scope, key, fingerprint, 201, body)
    return 201, body
