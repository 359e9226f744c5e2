"""The itinerary: the journey day by day (the lines, the tasks, the arrival and the
departure, each at its local time), as a reader may see it, for the page, the printable
PDF (WeasyPrint, from the same template) and the calendar."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from journey.builder.models import Journey, JourneyItem
from journey.builder.services.journeys import (
    JourneyAccess,
    access_of,
    load_items,
    visible_journey,
)
from journey.trip.models import Task, TaskStatus, TravelLeg
from journey.trip.services.tasks import journey_tasks
from journey.trip.services.travel import legs_of
from journey.trip.services.travellers import TravellerView, list_travellers
from providers.models import DurationUnit

#: Readers who see only their own member's lines and tasks, and no travel details.
OWN_LINES_ONLY = (JourneyAccess.SUPPLIER, JourneyAccess.TREATING)


@dataclass
class TripView:
    """What a reader may see of the trip."""

    journey: Journey
    items: list[JourneyItem]
    tasks: list[Task]
    legs: list[TravelLeg]
    travellers: list[TravellerView]


@dataclass
class Day:
    day: date
    starts: list[JourneyItem] = field(default_factory=list)
    ends: list[JourneyItem] = field(default_factory=list)
    moments: list[tuple[datetime, str, object]] = field(default_factory=list)


def trip_view(actor, journey_id: int) -> TripView:
    """The journey as ``actor`` may see it (404 when they may not): everything for the
    patient and those who compose it; a member's own lines and tasks for a member that
    supplies or treats a line."""
    journey = visible_journey(actor, journey_id)
    items = load_items(journey)
    tasks = [t for t in journey_tasks(actor, journey.id) if t.status != TaskStatus.CANCELLED]
    legs = list(legs_of(journey.id).values())
    if access_of(actor, journey) in OWN_LINES_ONLY:
        items = [item for item in items if item.offer.provider_id == actor.provider_id]
        legs = []
    return TripView(journey, items, tasks, legs, list_travellers(actor, journey.id))


def item_end(item: JourneyItem) -> date:
    """The day a line ends: the check-out day for nights, else its last day."""
    nights = item.offer.duration_unit == DurationUnit.NIGHTS
    return item.start_on + timedelta(days=item.days if nights else max(item.days - 1, 0))


def days_of(view: TripView) -> list[Day]:
    """The trip day by day, on the local calendars: lines that start or end, tasks and
    travel at their local times, in order."""
    days: dict[date, Day] = {}

    def on(day: date) -> Day:
        return days.setdefault(day, Day(day))

    for item in view.items:
        on(item.start_on).starts.append(item)
        on(item_end(item)).ends.append(item)
    for leg in view.legs:
        local = leg.at.astimezone(ZoneInfo(leg.timezone))
        on(local.date()).moments.append((local, "leg", leg))
    for task in view.tasks:
        local = task.due_at.astimezone(ZoneInfo(task.timezone))
        on(local.date()).moments.append((local, "task", task))
    for day in days.values():
        day.moments.sort(key=lambda moment: moment[0])
    return [days[key] for key in sorted(days)]
