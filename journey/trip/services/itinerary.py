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
from journey.trip.models import LegDirection, Task, TaskKind, TaskStatus, TravelLeg
from journey.trip.services.tasks import journey_tasks
from journey.trip.services.travel import legs_of
from journey.trip.services.travellers import TravellerView, list_travellers
from providers.services.offers import last_day

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


#: Tasks that bring the patient to where the day's lines start: those lines come after
#: them (the hotel after the pick-up, the centre after the hand-over).
BRINGING_TASKS = frozenset({TaskKind.AIRPORT_PICKUP, TaskKind.MEET_AND_GREET,
                            TaskKind.TRANSFER_BETWEEN_STAYS, TaskKind.SANATORIUM_HANDOVER})


@dataclass
class Day:
    day: date
    starts: list[JourneyItem] = field(default_factory=list)
    ends: list[JourneyItem] = field(default_factory=list)
    moments: list[tuple[datetime, str, object]] = field(default_factory=list)
    #: the day as it is lived: ``("end" | "start", item)``, ``("leg" | "task", thing)``
    entries: list[tuple[str, object]] = field(default_factory=list)

    def order(self) -> None:
        """Put the day in the order it is lived. The lines have no hour: what ends (a
        check-out) comes first, then the travel and tasks at their local times, and what
        starts right after the last of them that brings the patient there (arriving,
        a pick-up, a transfer, a hand-over), else before them."""
        self.moments.sort(key=lambda moment: moment[0])
        bringing = [n for n, (_at, kind, thing) in enumerate(self.moments)
                    if (kind == "leg" and thing.direction == LegDirection.ARRIVAL)
                    or (kind == "task" and thing.kind in BRINGING_TASKS)]
        cut = bringing[-1] + 1 if bringing else 0
        moments = [(kind, thing) for _at, kind, thing in self.moments]
        self.entries = ([("end", item) for item in self.ends] + moments[:cut]
                        + [("start", item) for item in self.starts] + moments[cut:])


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
    return last_day(item.offer, item.start_on, item.start_on + timedelta(days=item.days))


def days_of(view: TripView) -> list[Day]:
    """The trip day by day, on the local calendars: lines that start or end, tasks and
    travel at their local times, each day in the order it is lived (:meth:`Day.order`)."""
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
        day.order()
    return [days[key] for key in sorted(days)]
