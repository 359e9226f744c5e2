"""Logistics tasks: generated from the booked lines and the travel details, added by
hand, assigned to a coordinator or a member's staff, and done (or not).

Generation is idempotent: each generated task has a ``source`` naming what it serves,
so :func:`sync_tasks` run again changes tasks instead of adding others; a line cancelled
(or a journey cancelled) cancels its open tasks, a line moved moves them.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

from flask_babel import lazy_gettext as _l
from sqlalchemy import or_, select

from bookings.models import Booking, BookingLine, BookingStatus, LineStatus
from journey import notices
from journey.builder.models import Journey, JourneyStatus, Quote, quote_reference
from journey.builder.services.journeys import JourneyAccess, access_of, visible_journey
from journey.core.accounts.models import Role, User
from journey.core.accounts.permissions import require_authenticated
from journey.core.errors import Conflict, Forbidden, InvalidInput, NotFound
from journey.core.extensions import db
from journey.core.types import utcnow
from journey.core.validation import EARLIEST_DATE, latest_date
from journey.trip.models import (
    TASK_STATUS_TITLES,
    TASK_TRANSITIONS,
    LegDirection,
    Task,
    TaskKind,
    TaskStatus,
    TravelLeg,
)
from providers.models import ChainLink, Provider
from providers.services.common import check_timezone

LIVE_JOURNEY = (JourneyStatus.BOOKED, JourneyStatus.CONFIRMED, JourneyStatus.IN_PROGRESS)
LIVE_LINES = (LineStatus.HELD, LineStatus.REQUESTED, LineStatus.CONFIRMED)
#: Bookings whose lines never went through: they ask for no task.
LAPSED_BOOKINGS = (BookingStatus.FAILED, BookingStatus.EXPIRED)
OPEN = (TaskStatus.OPEN, TaskStatus.ASSIGNED)
#: How long before a departure the travellers are taken to the airport or station.
DROPOFF_BEFORE = {"flight": timedelta(hours=3), "train": timedelta(hours=1)}


class IllegalTaskMove(Conflict):
    code = "illegal_transition"


def move_task(task: Task, to: TaskStatus, *, actor=None, now: datetime | None = None) -> None:
    """The one way a task changes state, checked against its transition table."""
    to = TaskStatus(to)
    if to == task.status:
        return
    if to not in TASK_TRANSITIONS[task.status]:
        raise IllegalTaskMove(_l("A task cannot go from %(old)s to %(new)s.",
                                 old=TASK_STATUS_TITLES[task.status],
                                 new=TASK_STATUS_TITLES[to]))
    task.status = to
    task.status_by_id = actor.id if actor is not None else None
    task.status_at = now or utcnow()


@dataclass
class Spec:
    kind: TaskKind
    due_at: datetime
    timezone: str
    place: str
    provider_id: int | None = None
    booking_line_id: int | None = None


def _at(day, hour: int, zone: str) -> datetime:
    return datetime.combine(day, time(hour), tzinfo=ZoneInfo(zone)).astimezone(ZoneInfo("UTC"))


def journey_lines(journey: Journey) -> list[BookingLine]:
    """The lines of the journey's bookings that went through (not failed or expired)."""
    return list(db.session.scalars(
        select(BookingLine).join(Booking)
        .join(Quote, Booking.reference == quote_reference())
        .where(Quote.journey_id == journey.id, Booking.status.notin_(LAPSED_BOOKINGS))
        .order_by(BookingLine.start_on, BookingLine.id)))


def wanted_tasks(journey: Journey) -> dict[str, Spec]:
    """What the booked lines and the travel details ask for, by source."""
    if journey.status not in LIVE_JOURNEY:
        return {}
    lines = [line for line in journey_lines(journey) if line.status in LIVE_LINES]
    wanted: dict[str, Spec] = {}
    transfer = next((line for line in lines if line.chain_link == ChainLink.TRANSFER), None)
    interpreters = [line for line in lines if line.chain_link == ChainLink.TRANSLATION]
    # Where the patient sleeps, in order (a room; a treatment or a programme of more
    # than a day): a move from one member's stay to another's asks for a transfer on
    # the day of the move (a rehabilitation centre's own room and its programme are
    # one place, and need none).
    stays = sorted((line for line in lines if line.chain_link == ChainLink.ACCOMMODATION
                    or (line.chain_link in (ChainLink.TREATMENT, ChainLink.REHABILITATION)
                        and line.days > 1)),
                   key=lambda line: (line.start_on, line.id))
    moves = [(before, after) for before, after in zip(stays, stays[1:], strict=False)
             if after.provider_id != before.provider_id and after.start_on > before.start_on]
    # The lines that ask for a task of their own; their members (place, time zone) are
    # read only when there are some (a room and a treatment ask for none).
    asking = [line for line in lines if line.chain_link in (
        ChainLink.REHABILITATION, ChainLink.VISA_SUPPORT) or (
        line.chain_link == ChainLink.CONSULTATION and interpreters)]
    wanted_ids = {line.provider_id for line in asking} | {
        line.provider_id for move in moves for line in move}
    providers = {p.id: p for p in db.session.scalars(
        select(Provider).where(Provider.id.in_(wanted_ids)))} if wanted_ids else {}
    for before, after in moves:
        origin, destination = providers[before.provider_id], providers[after.provider_id]
        zone = destination.timezone
        wanted[f"line:{after.id}:transfer"] = Spec(
            TaskKind.TRANSFER_BETWEEN_STAYS, _at(after.start_on, 9, zone), zone,
            f"{origin.name}, {origin.city} → {destination.name}, {destination.city}",
            transfer.provider_id if transfer else None, after.id)
    for line in asking:
        provider = providers[line.provider_id]
        zone, place = provider.timezone, f"{provider.name}, {provider.city}"
        if line.chain_link == ChainLink.REHABILITATION:
            # handed over when the patient comes to the centre: its first stay there
            # that leads into the programme (its room before the programme starts)
            arrives = line.start_on
            for stay in reversed([s for s in stays if s.start_on < line.start_on]):
                if stay.provider_id != line.provider_id:
                    break
                arrives = stay.start_on
            wanted[f"line:{line.id}:handover"] = Spec(
                TaskKind.SANATORIUM_HANDOVER, _at(arrives, 10, zone), zone, place,
                line.provider_id, line.id)
        elif line.chain_link == ChainLink.CONSULTATION and interpreters:
            wanted[f"line:{line.id}:interpreter"] = Spec(
                TaskKind.INTERPRETER, _at(line.start_on, 9, zone), zone, place,
                interpreters[0].provider_id, line.id)
        elif line.chain_link == ChainLink.VISA_SUPPORT:
            wanted[f"line:{line.id}:visa"] = Spec(
                TaskKind.VISA_APPOINTMENT, _at(line.start_on, 10, zone), zone, place,
                line.provider_id, line.id)
    legs = {leg.direction: leg for leg in db.session.scalars(
        select(TravelLeg).where(TravelLeg.journey_id == journey.id))}
    who = transfer.provider_id if transfer else None
    if LegDirection.ARRIVAL in legs:
        leg = legs[LegDirection.ARRIVAL]
        wanted["leg:arrival:pickup"] = Spec(TaskKind.AIRPORT_PICKUP, leg.at, leg.timezone,
                                            leg.place, who)
    if LegDirection.DEPARTURE in legs:
        leg = legs[LegDirection.DEPARTURE]
        before = DROPOFF_BEFORE.get(leg.mode.value, timedelta(hours=1))
        wanted["leg:departure:dropoff"] = Spec(TaskKind.AIRPORT_DROPOFF, leg.at - before,
                                               leg.timezone, leg.place, who)
    return wanted


#: The sources this generator owns; a task another part made (``aftercare:...``) is its.
GENERATED = ("line:", "leg:")


def sync_tasks(journey: Journey, *, now: datetime | None = None) -> None:
    """Make the journey's generated tasks what its lines and travel details ask for
    (:func:`journey_task_rows` reads them)."""
    now = now or utcnow()
    wanted = wanted_tasks(journey)
    existing = {t.source: t for t in db.session.scalars(select(Task).where(
        Task.journey_id == journey.id, Task.source.is_not(None)))
        if t.source.startswith(GENERATED)}  # others (aftercare:...) are not the generator's
    for source, spec in wanted.items():
        task = existing.get(source)
        if task is None:
            task = Task(journey_id=journey.id, source=source, status=TaskStatus.OPEN,
                        created_at=now)
            db.session.add(task)
        elif task.status in (TaskStatus.DONE, TaskStatus.NO_SHOW):
            continue  # what happened stays as it happened
        elif task.status == TaskStatus.CANCELLED:
            if task.status_by_id is not None:
                continue  # cancelled by a person: the generator does not bring it back
            move_task(task, TaskStatus.OPEN, now=now)
        task.kind, task.due_at, task.timezone = spec.kind, spec.due_at, spec.timezone
        task.place, task.provider_id = spec.place, spec.provider_id
        task.booking_line_id = spec.booking_line_id
    for source, task in existing.items():
        if source not in wanted and task.status in OPEN:
            move_task(task, TaskStatus.CANCELLED, now=now)
    db.session.flush()


def journey_task_rows(journey_id: int) -> list[Task]:
    return list(db.session.scalars(select(Task).where(Task.journey_id == journey_id)
                                   .order_by(Task.due_at, Task.id)))


# --- reading --------------------------------------------------------------------------------

def journey_tasks(actor, journey_id: int) -> list[Task]:
    """The journey's tasks as ``actor`` may see them: all for the patient and those who
    compose the journey; a member's staff only the tasks of their member's lines."""
    journey = visible_journey(actor, journey_id)
    tasks = journey_task_rows(journey.id)
    if access_of(actor, journey) in (JourneyAccess.SUPPLIER, JourneyAccess.TREATING):
        return [t for t in tasks if t.provider_id == actor.provider_id
                or t.assignee_id == actor.id]
    return tasks


def agenda(actor, *, start: datetime, end: datetime, mine: bool = False,
           unassigned: bool = False, now: datetime | None = None) -> list[Task]:
    """Tasks due between ``start`` and ``end``, overdue ones first (those still open
    before ``now``, whatever ``start``). Coordinators see all, ``mine`` or
    ``unassigned`` only; a member's staff the tasks assigned to them or their member."""
    actor = require_authenticated(actor)
    now = now or utcnow()
    if end <= start or end - start > timedelta(days=62):
        raise InvalidInput(fields={"end": [_l("A window of at most two months.")]})
    query = select(Task).where(Task.status != TaskStatus.CANCELLED, or_(
        (Task.due_at >= start) & (Task.due_at < end),
        Task.status.in_(OPEN) & (Task.due_at < now)))
    if actor.role.is_member:
        query = query.where(or_(Task.assignee_id == actor.id,
                                Task.provider_id == actor.provider_id))
    elif not actor.role.is_cluster:
        raise Forbidden(_l("The agenda is for coordinators and members' staff."))
    if mine:
        query = query.where(Task.assignee_id == actor.id)
    if unassigned:
        query = query.where(Task.assignee_id.is_(None))
    tasks = list(db.session.scalars(query.order_by(Task.due_at, Task.id)))
    overdue = [t for t in tasks if t.status in OPEN and t.due_at < now]
    return overdue + [t for t in tasks if t not in overdue]


# --- changing -------------------------------------------------------------------------------

def _task_for_change(actor, task_id: int) -> Task:
    actor = require_authenticated(actor)
    task = db.session.get(Task, task_id)
    if task is None:
        raise NotFound(_l("No such task."))
    if actor.role.is_cluster or task.assignee_id == actor.id:
        return task
    if actor.role.is_member and task.provider_id == actor.provider_id:
        return task
    raise NotFound(_l("No such task."))


def assign_task(actor, task_id: int, assignee_id: int | None, *,
                now: datetime | None = None) -> Task:
    """A coordinator gives the task to a coordinator or to a staff member of the member
    whose line it serves (None: nobody)."""
    task = _task_for_change(actor, task_id)
    if not actor.role.is_cluster:
        raise Forbidden(_l("A coordinator assigns tasks."))
    if task.status not in OPEN:
        raise Conflict(_l("This task is over."))
    if assignee_id is None:
        task.assignee_id = None
        move_task(task, TaskStatus.OPEN, actor=actor, now=now)
    else:
        person = db.session.get(User, assignee_id)
        fits = person is not None and person.active and (
            person.role == Role.COORDINATOR
            or (person.role.is_member and person.provider_id == task.provider_id))
        if not fits:
            raise InvalidInput(fields={"assignee_id": [_l(
                "A coordinator, or staff of the member whose line the task serves.")]})
        task.assignee_id = person.id
        move_task(task, TaskStatus.ASSIGNED, actor=actor, now=now)
        if person.id != actor.id:  # the assignee hears of it, once per task
            notices.queue(f"task_assigned:{task.id}:{person.id}", f"user:{person.id}",
                          "task_assigned", payload={"task_id": task.id}, now=now)
    db.session.flush()
    return task


def set_task_status(actor, task_id: int, status: TaskStatus, *, note: str = "",
                    now: datetime | None = None) -> Task:
    """Done or no-show: by a coordinator, the assignee or the member's staff; cancelled:
    by a coordinator (the generator then leaves it cancelled)."""
    task = _task_for_change(actor, task_id)
    status = TaskStatus(status)
    if status not in (TaskStatus.DONE, TaskStatus.NO_SHOW, TaskStatus.CANCELLED):
        raise InvalidInput(fields={"status": [_l("Done, no-show or cancelled.")]})
    if status == TaskStatus.CANCELLED and not actor.role.is_cluster:
        raise Forbidden(_l("A coordinator cancels a task."))
    move_task(task, status, actor=actor, now=now)
    if note:
        task.note = note.strip()[:1000]
    db.session.flush()
    return task


def add_task(actor, journey_id: int, *, kind: TaskKind, local_time: datetime, timezone: str,
             place: str = "", note: str = "", title: str = "",
             now: datetime | None = None) -> Task:
    """A task by hand (a coordinator): at ``local_time`` on the clock of ``timezone``."""
    actor = require_authenticated(actor)
    if not actor.role.is_cluster:
        raise Forbidden(_l("A coordinator adds tasks."))
    journey = visible_journey(actor, journey_id)
    zone = ZoneInfo(check_timezone(timezone))
    at = local_time.replace(tzinfo=zone) if local_time.tzinfo is None else local_time
    if not EARLIEST_DATE <= at.date() <= latest_date():
        raise InvalidInput(fields={"local_time": [_l("Not a date that can be planned.")]})
    task = Task(journey_id=journey.id, kind=TaskKind(kind), title=title.strip()[:200],
                due_at=at.astimezone(ZoneInfo("UTC")), timezone=zone.key,
                place=place.strip()[:200], note=note.strip()[:1000],
                status=TaskStatus.OPEN, created_at=now or utcnow())
    db.session.add(task)
    db.session.flush()
    return task


def open_system_task(journey: Journey, *, source: str, kind: TaskKind, due_at: datetime,
                     timezone: str, provider_id: int | None = None, place: str = "",
                     title: str = "", note: str = "", booking_line_id: int | None = None,
                     now: datetime | None = None) -> Task:
    """A task another part of the trip makes for itself (aftercare's follow-ups), once per
    ``source`` (which must not start with one of the generator's :data:`GENERATED`
    prefixes); calling it again returns the task made the first time, unchanged."""
    if source.startswith(GENERATED):
        raise ValueError(f"{source!r} belongs to the task generator")
    task = db.session.scalar(select(Task).where(Task.journey_id == journey.id,
                                                Task.source == source))
    if task is not None:
        return task
    task = Task(journey_id=journey.id, source=source, kind=TaskKind(kind), title=title[:200],
                due_at=due_at, timezone=timezone, place=place[:200], note=note[:1000],
                provider_id=provider_id, booking_line_id=booking_line_id,
                status=TaskStatus.OPEN, created_at=now or utcnow())
    db.session.add(task)
    db.session.flush()
    return task
