"""Checkout of an accepted quote: the journey side of the booking saga."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from datetime import datetime
from functools import cache

from flask_babel import lazy_gettext as _l
from sqlalchemy import Integer, bindparam, select, true
from sqlalchemy.orm.attributes import set_committed_value

from bookings.idempotency import check_key, request_fingerprint, run_once
from bookings.models import Booking, BookingStatus, PaymentStatus
from bookings.payments import StripeGateway
from bookings.services.access import actor_ref, booking_view
from bookings.services.checkout import (
    CheckoutLine,
    checkout_ttl,
    next_attempt,
    payment_link_ttl,
    refuse_ended_meanwhile,
    request_payment,
    start_checkout,
)
from bookings.services.holds import refuse_sold_out_rows, room_of_lines
from bookings.services.saga import advance
from journey.builder.models import Journey, JourneyStatus, Quote, QuoteLine, QuoteLineKind
from journey.builder.services.journeys import get_journey
from journey.builder.services.quotes import get_quote, latest_version
from journey.case.services.reviews import review_refusal
from journey.core.errors import Conflict, DomainError, Forbidden, refuse
from journey.core.extensions import db
from journey.core.money import convert_minor, split_minor
from journey.core.persistence import commit_unit, driver_read
from journey.core.types import UTCDateTime, utcnow
from journey.insurance.models import GuaranteeStatus
from journey.insurance.services import coverage
from providers.models import ConfirmationMode, Offer

#: A journey's states once its newest accepted quote was checked out: a checkout of that
#: quote again gets its booking back, whatever the booking has come to since.
BOOKED_FROM_IT = (JourneyStatus.ACCEPTED, JourneyStatus.BOOKED, JourneyStatus.CONFIRMED,
                  JourneyStatus.IN_PROGRESS, JourneyStatus.COMPLETED)


def checkout_refusal(actor, quote: Quote, *, now: datetime,
                     retry: bool = False) -> DomainError | None:
    """Why ``actor`` may not pay ``quote`` now (None when they may): the patient (or the
    cluster for them) pays the newest accepted, unexpired version of a journey that has
    not changed since, and whose treating members have approved the case where they
    review it (:func:`journey.case.services.reviews.review_refusal`). A journey already
    booked has nothing left to pay, except for a ``retry`` of the checkout that booked
    it, which gets its booking back."""
    journey = quote.journey
    if actor.id != journey.patient_id and not actor.role.is_cluster:
        return Forbidden(_l("The patient pays (or a coordinator for them)."))
    if journey.status == JourneyStatus.CANCELLED:
        return Conflict(_l("This journey is cancelled."))
    if quote.accepted_at is None or quote.version != latest_version(journey):
        return Conflict(_l("Accept the newest quote before paying."))
    payable = BOOKED_FROM_IT if retry else (JourneyStatus.ACCEPTED,)
    if journey.status not in payable:
        return Conflict(_l("The journey has changed since this quote; accept the newest "
                           "version."))
    if journey.status != JourneyStatus.ACCEPTED:
        return None  # booked from this quote: its booking back, however long ago
    if quote.expires_at <= now:
        return Conflict(_l("This quote has expired; ask for a new one."))
    return review_refusal(journey) or guarantee_refusal(quote, now=now)


def guarantee_refusal(quote: Quote, *, now: datetime) -> DomainError | None:
    """Why a quote with an insurer's share may not be paid yet (None when it may): its
    insurer must have approved a guarantee of at least that share, still valid now."""
    if not quote.covered_minor:
        return None
    guarantee = coverage.guarantee_of(quote.id)
    if guarantee is None or guarantee.status != GuaranteeStatus.APPROVED or \
            (guarantee.approved_minor or 0) < quote.covered_minor or \
            guarantee.valid_until is None or guarantee.valid_until <= now:
        return Conflict(_l("Your insurer has not approved a guarantee of payment for this "
                           "quote. Wait for its answer, or remove the policy and pay "
                           "everything yourself."))
    return None


def checkout_quote(actor, quote_id: int, *, gateway: StripeGateway | None = None,
                   payment_method: str | None = None, now: datetime | None = None,
                   sold_out_asked: bool = False) -> Booking:
    """Hold every line of the accepted quote and ask Stripe to authorise the amount due
    now (the deposit, or the whole total when there is none), as quoted.

    The booking and its payment row are committed *before* Stripe is called, and the
    payment's id is Stripe's idempotency key, so a crash in between loses nothing and
    a retry cannot charge twice. ``sold_out_asked``: the caller has asked
    :func:`sold_out_refusal` just before.
    """
    now = now or utcnow()
    if not sold_out_asked:
        _refuse_sold_out(actor, quote_id, now=now)
    who = actor_ref(actor)  # read once: the commit below expires the account
    quote = get_quote(actor, quote_id)
    journey = quote.journey
    # A retried checkout of a booked journey gets its booking back (start_checkout).
    refuse(checkout_refusal(actor, quote, now=now, retry=True))
    lines = []
    insurer = None
    if quote.covered_minor:
        guarantee = coverage.guarantee_of(quote.id)
        insurer = guarantee.provider_id if guarantee is not None else None
    # The lines with how each one's offer confirms, in one read.
    rows = db.session.execute(
        select(QuoteLine, Offer.confirmation_mode)
        .outerjoin(Offer, Offer.id == QuoteLine.offer_id)
        .where(QuoteLine.quote_id == quote.id).order_by(QuoteLine.position)).all()
    set_committed_value(quote, "lines", [line for line, _mode in rows])
    for line, confirmation_mode in rows:
        if line.kind == QuoteLineKind.DISCOUNT:
            continue
        borne = line.kind == QuoteLineKind.BORNE
        lines.append(CheckoutLine(
            offer_id=line.offer_id, provider_id=line.provider_id, start_on=line.start_on,
            days=line.days, quantity=line.quantity, amount_minor=line.total_minor,
            instant=confirmation_mode == ConfirmationMode.INSTANT,
            chain_link=line.chain_link.value if line.chain_link else None,
            value_minor=convert_minor(line.total_offer_minor, line.offer_currency,
                                      quote.currency, line.rate) if borne else None,
            borne_by_provider_id=line.borne_by_provider_id,
            covered_minor=line.covered_minor,
            covered_by_provider_id=insurer if line.covered_minor else None))
    # The package discount is funded by the member whose package it is: its own lines
    # give it, each in proportion to its amount, so the lines add up to the quoted total;
    # a line keeps its value, so the settlement shows the discount its member funded.
    # The insurer's share of a line (journey.insurance) is not the patient's to pay:
    # the line's amount is what is left, its value stays the line's price.
    funder = next((line.provider_id for line in quote.lines
                   if line.kind == QuoteLineKind.DISCOUNT), None)
    shares = split_minor(quote.discount_minor, [
        line.amount_minor if line.provider_id == funder else 0 for line in lines])
    if quote.discount_minor and sum(shares) != quote.discount_minor:
        raise Conflict(_l("This quote's discount has no lines of its member to fund it; "
                          "ask for a new quote."))
    lines = [replace(line, amount_minor=line.amount_minor - share - line.covered_minor,
                     value_minor=line.amount_minor)
             if share or line.covered_minor else line
             for line, share in zip(lines, shares, strict=True)]
    # A coordinator sends the patient a payment link: the units are held longer and
    # Stripe is only called when the patient pays (POST /bookings/{id}/pay).
    link = actor.id != journey.patient_id and payment_method is None
    booking = start_checkout(
        reference=f"quote:{quote.id}", customer_ref=f"user:{journey.patient_id}",
        currency=quote.currency, lines=lines, due_now_minor=quote.due_now_minor,
        ttl=payment_link_ttl() if link else checkout_ttl(),
        actor=who, balance_due_on=quote.balance_due_on, now=now)
    if link or booking.status != BookingStatus.PENDING_PAYMENT:
        return booking  # a link waits for the patient; a paid booking is not paid twice
    # A retry after a refused card gets a fresh payment row (and idempotency key).
    payment = next_attempt(booking, actor=who, now=now)
    # The deliberate exception: the payment row exists before Stripe. What this request
    # loaded stays loaded: Stripe's answer is applied under the booking's lock, which
    # reads the booking, its lines and payments afresh (request_payment).
    commit_unit(keep_loaded=True)
    gateway = gateway or StripeGateway.from_config()
    request_payment(payment, gateway, actor=who,
                    payment_method=payment_method, now=now)
    refuse_ended_meanwhile(booking)  # expired while Stripe was asked: 409, not the booking
    if payment.status == PaymentStatus.AUTHORISED:
        # Lines that confirm at once need no member: capture and confirm now rather
        # than at the next webhook or sweep (localstripe sends no authorisation event).
        advance(booking, gateway, actor=who, now=now)
    return booking


def _refuse_sold_out(actor, quote_id: int, *, now: datetime) -> None:
    """The quick "sold out" (409) for a first checkout of an accepted quote the actor
    may pay, from one read of its lines and the calendar, before anything is loaded or
    locked (when many patients race for the last units, most are turned away here). A
    quote this does not find (someone else's, not accepted, a retry of a booked
    journey) goes the whole way and gets the whole way's answer."""
    if getattr(actor, "role", None) is None:
        return
    cluster = actor.role.is_cluster
    refuse_sold_out_rows(driver_read(_payable_room(cluster), {
        "quote_id": quote_id, "now": now, **({} if cluster else {"patient_id": actor.id})
    }, flush=True), now=now)


def sold_out_refusal(actor, quote_id: int, *, now: datetime) -> Conflict | None:
    """:func:`_refuse_sold_out`'s 409, returned rather than raised (None when the quote
    is not found sold out that way)."""
    try:
        _refuse_sold_out(actor, quote_id, now=now)
    except Conflict as refusal:
        return refusal
    return None


@cache
def _payable_room(cluster: bool):
    """The statement of :func:`_refuse_sold_out` (built once, its values bound): the
    lines of an accepted, unexpired quote of an accepted journey, for the cluster or
    for the journey's patient, with the room of each of their days
    (:func:`~bookings.services.holds.room_of_lines`)."""
    lines = (
        select(QuoteLine.id.label("line"), QuoteLine.offer_id, QuoteLine.start_on,
               QuoteLine.days, QuoteLine.quantity)
        .join(Quote, Quote.id == QuoteLine.quote_id)
        .join(Journey, Journey.id == Quote.journey_id)
        .where(QuoteLine.quote_id == bindparam("quote_id", type_=Integer()),
               QuoteLine.kind != QuoteLineKind.DISCOUNT, QuoteLine.offer_id.is_not(None),
               Quote.accepted_at.is_not(None),
               Quote.expires_at > bindparam("now", type_=UTCDateTime()),
               Journey.status == JourneyStatus.ACCEPTED,
               true() if cluster
               else Journey.patient_id == bindparam("patient_id", type_=Integer()))
    ).subquery("payable")
    return room_of_lines(lines)


def checkout_once(actor, quote_id: int, *, key: str, payment_method: str | None,
                  render: Callable[[Booking], dict]) -> tuple[int, dict]:
    """:func:`checkout_quote` under an ``Idempotency-Key``: a retry with the same key
    gets the first answer, whatever happened in between."""
    key = check_key(key, required=True)
    now = utcnow()
    return run_once(f"{actor_ref(actor)}:checkout", key,
                    request_fingerprint(quote_id, payment_method),
                    lambda: (201, render(checkout_quote(
                        actor, quote_id, payment_method=payment_method, now=now,
                        sold_out_asked=True))),
                    quick_refusal=lambda: sold_out_refusal(actor, quote_id, now=now),
                    now=now)


def journey_bookings(actor, journey_id: int) -> list[tuple[Quote, Booking]]:
    """The bookings made from the journey's quotes, newest first, as ``actor`` may see
    them (the journey's scoping: 404 for anyone who may not see the journey; a member's
    staff see only their own lines and no payments)."""
    journey = get_journey(actor, journey_id)
    by_reference = {f"quote:{quote.id}": quote for quote in journey.quotes}
    if not by_reference:
        return []
    bookings = db.session.scalars(select(Booking).where(
        Booking.reference.in_(list(by_reference))).order_by(Booking.id.desc()))
    return [(by_reference[booking.reference], booking_view(actor, booking))
            for booking in bookings]
