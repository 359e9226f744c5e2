"""The patient's quotes: ask for one, read it (and compare it with another version),
accept it, and pay the amount due now with the card element."""

from __future__ import annotations

import secrets

from flask import Blueprint, current_app, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _

from bookings.models import Booking
from journey.builder.models import QuoteLineKind
from journey.builder.services import checkout, quotes
from journey.core.accounts.auth import current_actor
from journey.core.extensions import db
from journey.core.money import Money
from journey.core.types import MAX_ID, utcnow
from journey.pages.common import login_required, stripe_js_url, submit, submit_card
from journey.pages.forms import ActionForm, CheckoutForm
from journey.pages.patient.booking import after_payment
from journey.pages.patient.journey import journey_page
from journey.pages.rows import journey_title

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


@bp.get(QUOTE)
@login_required
def show(quote_id: int, *, status: int = 200, errors: list[str] | None = None):
    actor = current_actor()
    found = quotes.get_quote(actor, quote_id)
    journey = found.journey
    groups: dict[str, list] = {}
    for line in found.lines:
        if line.kind == QuoteLineKind.DISCOUNT:
            continue
        groups.setdefault(line.provider_name, []).append(line)
    discount = next((line for line in found.lines if line.kind == QuoteLineKind.DISCOUNT),
                    None)
    against = request.args.get("against", "")
    changes, other = None, None
    if against.isdigit() and int(against) <= MAX_ID:
        other = quotes.get_quote(actor, int(against))
        changes = quotes.diff_quotes(actor, found.id, other.id)
    now = utcnow()
    can_accept = found.accepted_at is None and quotes.acceptance_refusal(
        actor, found, now=now) is None
    can_pay = checkout.checkout_refusal(actor, found, now=now) is None
    return render_template(
        "patient/quote.html", quote=found, journey=journey, groups=groups, discount=discount,
        changes=changes, other=other, can_accept=can_accept, can_pay=can_pay,
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
    return render_template(
        "patient/checkout.html", quote=found, journey=journey, form=form,
        due_now=Money(found.due_now_minor, found.currency), stripe_js=stripe_js_url(),
        publishable_key=current_app.config["STRIPE_PUBLISHABLE_KEY"],
        title=journey_title(journey)), status
