"""The coordinator's board: journeys by state, the week's arrivals and departures,
escalations, the cases waiting for a member's review, a journey's full timeline with
its audit trail, and a journey's medical case (a coordinator who does not coordinate
the journey states a reason first, and that reading is flagged: the case services
decide it and log it)."""

from __future__ import annotations

from datetime import timedelta

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _

from bookings.services import escalations
from journey.builder.models import JourneyStatus
from journey.builder.services import board, checkout, journeys
from journey.case.services import access as case_access
from journey.case.services import case, reviews
from journey.core.accounts import services as accounts
from journey.core.accounts.auth import current_actor
from journey.core.accounts.permissions import require_cluster
from journey.core.errors import DomainError, Forbidden
from journey.core.types import ID_CONVERTER, today_in, utcnow
from journey.pages.case import (
    access_rows,
    case_context,
    document_response,
    journey_zone,
    other_documents,
    review_parties,
    section_rows,
)
from journey.pages.case_forms import DownloadForm
from journey.pages.common import login_required, page_arg, submit
from journey.pages.forms import ReasonForm
from journey.pages.portal import formatting_context
from journey.pages.portal_forms import AssignForm, NoteForm
from journey.pages.rows import line_rows, offer_title

ID = ID_CONVERTER
PER_PAGE = 25

bp = Blueprint("coordinator", __name__, url_prefix="/coordinator")
bp.context_processor(formatting_context)
bp.context_processor(case_context)


@bp.context_processor
def blank_forms():
    """The note of an escalation's row, blank (a refused one is shown with its errors)."""
    return {"blank_note": NoteForm}


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
    cases = reviews.waiting_reviews()
    held = review_parties(cases)  # the rows' journeys, patients and members, read at once
    page = render_template(
        "coordinator/board.html", counts=board.journeys_by_state(actor),
        movements=board.arrivals_and_departures(actor, start=today, days=7),
        today=today, last_day=today + timedelta(days=6),
        escalations=board.escalation_rows(actor), notes={}, cases=cases, now=utcnow())
    del held  # held until the rows are rendered
    return page


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
    bookings = [booking for _quote, booking in checkout.journey_bookings(actor, found.id)]
    return render_template(
        "coordinator/journey.html", journey=found, entries=entries, assign_form=assign_form,
        item_titles={item.id: offer_title(item.offer) for item in found.items},
        bookings=bookings, lines={row.line.id: row for row in line_rows(
            line for booking in bookings for line in booking.lines)}), status


@bp.post(f"/journeys/<{ID}:journey_id>/coordinator")
def assign(journey_id):
    actor = current_actor()
    form = AssignForm().offer(accounts.list_coordinators(actor))
    chosen = form.coordinator_id.data
    done, status = submit(form, lambda: journeys.assign_coordinator(
        actor, journey_id, int(chosen) if chosen else None), raise_access_errors=True)
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
        current_actor(), escalation_id, note=form.note.data or ""), raise_access_errors=True)
    if done is not None:
        flash(_("The escalation is resolved."))
        return redirect(url_for("coordinator.escalations"))
    return escalations_page({escalation_id: form}, status)


# --- a journey's medical case ------------------------------------------------------------

def _case_page(view):
    """The case as ``view`` (read_case's answer) shows it, with who has seen it when the
    coordinator may read that log."""
    actor = current_actor()
    try:
        log = access_rows(case_access.access_log(actor, view.journey.id),
                          documents=view.documents)
    except Forbidden:  # the log is the patient's and the journey's coordinator's
        log = None
    return render_template(
        "coordinator/case.html", view=view, journey=view.journey,
        sections=section_rows(view), other=other_documents(view),
        zone=journey_zone(view.journey), log=log)


@bp.route(f"/journeys/<{ID}:journey_id>/case", methods=["GET", "POST"])
def case_page(journey_id):
    """The case: at once for the journey's coordinator; any other coordinator is asked
    why first (the refusal is logged), and reads it with that reason, flagged."""
    actor = current_actor()
    form = ReasonForm(formdata=None) if request.method == "GET" else ReasonForm()
    form.reason.label.text = _("Why do you open this patient's medical records?")
    if request.method == "GET":
        try:
            return _case_page(case.read_case(actor, journey_id))
        except case_access.ReasonRequired:
            return render_template("coordinator/case_reason.html", journey_id=journey_id,
                                   form=form), 403
    view, status = submit(form, lambda: case.read_case(actor, journey_id,
                                                       reason=form.reason.data))
    if view is None:
        return render_template("coordinator/case_reason.html", journey_id=journey_id,
                               form=form), status
    return _case_page(view)


@bp.route(f"/journeys/<{ID}:journey_id>/case/documents/<{ID}:document_id>",
          methods=["GET", "POST"])
def case_document(journey_id, document_id):
    """A document of the case: a link for the journey's coordinator; a button that
    posts the reason stated for this reading for any other."""
    actor = current_actor()
    if request.method == "GET":
        return document_response(*case.open_document(actor, journey_id, document_id))
    form = DownloadForm()
    opened, _status = submit(form, lambda: case.open_document(
        actor, journey_id, document_id, reason=form.reason.data), raise_access_errors=True)
    if opened is None:  # a bad token or an overlong reason: nothing was read
        raise DomainError(" ".join(form.form_errors + form.reason.errors) or None)
    return document_response(*opened)
