"""The cluster's figures dashboard (issue 14, part 3): who comes from where, what each
member and chain link sold, who brings business to whom (one window), the funnel,
how fast members answer, the review ratings and the cancellation and refund rates.

Each figure is a function ``(actor, Filters) -> dataclasses`` made of one or two SQL
aggregates (GROUP BY); Python only converts the few grouped rows into the cluster's
currency (at the stored rates in force on the period's last day, like
:func:`journey.figures.services.figures`) and puts them in order. Money comes from the
settlement ledger, so the figures agree with it to the minor unit.

Access: the cluster's admins and coordinators see the whole cluster; a member's staff
see their own member only (the member filter is forced, see :func:`scope`).

A booking belongs to the journey of its quote (``booking.reference`` is
``"quote:<id>"``, written by checkout)."""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime

from sqlalchemy import Interval, and_, case, exists, func, or_, select, text, type_coerce
from sqlalchemy.dialects import postgresql

from bookings.models import (
    Booking,
    BookingLine,
    LedgerEntry,
    LineEndedBy,
    LineStatus,
    Payment,
    Refund,
    RefundStatus,
)
from journey.builder.models import Journey, JourneyStatus, Quote, QuoteLine
from journey.core.accounts.permissions import require_authenticated, require_member_access
from journey.core.errors import Forbidden
from journey.core.extensions import db
from journey.core.persistence import dialect_name
from journey.core.types import utcnow
from journey.figures.models import SalesMonth, WindowMonth
from journey.figures.rollup import (
    Split,
    booked_line,
    month_of,
    quote_reference,
    split,
)
from journey.figures.services import COMMISSION_KIND, SALES_KINDS, LedgerConverter, Period
from journey.reviews.models import Review, ReviewState
from providers.models import Provider


@dataclass(frozen=True)
class Filters:
    """What the dashboard counts: ``period`` (whole UTC days), one member, one link of
    the chain, one country of residence of the patients (ISO 3166 alpha-2)."""

    period: Period
    provider_id: int | None = None
    chain_link: str | None = None
    country: str | None = None


def scope(actor, filters: Filters, *, member_id: int | None = None) -> Filters:
    """The filters ``actor`` may use. With ``member_id`` (a member's own figures), the
    actor must manage that member and the member filter is forced to it; without it,
    the cluster sees everything and a member's staff only their own member."""
    actor = require_authenticated(actor)
    if member_id is not None:
        require_member_access(actor, member_id)
        return replace(filters, provider_id=member_id)
    if actor.role.is_cluster:
        return filters
    if actor.role.is_member and actor.provider_id is not None:
        return replace(filters, provider_id=actor.provider_id)
    raise Forbidden()


# --- SQL pieces -----------------------------------------------------------------------

def _custom_plans() -> None:
    """Plan each figure for its own period (PostgreSQL, this transaction only). psycopg
    prepares a statement run five times, and PostgreSQL may then keep one generic plan
    for every period: a plan for a few days (an index scan) on a whole year, several
    times slower."""
    if dialect_name() == "postgresql":
        db.session.execute(text("SET LOCAL plan_cache_mode = force_custom_plan"))
        # a year of requests sorted for their percentiles fits in memory, not on disk
        db.session.execute(text("SET LOCAL work_mem = '32MB'"))


def _seconds_between(start, end):
    """``end - start`` in seconds, as a number."""
    if dialect_name() == "postgresql":
        return func.extract("epoch", end - start)
    return (func.julianday(end) - func.julianday(start)) * 86400.0


def _in_period(column, period: Period):
    first, after = period.bounds()
    return and_(column >= first, column < after)


def _in_days(column, runs) -> object:
    """``column`` within one of the runs of days ``(first, last)`` (UTC)."""
    return or_(*[_in_period(column, Period(first, last)) for first, last in runs])


def _journey_filters(filters: Filters) -> list:
    """Conditions on ``Journey``: its patient's country, and a member or a chain link
    on one of its quotes (a member also counts the journeys it opened)."""
    conditions = []
    if filters.country:
        conditions.append(Journey.residence == filters.country)
    line_conditions = []
    if filters.provider_id is not None:
        line_conditions.append(QuoteLine.provider_id == filters.provider_id)
    if filters.chain_link:
        line_conditions.append(QuoteLine.chain_link == filters.chain_link)
    if line_conditions:
        on_quote = exists(select(QuoteLine.id).join(Quote, Quote.id == QuoteLine.quote_id)
                          .where(Quote.journey_id == Journey.id, *line_conditions))
        if filters.provider_id is not None and not filters.chain_link:
            on_quote = or_(Journey.entry_provider_id == filters.provider_id, on_quote)
        conditions.append(on_quote)
    return conditions


def _ledger_query(filters: Filters, *columns, days=None, journey: bool = False):
    """The ledger's sales and commission postings in the period (or in the runs of
    ``days`` given), with the filters."""
    runs = days if days is not None else ((filters.period.start, filters.period.end),)
    query = (select(*columns)
             .select_from(LedgerEntry)
             .outerjoin(BookingLine, BookingLine.id == LedgerEntry.line_id)
             .where(LedgerEntry.kind.in_((*SALES_KINDS, COMMISSION_KIND)),
                    _in_days(LedgerEntry.at, runs)))
    if journey or filters.country:
        query = (query.join(Booking, Booking.id == LedgerEntry.booking_id)
                 .join(Quote, Booking.reference == quote_reference())
                 .join(Journey, Journey.id == Quote.journey_id))
        if filters.country:
            query = query.where(Journey.residence == filters.country)
    if filters.chain_link:
        query = query.where(BookingLine.chain_link == filters.chain_link)
    return query


def _sources(filters: Filters, *, by_link: bool) -> Split:
    """Where a sum over the period comes from (:func:`journey.figures.rollup.split`).
    The monthly sums keep no country (nor, for the one-window sums, ``by_link`` False,
    a chain link): with such a filter the whole period is read from the ledger."""
    if filters.country or (filters.chain_link and not by_link):
        return Split((), ((filters.period.start, filters.period.end),))
    return split(filters.period.start, filters.period.end, today=utcnow().date())


def _signed(found: Split, ledger) -> list[tuple[int, list]]:
    """``(sign, rows)`` of the ledger's days to add and those to take away;
    ``ledger(days)`` is the query over those days."""
    return [(sign, db.session.execute(ledger(runs)).all())
            for sign, runs in ((1, found.edges), (-1, found.outside)) if runs]


# --- patients by country -------------------------------------------------------------

@dataclass(frozen=True)
class CountryRow:
    month: str  # YYYY-MM
    residence: str  # "" when unknown
    nationality: str
    journeys: int


def patients_by_country(actor, filters: Filters) -> list[CountryRow]:
    """Journeys opened per month by the patients' country of residence and nationality."""
    filters = scope(actor, filters)
    month = month_of(Journey.created_at)
    rows = db.session.execute(
        select(month, Journey.residence, Journey.nationality, func.count(Journey.id))
        .where(_in_period(Journey.created_at, filters.period), *_journey_filters(filters))
        .group_by(month, Journey.residence, Journey.nationality)
        .order_by(month, func.count(Journey.id).desc())).all()
    return [CountryRow(str(m), r or "", n or "", int(c)) for m, r, n, c in rows]


# --- money per member and chain link -----------------------------------------------------

@dataclass(frozen=True)
class MemberMoney:
    provider_id: int
    name: str
    chain_link: str  # "" for postings without a line
    lines: int  # booked: their gross posted in the period
    sales_minor: int
    commission_minor: int


@dataclass(frozen=True)
class Money:
    """``rows`` each converted on its own; ``sales_minor`` and ``commission_minor`` are
    each currency's ledger sum converted once, as :func:`journey.figures.services.figures`
    does, so they agree with the ledger to the minor unit (the rows may add up to a unit
    or two more or less, from rounding each row)."""

    rows: list[MemberMoney]
    currency: str
    unconverted: tuple[str, ...] = ()
    sales_minor: int = 0
    commission_minor: int = 0

    @property
    def lines(self) -> int:
        return sum(row.lines for row in self.rows)

    def by_member(self) -> list[MemberMoney]:
        """The rows added up per member (chain link ``""``), largest sales first."""
        members: dict[int, MemberMoney] = {}
        for row in self.rows:
            was = members.get(row.provider_id)
            members[row.provider_id] = row if was is None else MemberMoney(
                row.provider_id, row.name, "", was.lines + row.lines,
                was.sales_minor + row.sales_minor, was.commission_minor + row.commission_minor)
        return sorted((replace(m, chain_link="") for m in members.values()),
                      key=lambda m: (-m.sales_minor, m.name))

    def by_link(self) -> dict[str, tuple[int, int]]:
        """Sales and commission per chain link."""
        links: dict[str, tuple[int, int]] = {}
        for row in self.rows:
            sales, commission = links.get(row.chain_link, (0, 0))
            links[row.chain_link] = (sales + row.sales_minor, commission + row.commission_minor)
        return links


def _names(provider_ids) -> dict[int, str]:
    """The members' names (a look-up of the few members the figures name)."""
    ids = set(provider_ids)
    if not ids:
        return {}
    return dict(db.session.execute(select(Provider.id, Provider.name)
                                   .where(Provider.id.in_(ids))).all())


def member_money(actor, filters: Filters, *, currency: str) -> Money:
    """Lines booked, sales and the cluster's commission per member and chain link, in
    ``currency``: one aggregate of the ledger. A line counts as booked when its gross
    was posted in the period (a line cancelled later still counts; its reversal and
    fee are in the sales)."""
    filters = scope(actor, filters)
    found_in = _sources(filters, by_link=True)
    parts = []
    if found_in.months:
        kept = (select(SalesMonth.provider_id, SalesMonth.chain_link, SalesMonth.kind,
                       SalesMonth.currency, func.sum(SalesMonth.amount_minor),
                       func.sum(SalesMonth.lines))
                .where(SalesMonth.month.in_(found_in.months),
                       SalesMonth.kind.in_((*SALES_KINDS, COMMISSION_KIND)))
                .group_by(SalesMonth.provider_id, SalesMonth.chain_link, SalesMonth.kind,
                          SalesMonth.currency))
        if filters.provider_id is not None:
            kept = kept.where(SalesMonth.provider_id == filters.provider_id)
        if filters.chain_link:
            kept = kept.where(SalesMonth.chain_link == filters.chain_link)
        parts.append((1, db.session.execute(kept).all()))

    def ledger(days):
        link = func.coalesce(BookingLine.chain_link, "")
        sums = _ledger_query(
            filters, LedgerEntry.provider_id, link, LedgerEntry.kind, LedgerEntry.currency,
            func.sum(LedgerEntry.amount_minor), func.sum(booked_line()), days=days
        ).group_by(LedgerEntry.provider_id, link, LedgerEntry.kind, LedgerEntry.currency)
        if filters.provider_id is not None:
            sums = sums.where(LedgerEntry.provider_id == filters.provider_id)
        return sums

    parts += _signed(found_in, ledger)
    # each key's sum in its own currency first, then converted once
    native_rows: dict[tuple[int, str, bool, str], list[int]] = {}
    for sign, rows in parts:
        for provider_id, chain_link, kind, source, amount, lines in rows:
            key = (provider_id, chain_link, kind == COMMISSION_KIND, source)
            total = native_rows.setdefault(key, [0, 0])
            total[0] += sign * int(amount or 0)
            total[1] += sign * int(lines or 0)
    convert = LedgerConverter(currency, filters.period.end)
    found: dict[tuple[int, str], list[int]] = {}
    native: dict[tuple[str, bool], int] = {}
    for (provider_id, chain_link, commission, source), (amount, lines) in native_rows.items():
        if not amount and not lines:
            continue  # all of it was outside the period
        row = found.setdefault((provider_id, chain_link), [0, 0, 0])
        row[0] += lines
        native[(source, commission)] = native.get((source, commission), 0) + amount
        value = convert(amount, source)
        if commission:
            row[2] -= value  # posted against the member: the cluster's share
        else:
            row[1] += value
    names = _names(pid for pid, _link in found)
    rows = [MemberMoney(pid, names.get(pid, ""), chain_link, lines, sales, commission)
            for (pid, chain_link), (lines, sales, commission) in found.items()]
    rows.sort(key=lambda r: (-r.sales_minor, r.name, r.chain_link))
    sales = sum(convert(amount, source) for (source, c), amount in native.items() if not c)
    commission = -sum(convert(amount, source) for (source, c), amount in native.items() if c)
    return Money(rows, currency, tuple(sorted(convert.missing)), sales, commission)


# --- one-window attribution -------------------------------------------------------------

@dataclass(frozen=True)
class Attribution:
    """What members other than the one that opened the journeys sold on them."""

    entry_id: int
    entry_name: str
    receiver_id: int
    receiver_name: str
    lines: int  # lines booked: their gross posted in the period
    sales_minor: int


def attribution(actor, filters: Filters, *, currency: str) -> tuple[list[Attribution], tuple]:
    """For the journeys each member opened (its one window), the sales that went to
    other members in the period. A member sees what it brought and what it was brought."""
    filters = scope(actor, filters)
    found_in = _sources(filters, by_link=False)
    parts = []
    if found_in.months:
        kept = (select(WindowMonth.entry_provider_id, WindowMonth.provider_id,
                       WindowMonth.currency, func.sum(WindowMonth.lines),
                       func.sum(WindowMonth.amount_minor))
                .where(WindowMonth.month.in_(found_in.months))
                .group_by(WindowMonth.entry_provider_id, WindowMonth.provider_id,
                          WindowMonth.currency))
        if filters.provider_id is not None:
            kept = kept.where(or_(WindowMonth.entry_provider_id == filters.provider_id,
                                  WindowMonth.provider_id == filters.provider_id))
        parts.append((1, db.session.execute(kept).all()))

    def ledger(days):
        query = (_ledger_query(filters, Journey.entry_provider_id, LedgerEntry.provider_id,
                               LedgerEntry.currency, func.sum(booked_line()),
                               func.sum(LedgerEntry.amount_minor), days=days, journey=True)
                 .where(LedgerEntry.kind.in_(SALES_KINDS),
                        LedgerEntry.provider_id != Journey.entry_provider_id)
                 .group_by(Journey.entry_provider_id, LedgerEntry.provider_id,
                           LedgerEntry.currency))
        if filters.provider_id is not None:
            query = query.where(or_(Journey.entry_provider_id == filters.provider_id,
                                    LedgerEntry.provider_id == filters.provider_id))
        return query

    parts += _signed(found_in, ledger)
    native: dict[tuple[int, int, str], list[int]] = {}
    for sign, rows in parts:
        for entry_id, receiver_id, source, lines, amount in rows:
            total = native.setdefault((entry_id, receiver_id, source), [0, 0])
            total[0] += sign * int(lines or 0)
            total[1] += sign * int(amount or 0)
    convert = LedgerConverter(currency, filters.period.end)
    found: dict[tuple[int, int], list[int]] = {}
    for (entry_id, receiver_id, source), (lines, amount) in native.items():
        if not lines and not amount:
            continue  # all of it was outside the period
        row = found.setdefault((entry_id, receiver_id), [0, 0])
        row[0] += lines
        row[1] += convert(amount, source)
    names = _names(pid for pair in found for pid in pair)
    rows = [Attribution(e, names.get(e, ""), r, names.get(r, ""), lines, sales)
            for (e, r), (lines, sales) in found.items()]
    rows.sort(key=lambda a: (-a.sales_minor, a.entry_name, a.receiver_name))
    return rows, tuple(sorted(convert.missing))


# --- the funnel -------------------------------------------------------------------------

#: The funnel's steps and the states that show a journey got that far (its ``reached``).
_LATER = (JourneyStatus.BOOKED, JourneyStatus.CONFIRMED, JourneyStatus.IN_PROGRESS,
          JourneyStatus.COMPLETED)
FUNNEL_STEPS: dict[str, tuple[JourneyStatus, ...]] = {
    "quoted": (JourneyStatus.QUOTED, JourneyStatus.ACCEPTED, *_LATER),
    "accepted": (JourneyStatus.ACCEPTED, *_LATER),
    "paid": (JourneyStatus.CONFIRMED, JourneyStatus.IN_PROGRESS, JourneyStatus.COMPLETED),
    "completed": (JourneyStatus.COMPLETED,),
}
LOSS_REASONS = ("declined", "expired", "cancelled")


@dataclass(frozen=True)
class FunnelStep:
    step: str  # "journeys", then FUNNEL_STEPS' keys
    journeys: int
    lost: int  # journeys of the step before that did not get here

    @property
    def lost_share(self) -> float | None:
        before = self.journeys + self.lost
        return self.lost / before if before else None


@dataclass(frozen=True)
class Funnel:
    steps: list[FunnelStep]
    #: Why journeys that did not complete were lost (a journey may have several).
    reasons: dict[str, int]


def funnel(actor, filters: Filters, *, now: datetime) -> Funnel:
    """The journeys opened in the period and how far they got: quoted, accepted, paid
    (deposit captured: confirmed), completed; and why the others were lost: a member
    declined a line, the quote expired unaccepted, the journey was cancelled."""
    filters = scope(actor, filters)
    # how far each journey got is kept on it (``reached``); its quotes (one accepted,
    # or one still valid) ...
    quoted = select(
        Quote.journey_id.label("journey_id"),
        func.max(case((or_(Quote.accepted_at.is_not(None), Quote.expires_at >= now), 1),
                      else_=0)).label("alive")).group_by(Quote.journey_id).subquery()
    # ... and the journeys on which a member declined a line.
    declined = (select(Quote.journey_id.label("journey_id"))
                .select_from(BookingLine)
                .join(Booking, Booking.id == BookingLine.booking_id)
                .join(Quote, Booking.reference == quote_reference())
                .where(BookingLine.status == LineStatus.DECLINED,
                       BookingLine.ended_by == LineEndedBy.MEMBER)
                .group_by(Quote.journey_id).subquery())

    def reached(step):
        return case((Journey.reached.in_([s.value for s in FUNNEL_STEPS[step]]), 1), else_=0)

    open_ = Journey.status != JourneyStatus.COMPLETED
    lost = {
        "declined": and_(open_, declined.c.journey_id.is_not(None)),
        "expired": and_(open_, quoted.c.journey_id.is_not(None), quoted.c.alive == 0),
        "cancelled": Journey.status == JourneyStatus.CANCELLED,
    }
    totals = db.session.execute(
        select(func.count(Journey.id),
               *[func.coalesce(func.sum(reached(step)), 0) for step in FUNNEL_STEPS],
               *[func.coalesce(func.sum(case((lost[r], 1), else_=0)), 0)
                 for r in LOSS_REASONS])
        .select_from(Journey)
        .outerjoin(quoted, quoted.c.journey_id == Journey.id)
        .outerjoin(declined, declined.c.journey_id == Journey.id)
        .where(_in_period(Journey.created_at, filters.period), *_journey_filters(filters))
    ).one()
    counts = [int(v) for v in totals[:1 + len(FUNNEL_STEPS)]]
    names = ["journeys", *FUNNEL_STEPS]
    steps = [FunnelStep(names[i], counts[i], (counts[i - 1] - counts[i]) if i else 0)
             for i in range(len(names))]
    reasons = dict(zip(LOSS_REASONS, (int(v) for v in totals[1 + len(FUNNEL_STEPS):]),
                       strict=True))
    return Funnel(steps, reasons)


# --- member response times ------------------------------------------------------------------

@dataclass(frozen=True)
class Responses:
    provider_id: int
    name: str
    answered: int
    median_hours: float | None
    p90_hours: float | None
    within_deadline: int

    @property
    def within_share(self) -> float | None:
        return self.within_deadline / self.answered if self.answered else None


def _percentile(ordered: list[float], fraction: float) -> float | None:
    """Linear interpolation between the closest ranks (PostgreSQL's percentile_cont)."""
    if not ordered:
        return None
    position = (len(ordered) - 1) * fraction
    low = int(position)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (position - low)


def response_times(actor, filters: Filters, *, response_hours: int) -> list[Responses]:
    """Per member, the requests it accepted or declined in the period: the median and
    90th percentile of the time it took, and how many within the deadline. A request
    was sent ``response_hours`` before its deadline (``respond_by``)."""
    filters = scope(actor, filters)
    seconds = _seconds_between(BookingLine.respond_by, BookingLine.decided_at) \
        + response_hours * 3600
    conditions = [BookingLine.respond_by.is_not(None), BookingLine.decided_at.is_not(None),
                  _in_period(BookingLine.decided_at, filters.period)]
    if filters.provider_id is not None:
        conditions.append(BookingLine.provider_id == filters.provider_id)
    if filters.chain_link:
        conditions.append(BookingLine.chain_link == filters.chain_link)
    base = select(BookingLine.provider_id)
    if filters.country:
        base = (base.join(Booking, Booking.id == BookingLine.booking_id)
                .join(Quote, Booking.reference == quote_reference())
                .join(Journey, Journey.id == Quote.journey_id))
        conditions.append(Journey.residence == filters.country)
    within = func.sum(case((BookingLine.decided_at <= BookingLine.respond_by, 1), else_=0))
    if dialect_name() == "postgresql":
        # both percentiles from one sort of the intervals (read from the index alone),
        # shifted by the time the request was open before its deadline
        early = type_coerce(BookingLine.decided_at - BookingLine.respond_by, Interval)
        rows = db.session.execute(base.add_columns(
            func.count(),
            func.percentile_cont(postgresql.array([0.5, 0.9])).within_group(early), within)
            .where(*conditions).group_by(BookingLine.provider_id)).all()
        names = _names(row[0] for row in rows)
        shift = response_hours * 3600
        found = [Responses(pid, names.get(pid, ""), int(n),
                           _hours(p[0].total_seconds() + shift),
                           _hours(p[1].total_seconds() + shift), int(w or 0))
                 for pid, n, p, w in rows]
    else:  # SQLite: the durations grouped per member, ordered, then the percentiles
        ordered = base.add_columns(seconds.label("s"), BookingLine.decided_at,
                                   BookingLine.respond_by).where(*conditions) \
            .order_by(seconds).subquery()
        rows = db.session.execute(
            select(ordered.c.provider_id, func.count(),
                   func.group_concat(ordered.c.s, ","),
                   func.sum(case((ordered.c.decided_at <= ordered.c.respond_by, 1), else_=0)))
            .group_by(ordered.c.provider_id)).all()
        names = _names(row[0] for row in rows)
        found = []
        for pid, n, durations, w in rows:
            values = sorted(float(v) for v in str(durations).split(","))
            found.append(Responses(pid, names.get(pid, ""), int(n), _hours(_percentile(values, .5)),
                                   _hours(_percentile(values, .9)), int(w or 0)))
    found.sort(key=lambda r: (r.median_hours is None, -(r.median_hours or 0), r.name))
    return found


def _hours(seconds) -> float | None:
    return None if seconds is None else round(float(seconds) / 3600, 1)


# --- ratings over time -----------------------------------------------------------------------

@dataclass(frozen=True)
class RatingMonth:
    month: str
    reviews: int
    average: float  # the overall rating, 1 to 5


def ratings(actor, filters: Filters) -> list[RatingMonth]:
    """The published reviews written in the period, per month: how many, their mean."""
    filters = scope(actor, filters)
    month = month_of(Review.created_at)
    query = (select(month, func.count(Review.id), func.avg(Review.overall))
             .where(Review.state == ReviewState.PUBLISHED,
                    _in_period(Review.created_at, filters.period))
             .group_by(month).order_by(month))
    if filters.provider_id is not None:
        query = query.where(Review.provider_id == filters.provider_id)
    if filters.chain_link:
        query = query.where(Review.chain_link == filters.chain_link)
    if filters.country:
        query = query.where(Review.country == filters.country)
    return [RatingMonth(str(m), int(n), round(float(avg), 2))
            for m, n, avg in db.session.execute(query)]


# --- cancellations and refunds ----------------------------------------------------------------

@dataclass(frozen=True)
class Cancellations:
    provider_id: int
    name: str
    lines: int  # lines of bookings made in the period that were ever confirmed or ended
    cancelled: int
    declined: int

    @property
    def cancelled_share(self) -> float | None:
        return self.cancelled / self.lines if self.lines else None


@dataclass(frozen=True)
class Refunds:
    captured_minor: int
    refunded_minor: int
    currency: str
    unconverted: tuple[str, ...] = ()

    @property
    def share(self) -> float | None:
        return self.refunded_minor / self.captured_minor if self.captured_minor else None


def cancellations(actor, filters: Filters) -> list[Cancellations]:
    """Per member, the lines of the bookings made in the period: how many were
    cancelled (by anyone) or declined by the member."""
    filters = scope(actor, filters)
    query = (select(BookingLine.provider_id, func.count(BookingLine.id),
                    func.sum(case((BookingLine.status == LineStatus.CANCELLED, 1), else_=0)),
                    func.sum(case((BookingLine.status == LineStatus.DECLINED, 1), else_=0)))
             .join(Booking, Booking.id == BookingLine.booking_id)
             .where(_in_period(Booking.created_at, filters.period),
                    BookingLine.status.in_((LineStatus.CONFIRMED, LineStatus.CANCELLED,
                                            LineStatus.DECLINED)))
             .group_by(BookingLine.provider_id))
    found = db.session.execute(_line_filters(query, filters)).all()
    names = _names(row[0] for row in found)
    rows = [Cancellations(pid, names.get(pid, ""), int(n), int(c or 0), int(d or 0))
            for pid, n, c, d in found]
    rows.sort(key=lambda r: (-(r.cancelled_share or 0), r.name))
    return rows


def _line_filters(query, filters: Filters):
    if filters.provider_id is not None:
        query = query.where(BookingLine.provider_id == filters.provider_id)
    if filters.chain_link:
        query = query.where(BookingLine.chain_link == filters.chain_link)
    if filters.country:
        query = (query.join(Quote, Booking.reference == quote_reference())
                 .join(Journey, Journey.id == Quote.journey_id)
                 .where(Journey.residence == filters.country))
    return query


def refunds(actor, filters: Filters, *, currency: str) -> Refunds:
    """What was captured on the bookings made in the period and what was refunded of
    it, in ``currency`` (the cluster's; a member sees its own lines' refunds against
    the captures of the bookings it has a line on)."""
    filters = scope(actor, filters)
    on_booking = [_in_period(Booking.created_at, filters.period)]
    captured = (select(Payment.currency, func.sum(Payment.captured_minor))
                .join(Booking, Booking.id == Payment.booking_id)
                .where(*on_booking).group_by(Payment.currency))
    refunded = (select(Refund.currency, func.sum(Refund.amount_minor))
                .join(Booking, Booking.id == Refund.booking_id)
                .where(*on_booking, Refund.status == RefundStatus.SUCCEEDED)
                .group_by(Refund.currency))
    if filters.provider_id is not None or filters.chain_link or filters.country:
        lines = select(BookingLine.booking_id).join(
            Booking, Booking.id == BookingLine.booking_id)
        lines = _line_filters(lines, filters)
        captured = captured.where(Payment.booking_id.in_(lines))
        refunded = refunded.where(Refund.booking_id.in_(lines))
        if filters.provider_id is not None or filters.chain_link:
            mine = select(BookingLine.id)
            if filters.provider_id is not None:
                mine = mine.where(BookingLine.provider_id == filters.provider_id)
            if filters.chain_link:
                mine = mine.where(BookingLine.chain_link == filters.chain_link)
            refunded = refunded.where(Refund.line_id.in_(mine))
    convert = LedgerConverter(currency, filters.period.end)
    total_captured = sum(convert(int(a or 0), c) for c, a in db.session.execute(captured))
    total_refunded = sum(convert(int(a or 0), c) for c, a in db.session.execute(refunded))
    return Refunds(total_captured, total_refunded, currency, tuple(sorted(convert.missing)))


# --- everything at once -----------------------------------------------------------------------

@dataclass(frozen=True)
class Dashboard:
    filters: Filters
    currency: str
    countries: list[CountryRow]
    money: Money
    attribution: list[Attribution]
    funnel: Funnel
    responses: list[Responses]
    ratings: list[RatingMonth]
    cancellations: list[Cancellations]
    refunds: Refunds

    @property
    def unconverted(self) -> tuple[str, ...]:
        return tuple(sorted(set(self.money.unconverted) | set(self.refunds.unconverted)))


#: The figures each table of the pages needs (for one table's CSV, only those run).
PARTS = {"countries": "countries", "members": "money", "links": "money",
         "attribution": "attribution", "funnel": "funnel", "responses": "responses",
         "ratings": "ratings", "cancellations": "cancellations", "refunds": "refunds"}


def dashboard(actor, filters: Filters, *, currency: str, now: datetime,
              response_hours: int, member_id: int | None = None,
              only: str | None = None) -> Dashboard:
    """Every figure for ``filters`` (a member's own when ``member_id``); with ``only``
    (a key of :data:`PARTS`), just what that table needs, the rest left empty."""
    filters = scope(actor, filters, member_id=member_id)
    _custom_plans()
    wanted = set(PARTS.values()) if only is None else {PARTS.get(only)}

    def run(part, compute, empty):
        return compute() if part in wanted else empty

    return Dashboard(
        filters, currency,
        run("countries", lambda: patients_by_country(actor, filters), []),
        run("money", lambda: member_money(actor, filters, currency=currency),
            Money([], currency)),
        run("attribution", lambda: attribution(actor, filters, currency=currency)[0], []),
        run("funnel", lambda: funnel(actor, filters, now=now),
            Funnel([FunnelStep("journeys", 0, 0)], {})),
        run("responses", lambda: response_times(actor, filters,
                                                response_hours=response_hours), []),
        run("ratings", lambda: ratings(actor, filters), []),
        run("cancellations", lambda: cancellations(actor, filters), []),
        run("refunds", lambda: refunds(actor, filters, currency=currency),
            Refunds(0, 0, currency)))
