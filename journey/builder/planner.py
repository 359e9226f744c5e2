"""The planner: dates for every link of a package, from an arrival or a treatment start.

Pure and deterministic: the only outside knowledge is ``is_available(item)``, which
says whether an item can be booked on its dates (in production a capacity query, in
tests a fake); each answer is asked once per call. Items are placed along the chain:

* visa support as early as its lead time allows, finished before travel and arrival;
* the (first) transfer and inbound travel on the arrival day; a second transfer and
  return travel on the departure day;
* consultation / diagnostics from the day after arrival, one after another; then the
  treatment, rehabilitation after its minimum gap, leisure after the recovery time;
  interpreters, childcare and the like on the first medical day;
* departure when the last item has ended and every medical item's fit-to-fly days
  have passed (never before ``ctx.departure_on``);
* accommodation on every night not covered by a nightly item (an inpatient stay, a
  residential rehabilitation), split into ``<key>``, ``<key>#2``, ... around them;
* aftercare after the departure, insurance from the first travel day to the departure.

A template's ``day_offset`` (days after arrival) is a preference, tried first; an item
that is not available moves forward a day at a time, at most ``horizon_days``. The
plan is checked with :func:`journey.builder.rules.check_plan` before it is returned;
when no plan exists the result has no items and says why in ``reasons``.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import date, timedelta
from itertools import chain

from flask_babel import lazy_gettext as _l

from journey.builder.plan import (
    LinkSpec,
    PlanContext,
    PlanItem,
    PlanResult,
    Violation,
    day_runs,
)
from journey.builder.rules import (
    CONSULTATION_LINKS,
    LocalDate,
    blocking,
    check_plan,
    earliest_rehabilitation,
    recovery_window,
    title_of,
)
from providers.models import ChainLink

DAY = timedelta(days=1)
REANCHOR_ATTEMPTS = 3


class _NoPlan(Exception):
    def __init__(self, violation: Violation, *, arrival_bound: bool = False):
        super().__init__(violation.code)
        self.violation = violation
        self.arrival_bound = arrival_bound  # another arrival day might work


def _days(first: date, last: date):
    return (first + timedelta(days=n) for n in range((last - first).days + 1))


@dataclass
class _Plan:
    arrival: date
    departure: date
    placed: dict[str, list[PlanItem]]  # link key -> its items (accommodation may split)


class _Planner:
    def __init__(self, ctx: PlanContext, links: list[LinkSpec],
                 is_available: Callable[[PlanItem], bool], horizon_days: int):
        self.ctx = ctx
        self.links = list(links)
        self.horizon = timedelta(days=max(horizon_days, 0))
        self._is_available = is_available
        self._answers: dict[PlanItem, bool] = {}
        of = self._of
        self.visas = of(ChainLink.VISA_SUPPORT)
        travels, transfers = of(ChainLink.TRAVEL), of(ChainLink.TRANSFER)
        # The second travel and transfer go with the departure, any others with arrival.
        self.arriving = travels[:1] + travels[2:] + transfers[:1] + transfers[2:]
        self.departing = travels[1:2] + transfers[1:2]
        self.accommodations = [link for link in of(ChainLink.ACCOMMODATION)
                               if link.item.is_nightly]
        self.consultations = of(*CONSULTATION_LINKS)
        self.treatments = of(ChainLink.TREATMENT)
        self.rehabilitations = of(ChainLink.REHABILITATION)
        self.leisure = of(ChainLink.LEISURE)
        self.aftercare = of(ChainLink.AFTERCARE)
        self.insurance = of(ChainLink.INSURANCE)
        placed_by_role = {id(link) for link in chain(
            self.visas, travels, transfers, self.accommodations, self.consultations,
            self.treatments, self.rehabilitations, self.leisure, self.aftercare,
            self.insurance)}
        self.others = [link for link in self.links if id(link) not in placed_by_role]

    def _of(self, *chain_links: ChainLink) -> list[LinkSpec]:
        return [link for link in self.links if link.item.chain_link in chain_links]

    # --- availability ------------------------------------------------------------------

    def available(self, item: PlanItem) -> bool:
        if item not in self._answers:
            self._answers[item] = bool(self._is_available(item))
        return self._answers[item]

    def ready(self, link: LinkSpec) -> date:
        """The first day the link's provider can start (lead time after today)."""
        return self.ctx.today + timedelta(days=max(link.item.lead_time_days, 0))

    def at(self, link: LinkSpec, start: date, *, days: int | None = None,
           key: str | None = None) -> PlanItem:
        return replace(link.item, key=key or link.key, start_on=start,
                       days=days if days is not None else max(link.item.days, 1))

    def fixed(self, link: LinkSpec, start: date, *, arrival_bound: bool = False,
              days: int | None = None, key: str | None = None) -> PlanItem:
        item = self.at(link, start, days=days, key=key)
        if self.available(item):
            return item
        if item.days == 1 and not item.is_nightly:
            message = _l("%(title)s is not available on %(date)s.",
                         title=title_of(item), date=LocalDate(start))
        else:
            message = _l("%(title)s is not available from %(first)s to %(last)s.",
                         title=title_of(item), first=LocalDate(start),
                         last=LocalDate(item.end_on if item.is_nightly else item.last_day))
        raise _NoPlan(Violation("no_availability", message, item.key),
                      arrival_bound=arrival_bound)

    def search(self, link: LinkSpec, lower: date, preferred: date | None = None, *,
               upper: date | None = None, fits: Callable[[PlanItem], bool] | None = None
               ) -> PlanItem:
        """The first available start from ``preferred`` (else ``lower``) forward, then
        from ``lower`` up to ``preferred``; never beyond ``lower + horizon``."""
        last = lower + self.horizon if upper is None else min(upper, lower + self.horizon)
        start = preferred if preferred is not None and lower <= preferred <= last else lower
        for day in chain(_days(start, last), _days(lower, start - DAY)):
            item = self.at(link, day)
            if (fits is None or fits(item)) and self.available(item):
                return item
        raise _NoPlan(Violation("no_availability", _l(
            "%(title)s is fully booked on every day from %(first)s to %(last)s.",
            title=title_of(link.item), first=LocalDate(lower), last=LocalDate(last)),
            link.key))

    # --- the plan ------------------------------------------------------------------------

    def visa_support(self, link: LinkSpec, arrival: date | None, travel_start: date | None
                     ) -> PlanItem:
        lower = max(self.ready(link), self.ctx.today)
        if arrival is None:  # arrival not chosen yet: it will follow the visa
            return self.search(link, lower)
        days = max(link.item.days, 1)
        latest = min(arrival, travel_start or arrival) - timedelta(days=days)
        if lower > latest:
            raise _NoPlan(Violation("visa_too_late", _l(
                "%(title)s cannot be ready before %(date)s, after your arrival on "
                "%(arrival)s; please choose a later arrival.",
                title=title_of(link.item), date=LocalDate(lower + timedelta(days=days)),
                arrival=LocalDate(arrival)), link.key))
        preferred = (arrival + timedelta(days=link.day_offset)
                     if link.day_offset is not None else None)
        return self.search(link, lower, preferred, upper=latest)

    def offset(self, link: LinkSpec, arrival: date, default: date) -> date:
        """The template's preferred day for the link, else ``default``."""
        if link.day_offset is None:
            return default
        return arrival + timedelta(days=link.day_offset)

    def plan_from(self, arrival: date, wish: date | None,
                  visas: dict[str, PlanItem] | None) -> _Plan:
        placed: dict[str, list[PlanItem]] = {}
        for link in self.arriving:  # checked first: cheap, and retried with another day
            placed[link.key] = [self.fixed(
                link, arrival - timedelta(days=self.travel_back(link)), arrival_bound=True)]
        travel_start = min((placed[link.key][0].start_on for link in self.arriving
                            if link.item.chain_link == ChainLink.TRAVEL), default=None)
        for link in self.visas:
            visa = (visas or {}).get(link.key) or self.visa_support(link, arrival,
                                                                     travel_start)
            placed[link.key] = [visa]

        cursor = arrival + DAY  # medical work starts the day after arrival
        consulted: date | None = None
        for link in self.consultations:
            item = self.search(link, max(arrival, self.ready(link)),
                               self.offset(link, arrival, cursor))
            placed[link.key] = [item]
            cursor = max(cursor, item.end_on)
            consulted = max(consulted or item.end_on, item.end_on)
        treatments: list[PlanItem] = []
        for link in self.treatments:
            lower = max(arrival, self.ready(link), wish or arrival, consulted or arrival,
                        treatments[-1].end_on if treatments else arrival)
            item = self.search(link, lower, self.offset(link, arrival, max(lower, cursor)))
            placed[link.key] = [item]
            treatments.append(item)
            cursor = max(cursor, item.end_on)
        latest = max(treatments, key=lambda t: (t.start_on, t.last_day), default=None)
        rehabilitations: list[PlanItem] = []
        for link in self.rehabilitations:
            lower = max(arrival, self.ready(link),
                        earliest_rehabilitation(link.item, latest) if latest else arrival,
                        rehabilitations[-1].end_on if rehabilitations else arrival)
            item = self.search(link, lower, self.offset(link, arrival, max(lower, cursor)))
            placed[link.key] = [item]
            rehabilitations.append(item)

        windows = [recovery_window(t) for t in treatments]

        def outside_recovery(item: PlanItem) -> bool:
            return not any(first <= day <= last for first, last in windows
                           for day in item.occupied_days())

        after_recovery = max((last + DAY for _first, last in windows), default=cursor)
        for link in self.leisure:
            placed[link.key] = [self.search(
                link, max(arrival, self.ready(link)),
                self.offset(link, arrival, max(after_recovery, arrival)),
                fits=outside_recovery)]
        medical = [item for items in placed.values() for item in items if item.is_medical]
        first_medical = min((item.start_on for item in medical), default=arrival)
        for link in self.others:
            placed[link.key] = [self.search(link, max(arrival, self.ready(link)),
                                            self.offset(link, arrival, first_medical))]

        departure = self.departure(arrival, placed)
        self.accommodate(arrival, departure, placed)
        for link in self.aftercare:
            placed[link.key] = [self.search(link, max(arrival, self.ready(link)),
                                            self.offset(link, arrival, departure + DAY))]
        trip_start = min([arrival, *(i.start_on for links in placed.values() for i in links
                                     if i.chain_link == ChainLink.TRAVEL)])
        for link in self.insurance:
            days = max(link.item.days, (departure - trip_start).days + 1)
            placed[link.key] = [self.fixed(link, trip_start, days=days)]
        return _Plan(arrival, departure, placed)

    def departure(self, arrival: date, placed: dict[str, list[PlanItem]]) -> date:
        """The first day all is done and fit to fly on which the departing transfer and
        return travel are available; places those two."""
        earliest = max(arrival, self.ctx.departure_on or arrival)
        for items in placed.values():
            for item in items:
                if item.chain_link in (ChainLink.VISA_SUPPORT, ChainLink.TRAVEL):
                    continue
                earliest = max(earliest, item.end_on)
                if item.is_medical:
                    earliest = max(earliest, item.last_day + timedelta(
                        days=item.fit_to_fly_days))
        last = earliest + self.horizon
        missing = None
        for day in _days(earliest, last):
            items = [self.at(link, day) for link in self.departing]
            missing = next((item for item in items if not self.available(item)), None)
            if missing is None:
                for link, item in zip(self.departing, items, strict=True):
                    placed[link.key] = [item]
                return day
        raise _NoPlan(Violation("no_availability", _l(
            "%(title)s is fully booked on every day from %(first)s to %(last)s.",
            title=title_of(missing), first=LocalDate(earliest), last=LocalDate(last)),
            missing.key))

    def accommodate(self, arrival: date, departure: date,
                    placed: dict[str, list[PlanItem]]) -> None:
        """Accommodation on the nights no nightly item covers: the n-th accommodation
        link takes the n-th run of free nights, the last link all remaining runs."""
        covered = {day for items in placed.values() for item in items if item.is_nightly
                   for day in item.occupied_days()}
        nights = [night for night in _days(arrival, departure - DAY) if night not in covered]
        free = [(first, (last - first).days + 1) for first, last in day_runs(nights)]
        for index, link in enumerate(self.accommodations):
            last_link = index == len(self.accommodations) - 1
            runs = free[index:] if last_link else free[index:index + 1]
            if not runs:
                raise _NoPlan(Violation("accommodation_not_needed", _l(
                    "%(title)s is not needed: every night is already covered.",
                    title=title_of(link.item)), link.key))
            placed[link.key] = [
                self.fixed(link, first, days=nights,
                           key=link.key if n == 1 else f"{link.key}#{n}")
                for n, (first, nights) in enumerate(runs, start=1)]

    def treatment_gap(self) -> int:
        """Days from arrival to the first treatment when everything is available."""
        cursor = 1
        for link in self.consultations:
            start = link.day_offset if link.day_offset is not None else cursor
            cursor = max(cursor, max(start, 0) + max(link.item.days, 1))
        if not self.treatments:
            return 0
        link = self.treatments[0]
        return max(link.day_offset if link.day_offset is not None else cursor,
                   cursor if self.consultations else 0)

    def earliest_arrival(self, visas: dict[str, PlanItem]) -> date:
        """No arrival before the visa is ready and the arrival-day items' lead times."""
        visa_ready = max((visa.end_on for visa in visas.values()), default=self.ctx.today)
        earliest = max(self.ctx.today, visa_ready)
        for link in self.arriving + self.accommodations:
            back = timedelta(days=self.travel_back(link))
            earliest = max(earliest, self.ready(link) + back)
            if link.item.chain_link == ChainLink.TRAVEL:
                earliest = max(earliest, visa_ready + back)
        return earliest

    @staticmethod
    def travel_back(link: LinkSpec) -> int:
        """Days before arrival an inbound travel item starts (it ends on arrival)."""
        return max(link.item.days, 1) - 1 if link.item.chain_link == ChainLink.TRAVEL else 0

    def problems(self, plan: _Plan) -> list[Violation]:
        ctx = replace(self.ctx, arrival_on=plan.arrival, departure_on=plan.departure)
        return blocking(check_plan(ctx, self.items(plan)))

    def items(self, plan: _Plan) -> list[PlanItem]:
        return [item for link in self.links for item in plan.placed.get(link.key, [])]

    def first_arrival(self, first: date, wish: date, visas: dict[str, PlanItem]) -> _Plan:
        """A plan from the first arrival day whose arrival-day items are available."""
        arrival = first
        while True:
            try:
                return self.plan_from(arrival, wish, visas)
            except _NoPlan as exc:
                if not exc.arrival_bound or arrival >= first + self.horizon:
                    raise
            arrival += DAY

    def for_treatment(self, wish: date) -> _Plan:
        """Arrive so that consultations fit before the wished treatment day; a later
        arrival when an arrival-day item is full; then, when the treatment itself had to
        move, arrive that much later too (a shorter stay for the same treatment day)."""
        visas = {link.key: self.visa_support(link, None, None) for link in self.visas}
        gap = timedelta(days=self.treatment_gap())
        plan = self.first_arrival(max(wish - gap, self.earliest_arrival(visas)), wish, visas)
        for _ in range(REANCHOR_ATTEMPTS):
            treatment = plan.placed[self.treatments[0].key][0] if self.treatments else None
            if treatment is None or treatment.start_on - gap <= plan.arrival:
                break
            try:
                better = self.plan_from(treatment.start_on - gap, wish, visas)
            except _NoPlan:
                break
            moved = better.placed[self.treatments[0].key][0].start_on != treatment.start_on
            if moved or self.problems(better):
                break
            plan = better
        return plan


def plan_dates(ctx: PlanContext, links: list[LinkSpec], *,
               is_available: Callable[[PlanItem], bool], treatment_start: date | None = None,
               horizon_days: int = 120) -> PlanResult:
    """Dates for every link, from ``ctx.arrival_on`` or else from ``treatment_start``.

    With both, the arrival is fixed and the treatment starts no earlier than wished.
    Returns the items (accommodation possibly split), the arrival and the departure, or
    no items and the ``reasons`` why no plan exists.
    """
    planner = _Planner(ctx, links, is_available, horizon_days)
    try:
        if ctx.arrival_on is not None:
            plan = planner.plan_from(ctx.arrival_on, treatment_start, None)
        elif treatment_start is not None:
            plan = planner.for_treatment(treatment_start)
        else:
            return PlanResult(reasons=[Violation("no_dates", _l(
                "Please choose an arrival date or a wished treatment start."))])
    except _NoPlan as exc:
        return PlanResult(reasons=[exc.violation])
    problems = planner.problems(plan)
    if problems:
        return PlanResult(reasons=problems)
    return PlanResult(items=planner.items(plan), arrival_on=plan.arrival,
                      departure_on=plan.departure)
