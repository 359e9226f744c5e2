"""The ledger's monthly sums the dashboard reads a year from (issue 14, "fast on a real
year"): :class:`~journey.figures.models.SalesMonth` and
:class:`~journey.figures.models.WindowMonth`.

- :func:`record_posting` (connected to :data:`bookings.services.audit.ledger_posted` by
  ``create_app``) inserts a posting's own rows in the transaction that posts it;
- :func:`compact` (a scheduled job) merges the months that have such rows into one row
  per key: it deletes the month's rows (``RETURNING`` what it deleted, so a posting
  committed meanwhile is neither lost nor counted twice) and inserts their sums;
- :func:`rebuild` recomputes both tables from the ledger (``flask figures rebuild``,
  and after the benchmark fills a ledger with SQL); :func:`differences` compares them
  with the ledger, for the tests and the repair command.

A period reads the months it covers whole from these tables and its first and last
partial month from the ledger itself (:func:`split`), so the answer is the ledger's to
the minor unit whatever the compaction has done.
"""

from __future__ import annotations

import weakref
from collections import defaultdict
from dataclasses import dataclass
from datetime import UTC, date, timedelta

from sqlalchemy import and_, case, delete, func, insert, literal, select

from bookings.models import Booking, BookingLine, LedgerEntry
from journey.builder.models import Journey, Quote, quote_reference
from journey.builder.services.booking_link import journey_of
from journey.core.extensions import db
from journey.core.persistence import dialect_name
from journey.figures.models import SalesMonth, WindowMonth
from journey.figures.services import SALES_KINDS

_SALES_KEY = ("month", "provider_id", "chain_link", "kind", "currency")
_WINDOW_KEY = ("month", "entry_provider_id", "provider_id", "currency")


# --- SQL pieces shared with the dashboard ----------------------------------------------------

def month_of(column):
    """A timestamp's month as ``YYYY-MM`` (UTC)."""
    if dialect_name() == "postgresql":
        return func.to_char(func.timezone("UTC", column), "YYYY-MM")
    return func.strftime("%Y-%m", column)


def booked_line():
    """1 for a posting that books a line (its positive gross), else 0."""
    return case((and_(LedgerEntry.kind == "gross", LedgerEntry.amount_minor > 0), 1), else_=0)


# --- the period: whole months from the sums, the rest from the ledger -------------------------

@dataclass(frozen=True)
class Split:
    """How to add up a period: the ``months`` (``YYYY-MM``) read from the monthly sums,
    plus the runs of days (``(first, last)``, both included) in ``edges`` read from the
    ledger, minus those in ``outside`` read from the ledger."""

    months: tuple[str, ...]
    edges: tuple[tuple[date, date], ...]
    outside: tuple[tuple[date, date], ...] = ()


def split(start: date, end: date, *, today: date | None = None) -> Split:
    """The whole months of ``[start, end]`` come from the sums. A month it covers in
    part comes either from the ledger (its days in the period) or, when ``today`` is
    given and that reads fewer days that have happened, from the sums less the
    ledger's other days of the month (a period that ends today: the rest of this month
    has no postings yet)."""
    months, edges, outside = [], [], []
    day = date(start.year, start.month, 1)
    while day <= end:
        after = _next_month(day)
        first, last = max(day, start), min(after - timedelta(days=1), end)
        key = f"{day.year:04d}-{day.month:02d}"
        if (first, last) == (day, after - timedelta(days=1)):
            months.append(key)
        else:
            others = [run for run in ((day, first - timedelta(days=1)),
                                      (last + timedelta(days=1), after - timedelta(days=1)))
                      if run[0] <= run[1]]
            if today is not None and sum(_past(run, today) for run in others) \
                    < _past((first, last), today):
                months.append(key)
                outside.extend(others)
            else:
                edges.append((first, last))
        day = after
    return Split(tuple(months), tuple(edges), tuple(outside))


def _past(run: tuple[date, date], today: date) -> int:
    """How many days of ``run`` are today or before (the ones postings can be on)."""
    return max(0, (min(run[1], today) - run[0]).days + 1)


def _next_month(day: date) -> date:
    return date(day.year + day.month // 12, day.month % 12 + 1, 1)


# --- writing -----------------------------------------------------------------------------------

def record_posting(booking: Booking, *, entry: LedgerEntry, line: BookingLine | None) -> None:
    """The rows of one ledger posting (a receiver of ``ledger_posted``)."""
    at = entry.at if entry.at.tzinfo is None else entry.at.astimezone(UTC)
    month = at.strftime("%Y-%m")  # the month in UTC, as the ledger's SQL reads it
    lines = 1 if entry.kind == "gross" and entry.amount_minor > 0 else 0
    db.session.add(SalesMonth(
        month=month, provider_id=entry.provider_id,
        chain_link=(line.chain_link or "") if line is not None else "", kind=entry.kind,
        currency=entry.currency, amount_minor=entry.amount_minor, lines=lines, merged=False))
    if entry.kind not in SALES_KINDS:
        return
    opened_by = _entry_member(booking)
    if opened_by is not None and opened_by != entry.provider_id:
        db.session.add(WindowMonth(
            month=month, entry_provider_id=opened_by, provider_id=entry.provider_id,
            currency=entry.currency, amount_minor=entry.amount_minor, lines=lines,
            merged=False))


#: booking (the session's instance) -> the member that opened its journey
_OPENED_BY: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()


def _entry_member(booking: Booking) -> int | None:
    """The member that opened the booking's journey (None: the cluster or the patient),
    looked up once per loaded booking (a booking's postings come together)."""
    if booking not in _OPENED_BY:
        journey = journey_of(booking)  # often in the session already (its follow-ups)
        _OPENED_BY[booking] = journey.entry_provider_id if journey is not None else None
    return _OPENED_BY[booking]


def compact() -> int:
    """Merge every month that has a posting's own rows into one row per key; the number
    of rows removed. Run by the scheduler (one process at a time)."""
    removed = 0
    for model, key in ((SalesMonth, _SALES_KEY), (WindowMonth, _WINDOW_KEY)):
        months = list(db.session.scalars(
            select(model.month).where(model.merged.is_(False)).distinct()))
        if not months:
            continue
        columns = [getattr(model, name) for name in key]
        gone = db.session.execute(
            delete(model).where(model.month.in_(months))
            .returning(*columns, model.amount_minor, model.lines)).all()
        sums: dict[tuple, list[int]] = defaultdict(lambda: [0, 0])
        for *values, amount, lines in gone:
            total = sums[tuple(values)]
            total[0] += amount
            total[1] += lines
        if sums:
            db.session.execute(insert(model), [
                {**dict(zip(key, values, strict=True)), "amount_minor": amount,
                 "lines": lines, "merged": True}
                for values, (amount, lines) in sums.items()])
        removed += len(gone) - len(sums)
    return removed


def _sales_from_ledger():
    month = month_of(LedgerEntry.at)
    link = func.coalesce(BookingLine.chain_link, "")
    return (select(month, LedgerEntry.provider_id, link, LedgerEntry.kind,
                   LedgerEntry.currency, func.sum(LedgerEntry.amount_minor),
                   func.sum(booked_line()))
            .select_from(LedgerEntry)
            .outerjoin(BookingLine, BookingLine.id == LedgerEntry.line_id)
            .group_by(month, LedgerEntry.provider_id, link, LedgerEntry.kind,
                      LedgerEntry.currency))


def _window_from_ledger():
    month = month_of(LedgerEntry.at)
    return (select(month, Journey.entry_provider_id, LedgerEntry.provider_id,
                   LedgerEntry.currency, func.sum(LedgerEntry.amount_minor),
                   func.sum(booked_line()))
            .select_from(LedgerEntry)
            .join(Booking, Booking.id == LedgerEntry.booking_id)
            .join(Quote, Booking.reference == quote_reference())
            .join(Journey, Journey.id == Quote.journey_id)
            .where(LedgerEntry.kind.in_(SALES_KINDS), Journey.entry_provider_id.is_not(None),
                   LedgerEntry.provider_id != Journey.entry_provider_id)
            .group_by(month, Journey.entry_provider_id, LedgerEntry.provider_id,
                      LedgerEntry.currency))


def rebuild() -> tuple[int, int]:
    """Both tables again from the ledger, merged; their row counts."""
    counts = []
    for model, key, source in ((SalesMonth, _SALES_KEY, _sales_from_ledger()),
                               (WindowMonth, _WINDOW_KEY, _window_from_ledger())):
        db.session.execute(delete(model))
        db.session.execute(insert(model).from_select(
            [*key, "amount_minor", "lines", "merged"], source.add_columns(literal(True))))
        counts.append(db.session.scalar(select(func.count()).select_from(model)))
    return counts[0], counts[1]


def differences() -> list[str]:
    """Where the sums disagree with the ledger (empty when they agree)."""
    found = []
    for name, model, key, source in (
            ("sales", SalesMonth, _SALES_KEY, _sales_from_ledger()),
            ("window", WindowMonth, _WINDOW_KEY, _window_from_ledger())):
        columns = [getattr(model, part) for part in key]
        kept = {tuple(values): (int(amount), int(lines)) for *values, amount, lines in
                db.session.execute(select(*columns, func.sum(model.amount_minor),
                                          func.sum(model.lines)).group_by(*columns))}
        truth = {tuple(values): (int(amount), int(lines or 0))
                 for *values, amount, lines in db.session.execute(source)}
        for where in sorted(set(kept) | set(truth), key=str):
            if kept.get(where, (0, 0)) != truth.get(where, (0, 0)):
                found.append(f"{name} {where}: kept {kept.get(where)}, "
                             f"ledger {truth.get(where)}")
    return found
