"""Availability = capacity minus the units in use on each day.

The catalogue owns capacity; what uses it (holds and bookings) lives in ``bookings``,
which depends on this package and not the other way round. The booking engine
registers a :class:`UsageSource` at start-up; the catalogue then subtracts what every
registered source reports, in Python for a calendar and as SQL inside a search.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta
from typing import Protocol

from sqlalchemy import Date, Integer, and_, bindparam, func, literal, select
from sqlalchemy.sql import ColumnElement

from journey.core.extensions import db
from journey.core.types import UTCDateTime, utcnow
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
                    now: datetime | ColumnElement | None = None) -> ColumnElement:
    now = utcnow() if now is None else now
    expr: ColumnElement = literal(0)
    for source in _registered():
        expr = expr + func.coalesce(source.units_expr(offer_id, day, now), 0)
    return expr


def available_condition(offer_id: ColumnElement, start: date, end: date, quantity: int,
                        now: datetime | None = None, *, days=None) -> ColumnElement:
    """True when every day of ``[start, end]`` has ``quantity`` units free.

    A day without a calendar row has no capacity. (With bound parameters for the dates,
    ``days`` is the parameter of their count.)
    """
    days = (end - start).days + 1 if days is None else days
    cd = CapacityDay.__table__.alias("cd")
    free = cd.c.capacity - used_units_expr(cd.c.offer_id, cd.c.day, now)
    open_days = (select(func.count())
                 .where(and_(cd.c.offer_id == offer_id, cd.c.day >= start, cd.c.day <= end,
                             free >= quantity))
                 .scalar_subquery())
    return open_days == days


def is_available(offer_id: int, start: date, end: date, quantity: int,
                 now: datetime | None = None) -> bool:
    return are_available([(offer_id, start, end, quantity)], now)[0]


def are_available(wanted: list[tuple[int, date, date, int]],
                  now: datetime | None = None) -> list[bool]:
    """:func:`is_available` of each ``(offer_id, start, end, quantity)``, all in one
    statement (one round trip for a whole journey)."""
    if not wanted:
        return []
    parameters = {"now": now or utcnow()}
    for n, (offer_id, start, end, quantity) in enumerate(wanted):
        parameters.update({f"o{n}": offer_id, f"s{n}": start, f"e{n}": end,
                           f"q{n}": quantity, f"d{n}": (end - start).days + 1})
    row = db.session.execute(_availability_statement(len(wanted)), parameters).one()
    return [bool(value) for value in row]


#: (how many lines, the usage sources) -> the statement that checks them
_STATEMENTS: dict[tuple, object] = {}


def _availability_statement(count: int):
    """The statement of :func:`are_available` for ``count`` lines, built once (its
    values are bound parameters): a quote no longer builds its expressions again."""
    key = (count, tuple(id(source) for source in _registered()))
    if key not in _STATEMENTS:
        if len(_STATEMENTS) > 64:  # journeys of many sizes: start again
            _STATEMENTS.clear()
        now = bindparam("now", type_=UTCDateTime())
        _STATEMENTS[key] = select(*[
            available_condition(bindparam(f"o{n}", type_=Integer()),
                                bindparam(f"s{n}", type_=Date()),
                                bindparam(f"e{n}", type_=Date()),
                                bindparam(f"q{n}", type_=Integer()), now,
                                days=bindparam(f"d{n}", type_=Integer())).label(f"a{n}")
            for n in range(count)])
    return _STATEMENTS[key]
