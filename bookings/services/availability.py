"""Availability of booking lines: capacity minus the units that live holds and
bookings use, as the booking engine will enforce it when it places holds.

A line occupies ``days`` consecutive local days from ``start_on``.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta

from journey.core.types import utcnow
from providers.services.availability import are_available, is_available, used_units
from providers.services.offers import capacity_by_day


@dataclass(frozen=True)
class Line:
    offer_id: int
    start_on: date
    days: int
    quantity: int

    @property
    def last_day(self) -> date:
        return self.start_on + timedelta(days=self.days - 1)


def line_available(line: Line, *, now: datetime | None = None) -> bool:
    """True when every day of the line has ``quantity`` units free."""
    return is_available(line.offer_id, line.start_on, line.last_day, line.quantity,
                        now or utcnow())


def lines_available(lines: list[Line], *, now: datetime | None = None) -> list[bool]:
    """:func:`line_available` of each line, in one statement."""
    return are_available([(line.offer_id, line.start_on, line.last_day, line.quantity)
                          for line in lines], now or utcnow())


def free_units(line: Line, *, now: datetime | None = None) -> int:
    """The fewest units free on any day of the line (0 when a day has no calendar)."""
    capacity = capacity_by_day(line.offer_id, line.start_on, line.last_day)
    used = used_units(line.offer_id, line.start_on, line.last_day, now or utcnow())
    days = [line.start_on + timedelta(days=i) for i in range(line.days)]
    return min(max(0, capacity.get(day, 0) - used.get(day, 0)) for day in days)
