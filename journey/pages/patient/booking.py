"""The patient's hands on a booked journey: go on without a declined line, swap an
item for an alternative, cancel a line or the whole booking under the offers' terms,
pay the balance, confirm a payment with the bank (3-D Secure). Each page calls the
same booking services as the API, with the same permissions, and offers only what
those services would accept."""

from __future__ import annotations

import secrets

from flask import Blueprint, current_app, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import select

from bookings.idempotency import request_fingerprint, run_once
from bookings.models import (
    BookingLine,
    BookingStatus,
    Payment,
    PaymentKind,
    PaymentStatus,
    Refund,
)
from bookings.payments import RETURN_PATH
from bookings.services import balance, cancellation, confirmation
from bookings.services.access import (
    actor_ref,
    get_visible_booking,
    is_customer,
    patients_booking,
)
from bookings.services.amounts import balance_minor
from bookings.services.checkout import awaiting_bank, finish_payment
from journey.builder.services import composition, journeys
from journey.builder.services.booking_link import journey_of
from journey.core.accounts.auth import current_actor
from journey.core.accounts.permissions import is_cluster
from journey.core.errors import DomainError, NotFound
from journey.core.extensions import db
from journey.core.money import Money
from journey.core.types import MAX_ID, utcnow
from journey.invoicing import services as invoicing
from journey.invoicing.follow import REFUND_STATE_TITLES
from journey.pages.common import login_required, stripe_js_url, submit, submit_card
from journey.pages.forms import ActionForm, CheckoutForm, ReasonForm
from journey.pages.rows import line_rows, offer_title, offers_by_id

bp = Blueprint("booking", __name__)

# --- what the booking services would accept now: asked of them ---------------------

def may_cancel_booking(actor, booking) -> bool:
    return cancellation.booking_cancel_refusal(actor, booking) is None


def may_cancel_line(actor, booking, line) -> bool:
    return cancellation.line_cancel_refusal(actor, booking, line) is None


def may_decide(actor, booking) -> bool:
    return confirmation.decision_refusal(actor, booking) is None


def balance_owed(actor, booking) -> Money | None:
    """What :func:`bookings.services.balance.pay_balance` would ask ``actor`` to pay now,
    or None when it would refuse."""
    if balance.balance_refusal(actor, booking) is not None:
        return None
    return Money(balance_minor(booking), booking.currency)


def booking_actions(actor, booking) -> dict:
    """What the journey page offers on ``booking``: the lines that may be cancelled,
    each with the fee its member would keep if cancelled now, whether the booking may
    be cancelled, whether a decision is awaited, and the balance owed."""
    if booking is None or not (is_customer(actor, booking) or is_cluster(actor)):
        return {}
    now = utcnow()
    captured = booking.status == BookingStatus.CONFIRMED  # before capture nothing is kept
    return {"fees": {line.id: cancellation.cancellation_fee(line, now=now) if captured else 0
                     for line in booking.lines if may_cancel_line(actor, booking, line)},
            "cancellable": may_cancel_booking(actor, booking),
            "decide": may_decide(actor, booking),
            "balance": balance_owed(actor, booking),
            "refunds": refunds_by_payment(booking),
            "refund_titles": REFUND_STATE_TITLES,
            "documents": invoicing.list_documents(actor, booking_id=booking.id)}


def refunds_by_payment(booking) -> dict[int, list[Refund]]:
    """Each payment's refunds, the oldest first (shown under the payment with their
    state)."""
    found: dict[int, list[Refund]] = {}
    for refund in db.session.scalars(select(Refund).where(
            Refund.booking_id == booking.id).order_by(Refund.id)):
        found.setdefault(refund.payment_id, []).append(refund)
    return found


# --- the actions --------------------------------------------------------------------------

def _back(booking):
    journey = journey_of(booking)
    if journey is None:
        raise NotFound()
    return redirect(url_for("journey.show", journey_id=journey.id) + "#booking")


def _expected_refund() -> int | None:
    """The refund the patient saw on the preview page (None: the old one-click form)."""
    value = request.form.get("expect_refund_minor", "")
    return int(value) if value.isdigit() and int(value) <= 10**15 else None


def _preview_page(booking, plan, *, line=None, status: int = 200):
    by_id = {row.line.id: row for row in line_rows(booking.lines)}
    rows = [{"plan": row, "line": by_id[row.line_id]} for row in plan.lines]
    journey = journey_of(booking)
    return render_template("patient/cancel.html", booking=booking, plan=plan, rows=rows,
                           line=line, journey=journey, form=ReasonForm()), status


@bp.get(f"/my/bookings/<int(max={MAX_ID}):booking_id>/cancel")
@login_required
def cancel_preview(booking_id: int):
    """What cancelling the whole booking keeps and refunds, with the button that does it."""
    actor = current_actor()
    plan = cancellation.preview_cancellation(actor, booking_id)
    return _preview_page(get_visible_booking(actor, booking_id), plan)


@bp.get(f"/my/booking-lines/<int(max={MAX_ID}):line_id>/cancel")
@login_required
def cancel_line_preview(line_id: int):
    """What cancelling one item keeps and refunds, with the button that does it."""
    actor = current_actor()
    line = db.session.get(BookingLine, line_id)
    if line is None:
        raise NotFound()
    plan = cancellation.preview_cancellation(actor, line.booking_id, line_id)
    return _preview_page(get_visible_booking(actor, line.booking_id), plan, line=line)


def _act(booking_id: int, action, done: str):
    """Run ``action(actor, reason)`` from a button on the journey page; its outcome (or
    why it was refused) is flashed there."""
    actor = current_actor()
    booking = get_visible_booking(actor, booking_id)
    form = ReasonForm()
    if not form.validate_on_submit():
        for errors in form.errors.values():
            for error in errors:
                flash(error)
        return _back(booking)
    try:
        action(actor, form.reason.data or "")
    except DomainError as error:
        db.session.rollback()  # the redirect below would otherwise commit a refusal
        flash(str(error.message))
    else:
        flash(done)
    return _back(booking)


@bp.post(f"/my/bookings/<int(max={MAX_ID}):booking_id>/proceed")
@login_required
def proceed(booking_id: int):
    return _act(booking_id, lambda actor, _reason: confirmation.proceed_without_declined(
        actor, booking_id), _("Done: the confirmed part is booked and charged."))


@bp.post(f"/my/bookings/<int(max={MAX_ID}):booking_id>/cancel")
@login_required
def cancel(booking_id: int):
    expected = _expected_refund()
    return _act(booking_id, lambda actor, reason: cancellation.cancel_booking(
        actor, booking_id, reason=reason, expect_refund_minor=expected),
        _("The booking is cancelled. Any refund is shown below and sent to you by e-mail."))


@bp.post(f"/my/booking-lines/<int(max={MAX_ID}):line_id>/cancel")
@login_required
def cancel_line(line_id: int):
    line = db.session.get(BookingLine, line_id)
    if line is None:
        raise NotFound()
    expected = _expected_refund()
    return _act(line.booking_id, lambda actor, reason: cancellation.cancel_line(
        actor, line_id, reason=reason, expect_refund_minor=expected),
        _("The item is cancelled. Any refund is shown below and sent to you by e-mail."))


@bp.route(f"/my/bookings/<int(max={MAX_ID}):booking_id>/balance", methods=["GET", "POST"])
@login_required
def pay_balance(booking_id: int):
    actor = current_actor()
    booking = patients_booking(actor, booking_id,
                               _l("The patient pays (or a coordinator for them)."))
    owed = balance_owed(actor, booking) or Money(0, booking.currency)
    form = CheckoutForm()
    if request.method == "GET":
        form.idempotency_key.data = secrets.token_urlsafe(24)
    paid, status = submit_card(form, lambda: run_once(  # the form's key: a double submit pays once
        f"{actor_ref(actor)}:balance-page", form.idempotency_key.data,
        request_fingerprint(booking.id, form.payment_method.data),
        lambda: (201, {"payment_id": balance.pay_balance(
            actor, booking.id, payment_method=form.payment_method.data).id})))
    if paid is not None:
        return after_payment(booking)
    return render_template("patient/balance.html", booking=booking, owed=owed, form=form,
                           journey=journey_of(booking),
                           stripe_js=stripe_js_url(),
                           publishable_key=current_app.config["STRIPE_PUBLISHABLE_KEY"]), status


# --- the bank's check (3-D Secure) ------------------------------------------------------

def after_payment(booking):
    """Where a patient goes once a card was sent: to the bank's check when the bank
    asks for one, else back to the journey with what was paid. The payment's state is
    read from the database, so a repeated submission (its stored answer) lands alike.
    The checkout page (journey/pages/patient/quote.py) ends with it too."""
    db.session.refresh(booking)
    if awaiting_bank(booking) is not None:
        return redirect(url_for("booking.authenticate", booking_id=booking.id))
    payment = booking.payments[-1] if booking.payments else None
    if payment is not None and payment.kind == PaymentKind.BALANCE:
        flash(_("Thank you. The balance is paid."))
        return _back(booking)
    flash(_("Thank you. Your card is authorised; the members are asked to confirm."))
    journey = journey_of(booking)
    if journey is None:
        raise NotFound()
    return redirect(url_for("journey.show", journey_id=journey.id))


def _retry_url(booking, payment) -> str:
    """Where to pay again after the bank refused its check: the balance page, or the
    checkout of the quote the booking was made from."""
    if payment is not None and payment.kind == PaymentKind.BALANCE:
        return url_for("booking.pay_balance", booking_id=booking.id)
    quote_id = booking.reference.removeprefix("quote:")
    if booking.reference.startswith("quote:") and quote_id.isdigit():
        return url_for("quote.checkout", quote_id=int(quote_id))
    return _back(booking).location


def _finish(actor, booking, *, intent_id: str | None = None):
    """Ask the booking service to read the payment again from Stripe; the redirect
    that follows, or None while the bank still waits for the patient."""
    try:
        payment = finish_payment(actor, booking.id, intent_id=intent_id)
    except DomainError as error:
        db.session.rollback()
        flash(str(error.message))
        failed = booking.payments[-1] if booking.payments else None
        if failed is not None and failed.status == PaymentStatus.FAILED:
            return redirect(_retry_url(booking, failed))
        return _back(booking)
    if payment.status == PaymentStatus.REQUIRES_ACTION:
        return None
    return after_payment(booking)


@bp.route(f"/my/bookings/<int(max={MAX_ID}):booking_id>/authenticate",
          methods=["GET", "POST"])
@login_required
def authenticate(booking_id: int):
    """The bank's check of a card (3-D Secure): Stripe.js shows it (static/checkout.js),
    then this form asks the server to finish, which reads the payment from Stripe."""
    actor = current_actor()
    booking = patients_booking(actor, booking_id,
                               _l("The patient pays (or a coordinator for them)."))
    form = ActionForm()
    status, waiting = 200, False
    if request.method == "POST":
        if form.validate_on_submit():
            done = _finish(actor, booking)
            if done is not None:
                return done
            waiting = True
        else:
            status = 400
    payment = awaiting_bank(booking)
    if payment is None:
        return _back(booking)
    return render_template(
        "patient/authenticate.html", booking=booking, payment=payment, form=form,
        amount=Money(payment.amount_minor, payment.currency), waiting=waiting,
        autostart=request.method == "GET", stripe_js=stripe_js_url(),
        publishable_key=current_app.config["STRIPE_PUBLISHABLE_KEY"]), status


@bp.get(RETURN_PATH)
@login_required
def payment_return():
    """Where the bank sends the patient back (Stripe's ``return_url``, with
    ``?payment_intent=pi_...``): the payment it names is read again from Stripe."""
    intent_id = request.args.get("payment_intent", "")
    payment = db.session.scalar(select(Payment).where(Payment.intent_id == intent_id)) \
        if 3 <= len(intent_id) <= 100 else None
    if payment is None:
        raise NotFound()
    actor = current_actor()
    booking = patients_booking(actor, payment.booking_id,
                               _l("The patient pays (or a coordinator for them)."))
    done = _finish(actor, booking, intent_id=intent_id)
    if done is not None:
        return done
    return redirect(url_for("booking.authenticate", booking_id=booking.id))


@bp.route(f"/my/journeys/<int(max={MAX_ID}):journey_id>/items/<int(max={MAX_ID}):item_id>"
          "/alternatives", methods=["GET", "POST"])
@login_required
def alternatives(journey_id: int, item_id: int):
    """Other offers of the item's kind free on its dates; choosing one swaps the item."""
    actor = current_actor()
    journey = journeys.get_package(actor, journey_id)
    item = journeys.journey_item(journey, item_id)
    form = ActionForm()

    def swap():
        offer_id = request.form.get("offer_id", "")
        if not (offer_id.isdigit() and int(offer_id) <= MAX_ID):
            form.form_errors.append(_("Not a valid choice."))
            return None
        return journeys.update_item(actor, journey_id, item_id, offer_id=int(offer_id))

    swapped, status = submit(form, swap)
    if swapped is not None:
        flash(_("The item is swapped."))
        return redirect(url_for("journey.show", journey_id=journey_id))
    found = composition.suggest_alternatives(actor, journey_id, item_id)
    offers_by_id(found_one.offer.id for found_one in found)  # their texts, in one query
    rows = [{"offer": found_one.offer, "title": offer_title(found_one.offer),
             "price": found_one.price, "original": found_one.original} for found_one in found]
    return render_template("patient/alternatives.html", journey=journey, item=item,
                           current_title=offer_title(item.offer), alternatives=rows,
                           form=form), status
