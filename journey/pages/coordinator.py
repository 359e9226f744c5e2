"""The coordinator's board: journeys by state, the week's arrivals and departures,
escalations, and a journey's full timeline with its audit trail."""

from __future__ import annotations

from datetime import timedelta

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from bookings import escalations
from bookings.models import (
    BookingStatus,
    EscalationKind,
    LineStatus,
    PaymentStatus,
    PayoutStatus,
    RefundStatus,
)
from journey.builder.models import JOURNEY_STATUS_TITLES, JourneyStatus
from journey.builder.services import board, checkout, journeys
from journey.core.accounts import services as accounts
from journey.core.accounts.auth import current_actor
from journey.core.accounts.permissions import require_cluster
from journey.core.i18n import content_language
from journey.core.types import ID_CONVERTER, today_in
from journey.pages.common import login_required, page_arg
from journey.pages.portal import formatting_context, line_dates, submit
from journey.pages.portal_forms import AssignForm, NoteForm
from providers.models import CHAIN_LINK_TITLES
from providers.services.offers import get_offer, offer_text

ID = ID_CONVERTER
PER_PAGE = 25

bp = Blueprint("coordinator", __name__, url_prefix="/coordinator")
bp.context_processor(formatting_context)


@bp.context_processor
def titles():
    return {"journey_status_titles": JOURNEY_STATUS_TITLES, "chain_titles": CHAIN_LINK_TITLES,
            "item_title": item_title, "statuses": list(JourneyStatus),
            "escalation_titles": ESCALATION_TITLES, "booking_status_titles": BOOKING_TITLES,
            "line_status_titles": LINE_TITLES, "offer_name": offer_name,
            "blank_note": NoteForm, "subject_titles": SUBJECT_TITLES, "line_dates": line_dates,
            "state_title": state_title, "actor_title": actor_title}


ESCALATION_TITLES = {
    EscalationKind.MEMBER_DEADLINE: _l("A member missed its deadline"),
    EscalationKind.PAYMENT_FAILED: _l("A payment failed"),
    EscalationKind.BALANCE_UNPAID: _l("The balance is unpaid"),
    EscalationKind.LINE_DECLINED: _l("A member declined"),
}
BOOKING_TITLES = {
    BookingStatus.PENDING_PAYMENT: _l("Waiting for the payment"),
    BookingStatus.AUTHORISED: _l("Paid; waiting for the members"),
    BookingStatus.ACTION_REQUIRED: _l("The patient must decide"),
    BookingStatus.CONFIRMED: _l("Confirmed"),
    BookingStatus.CANCELLED: _l("Cancelled"),
    BookingStatus.EXPIRED: _l("Expired"),
    BookingStatus.FAILED: _l("Failed"),
}

LINE_TITLES = {
    LineStatus.HELD: _l("Held"),
    LineStatus.REQUESTED: _l("Waiting for the member"),
    LineStatus.CONFIRMED: _l("Accepted"),
    LineStatus.DECLINED: _l("Declined"),
    LineStatus.CANCELLED: _l("Cancelled"),
}
SUBJECT_TITLES = {"booking": _l("Booking"), "line": _l("Line"), "payment": _l("Payment"),
                  "refund": _l("Refund"), "payout": _l("Payout")}


PAYMENT_TITLES = {
    PaymentStatus.CREATED: _l("Started"),
    PaymentStatus.REQUIRES_PAYMENT_METHOD: _l("Waiting for a card"),
    PaymentStatus.REQUIRES_ACTION: _l("Waiting for the bank's check"),
    PaymentStatus.AUTHORISED: _l("Authorised"),
    PaymentStatus.CAPTURED: _l("Captured"),
    PaymentStatus.FAILED: _l("Failed"),
    PaymentStatus.CANCELLED: _l("Cancelled"),
}
REFUND_TITLES = {RefundStatus.CREATED: _l("To be sent"), RefundStatus.SUCCEEDED: _l("Refunded"),
                 RefundStatus.FAILED: _l("Failed")}
PAYOUT_TITLES = {PayoutStatus.CREATED: _l("To be sent"), PayoutStatus.PAID: _l("Paid out"),
                 PayoutStatus.FAILED: _l("Failed")}
STATE_TITLES = {"booking": BOOKING_TITLES, "line": LINE_TITLES, "payment": PAYMENT_TITLES,
                "refund": REFUND_TITLES, "payout": PAYOUT_TITLES}
#: Who acted, when it was not a person: Stripe's webhook or one of the scheduled jobs.
SYSTEM_ACTORS = {"stripe": _l("Stripe"), "system": _l("the system"),
                 "job": _l("the scheduled jobs")}


def actor_title(label: str) -> str:
    """``stripe``, ``system`` or ``job:<name>`` as the reader's language names them."""
    title = SYSTEM_ACTORS.get(label.partition(":")[0])
    return str(title) if title is not None else label


def state_title(subject: str, value: str | None) -> str:
    """A booking's, line's or payment's state as the audit trail names it, translated
    where the board knows it."""
    if not value:
        return "—"
    for state, title in STATE_TITLES.get(subject, {}).items():
        if state.value == value:
            return str(title)
    return value


def offer_name(offer_id: int) -> str:
    offer = get_offer(current_actor(), offer_id)
    _language, text = offer_text(offer, content_language())
    return f"{text.title if text else '#' + str(offer.id)} · {offer.provider.name}"


def item_title(item) -> str:
    _language, text = offer_text(item.offer, content_language())
    return text.title if text else f"#{item.offer_id}"


@bp.before_request
@login_required
def cluster_only():
    require_cluster(current_actor())


def _status() -> JourneyStatus | None:
    """``?status=`` as a journey state; anything unknown means every state."""
    try:
        return JourneyStatus(request.args.get("status", ""))
    except ValueError:
        return None


@bp.get("/", endpoint="board")
def board_page():
    actor = current_actor()
    today = today_in()
    return render_template(
        "coordinator/board.html", counts=board.journeys_by_state(actor),
        movements=board.arrivals_and_departures(actor, start=today, days=7),
        today=today, last_day=today + timedelta(days=6),
        escalations=board.escalation_rows(actor), notes={})


@bp.get("/journeys", endpoint="journeys")
def journeys_page():
    actor = current_actor()
    status, page, mine = _status(), page_arg(), request.args.get("mine") == "1"
    items, total = journeys.list_journeys(actor, status=status, page=page, per_page=PER_PAGE,
                                          coordinator_id=actor.id if mine else None)
    return render_template("coordinator/journeys.html", journeys=items, total=total,
                           page=page, per_page=PER_PAGE, status=status, mine=mine,
                           counts=board.journeys_by_state(actor))


@bp.get(f"/journeys/<{ID}:journey_id>")
def journey(journey_id, assign_form: AssignForm | None = None, status: int = 200):
    actor = current_actor()
    found, entries = board.journey_timeline(actor, journey_id)
    if assign_form is None:
        assign_form = AssignForm(formdata=None, coordinator_id=str(found.coordinator_id or ""))
    assign_form.offer(accounts.list_coordinators(actor))
    return render_template("coordinator/journey.html", journey=found, entries=entries,
                           assign_form=assign_form,
                           bookings=[booking for _quote, booking
                                     in checkout.journey_bookings(actor, found.id)]), status


@bp.post(f"/journeys/<{ID}:journey_id>/coordinator")
def assign(journey_id):
    actor = current_actor()
    form = AssignForm().offer(accounts.list_coordinators(actor))
    chosen = form.coordinator_id.data
    done, status = submit(form, lambda: journeys.assign_coordinator(
        actor, journey_id, int(chosen) if chosen else None))
    if done is not None:
        flash(_("The coordinator is assigned.") if chosen else
              _("The journey has no coordinator now."))
        return redirect(url_for("coordinator.journey", journey_id=journey_id))
    return journey(journey_id, form, status)


# --- escalations -------------------------------------------------------------------------

@bp.get("/escalations", endpoint="escalations")
def escalations_page(notes: dict | None = None, status: int = 200):
    everything = request.args.get("all") == "1"
    return render_template("coordinator/escalations.html", everything=everything,
                           escalations=board.escalation_rows(current_actor(),
                                                             open_only=not everything),
                           notes=notes or {}), status


@bp.post(f"/escalations/<{ID}:escalation_id>/resolve")
def resolve(escalation_id):
    form = NoteForm(prefix=f"e{escalation_id}")
    done, status = submit(form, lambda: escalations.resolve_escalation(
        current_actor(), escalation_id, note=form.note.data or ""))
    if done is not None:
        flash(_("The escalation is resolved."))
        return redirect(url_for("coordinator.escalations"))
    return escalations_page({escalation_id: form}, status)

