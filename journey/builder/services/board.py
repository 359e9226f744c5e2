"""The coordinator's board: journeys by state, arrivals and departures in the coming
days or in a month, and a journey's history as one timeline (cluster staff only)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta

from sqlalchemy import func, or_, select
from sqlalchemy.orm import joinedload, selectinload

from bookings.models import Booking, Escalation
from bookings.services import access, escalations
from journey.builder.models import Journey, JourneyItem, JourneyStatus
from journey.builder.services.booking_link import journeys_of
from journey.builder.services.checkout import journey_bookings
from journey.builder.services.journeys import get_package, load_items, trip_days
from journey.core.accounts.models import User
from journey.core.accounts.permissions import require_cluster
from journey.core.extensions import db

#: Journeys whose patients travel: their arrivals and departures are on the board.
TRAVELLING = (JourneyStatus.BOOKED, JourneyStatus.CONFIRMED, JourneyStatus.IN_PROGRESS)


def journeys_by_state(actor) -> dict[JourneyStatus, int]:
    """How many journeys are in each state (every state, zero included)."""
    require_cluster(actor)
    counts = dict(db.session.execute(
        select(Journey.status, func.count(Journey.id)).group_by(Journey.status)).all())
    return {status: counts.get(status, 0) for status in JourneyStatus}


@dataclass(frozen=True)
class Movement:
    """A patient arriving or leaving on ``day``."""

    day: date
    kind: str  # "arrival" or "departure"
    journey: Journey


def _first_day(journey: Journey) -> date | None:
    return trip_days(journey)[0]


def _last_day(journey: Journey) -> date | None:
    return trip_days(journey)[1]


def arrivals_and_departures(actor, *, start: date, days: int = 7) -> list[Movement]:
    """Arrivals and departures of booked, confirmed and running journeys on the ``days``
    days from ``start``, by day (arrivals first). A journey without its own dates
    takes them from its items."""
    require_cluster(actor)
    return _movements(start, start + timedelta(days=days - 1))


def arrivals_in_month(actor, month: date) -> list[Movement]:
    """The arrivals and departures of the month of ``month`` (any day of it), by day,
    arrivals first: one query for the journeys (their patients joined), their items and
    offers loaded alongside in bulk."""
    require_cluster(actor)
    first = month.replace(day=1)
    last = (first + timedelta(days=32)).replace(day=1) - timedelta(days=1)
    return _movements(first, last)


def _movements(start: date, end: date) -> list[Movement]:
    first_item = (select(func.min(JourneyItem.start_on))
                  .where(JourneyItem.journey_id == Journey.id).scalar_subquery())
    candidates = db.session.scalars(
        select(Journey).where(
            Journey.status.in_(TRAVELLING),
            or_(func.coalesce(Journey.arrival_on, first_item).between(start, end),
                Journey.departure_on.between(start, end),
                (Journey.departure_on.is_(None)) & (first_item <= end)))
        .options(joinedload(Journey.patient),
                 selectinload(Journey.items).joinedload(JourneyItem.offer))
        .order_by(Journey.id)).unique()
    movements = []
    for journey in candidates:
        for kind, day in (("arrival", _first_day(journey)), ("departure", _last_day(journey))):
            if day is not None and start <= day <= end:
                movements.append(Movement(day, kind, journey))
    movements.sort(key=lambda m: (m.day, m.kind != "arrival", m.journey.id))
    return movements


@dataclass(frozen=True)
class TimelineEntry:
    at: datetime
    kind: str  # "transition", "item", "quote", "accepted"
    actor: User | None
    from_state: str | None = None
    to_state: str | None = None
    reason: str = ""
    detail: object = None
    actor_label: str = ""  # who, for a booking event not done by a user ("stripe", a job)


def journey_timeline(actor, journey_id: int) -> tuple[Journey, list[TimelineEntry]]:
    """A journey with everything that happened to it, oldest first: its state changes
    (who, when, from, to, why), the items added, the quotes made and accepted, and the
    audit trail of its bookings (lines, payments, refunds)."""
    require_cluster(actor)
    journey = get_package(actor, journey_id)
    items = load_items(journey)
    users = {}

    def user(user_id):
        if user_id is None:
            return None
        if user_id not in users:
            users[user_id] = db.session.get(User, user_id)
        return users[user_id]

    entries = [TimelineEntry(t.at, "transition", t.actor,
                             t.from_status.value if t.from_status else None,
                             t.to_status.value, t.explained)
               for t in journey.transitions]
    entries += [TimelineEntry(i.created_at, "item", user(i.added_by_id), detail=i)
                for i in items]
    for quote in journey.quotes:
        entries.append(TimelineEntry(quote.created_at, "quote", user(quote.created_by_id),
                                     detail=quote))
        if quote.accepted_at is not None:
            entries.append(TimelineEntry(quote.accepted_at, "accepted",
                                         user(quote.accepted_by_id), detail=quote))
    booked = [booking for _quote, booking in journey_bookings(actor, journey.id)]
    for event in (event for booking in booked for event in access.timeline(actor, booking.id)):
        who = event.actor or ""
        person = user(int(who[5:])) if who.startswith("user:") and who[5:].isdigit() else None
        entries.append(TimelineEntry(event.at, "booking", person, event.from_state,
                                     event.to_state, event.explained, detail=event,
                                     actor_label="" if person else who))
    entries.sort(key=lambda e: e.at)
    return journey, entries


@dataclass(frozen=True)
class EscalationRow:
    escalation: Escalation
    booking: Booking
    journey: Journey | None


def escalation_rows(actor, *, open_only: bool = True) -> list[EscalationRow]:
    """The escalations a coordinator must look at, oldest first, with their booking and
    the journey it books."""
    found = escalations.list_escalations(actor, open_only=open_only)
    bookings = [access.get_visible_booking(actor, escalation.booking_id)
                for escalation in found]
    journeys = journeys_of(bookings)
    return [EscalationRow(escalation, booking, journeys[booking.id])
            for escalation, booking in zip(found, bookings, strict=True)]
