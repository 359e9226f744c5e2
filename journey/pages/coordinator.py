"""The coordinator's board: journeys by state, the week's arrivals and departures (and
a month of them as a calendar), escalations, the cases waiting for a member's review, a
journey's full timeline with its audit trail and its logistics tasks (assign, done /
no-show / cancel, one by hand), the agenda of tasks by day or week, and a journey's
medical case (a coordinator who does not coordinate the journey states a reason first,
and that reading is flagged: the case services decide it and log it)."""

from __future__ import annotations

from datetime import timedelta

from flask import Blueprint, current_app, flash, redirect, render_template, request, url_for
from flask_babel import format_date
from flask_babel import gettext as _

from bookings.services import escalations
from journey.builder.models import BEARING_STATUS_TITLES, JourneyStatus
from journey.builder.services import board, checkout, journeys, payers
from journey.builder.services.journeys import EDITABLE
from journey.case.services import access as case_access
from journey.case.services import case, reviews
from journey.core.accounts import services as accounts
from journey.core.accounts.auth import current_actor
from journey.core.accounts.permissions import require_cluster
from journey.core.errors import DomainError, Forbidden, NotFound
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
from journey.pages.common import login_required, page_arg, page_locale, submit
from journey.pages.forms import ReasonForm
from journey.pages.member.calendar_cells import (
    first_weekday,
    in_weeks,
    month_arg,
    month_days,
    weekday_names,
)
from journey.pages.portal import formatting_context
from journey.pages.portal_forms import AssignForm, BearingRequestForm, NoteForm
from journey.pages.rows import line_rows, offer_title
from journey.pages.trip_forms import AddTaskForm, AgendaForm, TaskAssignForm, TaskStatusForm
from journey.pages.trip_rows import (
    assignee_choices,
    country_name,
    finished_message,
    is_overdue,
    member_names,
    people_of,
    task_rows,
    window_of,
    zone_choices,
)
from journey.trip.services import attention
from journey.trip.services import tasks as trip_tasks
from providers.models import MemberStatus
from providers.services import members

ID = ID_CONVERTER
PER_PAGE = 25

bp = Blueprint("coordinator", __name__, url_prefix="/coordinator")
bp.context_processor(formatting_context)
bp.context_processor(case_context)


@bp.context_processor
def blank_forms():
    """The note of an escalation's row, blank (a refused one is shown with its errors)."""
    return {"blank_note": NoteForm, "country_name": country_name}


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
    horizon = current_app.config["BOARD_HORIZON_DAYS"]
    page = render_template(
        "coordinator/board.html", counts=board.journeys_by_state(actor),
        movements=board.arrivals_and_departures(actor, start=today, days=horizon),
        today=today, last_day=today + timedelta(days=horizon - 1),
        uncoordinated=attention.uncoordinated_journeys(actor),
        unassigned=attention.unassigned_soon(actor),
        escalations=board.escalation_rows(actor), notes={}, cases=cases, now=utcnow())
    del held  # held until the rows are rendered
    return page


@bp.get("/arrivals")
def arrivals():
    """A month of arrivals and departures as a calendar (a list on phones), today
    marked, with the months before and after a link away."""
    today = today_in()
    first = month_arg(request.args.get("month"), today)
    days = month_days(first)
    by_day: dict = {day: [] for day in days}
    movements = board.arrivals_in_month(current_actor(), first)
    for movement in movements:
        by_day[movement.day].append(movement)
    start = first_weekday(page_locale())
    return render_template(
        "coordinator/arrivals.html", month=first, month_name=format_date(first, "LLLL y"),
        weekdays=weekday_names(start, page_locale()), today=today, movements=movements,
        weeks=in_weeks([(day, by_day[day]) for day in days], first, start),
        previous=(first - timedelta(days=1)).replace(day=1),
        following=days[-1] + timedelta(days=1))


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
def journey(journey_id, assign_form: AssignForm | None = None, status: int = 200, *,
            task_forms: dict | None = None, bearing_form: BearingRequestForm | None = None):
    """The journey, its timeline and its tasks; ``task_forms``: a refused task form to
    show again with its errors, by ``("assign" | "status", task id)`` or ``"add"``."""
    actor = current_actor()
    found, entries = board.journey_timeline(actor, journey_id)
    if assign_form is None:
        assign_form = AssignForm(formdata=None, coordinator_id=str(found.coordinator_id or ""))
    assign_form.offer(accounts.list_coordinators(actor))
    bookings = [booking for _quote, booking in checkout.journey_bookings(actor, found.id)]
    return render_template(
        "coordinator/journey.html", journey=found, entries=entries, assign_form=assign_form,
        **_bearing_context(actor, found, bearing_form),
        item_titles={item.id: offer_title(item.offer) for item in found.items},
        bookings=bookings, lines={row.line.id: row for row in line_rows(
            line for booking in bookings for line in booking.lines)},
        **_task_context(actor, found.id, task_forms or {})), status


# --- who pays a line ------------------------------------------------------------------------

def _bearing_form(found, form: BearingRequestForm | None = None) -> BearingRequestForm:
    form = form or BearingRequestForm(formdata=None, prefix="bearing")
    form.item_id.choices = [("", _("Choose a line"))] + [
        (str(item.id), f"{offer_title(item.offer)} · {item.offer.provider.name}")
        for item in found.items if item.borne_by_provider_id is None]
    form.provider_id.choices = [("", _("Choose a member"))] + [
        (str(member.id), member.name) for member in members.list_members(
            current_actor(), status=MemberStatus.VERIFIED, per_page=200)[0]]
    return form


def _bearing_context(actor, found, form: BearingRequestForm | None) -> dict:
    """The requests that a member pay for a line, and the form that sends one (while the
    package can still change)."""
    return {"bearing_requests": payers.journey_requests(actor, found.id),
            "bearing_titles": BEARING_STATUS_TITLES,
            "bearing_form": _bearing_form(found, form) if found.status in EDITABLE else None}


@bp.post(f"/journeys/<{ID}:journey_id>/bearing-requests")
def ask_bearing(journey_id):
    actor = current_actor()
    found = journeys.visible_journey(actor, journey_id)
    form = _bearing_form(found, BearingRequestForm(prefix="bearing"))
    done, status = submit(form, lambda: payers.request_bearing(
        actor, journey_id, int(form.item_id.data), int(form.provider_id.data),
        note=form.note.data or ""), raise_access_errors=True)
    if done is None:
        return journey(journey_id, status=status, bearing_form=form)
    flash(_("The member is asked; its manager decides."))
    return redirect(url_for("coordinator.journey", journey_id=journey_id, _anchor="payers"))


# --- a journey's tasks and the agenda ----------------------------------------------------

def _task_context(actor, journey_id: int, forms: dict) -> dict:
    """The journey's tasks with a form each to assign it and to finish it, and the form
    that adds one."""
    found = trip_tasks.journey_tasks(actor, journey_id)
    choices = assignee_choices(actor, found, empty=_("Nobody yet"))
    assign_forms, status_forms = {}, {}
    for task in found:
        form = forms.get(("assign", task.id)) or TaskAssignForm(
            formdata=None, prefix=f"assign{task.id}", assignee_id=str(task.assignee_id or ""))
        form.assignee_id.choices = choices[task.id]
        assign_forms[task.id] = form
        status_forms[task.id] = forms.get(("status", task.id)) or TaskStatusForm(
            formdata=None, prefix=f"status{task.id}")
    add_form = forms.get("add") or AddTaskForm(formdata=None, prefix="task")
    add_form.timezone.choices = zone_choices()
    _journeys, assignees = people_of(found)
    now = utcnow()
    return {"tasks": found, "assign_forms": assign_forms, "status_forms": status_forms,
            "add_task_form": add_form, "assignees": assignees, "members": member_names(found),
            "overdue": {task.id for task in found if is_overdue(task, now)}}


def _journey_task(actor, journey_id: int, task_id: int):
    """The task ``task_id`` of the journey (404 when it is another journey's)."""
    task = next((task for task in trip_tasks.journey_tasks(actor, journey_id)
                 if task.id == task_id), None)
    if task is None:
        raise NotFound(_("No such task."))
    return task


def _task_done(journey_id: int, message: str):
    flash(message)
    return redirect(url_for("coordinator.journey", journey_id=journey_id, _anchor="tasks"))


@bp.post(f"/journeys/<{ID}:journey_id>/tasks")
def add_task(journey_id):
    form = AddTaskForm(prefix="task")
    form.timezone.choices = zone_choices()
    task, status = submit(form, lambda: trip_tasks.add_task(
        current_actor(), journey_id, kind=form.kind.data, local_time=form.local_time.data,
        timezone=form.timezone.data, place=form.place.data or "", note=form.note.data or "",
        title=form.title.data or ""), raise_access_errors=True)
    if task is None:
        return journey(journey_id, status=status, task_forms={"add": form})
    return _task_done(journey_id, _("The task is added."))


@bp.post(f"/journeys/<{ID}:journey_id>/tasks/<{ID}:task_id>/assignee")
def assign_task(journey_id, task_id):
    actor = current_actor()
    task = _journey_task(actor, journey_id, task_id)
    form = TaskAssignForm(prefix=f"assign{task_id}")
    form.assignee_id.choices = assignee_choices(actor, [task], empty=_("Nobody yet"))[task.id]
    chosen = form.assignee_id.data
    done, status = submit(form, lambda: trip_tasks.assign_task(
        actor, task_id, int(chosen) if chosen else None), raise_access_errors=True)
    if done is None:
        return journey(journey_id, status=status, task_forms={("assign", task_id): form})
    return _task_done(journey_id, _("The task is assigned.") if chosen else
                      _("The task is nobody's now."))


@bp.post(f"/journeys/<{ID}:journey_id>/tasks/<{ID}:task_id>/status")
def task_status(journey_id, task_id):
    actor = current_actor()
    _journey_task(actor, journey_id, task_id)
    form = TaskStatusForm(prefix=f"status{task_id}")
    done, status = submit(form, lambda: trip_tasks.set_task_status(
        actor, task_id, form.status.data, note=form.note.data or ""),
        raise_access_errors=True, invalid_status=400)
    if done is None:
        return journey(journey_id, status=status, task_forms={("status", task_id): form})
    return _task_done(journey_id, finished_message(form.status.data))


@bp.get("/agenda")
def agenda():
    """The tasks of a day or a week (the cluster's clock), those overdue first; everyone's,
    the coordinator's own or nobody's."""
    actor = current_actor()
    form = AgendaForm(request.args)
    if not form.validate():
        return render_template("coordinator/agenda.html", form=form, window=None,
                               rows=None), 422
    window, now = window_of(form), utcnow()
    found = trip_tasks.agenda(actor, start=window.start, end=window.end,
                              mine=bool(form.mine.data), unassigned=bool(form.unassigned.data),
                              now=now)
    return render_template("coordinator/agenda.html", form=form, window=window,
                           rows=task_rows(found, window, now), now=now)


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
