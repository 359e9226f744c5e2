"""The patient's quotes: ask for one, read it (and compare it with another version),
accept it, and pay the amount due now with the card element."""

from __future__ import annotations

import secrets
from datetime import datetime, timedelta

from flask import Blueprint, current_app, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import ngettext

from bookings.models import Booking, BookingStatus
from bookings.services.checkout import checkout_ttl
from journey.builder.models import JourneyStatus, Quote, QuoteLineKind
from journey.builder.services import checkout, progress, quotes
from journey.core.accounts.auth import current_actor
from journey.core.extensions import db
from journey.core.money import Money
from journey.core.types import MAX_ID, utcnow
from journey.pages.common import login_required, stripe_js_url, submit, submit_card
from journey.pages.forms import ActionForm, CheckoutForm
from journey.pages.patient.booking import after_payment
from journey.pages.patient.journey import journey_page
from journey.pages.rows import journey_title, offers_by_id
from providers.models import DurationUnit

QUOTE = f"/my/quotes/<int(max={MAX_ID}):quote_id>"

bp = Blueprint("quote", __name__)


def _button(action) -> tuple[object, dict]:
    """A button that runs ``action()``: its result, or None and how to redraw the page
    (the status, and the refusal to show on top; a bad CSRF token is 400)."""
    form = ActionForm()
    done, status = submit(form, action, invalid_status=400)
    return done, {"status": status, "errors": form.form_errors}


@bp.post(f"/my/journeys/<int(max={MAX_ID}):journey_id>/quotes")
@login_required
def ask(journey_id: int):
    created, refused = _button(lambda: quotes.create_quote(current_actor(), journey_id))
    if created is None:
        return journey_page(journey_id, **refused)
    return redirect(url_for("quote.show", quote_id=created.id))


def quote_groups(quote: Quote) -> dict[str, list[dict]]:
    """The quote's lines by member, each with its dates as a range: a stay from its
    first night to the departure day, a day service from its first to its last day."""
    offers = offers_by_id(line.offer_id for line in quote.lines if line.offer_id)
    groups: dict[str, list[dict]] = {}
    for line in quote.lines:
        if line.kind == QuoteLineKind.DISCOUNT:
            continue
        offer = offers.get(line.offer_id)
        nightly = offer is not None and offer.duration_unit == DurationUnit.NIGHTS
        last = None
        if line.start_on is not None:
            last = line.start_on + timedelta(days=max(line.days, 1) - (0 if nightly else 1))
        groups.setdefault(line.provider_name, []).append(
            {"line": line, "first": line.start_on, "last": last, "nightly": nightly,
             "unit": offer.duration_unit if offer is not None else None})
    return groups


def quote_discount(quote: Quote):
    """The quote's package discount line (who funds it), or None."""
    return next((line for line in quote.lines if line.kind == QuoteLineKind.DISCOUNT), None)


def discount_member(quote: Quote) -> str | None:
    """The name of the member that gives the quote's package discount, or None."""
    discount = quote_discount(quote)
    if discount is None:
        return None
    return next((line.provider_name for line in quote.lines
                 if line.provider_id == discount.provider_id and line.provider_name), None)


def journey_booking(actor, journey_id: int, quote_id: int | None = None):
    """The journey's newest booking (of ``quote_id`` only, when given), or None."""
    for quote, booking in checkout.journey_bookings(actor, journey_id):
        if quote_id is None or quote.id == quote_id:
            return booking
    return None


def hold_until(booking, *, now: datetime) -> datetime | None:
    """Until when the booking's holds keep its units for the patient, while it waits
    for the card; None when nothing is held."""
    if booking is None or booking.status != BookingStatus.PENDING_PAYMENT or \
            booking.expires_at is None or booking.expires_at <= now:
        return None
    return booking.expires_at


def minutes_left_texts(until: datetime | None, *, now: datetime) -> list[str]:
    """"1 minute left", "2 minutes left", ...: what the countdown announces once a
    minute (static/countdown.js), in the reader's plural forms, index = minutes."""
    if until is None:
        return []
    minutes = min(int((until - now).total_seconds() // 60) + 1, 120)
    return [ngettext("%(num)d minute left", "%(num)d minutes left", n)
            for n in range(minutes + 1)]


@bp.get(QUOTE)
@login_required
def show(quote_id: int, *, status: int = 200, errors: list[str] | None = None):
    actor = current_actor()
    found = quotes.get_quote(actor, quote_id)
    journey = found.journey
    groups = quote_groups(found)
    discount = quote_discount(found)
    against = request.args.get("against", "")
    changes, other = None, None
    if against.isdigit() and int(against) <= MAX_ID:
        other = quotes.get_quote(actor, int(against))
        changes = quotes.diff_quotes(actor, found.id, other.id)
    now = utcnow()
    accept_refusal = quotes.acceptance_refusal(actor, found, now=now) \
        if found.accepted_at is None else None
    pay_refusal = checkout.checkout_refusal(actor, found, now=now)
    can_accept = found.accepted_at is None and accept_refusal is None
    can_pay = pay_refusal is None
    return render_template(
        "patient/quote.html", quote=found, journey=journey, groups=groups, discount=discount,
        discount_member=discount_member(found),
        changes=changes, other=other, can_accept=can_accept, can_pay=can_pay,
        accept_refusal=str(accept_refusal.message) if accept_refusal else None,
        pay_refusal=str(pay_refusal.message) if pay_refusal and found.accepted_at
        and journey.status == JourneyStatus.ACCEPTED else None,
        steps=progress.journey_steps(journey, booking=journey_booking(actor, journey.id)),
        action_form=ActionForm(), errors=errors or [],
        other_versions=[q for q in journey.quotes if q.id != found.id],
        is_latest=found.version == quotes.latest_version(journey), BORNE=QuoteLineKind.BORNE,
        title=journey_title(journey)), status


@bp.post(f"{QUOTE}/accept")
@login_required
def accept(quote_id: int):
    accepted, refused = _button(lambda: quotes.accept_quote(current_actor(), quote_id))
    if accepted is None:
        return show(quote_id, **refused)
    flash(_("You accepted the quote. Pay the amount due now to book."))
    return redirect(url_for("quote.checkout", quote_id=quote_id))


@bp.route(f"{QUOTE}/checkout", methods=["GET", "POST"], endpoint="checkout")
@login_required
def checkout_page(quote_id: int):
    actor = current_actor()
    found = quotes.get_quote(actor, quote_id)
    journey = found.journey
    if request.method == "GET":  # a submitted card goes to the service, which decides
        refusal = checkout.checkout_refusal(actor, found, now=utcnow())
        if refusal is not None:
            flash(str(refusal.message))
            return redirect(url_for("quote.show", quote_id=quote_id))
    form = CheckoutForm()
    if request.method == "GET":
        form.idempotency_key.data = secrets.token_urlsafe(24)
    paid, status = submit_card(form, lambda: checkout.checkout_once(
        actor, found.id, key=form.idempotency_key.data,
        payment_method=form.payment_method.data,
        render=lambda booking: {"booking_id": booking.id}))
    if paid is not None:  # to the bank's check (3-D Secure) if it asks for one
        return after_payment(db.session.get(Booking, paid[1]["booking_id"]))
    now = utcnow()
    booking = journey_booking(actor, journey.id, found.id)
    until = hold_until(booking, now=now)
    return render_template(
        "patient/checkout.html", quote=found, journey=journey, form=form,
        due_now=Money(found.due_now_minor, found.currency), stripe_js=stripe_js_url(),
        publishable_key=current_app.config["STRIPE_PUBLISHABLE_KEY"],
        groups=quote_groups(found), discount_member=discount_member(found), hold_until=until,
        hold_minutes=int(checkout_ttl().total_seconds() // 60),
        minutes_left=minutes_left_texts(until, now=now), BORNE=QuoteLineKind.BORNE,
        steps=progress.journey_steps(journey, booking=booking),
        title=journey_title(journey)), status
