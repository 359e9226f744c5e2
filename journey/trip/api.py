"""The trip REST API: travellers, arrival and departure, tasks, the agenda, progress."""

from __future__ import annotations

from dataclasses import asdict
from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

from flask.views import MethodView

from journey.builder.schemas import JourneySchema
from journey.core.accounts.auth import current_actor
from journey.core.api import CLUSTER, MEMBERS, PATIENT, STAFF, Blueprint, errors, roles
from journey.core.types import CLUSTER_TIMEZONE, ID_CONVERTER
from journey.trip.models import LegDirection
from journey.trip.schemas import (
    AgendaArgs,
    AssignSchema,
    LegSchema,
    LetterSchema,
    LetterSlotSchema,
    ProgressInSchema,
    TaskInSchema,
    TaskSchema,
    TaskStatusInSchema,
    TravellerSchema,
)
from journey.trip.services import letters, progress, tasks, travel, travellers

ID = ID_CONVERTER
blp = Blueprint("trip", __name__, description="The trip: travellers, arrival and departure, "
                "logistics tasks and the coordinators' agenda, the journey's progress")
EVERYONE = (PATIENT, *MEMBERS, *CLUSTER)


@blp.route(f"/journeys/<{ID}:journey_id>/travellers")
class Travellers(MethodView):
    @roles(*EVERYONE)
    @blp.response(200, TravellerSchema(many=True))
    def get(self, journey_id):
        """The travellers; passport data only for those whose line needs it."""
        return [asdict(view) for view in travellers.list_travellers(current_actor(),
                                                                     journey_id)]

    @roles(*EVERYONE)
    @blp.arguments(TravellerSchema)
    @blp.response(201, TravellerSchema)
    def post(self, data, journey_id):
        """Add a traveller (the first is the patient unless `is_patient` is false)."""
        if data.get("is_patient") is None:
            data.pop("is_patient", None)
        return travellers.save_traveller(current_actor(), journey_id, **data)


@blp.route(f"/journeys/<{ID}:journey_id>/travellers/<{ID}:traveller_id>")
class TravellerItem(MethodView):
    @roles(*EVERYONE)
    @blp.arguments(TravellerSchema)
    @blp.response(200, TravellerSchema)
    def put(self, data, journey_id, traveller_id):
        """Change a traveller."""
        data.pop("is_patient", None)
        return travellers.save_traveller(current_actor(), journey_id, traveller_id, **data)

    @roles(*EVERYONE)
    @blp.response(204)
    def delete(self, journey_id, traveller_id):
        """Remove a traveller."""
        travellers.remove_traveller(current_actor(), journey_id, traveller_id)


@blp.route(f"/journeys/<{ID}:journey_id>/travel/<any(arrival, departure):direction>")
class Leg(MethodView):
    @roles(*EVERYONE)
    @blp.arguments(LegSchema)
    @blp.response(200, LegSchema)
    def put(self, data, journey_id, direction):
        """How the travellers arrive or leave; the pick-up and drop-off follow."""
        leg = travel.set_leg(current_actor(), journey_id, LegDirection(direction), **data)
        return _leg(leg)


def _leg(leg) -> dict:
    return {"direction": leg.direction, "mode": leg.mode, "number": leg.number,
            "carrier": leg.carrier, "place": leg.place, "timezone": leg.timezone,
            "at": leg.at, "local_time": leg.at.astimezone(ZoneInfo(leg.timezone))
            .replace(tzinfo=None)}


@blp.route(f"/journeys/<{ID}:journey_id>/tasks")
class JourneyTasks(MethodView):
    @roles(*EVERYONE)
    @blp.response(200, TaskSchema(many=True))
    def get(self, journey_id):
        """The journey's tasks (a member's staff: those of their member's lines)."""
        return tasks.journey_tasks(current_actor(), journey_id)

    @roles(*CLUSTER)
    @blp.arguments(TaskInSchema)
    @blp.response(201, TaskSchema)
    def post(self, data, journey_id):
        """A task by hand (coordinators)."""
        return tasks.add_task(current_actor(), journey_id, **data)


@blp.route(f"/tasks/<{ID}:task_id>/assignee")
class TaskAssignee(MethodView):
    @roles(*CLUSTER)
    @errors(409)
    @blp.arguments(AssignSchema)
    @blp.response(200, TaskSchema)
    def put(self, data, task_id):
        """Give the task to a coordinator or to staff of the member it serves (null:
        nobody)."""
        return tasks.assign_task(current_actor(), task_id, data["assignee_id"])


@blp.route(f"/tasks/<{ID}:task_id>/status")
class TaskStatusItem(MethodView):
    @roles(*STAFF)
    @errors(409)
    @blp.arguments(TaskStatusInSchema)
    @blp.response(200, TaskSchema)
    def put(self, data, task_id):
        """Done, no-show or cancelled (a coordinator, the assignee, the member's staff)."""
        return tasks.set_task_status(current_actor(), task_id, data["status"],
                                     note=data["note"])


@blp.route("/agenda")
class Agenda(MethodView):
    @roles(*STAFF)
    @blp.arguments(AgendaArgs, location="query")
    @blp.response(200, TaskSchema(many=True))
    def get(self, args):
        """Tasks due in `days` days from `from` (at most 62), those overdue first; `mine`,
        `unassigned`. A member's staff see theirs and their member's."""
        start = datetime.combine(args["first_day"], time(0), tzinfo=ZoneInfo(CLUSTER_TIMEZONE))
        return tasks.agenda(current_actor(), start=start,
                            end=start + timedelta(days=args["days"]), mine=args["mine"],
                            unassigned=args["unassigned"])


@blp.route(f"/journeys/<{ID}:journey_id>/progress")
class Progress(MethodView):
    @roles(*CLUSTER)
    @errors(409)
    @blp.arguments(ProgressInSchema)
    @blp.response(200, JourneySchema)
    def put(self, data, journey_id):
        """Mark the journey in progress or completed by hand (the scheduler does it on the
        local dates)."""
        return progress.set_progress(current_actor(), journey_id, data["status"])


@blp.route(f"/journeys/<{ID}:journey_id>/letters")
class Letters(MethodView):
    @roles(*EVERYONE)
    @blp.response(200, LetterSlotSchema(many=True))
    def get(self, journey_id):
        """Each traveller's visa invitation letter, or why it cannot be issued yet
        (for those who may see passport data)."""
        return letters.letter_slots(current_actor(), journey_id)


@blp.route(f"/journeys/<{ID}:journey_id>/travellers/<{ID}:traveller_id>/letter")
class IssueLetter(MethodView):
    @roles(*EVERYONE)
    @errors(409)
    @blp.response(200, LetterSchema)
    def post(self, journey_id, traveller_id):
        """Issue the traveller's letter: the valid one when nothing it says has changed,
        else a new one replacing it. 409 before the deposit, the review or the passport
        data allow it."""
        return letters.issue_letter(current_actor(), journey_id, traveller_id)


@blp.route(f"/journeys/<{ID}:journey_id>/letters/<{ID}:letter_id>/revocation")
class RevokeLetter(MethodView):
    @roles(*CLUSTER)
    @blp.response(200, LetterSchema)
    def post(self, journey_id, letter_id):
        """Withdraw a letter (coordinators): the public check then says so."""
        return letters.revoke_letter(current_actor(), journey_id, letter_id)
