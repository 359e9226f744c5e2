"""The plain data the composition rules and the planner work on.

A journey's items are turned into :class:`PlanItem` values (no database, no Flask), so
the rules and the planner are pure functions that a test, a service or a job can call
alike.

Conventions for dates: an item occupies the local days ``start_on`` .. ``last_day``
(``days`` of them). For a nightly item (accommodation, an inpatient stay, a
residential rehabilitation) each occupied day is a *night*: a 3-night stay starting on
the 1st occupies the nights of the 1st, 2nd and 3rd and checks out on the 4th
(``end_on``).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, timedelta

from providers.models import ChainLink, DurationUnit

MEDICAL_LINKS = frozenset({ChainLink.CONSULTATION, ChainLink.DIAGNOSTICS,
                           ChainLink.TREATMENT, ChainLink.REHABILITATION})


def day_runs(days: Iterable[date]) -> list[tuple[date, date]]:
    """``days`` as runs of consecutive days, ``(first, last)`` each, earliest first
    (in any order, repeats allowed)."""
    runs: list[tuple[date, date]] = []
    for day in sorted(set(days)):
        if runs and runs[-1][1] + timedelta(days=1) == day:
            runs[-1] = (runs[-1][0], day)
        else:
            runs.append((day, day))
    return runs


@dataclass(frozen=True)
class PlanItem:
    key: str  # stable id of the item within the plan (e.g. the JourneyItem id)
    chain_link: ChainLink
    start_on: date
    days: int  # occupied days (nights for a nightly item), at least 1
    quantity: int = 1
    title: str = ""
    offer_id: int | None = None
    provider_id: int | None = None
    city: str | None = None
    duration_unit: DurationUnit = DurationUnit.DAYS
    lead_time_days: int = 0
    min_quantity: int = 1
    max_quantity: int | None = None
    requires_consultation: bool = False  # treatment: consultation/diagnostics first
    recovery_days: int = 0  # treatment: no leisure until this many days after it
    fit_to_fly_days: int = 0  # medical: no departure until this many days after it
    min_days_after_treatment: int = 0  # rehabilitation: gap after the last treatment

    @property
    def last_day(self) -> date:
        return self.start_on + timedelta(days=self.days - 1)

    @property
    def end_on(self) -> date:
        """The day after the last occupied day (check-out for a nightly item)."""
        return self.start_on + timedelta(days=self.days)

    @property
    def is_nightly(self) -> bool:
        return self.duration_unit == DurationUnit.NIGHTS

    @property
    def is_medical(self) -> bool:
        return self.chain_link in MEDICAL_LINKS

    def occupied_days(self) -> list[date]:
        return [self.start_on + timedelta(days=i) for i in range(self.days)]


@dataclass(frozen=True)
class PlanContext:
    today: date
    arrival_on: date | None
    departure_on: date | None
    adults: int = 1  # the patient included
    children: int = 0
    nationality: str | None = None  # ISO 3166 alpha-2
    visa_free: frozenset[str] = frozenset()  # nationalities that need no visa

    @property
    def needs_visa(self) -> bool:
        return bool(self.nationality) and self.nationality not in self.visa_free


@dataclass(frozen=True)
class Violation:
    """A broken rule, explained in the reader's language (``message`` is lazy)."""

    code: str
    message: object
    item_key: str | None = None
    blocking: bool = True  # False: a warning or a suggestion, not an error


@dataclass
class LinkSpec:
    """One link the planner must place: what to book and how it relates to the trip."""

    key: str
    item: PlanItem  # start_on is a placeholder; the planner chooses it
    day_offset: int | None = None  # days after arrival, when the template fixes it


@dataclass
class PlanResult:
    items: list[PlanItem] = field(default_factory=list)
    arrival_on: date | None = None
    departure_on: date | None = None
    reasons: list[Violation] = field(default_factory=list)  # why no plan, when none

    @property
    def ok(self) -> bool:
        return not self.reasons
