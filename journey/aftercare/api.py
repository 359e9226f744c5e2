"""The aftercare REST API: the follow-up schedule of an offer (its member), the
follow-ups of a journey (scoped and logged), the patient's answer, closing one."""

from __future__ import annotations

from flask.views import MethodView

from journey.aftercare import mails  # noqa: F401  (registers the e-mail kinds)
from journey.aftercare.schemas import (
    AnswerInSchema,
    FollowUpReasonArgs,
    FollowUpSchema,
    ScheduleInSchema,
    ScheduleSchema,
)
from journey.aftercare.services import answers, schedules
from journey.core.accounts.auth import current_actor
from journey.core.api import CLUSTER, MEMBER_MANAGER, MEMBERS, PATIENT, Blueprint, errors, roles
from journey.core.types import ID_CONVERTER

ID = ID_CONVERTER
blp = Blueprint("aftercare", __name__, description="Aftercare follow-ups: the schedule of a "
                "treating offer, the follow-ups of a journey with the patient's answers "
                "(health data: scoped and logged), answering and closing them")


def _schedule(found) -> dict:
    offer, steps, default = found
    return {"offer_id": offer.id, "default": default, "steps": steps}


@blp.route(f"/offers/<{ID}:offer_id>/aftercare-schedule")
class Schedule(MethodView):
    @roles(*MEMBERS, *CLUSTER)
    @blp.response(200, ScheduleSchema)
    def get(self, offer_id):
        """The offer's follow-up schedule: its own, or the default (treatments and
        consultations: before the flight home, 1 week, 4 weeks, 3 months, 12 months)."""
        return _schedule(schedules.read_schedule(current_actor(), offer_id))

    @roles(MEMBER_MANAGER, *CLUSTER)
    @blp.arguments(ScheduleInSchema)
    @blp.response(200, ScheduleSchema)
    def put(self, data, offer_id):
        """Set the schedule (the member's manager): at most 10 checks, each 1-72 hours
        before the departure or 1-730 days after the treatment; follow-ups not sent yet
        follow."""
        return _schedule(schedules.set_schedule(current_actor(), offer_id, data["steps"]))

    @roles(MEMBER_MANAGER, *CLUSTER)
    @blp.response(200, ScheduleSchema)
    def delete(self, offer_id):
        """Back to the default schedule (the member's manager)."""
        return _schedule(schedules.reset_schedule(current_actor(), offer_id))


@blp.route(f"/journeys/<{ID}:journey_id>/followups")
class JourneyFollowUps(MethodView):
    @roles(PATIENT, *MEMBERS, *CLUSTER)
    @blp.arguments(FollowUpReasonArgs, location="query")
    @blp.response(200, FollowUpSchema(many=True))
    def get(self, args, journey_id):
        """The journey's follow-ups with the answers: all for the patient and the
        coordinators, a treating member those of its lines (another member: 404). Logged
        like every read of medical records."""
        return answers.read_followups(current_actor(), journey_id, reason=args["reason"])


@blp.route(f"/followups/<{ID}:followup_id>/answer")
class FollowUpAnswer(MethodView):
    @roles(PATIENT)
    @errors(409)
    @blp.arguments(AnswerInSchema)
    @blp.response(200, FollowUpSchema)
    def post(self, data, followup_id):
        """Answer a due follow-up (the patient, once: a second answer is 409; after the
        consent to the processing of health data, else 409 `consent_required`). Pain 7
        or more, a complication, or feeling unwell (1-2) alerts the treating member and
        the coordinators."""
        return answers.answer_followup(current_actor(), followup_id, data)


@blp.route(f"/followups/<{ID}:followup_id>/closed")
class FollowUpClosed(MethodView):
    @roles(*MEMBERS, *CLUSTER)
    @errors(409)
    @blp.response(200, FollowUpSchema)
    def put(self, followup_id):
        """Close a follow-up that has been dealt with (the treating member's staff or a
        coordinator); its task is done."""
        return answers.close_followup(current_actor(), followup_id)
