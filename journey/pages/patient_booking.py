"""The patient's hands on a booking: go on without a declined line, cancel a line or
the whole booking under the offers' terms, pay the balance. Each page calls the same
booking services as the API, with the same permissions."""

from __future__ import annotations

import secrets

from flask import Blueprint, current_app, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from wtforms import StringField
from wtforms.validators import Length

from bookings import balance, cancellation, confirmation
from bookings.access import actor_ref, get_visible_booking, is_customer, patients_booking
from bookings.idempotency import request_fingerprint, run_once
from bookings.models import BookingLine, BookingStatus, LineStatus
from journey.builder.services.booking_link import journey_of
from journey.core.accounts.auth import current_actor
from journey.core.errors import DomainError, NotFound
from journey.core.extensions import db
from journey.core.money import Money
from journey.core.types import MAX_ID, utcnow
from journey.pages.common import login_required, stripe_js_url, submit_card
from journey.pages.forms import TOO_LONG, CheckoutForm, PageForm

bp = Blueprint("patient_booking", __name__)


class ReasonForm(PageForm):
    reason = StringField(label="", validators=[Length(max=500, message=TOO_LONG)])


def booking_actions(actor, booking) -> dict:
    """What the journey page offers on ``booking``: the fee each line would keep if
    cancelled now, the balance owed, and whether a decision is awaited."""
    if booking is None or not is_customer(actor, booking) and not actor.role.is_cluster:
        return {}
    now = utcnow()
    captured = booking.status == BookingStatus.CONFIRMED
    fees = {line.id: cancellation.cancellation_fee(line, now=now) if captured else 0
            for line in booking.lines if line.active}
    return {"fees": fees, "decide": booking.status == BookingStatus.ACTION_REQUIRED,
            "balance": Money(balance.balance_minor(booking), booking.currency)
            if captured else None,
            "cancellable": booking.status in (BookingStatus.AUTHORISED,
                                              BookingStatus.ACTION_REQUIRED,
                                              BookingStatus.CONFIRMED),
            "declined": [line for line in booking.lines
                         if line.status == LineStatus.DECLINED or
                         (line.status == LineStatus.CANCELLED and line.decline_reason)],
            "reason_form": ReasonForm(formdata=None)}


def _back(booking):
    journey = journey_of(booking)
    if journey is None:
        raise NotFound()
    return redirect(url_for("patient.journey", journey_id=journey.id) + "#booking")


def _act(booking_id: int, action, done: str):
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
def cancel_booking(booking_id: int):
    return _act(booking_id, lambda actor, reason: cancellation.cancel_booking(
        actor, booking_id, reason=reason), _("The booking is cancelled."))


@bp.post(f"/my/booking-lines/<int(max={MAX_ID}):line_id>/cancel")
@login_required
def cancel_line(line_id: int):
    line = db.session.get(BookingLine, line_id)
    if line is None:
        raise NotFound()
    return _act(line.booking_id, lambda actor, reason: cancellation.cancel_line(
        actor, line_id, reason=reason), _("The item is cancelled."))


@bp.route(f"/my/bookings/<int(max={MAX_ID}):booking_id>/balance", methods=["GET", "POST"])
@login_required
def pay_balance(booking_id: int):
    actor = current_actor()
    booking = patients_booking(actor, booking_id,
                               _l("The patient pays (or a coordinator for them)."))
    owed = Money(balance.balance_minor(booking), booking.currency)
    form = CheckoutForm()
    if request.method == "GET":
        form.idempotency_key.data = secrets.token_urlsafe(24)
    paid, status = submit_card(form, lambda: run_once(  # the form's key: a double submit pays once
        f"{actor_ref(actor)}:balance-page", form.idempotency_key.data,
        request_fingerprint(booking.id, form.payment_method.data),
        lambda: (201, {"payment_id": balance.pay_balance(
            actor, booking.id, payment_method=form.payment_method.data).id})))
    if paid is not None:
        flash(_("Thank you. The balance is paid."))
        return _back(booking)
    return render_template("patient/balance.html", booking=booking, owed=owed, form=form,
                           stripe_js=stripe_js_url(),
                           publishable_key=current_app.config["STRIPE_PUBLISHABLE_KEY"]), status
