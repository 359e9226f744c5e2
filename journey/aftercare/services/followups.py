"""Planning the follow-ups of a journey from its confirmed treating lines, and opening
those that became due: a task for the treating member, the questionnaire to the patient.

Both are idempotent: a follow-up is unique per (line, step), its task per source
``aftercare:<follow-up id>`` and its e-mail per key ``aftercare_due:<follow-up id>``.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from flask_babel import lazy_gettext as _l
from sqlalchemy import select

from bookings.models import BookingLine, LineStatus
from journey import notices
from journey.aftercare.models import (
    FOLLOW_UP_STATE_TITLES,
    FOLLOW_UP_TRANSITIONS,
    FollowUp,
    FollowUpState,
    StepKind,
)
from journey.aftercare.services.schedules import Step, due_at, offer_steps
from journey.builder.models import Journey, JourneyStatus
from journey.core.errors import Conflict
from journey.core.extensions import db
from journey.core.persistence import commit_unit
from journey.core.types import utcnow
from journey.trip.models import LegDirection, Task, TaskKind, TaskStatus, TravelLeg
from journey.trip.services.tasks import OPEN as OPEN_TASKS
from journey.trip.services.tasks import journey_lines, move_task, open_system_task
from providers.models import ChainLink, Offer, Provider
from providers.services.case_requirements import TREATMENT_SIDE

#: A step already this far past when it would first be planned is not planned (a
#: schedule changed late, a journey found late): no questionnaire about long ago.
LATE_LIMIT = timedelta(days=14)
#: Journeys whose follow-ups the job plans.
PLANNED_JOURNEYS = (JourneyStatus.IN_PROGRESS, JourneyStatus.COMPLETED)
#: Follow-ups still waiting for something (a cancelled line cancels them).
PENDING = (FollowUpState.SCHEDULED, FollowUpState.OPEN)
DUE_KIND = "aftercare_due"


class IllegalFollowUpMove(Conflict):
    code = "illegal_transition"


def move(followup: FollowUp, to: FollowUpState) -> None:
    """The one way a follow-up changes state, checked against its transition table."""
    to = FollowUpState(to)
    if to == followup.state:
        return
    if to not in FOLLOW_UP_TRANSITIONS[followup.state]:
        raise IllegalFollowUpMove(_l(
            "A follow-up cannot go from %(old)s to %(new)s.",
            old=FOLLOW_UP_STATE_TITLES[followup.state], new=FOLLOW_UP_STATE_TITLES[to]))
    followup.state = to


def journey_followups(journey_id: int) -> list[FollowUp]:
    return list(db.session.scalars(select(FollowUp).where(FollowUp.journey_id == journey_id)
                                   .order_by(FollowUp.due_at, FollowUp.id)))


def _treating_lines(journey: Journey) -> list[BookingLine]:
    return [line for line in journey_lines(journey) if line.chain_link in TREATMENT_SIDE]


def _steps(line: BookingLine, offer: Offer, lines: list[BookingLine]) -> list[Step]:
    steps, default = offer_steps(offer)
    if default and offer.chain_link == ChainLink.CONSULTATION and any(
            other.provider_id == line.provider_id and other.chain_link == ChainLink.TREATMENT
            and other.status == LineStatus.CONFIRMED for other in lines):
        return []  # the treatment's follow-ups cover the consultation of the same member
    return steps


def wanted_followups(journey: Journey) -> dict[tuple[int, str], tuple[BookingLine, Step,
                                                                     datetime, str]]:
    """What the journey's confirmed treating lines ask for, by (line id, step key):
    (line, step, due moment, zone)."""
    if journey.status == JourneyStatus.CANCELLED:
        return {}
    lines = _treating_lines(journey)
    leg = db.session.scalar(select(TravelLeg).where(
        TravelLeg.journey_id == journey.id, TravelLeg.direction == LegDirection.DEPARTURE))
    wanted = {}
    for line in lines:
        if line.status != LineStatus.CONFIRMED:
            continue
        offer = db.session.get(Offer, line.offer_id)
        zone = db.session.get(Provider, line.provider_id).timezone
        for step in _steps(line, offer, lines):
            moment = due_at(step, start_on=line.start_on, end_on=line.end_on, zone=zone,
                            departure=leg.at if leg is not None else None)
            wanted[(line.id, step.key)] = (line, step, moment, zone)
    return wanted


def plan_followups(journey: Journey, *, now: datetime | None = None) -> list[FollowUp]:
    """Make the journey's follow-ups what its confirmed treating lines and their
    schedules ask for: new steps planned, those not sent yet moved with their line, and
    a line (or journey) cancelled cancels its follow-ups that wait, with their tasks.
    A step taken out of a schedule cancels only the follow-ups not sent yet."""
    now = now or utcnow()
    wanted = wanted_followups(journey)
    existing = {(f.booking_line_id, f.step_key): f for f in journey_followups(journey.id)}
    for key, (line, step, moment, zone) in wanted.items():
        followup = existing.get(key)
        if followup is None:
            if moment < now - LATE_LIMIT:
                continue
            followup = FollowUp(journey_id=journey.id, booking_line_id=line.id,
                                offer_id=line.offer_id, provider_id=line.provider_id,
                                step_key=step.key, step_kind=step.kind, offset=step.offset,
                                state=FollowUpState.SCHEDULED, created_at=now)
            db.session.add(followup)
        elif followup.state == FollowUpState.CANCELLED and followup.sent_at is None \
                and moment >= now - LATE_LIMIT:
            move(followup, FollowUpState.SCHEDULED)  # back in the schedule, or line restored
        if followup.state == FollowUpState.SCHEDULED:
            followup.due_at, followup.timezone, followup.photo = moment, zone, step.photo
    live_lines = {line_id for line_id, _key in wanted}
    for key, followup in existing.items():
        if key in wanted or followup.state not in PENDING:
            continue
        if followup.state == FollowUpState.SCHEDULED:
            move(followup, FollowUpState.CANCELLED)
        elif followup.booking_line_id not in live_lines:  # open: only a line gone cancels it
            move(followup, FollowUpState.CANCELLED)
            _cancel_task(followup, now)
    db.session.flush()
    return journey_followups(journey.id)


def _cancel_task(followup: FollowUp, now: datetime) -> None:
    task = db.session.get(Task, followup.task_id) if followup.task_id else None
    if task is not None and task.status in OPEN_TASKS:
        move_task(task, TaskStatus.CANCELLED, now=now)


def open_followup(followup: FollowUp, *, now: datetime | None = None) -> FollowUp:
    """A follow-up that became due: the treating member's task, and the questionnaire
    to the patient (each once)."""
    now = now or utcnow()
    journey = db.session.get(Journey, followup.journey_id)
    provider = db.session.get(Provider, followup.provider_id)
    task = open_system_task(
        journey, source=f"aftercare:{followup.id}", kind=TaskKind.FOLLOW_UP,
        due_at=followup.due_at, timezone=followup.timezone, provider_id=followup.provider_id,
        booking_line_id=followup.booking_line_id, place=f"{provider.name}, {provider.city}",
        title=task_title(followup), now=now)
    followup.task_id = task.id
    move(followup, FollowUpState.OPEN)
    followup.sent_at = followup.sent_at or now
    notices.queue(f"{DUE_KIND}:{followup.id}", f"user:{journey.patient_id}", DUE_KIND,
                  payload={"followup_id": followup.id, "journey_id": journey.id}, now=now)
    db.session.flush()
    return followup


def task_title(followup: FollowUp) -> str:
    """A short, language-neutral title of the task beside its kind's ("D+7", "-24 h")."""
    if followup.step_kind == StepKind.BEFORE_DEPARTURE:
        return f"-{followup.offset} h"
    return f"D+{followup.offset}"


def run(now: datetime | None = None) -> int:
    """The job: plan the follow-ups of journeys in progress or completed (and of any
    journey with follow-ups still waiting, so that a cancellation reaches them), then
    open those that became due. One unit of work each; returns how many were opened."""
    now = now or utcnow()
    waiting = select(FollowUp.journey_id).where(FollowUp.state.in_(PENDING))
    ids = db.session.scalars(select(Journey.id).where(
        Journey.status.in_(PLANNED_JOURNEYS) | Journey.id.in_(waiting))
        .order_by(Journey.id)).all()
    for journey_id in ids:
        plan_followups(db.session.get(Journey, journey_id), now=now)
        commit_unit()
    due = db.session.scalars(select(FollowUp.id).where(
        FollowUp.state == FollowUpState.SCHEDULED, FollowUp.due_at <= now)
        .order_by(FollowUp.due_at, FollowUp.id)).all()
    for followup_id in due:
        open_followup(db.session.get(FollowUp, followup_id), now=now)
        commit_unit()
    return len(due)
