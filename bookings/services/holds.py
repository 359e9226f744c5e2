"""Placing, renewing and releasing holds without ever overselling.

Writing holds locks the affected capacity rows first, in a fixed order (offer, day),
recomputes availability inside the lock and only then writes. On PostgreSQL that is
``SELECT ... FOR UPDATE`` (with the connection's lock timeout, so a lock that cannot be
had becomes "busy, try again"); on SQLite a no-op ``UPDATE`` of the same rows takes the
database's single write lock before anything is read.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import date, datetime, timedelta

from flask_babel import lazy_gettext as _l
from sqlalchemy import (
    Date,
    Integer,
    and_,
    bindparam,
    case,
    func,
    literal,
    literal_column,
    null,
    select,
    union_all,
)

from bookings.models import Hold
from bookings.services.availability import Line
from journey.core.errors import Conflict, InvalidInput, NotFound
from journey.core.extensions import db
from journey.core.persistence import plus_days
from journey.core.types import UTCDateTime, utcnow
from providers.models import CapacityDay
from providers.services.availability import (
    change_used,
    lock_calendar,
    spread_by_day,
    stale_units,
    stale_units_expr,
)

#: How often a hold may be renewed before the checkout must start again.
MAX_RENEWALS = 3


class HoldUsage:
    """Units that holds use, for the catalogue's availability. Every hold not yet
    released counts in ``capacity_day.used``; one that expired before it was released
    (the ``expire_unpaid`` job releases it) no longer uses its units: stale."""

    @staticmethod
    def live(now: datetime):
        return and_(Hold.released_at.is_(None), Hold.expires_at > now)

    @staticmethod
    def stale(now: datetime):
        return and_(Hold.released_at.is_(None), Hold.expires_at <= now)

    def counted_ranges(self):
        return select(Hold.offer_id.label("offer_id"), Hold.start_on.label("start_on"),
                      Hold.end_on.label("end_on"), Hold.quantity.label("units")).where(
            Hold.released_at.is_(None))

    def stale_by_day(self, offer_id: int, start: date, end: date,
                     now: datetime) -> dict[date, int]:
        return spread_by_day(db.session.execute(
            select(Hold.start_on, Hold.end_on, Hold.quantity).where(
                Hold.offer_id == offer_id, Hold.start_on <= end, Hold.end_on > start,
                self.stale(now))).all(), start, end)

    def stale_expr(self, offer_id, day, now):
        return (select(func.coalesce(func.sum(Hold.quantity), literal_column("0")))
                .where(Hold.offer_id == offer_id, Hold.start_on <= day, Hold.end_on > day,
                       self.stale(now))
                .scalar_subquery())


HOLD_USAGE = HoldUsage()


def _lock_capacity(needs: dict[tuple[int, date], int]) -> dict[tuple[int, date], int]:
    """Lock the capacity rows of every (offer, day) in a fixed order; return the units
    not counted as used (``capacity - used``; expired holds are added back later)."""
    room: dict[tuple[int, date], int] = {}
    for offer_id in sorted({offer_id for offer_id, _day in needs}):
        days = [day for o, day in needs if o == offer_id]
        for day, units in lock_calendar(offer_id, min(days), max(days)).items():
            room[(offer_id, day)] = units
    return room


def lock_capacity_of(lines: list[Line], *, check_free_at: datetime | None = None) -> None:
    """Take the capacity locks of ``lines`` (in the same fixed order as a hold does):
    whoever moves units from one usage source to another does it under them, so a
    concurrent hold never reads the units in neither place. With ``check_free_at``,
    also refuse (409) when the units are no longer free then: a booking whose holds
    lapsed before its card was authorised must not take units sold since."""
    needs = _needs(lines)
    room = _lock_capacity(needs)
    if check_free_at is not None:
        _check_free(needs, room, check_free_at)


def _needs(lines: list[Line]) -> dict[tuple[int, date], int]:
    needs: dict[tuple[int, date], int] = defaultdict(int)
    for line in lines:
        for i in range(line.days):
            needs[(line.offer_id, line.start_on + timedelta(days=i))] += line.quantity
    return dict(needs)


def _check_free(needs, room, now: datetime, *, ignore_group: str | None = None,
                stale: dict | None = None) -> None:
    """Refuse (409) unless every (offer, day) of ``needs`` has its units free at ``now``:
    ``room`` (``capacity - used`` of each calendar row), plus the units of holds that
    expired by ``now`` unreleased (looked for only on an offer short of room, unless
    ``stale`` gives them by (offer, day)), plus, with ``ignore_group``, the units of
    that group's own live holds."""
    short = []
    for offer_id in sorted({o for o, _d in needs}):
        days = sorted(day for o, day in needs if o == offer_id)
        free = {day: room.get((offer_id, day), 0) for day in days}
        if ignore_group is not None:
            own = db.session.execute(select(Hold.start_on, Hold.end_on, Hold.quantity).where(
                Hold.offer_id == offer_id, Hold.group_key == ignore_group,
                HoldUsage.live(now))).all()
            for day, units in spread_by_day(own, days[0], days[-1]).items():
                if day in free:
                    free[day] += units
        if stale is not None:
            for day in days:
                free[day] += stale.get((offer_id, day), 0)
        elif any(free[day] < needs[(offer_id, day)] for day in days):
            # Room only counts the units of unreleased holds: add back the expired ones.
            for day, units in stale_units(offer_id, days[0], days[-1], now).items():
                if day in free:
                    free[day] += units
        short += [(offer_id, day) for day in days if free[day] < needs[(offer_id, day)]]
    if short:
        offer_id, day = short[0]
        raise Conflict(_l("Sold out: offer %(offer)s has no room left on %(day)s.",
                          offer=offer_id, day=day.isoformat()),
                       fields={"lines": [_l("Not available: offer %(offer)s on %(day)s.",
                                            offer=o, day=d.isoformat()) for o, d in short]})


def refuse_sold_out(lines: list[Line], *, now: datetime) -> None:
    """Refuse (409, the same answer a hold gives) when a line's units are not free now,
    reading the calendar without locking it: a checkout that cannot win is turned away
    before it loads or locks anything. Free units are taken only by
    :func:`place_holds`, which checks them again under the locks. One statement
    (:func:`room_of_lines` of ``lines``): each day's room, and on a day short of room
    the units of expired holds that still count in it. Checkout reads its quote's
    lines in that same statement instead (:func:`refuse_sold_out_rows`)."""
    if not lines:
        return
    # the lines as rows (a UNION ALL of one-row SELECTs: SQLite names no VALUES' columns)
    wanted = union_all(*(select(
        literal(n, Integer()).label("line"), literal(line.offer_id, Integer()).label("offer_id"),
        literal(line.start_on, Date()).label("start_on"),
        literal(line.days, Integer()).label("days"),
        literal(line.quantity, Integer()).label("quantity")) for n, line in enumerate(lines)
    )).subquery("wanted")
    refuse_sold_out_rows(db.session.execute(room_of_lines(wanted), {"now": now}), now=now)


def room_of_lines(lines):
    """For ``lines``, a subquery with the columns ``line`` (an id), ``offer_id``,
    ``start_on``, ``days`` and ``quantity``: a statement with one row per line and
    calendar day it covers (a line without calendar rows: one row, its day NULL), with
    the day's room and, on a day short of room, the units of holds that expired
    unreleased, for :func:`refuse_sold_out_rows` (``now`` bound). A day counts as short
    below the units all of its offer's rows ask for (at least what its day needs):
    looking for stale units more often than needed never refuses wrongly."""
    cd = CapacityDay.__table__
    room = cd.c.capacity - cd.c.used
    most = func.sum(lines.c.quantity).over(partition_by=lines.c.offer_id)
    expired = stale_units_expr(cd.c.offer_id, cd.c.day, bindparam("now", type_=UTCDateTime()))
    return select(
        lines.c.line, lines.c.offer_id, lines.c.start_on, lines.c.days, lines.c.quantity,
        cd.c.day, room, case((room < most, expired), else_=None)
        if expired is not None else null()
    ).select_from(lines.outerjoin(cd, and_(
        cd.c.offer_id == lines.c.offer_id, cd.c.day >= lines.c.start_on,
        cd.c.day < plus_days(lines.c.start_on, lines.c.days))))


def refuse_sold_out_rows(rows, *, now: datetime) -> None:
    """:func:`refuse_sold_out` from the rows of a :func:`room_of_lines` statement
    (nothing to refuse when there are none)."""
    lines: dict = {}
    room, stale = {}, {}
    for line, offer_id, start_on, days, quantity, day, units, expired in rows:
        lines[line] = Line(offer_id, start_on, days, quantity)
        if day is not None:
            room[(offer_id, day)] = units
            stale[(offer_id, day)] = expired or 0
    if lines:
        _check_free(_needs(list(lines.values())), room, now, stale=stale)


def _hold_ranges(holds: list[Hold], sign: int) -> list[tuple[int, date, date, int]]:
    return [(hold.offer_id, hold.start_on, hold.end_on, sign * hold.quantity)
            for hold in holds]


def place_holds(lines: list[Line], *, group_key: str, ttl: timedelta,
                now: datetime | None = None) -> list[Hold]:
    """Hold every line, or none: all-or-nothing across the lines of a checkout."""
    now = now or utcnow()
    if not lines:
        raise InvalidInput(fields={"lines": [_l("Nothing to hold.")]})
    for line in lines:
        if line.days < 1 or line.quantity < 1:
            raise InvalidInput(fields={"lines": [_l("Each line needs days and a quantity.")]})
    needs = _needs(lines)
    room = _lock_capacity(needs)
    _check_free(needs, room, now)
    holds = [Hold(group_key=group_key, offer_id=line.offer_id, start_on=line.start_on,
                  end_on=line.start_on + timedelta(days=line.days), quantity=line.quantity,
                  expires_at=now + ttl, created_at=now) for line in lines]
    db.session.add_all(holds)
    db.session.flush()
    change_used(_hold_ranges(holds, +1))  # under the locks taken above
    return holds


def _group(group_key: str) -> list[Hold]:
    holds = list(db.session.scalars(select(Hold).where(Hold.group_key == group_key)
                                    .order_by(Hold.id)))
    if not holds:
        raise NotFound(_l("No such hold."))
    return holds


def renew_holds(group_key: str, *, ttl: timedelta, now: datetime | None = None) -> list[Hold]:
    """Extend a group's holds, after checking availability again under the lock.

    A hold that has expired in the meantime counts as a new hold: its units may have
    gone to someone else, in which case the renewal fails. Renewals are limited.
    """
    now = now or utcnow()
    holds = _group(group_key)
    if any(h.released_at is not None for h in holds):
        raise Conflict(_l("These holds were released."))
    if any(h.renewals >= MAX_RENEWALS for h in holds):
        raise Conflict(_l("The hold cannot be extended again; please start over."))
    lines = [Line(h.offer_id, h.start_on, (h.end_on - h.start_on).days, h.quantity)
             for h in holds]
    needs = _needs(lines)
    room = _lock_capacity(needs)
    _check_free(needs, room, now, ignore_group=group_key)
    for hold in holds:
        hold.expires_at = now + ttl
        hold.renewals += 1
    db.session.flush()
    return holds


def release_holds(group_key: str, *, now: datetime | None = None) -> int:
    """Give the units back at once; returns how many holds were still live."""
    now = now or utcnow()
    released = 0
    written_off = []
    for hold in _group(group_key):
        if hold.released_at is None:
            hold.released_at = now
            released += hold.expires_at > now
            written_off.append(hold)
    db.session.flush()
    change_used(_hold_ranges(written_off, -1))  # expired or not, it counted until now
    return released
