"""A journey's progress: in progress from the first day of its first line, completed
after its last day, each counted on the calendar of the place (the zone of the member
of that line). The job moves them; a coordinator can move them by hand."""

from __future__ import annotations

from datetime import datetime, timedelta

from flask_babel import format_date
from flask_babel import lazy_gettext as _l
from sqlalchemy import select

from bookings.models import Booking
from journey.builder.models import Journey, JourneyStatus
from journey.builder.services.booking_link import follow_booking, journey_of
from journey.builder.services.journeys import transition, trip_days, visible_journey
from journey.core.errors import Conflict, Forbidden, refuse
from journey.core.extensions import db
from journey.core.persistence import commit_unit
from journey.core.reasons import why
from journey.core.types import today_in, utcnow
from journey.trip.services.tasks import (
    LAPSED_BOOKINGS,
    LIVE_JOURNEY,
    LIVE_LINES,
    journey_lines,
    sync_tasks,
)
from providers.services.members import member_zone


def trip_span(journey: Journey):
    """(first day, its zone, last day, its zone) of the journey's live booked lines."""
    lines = [line for line in journey_lines(journey) if line.status in LIVE_LINES]
    if not lines:
        return None
    first = min(lines, key=lambda line: line.start_on)
    last = max(lines, key=lambda line: line.end_on)
    end = trip_days(journey)[1] or last.end_on
    return (first.start_on, member_zone(first.provider_id), end, member_zone(last.provider_id))


def due_status(journey: Journey, now: datetime) -> JourneyStatus | None:
    span = trip_span(journey)
    if span is None:
        return None
    start, start_zone, end, end_zone = span
    if journey.status == JourneyStatus.CONFIRMED and today_in(start_zone, now=now) >= start:
        return JourneyStatus.IN_PROGRESS
    if journey.status == JourneyStatus.IN_PROGRESS and today_in(end_zone, now=now) > end:
        return JourneyStatus.COMPLETED
    return None


def advance_journeys(*, now: datetime | None = None) -> int:
    """The job: move each confirmed or travelling journey whose day has come (one unit of
    work each), and bring its tasks up to date. Returns how many moved."""
    now = now or utcnow()
    moved = 0
    ids = db.session.scalars(select(Journey.id).where(Journey.status.in_(
        (JourneyStatus.BOOKED, JourneyStatus.CONFIRMED, JourneyStatus.IN_PROGRESS)))).all()
    for journey_id in ids:
        journey = db.session.get(Journey, journey_id)
        target = due_status(journey, now)
        if target is not None:
            transition(journey, target, reason=why("trip_progressed"), now=now)
            moved += 1
        sync_tasks(journey, now=now)
        commit_unit()
    return moved


#: How long before the first day of its first line a coordinator may mark a trip in
#: progress by hand: the patient may land the evening before.
EARLY_START = timedelta(days=1)


def progress_refusal(journey: Journey, status: JourneyStatus, now: datetime):
    """Why a coordinator may not mark ``journey`` ``status`` by hand at ``now`` (None
    when they may): not in progress before the day before it begins, not completed
    before its last day — a trip marked over before it took place would call off its
    logistics and open its members to reviews of what nobody delivered. Days on the
    calendar of the place, as the job counts them."""
    span = trip_span(journey)
    if span is None:
        return None
    start, start_zone, end, end_zone = span
    if status == JourneyStatus.IN_PROGRESS and \
            today_in(start_zone, now=now) < start - EARLY_START:
        return Conflict(_l("The trip begins on %(day)s: it can be marked in progress from "
                           "the day before.", day=format_date(start, "long")))
    if status == JourneyStatus.COMPLETED and today_in(end_zone, now=now) < end:
        return Conflict(_l("The trip ends on %(day)s: it can be marked completed from "
                           "that day.", day=format_date(end, "long")))
    return None


def set_progress(actor, journey_id: int, status: JourneyStatus, *,
                 now: datetime | None = None) -> Journey:
    """A coordinator marks the journey in progress or completed by hand, once its days
    have come (:func:`progress_refusal`); its tasks follow as when the job moves it (a
    completed trip's open logistics are called off, what was done stays done)."""
    if not actor.role.is_cluster:
        raise Forbidden(_l("A coordinator marks the journey's progress."))
    now = now or utcnow()
    journey = visible_journey(actor, journey_id)
    status = JourneyStatus(status)
    if status not in (JourneyStatus.IN_PROGRESS, JourneyStatus.COMPLETED):
        raise Conflict(_l("In progress or completed."))
    refuse(progress_refusal(journey, status, now))
    transition(journey, status, actor=actor, reason=why("trip_progressed"), now=now)
    db.session.flush()
    sync_tasks(journey, now=now)  # as the job does: a trip over asks for no logistics
    return journey


def follow_booking_and_tasks(booking: Booking, **changes) -> None:
    """A booking moved: its journey follows it, then the journey's tasks (in this order:
    the tasks read the journey's new state). When neither the journey's being live nor
    the booking's having lapsed changed (authorised, then confirmed), the tasks ask for
    the same as before: nothing to do."""
    journey = journey_of(booking)
    was_live = journey is not None and journey.status in LIVE_JOURNEY
    follow_booking(booking, **changes)
    if journey is not None and (journey.status in LIVE_JOURNEY) == was_live and \
            (changes["old"] in LAPSED_BOOKINGS) == (changes["new"] in LAPSED_BOOKINGS):
        return
    follow_booking_tasks(booking, **changes)


def follow_booking_tasks(booking: Booking, line=None, old=None, new=None,
                         **_changes) -> None:
    """A booking or one of its lines moved: the journey's tasks follow (wired by
    ``create_app`` to :data:`bookings.services.audit.booking_moved` and ``line_moved``).
    A line that stays live (held, requested, confirmed: a member confirming it) or stays
    ended asks for the same tasks as before: nothing to do."""
    if line is not None and (old in LIVE_LINES) == (new in LIVE_LINES):
        return
    journey = journey_of(booking)
    if journey is not None:
        sync_tasks(journey)
