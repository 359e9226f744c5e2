"""Availability = capacity minus the units in use on each day.

The catalogue owns capacity; what uses it (holds and bookings) lives in ``bookings``,
which depends on this package and not the other way round. The booking engine
registers a :class:`UsageSource` at start-up; the catalogue then subtracts what every
registered source reports, in Python for a calendar and as SQL inside a search.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta
from typing import Protocol

from sqlalchemy import and_, func, literal, select
from sqlalchemy.sql import ColumnElement

from journey.core.extensions import db
from journey.core.types import utcnow
from providers.models import CapacityDay

#: The longest window a search or calendar looks at in one go.
MAX_WINDOW_DAYS = 731


class UsageSource(Protocol):
    def units_by_day(self, offer_id: int, start: date, end: date,
                     now: datetime) -> dict[date, int]:
        """Units in use per day of ``[start, end]`` for one offer."""

    def units_expr(self, offer_id: ColumnElement, day: ColumnElement,
                   now: datetime) -> ColumnElement:
        """A correlated SQL expression: units in use by ``offer_id`` on ``day``."""


_sources: list[UsageSource] = []


def spread_by_day(ranges, start: date, end: date) -> dict[date, int]:
    """``(first day, day after the last, units)`` ranges -> units per day of
    ``[start, end]``: how a usage source adds up its rows."""
    used: dict[date, int] = {}
    for first, after_last, units in ranges:
        day = max(first, start)
        while day < after_last and day <= end:
            used[day] = used.get(day, 0) + units
            day += timedelta(days=1)
    return used


def register_usage_sources(*sources: UsageSource) -> None:
    """What uses capacity besides the calendar (the booking engine's holds and booked
    lines); ``create_app`` registers them. Registering one twice changes nothing."""
    for source in sources:
        if source not in _sources:
            _sources.append(source)


def _registered() -> list[UsageSource]:
    if not _sources:
        raise RuntimeError("no capacity usage source is registered: availability would "
                           "count nothing as used (create_app registers the booking "
                           "engine's holds and booked lines)")
    return _sources


def used_units(offer_id: int, start: date, end: date,
               now: datetime | None = None) -> dict[date, int]:
    now = now or utcnow()
    total: dict[date, int] = {}
    for source in _registered():
        for day, units in source.units_by_day(offer_id, start, end, now).items():
            total[day] = total.get(day, 0) + units
    return total


def used_units_expr(offer_id: ColumnElement, day: ColumnElement,
                    now: datetime | None = None) -> ColumnElement:
    now = now or utcnow()
    expr: ColumnElement = literal(0)
    for source in _registered():
        expr = expr + func.coalesce(source.units_expr(offer_id, day, now), 0)
    return expr


def available_condition(offer_id: ColumnElement, start: date, end: date, quantity: int,
                        now: datetime | None = None) -> ColumnElement:
    """True when every day of ``[start, end]`` has ``quantity`` units free.

    A day without a calendar row has no capacity.
    """
    days = (end - start).days + 1
    cd = CapacityDay.__table__.alias("cd")
    free = cd.c.capacity - used_units_expr(cd.c.offer_id, cd.c.day, now)
    open_days = (select(func.count())
                 .where(and_(cd.c.offer_id == offer_id, cd.c.day >= start, cd.c.day <= end,
                             free >= quantity))
                 .scalar_subquery())
    return open_days == days


def is_available(offer_id: int, start: date, end: date, quantity: int,
                 now: datetime | None = None) -> bool:
    return bool(db.session.scalar(select(available_condition(literal(offer_id), start, end,
                                                             quantity, now))))


def are_available(wanted: list[tuple[int, date, date, int]],
                  now: datetime | None = None) -> list[bool]:
    """:func:`is_available` of each ``(offer_id, start, end, quantity)``, all in one
    statement (one round trip for a whole journey)."""
    if not wanted:
        return []
    now = now or utcnow()
    row = db.session.execute(select(*[
        available_condition(literal(offer_id), start, end, quantity, now).label(f"a{n}")
        for n, (offer_id, start, end, quantity) in enumerate(wanted)])).one()
    return [bool(value) for value in row]
