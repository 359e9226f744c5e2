"""The cluster's figures for a period: journeys opened, bookings confirmed, revenue in
the cluster's currency, and who waits for an admin. Every number is one SQL aggregate
(GROUP BY); Python only adds up the few grouped rows and converts them.

A period is a run of whole days in UTC (``start`` to ``end``, both included). Revenue is
the settlement ledger's postings in the period: what the members sold (``gross`` less
the package discounts they gave, plus the cancellation fees they kept) and the cluster's
commission on it, converted from each booking's currency into the cluster's at the
stored rates in force on the period's last day (a currency without a rate is named in
``unconverted`` rather than guessed)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta

from sqlalchemy import func, select

from bookings.models import BookingEvent, BookingStatus, LedgerEntry
from journey.builder.models import Journey
from journey.core.accounts.permissions import require_cluster
from journey.core.errors import DomainError
from journey.core.extensions import db
from journey.core.money import convert_minor
from providers.models import Accreditation, AccreditationStatus, MemberStatus, Provider
from providers.services.rates import rates_in_force, require_rate

#: The ledger's kinds that make up what members sold, and the cluster's share.
SALES_KINDS = ("gross", "discount", "fee")
COMMISSION_KIND = "commission"


@dataclass(frozen=True)
class Period:
    """Whole UTC days from ``start`` to ``end``, both included."""

    start: date
    end: date

    @classmethod
    def last_days(cls, days: int, *, today: date) -> Period:
        """The ``days`` days that end with ``today``."""
        return cls(today - timedelta(days=days - 1), today)

    @property
    def days(self) -> int:
        return (self.end - self.start).days + 1

    def before(self) -> Period:
        """The period of as many days just before this one (for comparison)."""
        return Period(self.start - timedelta(days=self.days), self.start - timedelta(days=1))

    def bounds(self) -> tuple[datetime, datetime]:
        """The first instant and the instant after the last (UTC)."""
        return (datetime.combine(self.start, time(), UTC),
                datetime.combine(self.end + timedelta(days=1), time(), UTC))

    def each_day(self) -> list[date]:
        return [self.start + timedelta(days=n) for n in range(self.days)]


@dataclass(frozen=True)
class Figures:
    """What happened in ``period``; money in minor units of ``currency``."""

    period: Period
    journeys_opened: int
    bookings_confirmed: int
    sales_minor: int
    commission_minor: int
    currency: str
    rates_on: date
    unconverted: tuple[str, ...] = ()


@dataclass(frozen=True)
class DayFigures:
    day: date
    bookings_confirmed: int
    sales_minor: int


@dataclass(frozen=True)
class Waiting:
    """What waits for an admin now: members to admit, accreditations to check."""

    members: int
    accreditations: int

    @property
    def total(self) -> int:
        return self.members + self.accreditations


@dataclass(frozen=True)
class Overview:
    """A period's figures, the same figures for the period before, the days, and what
    waits now."""

    current: Figures
    previous: Figures
    days: list[DayFigures] = field(default_factory=list)
    waiting: Waiting = Waiting(0, 0)


def _day(value) -> date:
    """A ``date(...)`` column as a date (SQLite answers a string, PostgreSQL a date)."""
    return value if isinstance(value, date) else date.fromisoformat(str(value)[:10])


def _journeys_opened(period: Period) -> int:
    first, after = period.bounds()
    return db.session.scalar(select(func.count(Journey.id)).where(
        Journey.created_at >= first, Journey.created_at < after)) or 0


def _confirmations(period: Period):
    """The bookings that became confirmed in ``period``, as (day, count) rows."""
    first, after = period.bounds()
    day = func.date(BookingEvent.at)
    return db.session.execute(
        select(day, func.count(func.distinct(BookingEvent.booking_id)))
        .where(BookingEvent.subject == "booking",
               BookingEvent.to_state == BookingStatus.CONFIRMED.value,
               BookingEvent.at >= first, BookingEvent.at < after)
        .group_by(day)).all()


def _bookings_confirmed(period: Period) -> int:
    first, after = period.bounds()
    return db.session.scalar(
        select(func.count(func.distinct(BookingEvent.booking_id)))
        .where(BookingEvent.subject == "booking",
               BookingEvent.to_state == BookingStatus.CONFIRMED.value,
               BookingEvent.at >= first, BookingEvent.at < after)) or 0


class LedgerConverter:
    """Minor units of any currency into ``currency`` at the rates in force on ``on``."""

    def __init__(self, currency: str, on: date):
        self.currency, self.table, self.missing = currency, rates_in_force(on), set()

    def __call__(self, amount: int, source: str) -> int:
        if source == self.currency:
            return amount
        try:
            rate = require_rate(self.table, source, self.currency)
        except DomainError:
            self.missing.add(source)
            return 0
        return convert_minor(amount, source, self.currency, rate.rate)


def _ledger(period: Period, *, by_day: bool):
    """The ledger's sums in ``period`` by kind and currency (and day)."""
    first, after = period.bounds()
    day = func.date(LedgerEntry.at)
    columns = [LedgerEntry.kind, LedgerEntry.currency]
    if by_day:
        columns.append(day)
    return db.session.execute(
        select(*columns, func.sum(LedgerEntry.amount_minor))
        .where(LedgerEntry.kind.in_((*SALES_KINDS, COMMISSION_KIND)),
               LedgerEntry.at >= first, LedgerEntry.at < after)
        .group_by(*columns)).all()


def figures(actor, period: Period, *, currency: str) -> Figures:
    """The figures of ``period``, money in ``currency`` (the cluster's)."""
    require_cluster(actor)
    convert = LedgerConverter(currency, period.end)
    sales = commission = 0
    for kind, source, amount in _ledger(period, by_day=False):
        value = convert(int(amount), source)
        if kind == COMMISSION_KIND:
            commission -= value  # posted against the member: the cluster's share
        else:
            sales += value
    return Figures(period, _journeys_opened(period), _bookings_confirmed(period), sales,
                   commission, currency, period.end, tuple(sorted(convert.missing)))


def per_day(actor, period: Period, *, currency: str) -> list[DayFigures]:
    """Each day of ``period`` (none left out): bookings confirmed and sales."""
    require_cluster(actor)
    convert = LedgerConverter(currency, period.end)
    bookings = {_day(day): int(n) for day, n in _confirmations(period)}
    sales: dict[date, int] = {}
    for kind, source, day, amount in _ledger(period, by_day=True):
        if kind != COMMISSION_KIND:
            sales[_day(day)] = sales.get(_day(day), 0) + convert(int(amount), source)
    return [DayFigures(day, bookings.get(day, 0), sales.get(day, 0))
            for day in period.each_day()]


def waiting(actor) -> Waiting:
    """Members waiting for admission and accreditations waiting to be checked, now."""
    require_cluster(actor)
    members = db.session.scalar(select(func.count(Provider.id)).where(
        Provider.status == MemberStatus.PENDING)) or 0
    pending = db.session.scalar(select(func.count(Accreditation.id)).where(
        Accreditation.status == AccreditationStatus.PENDING)) or 0
    return Waiting(members, pending)


def overview(actor, period: Period, *, currency: str) -> Overview:
    """The admin's overview: ``period`` against the one before, day by day, and what
    waits now."""
    return Overview(figures(actor, period, currency=currency),
                    figures(actor, period.before(), currency=currency),
                    per_day(actor, period, currency=currency), waiting(actor))
