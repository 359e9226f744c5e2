"""Availability = capacity minus the units in use on each day.

The catalogue owns capacity; what uses it (holds and bookings) lives in ``bookings``,
which depends on this package and not the other way round. The booking engine keeps
``capacity_day.used`` (the units its holds and booked lines count) in the same
transaction as its own writes, and registers a :class:`UsageSource` for each thing
that uses units at start-up. Free at ``now`` = ``capacity - used + stale(now)``, where
the stale units are those of holds that expired by ``now`` but are not yet released
(a job releases them): read from the calendar row alone on a day with room, and
corrected from the sources only on a day without.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta
from functools import lru_cache
from typing import Protocol

from sqlalchemy import (
    Date,
    Integer,
    and_,
    bindparam,
    case,
    func,
    literal,
    literal_column,
    select,
    union_all,
    update,
)
from sqlalchemy.sql import ColumnElement

from journey.core.extensions import db
from journey.core.persistence import dialect_name
from journey.core.types import UTCDateTime, utcnow
from providers.models import CapacityDay

#: The longest window a search or calendar looks at in one go.
MAX_WINDOW_DAYS = 731


class UsageSource(Protocol):
    """What uses capacity, as the catalogue counts it. ``capacity_day.used`` keeps the
    sum of every source's *counted* units (the booking engine maintains it in the same
    transaction as its own rows); a source whose counted units stop being in use
    without a write (a hold that expires) reports them as *stale* until its owner
    writes them off (releases the hold)."""

    def counted_ranges(self):
        """A SQL select of ``(offer_id, start_on, end_on, units)``, one row per use
        counted in ``capacity_day.used`` over the days ``[start_on, end_on)``."""

    def stale_by_day(self, offer_id: int, start: date, end: date,
                     now: datetime) -> dict[date, int]:
        """Units counted but no longer in use at ``now``, per day of ``[start, end]``."""

    def stale_expr(self, offer_id: ColumnElement, day: ColumnElement,
                   now: datetime | ColumnElement) -> ColumnElement | None:
        """A correlated SQL expression of the stale units of ``offer_id`` on ``day``
        (None when the source has none)."""


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
    """Units in use at ``now`` per day of ``[start, end]`` (days without any absent):
    the calendar's ``used`` less what has gone stale by then."""
    now = now or utcnow()
    _registered()
    used = dict(db.session.execute(
        select(CapacityDay.day, CapacityDay.used).where(
            CapacityDay.offer_id == offer_id, CapacityDay.day.between(start, end),
            CapacityDay.used > 0)).all())
    if used:
        for day, units in stale_units(offer_id, start, end, now).items():
            if day in used:
                used[day] -= units
    return {day: units for day, units in used.items() if units}


def stale_units(offer_id: int, start: date, end: date, now: datetime) -> dict[date, int]:
    """Units counted in ``used`` but no longer in use at ``now``, per day of
    ``[start, end]`` (days without any absent)."""
    total: dict[date, int] = {}
    for source in _registered():
        for day, units in source.stale_by_day(offer_id, start, end, now).items():
            total[day] = total.get(day, 0) + units
    return total


def change_used(changes) -> None:
    """Add ``units`` (negative: take away) to ``used`` of the days ``[start, end)`` of
    each ``(offer_id, start, end, units)``: one UPDATE per offer and range, offers and
    ranges in a fixed order (a writer that locks several offers' rows does it in the
    same order as every other, so two of them cannot deadlock). Called by the owner of
    the units in the transaction that writes them, under the capacity locks."""
    merged: dict[tuple[int, date, date], int] = {}
    for offer_id, start, end, units in changes:
        key = (offer_id, start, end)
        merged[key] = merged.get(key, 0) + units
    for (offer_id, start, end), units in sorted(merged.items()):
        if units:
            db.session.execute(_change_used_statement(), {
                "the_offer": offer_id, "start": start, "end": end, "units": units})


@lru_cache(maxsize=1)
def _change_used_statement():
    """:func:`change_used`'s UPDATE, built once (a checkout runs it for every line)."""
    table = CapacityDay.__table__
    return (update(table)
            .where(table.c.offer_id == bindparam("the_offer", type_=Integer()),
                   table.c.day >= bindparam("start", type_=Date()),
                   table.c.day < bindparam("end", type_=Date()))
            .values(used=table.c.used + bindparam("units", type_=Integer())))


def _counted_ranges():
    """Every use counted in ``used``, as ``(offer_id, start_on, end_on, units)`` rows."""
    selects = [source.counted_ranges() for source in _registered()]
    return (selects[0] if len(selects) == 1 else union_all(*selects)).subquery("counted")


def counted_units(offer_id: int, start: date, end: date) -> dict[date, int]:
    """What ``used`` should be on each day of ``[start, end]`` (days without any
    absent), recomputed from the sources."""
    ranges = _counted_ranges()
    return spread_by_day(db.session.execute(
        select(ranges.c.start_on, ranges.c.end_on, ranges.c.units).where(
            ranges.c.offer_id == offer_id, ranges.c.start_on <= end,
            ranges.c.end_on > start)).all(), start, end)


def _differences_query(offer_ids=None):
    """``(offer_id, day, stored, actual)`` of each calendar row whose ``used`` is not
    what the sources count: the days that have usage joined to their rows, and the
    rows that count usage no source has. Reads; writes nothing."""
    ranges = _counted_ranges()
    cd = CapacityDay.__table__.alias("cd")
    actual = (select(cd.c.offer_id, cd.c.day, func.sum(ranges.c.units).label("units"))
              .select_from(cd).join(ranges, and_(ranges.c.offer_id == cd.c.offer_id,
                                                 ranges.c.start_on <= cd.c.day,
                                                 ranges.c.end_on > cd.c.day)))
    if offer_ids is not None:
        actual = actual.where(cd.c.offer_id.in_(offer_ids))
    actual = actual.group_by(cd.c.offer_id, cd.c.day).subquery("actual")
    row = CapacityDay.__table__.alias("cdr")
    same_day = and_(actual.c.offer_id == row.c.offer_id, actual.c.day == row.c.day)
    wrong = (select(row.c.offer_id, row.c.day, row.c.used.label("stored"),
                    actual.c.units.label("actual"))
             .select_from(row).join(actual, same_day)
             .where(row.c.used != actual.c.units))
    orphan = (select(row.c.offer_id, row.c.day, row.c.used.label("stored"),
                     literal(0).label("actual"))
              .select_from(row).outerjoin(actual, same_day)
              .where(row.c.used != 0, actual.c.units.is_(None)))
    if offer_ids is not None:
        orphan = orphan.where(row.c.offer_id.in_(offer_ids))
    return union_all(wrong, orphan)


def usage_differences() -> list[tuple[int, date, int, int]]:
    """``(offer_id, day, stored, actual)`` of every calendar row whose ``used`` differs
    from what the holds and booked lines count (empty when they agree): one query."""
    return sorted((offer_id, day, int(stored), int(actual)) for offer_id, day, stored, actual
                  in db.session.execute(_differences_query()))


def lock_calendar(offer_id: int, first: date, last: date) -> dict[date, int]:
    """Lock the calendar rows of ``offer_id`` from ``first`` to ``last`` for the rest
    of the transaction, in day order (PostgreSQL ``FOR UPDATE``; SQLite's write lock
    through a no-op update), and return each day's ``capacity - used``. Every writer of
    ``used`` locks through here, offers in id order, so two never deadlock."""
    lock, room = _lock_calendar_statements(dialect_name() == "sqlite")
    parameters = {"the_offer": offer_id, "first": first, "last": last}
    if lock is not None:
        db.session.execute(lock, parameters)
    return dict(db.session.execute(room, parameters).all())


@lru_cache(maxsize=2)
def _lock_calendar_statements(sqlite: bool) -> tuple:
    """:func:`lock_calendar`'s statements, built once per database (a checkout locks
    every line's days): SQLite's no-op update (or None), and the read of the room."""
    table = CapacityDay.__table__
    rows = and_(table.c.offer_id == bindparam("the_offer", type_=Integer()),
                table.c.day.between(bindparam("first", type_=Date()),
                                    bindparam("last", type_=Date())))
    room = select(table.c.day, table.c.capacity - table.c.used).where(rows)
    if sqlite:
        return update(table).where(rows).values(capacity=table.c.capacity), room
    return None, room.order_by(table.c.day).with_for_update()


def rebuild_usage_counts() -> int:
    """Set ``used`` again from the sources where it differs; returns how many rows
    were corrected. Only those rows are written (locked first, in the writers' order,
    then compared again, so a hold or booking written meanwhile is not overwritten)."""
    found = usage_differences()
    if not found:
        return 0
    table = CapacityDay.__table__
    keys = sorted({(offer_id, day) for offer_id, day, _stored, _actual in found})
    offers = sorted({offer_id for offer_id, _day in keys})
    for offer_id in offers:
        days = [day for o, day in keys if o == offer_id]
        lock_calendar(offer_id, min(days), max(days))
    locked = set(keys)
    corrected = 0
    for offer_id, day, _stored, actual in db.session.execute(_differences_query(offers)):
        if (offer_id, day) in locked:
            db.session.execute(update(table).where(
                table.c.offer_id == offer_id, table.c.day == day).values(used=actual))
            corrected += 1
    return corrected


def stale_units_expr(offer_id: ColumnElement, day: ColumnElement,
                     now: datetime | ColumnElement) -> ColumnElement | None:
    """Units counted in ``used`` but no longer in use at ``now`` (expired holds that
    wait for their release), as a correlated SQL expression; None when no source
    has any."""
    expr = None
    for source in _registered():
        stale = source.stale_expr(offer_id, day, now)
        if stale is not None:
            # 0 written into the statement: a quote's availability of seven items then
            # stays under the 50 parameters whose parsing psycopg caches
            stale = func.coalesce(stale, literal_column("0"))
            expr = stale if expr is None else expr + stale
    return expr


def available_condition(offer_id: ColumnElement, start: date, end: date, quantity: int,
                        now: datetime | None = None, *, days=None) -> ColumnElement:
    """True when every day of ``[start, end]`` has ``quantity`` units free.

    A day without a calendar row has no capacity. (With bound parameters for the dates,
    ``days`` is the parameter of their count.) A day with room in ``capacity - used``
    is open without looking further; only a day without looks for the units that
    expired holds still count (PostgreSQL evaluates a CASE's branches in order, so
    that subquery runs for those days alone).
    """
    now = utcnow() if now is None else now
    days = (end - start).days + 1 if days is None else days
    cd = CapacityDay.__table__.alias("cd")
    room = cd.c.capacity - cd.c.used
    one = literal_column("1")  # constants in the text, not bound: see stale_units_expr
    whens = [(room >= quantity, one)]
    stale = stale_units_expr(cd.c.offer_id, cd.c.day, now)
    if stale is not None:
        whens.append((room + stale >= quantity, one))
    open_days = (select(func.count(case(*whens)))
                 .where(and_(cd.c.offer_id == offer_id, cd.c.day >= start, cd.c.day <= end))
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


def _availability_statement(count: int):
    """The statement of :func:`are_available` for ``count`` lines, built once for the
    registered usage sources (its values are bound parameters): a quote no longer
    builds its expressions again."""
    return _statement_for(count, availability_key())


def availability_key() -> tuple:
    """What a statement built with :func:`available_condition` depends on besides its
    bound values: the registered usage sources (the key of a cache of such
    statements)."""
    return tuple(id(source) for source in _registered())


@lru_cache(maxsize=64)
def _statement_for(count: int, _sources: tuple):
    now = bindparam("now", type_=UTCDateTime())
    return select(*[
        available_condition(bindparam(f"o{n}", type_=Integer()),
                            bindparam(f"s{n}", type_=Date()),
                            bindparam(f"e{n}", type_=Date()),
                            bindparam(f"q{n}", type_=Integer()), now,
                            days=bindparam(f"d{n}", type_=Integer())).label(f"a{n}")
        for n in range(count)])
