"""The tasks of a member's staff: what the agenda service gives them (the tasks assigned
to them or serving their member's lines), by day or week, those overdue first, each
with the travellers' names and needs; and done / no-show.

Whose tasks these are is the trip services' to say: another member's task is a 404
there, as in the API.
"""

from __future__ import annotations

from flask import Blueprint, flash, redirect, render_template, request, url_for

from journey.core.accounts.auth import current_actor
from journey.core.errors import NotFound
from journey.core.types import utcnow
from journey.pages.common import submit
from journey.pages.member.access import ID, managed_member
from journey.pages.trip_forms import AgendaForm, TaskStatusForm
from journey.pages.trip_rows import finished_message, need_texts, task_rows, window_of
from journey.trip.services import tasks as trip_tasks
from journey.trip.services import travellers

TASKS = f"/<{ID}:provider_id>/tasks"
#: The query arguments of the window and the filter, kept after a button.
KEPT = ("day", "view", "mine")

#: Nested in the portal's blueprint (journey.pages.member.requests), so the portal's
#: checks run first and the endpoints read ``member.tasks.*``.
bp = Blueprint("tasks", __name__)


def tasks_page(provider, *, forms: dict | None = None, status: int = 200):
    """The member's tasks in the window the query string asks for; ``forms``: a refused
    status form by task id, shown again with its errors."""
    actor = current_actor()
    form = AgendaForm(request.args, view=request.args.get("view", "week"))
    if not form.validate():
        return render_template("member/tasks.html", provider=provider, form=form,
                               window=None, rows=None), 422
    window, now = window_of(form), utcnow()
    found = trip_tasks.agenda(actor, start=window.start, end=window.end,
                              mine=bool(form.mine.data), now=now)
    if actor.role.is_cluster:  # the cluster sees every task: show this member's
        found = [task for task in found if task.provider_id == provider.id]
    rows = task_rows(found, window, now)
    people = {journey_id: _travellers(actor, journey_id)
              for journey_id in {task.journey_id for task in found}}
    return render_template("member/tasks.html", provider=provider, form=form, window=window,
                           rows=rows, travellers=people, need_texts=need_texts,
                           status_forms=forms or {}, blank_status=TaskStatusForm,
                           kept={name: value for name, value in request.args.items()
                                 if name in KEPT}), status


def _travellers(actor, journey_id: int) -> list:
    """The journey's travellers as the actor may see them (names and needs)."""
    try:
        return travellers.list_travellers(actor, journey_id)
    except NotFound:  # a task assigned to them on a journey they do not see otherwise
        return []


@bp.get(TASKS)
def index(provider_id):
    return tasks_page(managed_member(provider_id))


@bp.post(f"{TASKS}/<{ID}:task_id>/status")
def set_status(provider_id, task_id):
    """Done or no-show, by the member's staff (the services decide whose task it is)."""
    provider = managed_member(provider_id)
    form = TaskStatusForm(prefix=f"status{task_id}")
    done, status = submit(form, lambda: trip_tasks.set_task_status(
        current_actor(), task_id, form.status.data), raise_access_errors=True,
        invalid_status=400)
    if done is None:
        return tasks_page(provider, forms={task_id: form}, status=status)
    flash(finished_message(form.status.data))
    return redirect(url_for("member.tasks.index", provider_id=provider.id,
                            **{name: value for name, value in request.args.items()
                               if name in KEPT}))
