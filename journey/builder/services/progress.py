"""The patient's path and where a journey stands on it: build the package, plan the
dates, get a quote, pay, confirmed (:func:`journey_steps`, the one place that reads the
step from the journey's state); and the start from a package, with dates planned so
that every default line is available (:func:`start_from_package`).
"""

from __future__ import annotations

import enum
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from flask_babel import lazy_gettext as _l

from bookings.models import Booking, BookingStatus
from journey.builder.models import Journey, JourneyStatus
from journey.builder.plan import Violation
from journey.builder.services import composition, journeys
from journey.core.errors import InvalidInput
from journey.core.types import utcnow


class Step(enum.StrEnum):
    BUILD = "build"
    DATES = "dates"
    QUOTE = "quote"
    PAY = "pay"
    CONFIRMED = "confirmed"


STEP_TITLES = {
    Step.BUILD: _l("Choose"),
    Step.DATES: _l("Dates"),
    Step.QUOTE: _l("Quote"),
    Step.PAY: _l("Pay"),
    Step.CONFIRMED: _l("Confirmed"),
}
STEPS = tuple(Step)
#: The last step's title while it is under way: paid, the members still confirming.
CONFIRMING = _l("Being confirmed")


@dataclass(frozen=True)
class StepState:
    step: Step
    title: object  # lazy, in the reader's language
    done: bool
    current: bool


#: Journey states after the payment, while the members confirm (or once they have).
_PAID = {JourneyStatus.BOOKED, JourneyStatus.CONFIRMED, JourneyStatus.IN_PROGRESS,
         JourneyStatus.COMPLETED}
_FINISHED = {JourneyStatus.CONFIRMED, JourneyStatus.IN_PROGRESS, JourneyStatus.COMPLETED}


def current_step(journey: Journey, *, booking: Booking | None = None,
                 has_problems: bool = False) -> Step | None:
    """The step the patient is on: None for a cancelled journey. ``has_problems``: the
    package breaks a rule or has an unavailable line (its dates need planning);
    ``booking``: the journey's newest booking, if any."""
    status = journey.status
    if status == JourneyStatus.CANCELLED:
        return None
    if status in _PAID:
        return Step.CONFIRMED
    if booking is not None and booking.status == BookingStatus.PENDING_PAYMENT:
        return Step.PAY
    if status == JourneyStatus.ACCEPTED:
        return Step.PAY
    if status == JourneyStatus.QUOTED:
        return Step.QUOTE
    if not journey.items:
        return Step.BUILD
    return Step.DATES if has_problems else Step.QUOTE


def journey_steps(journey: Journey, *, booking: Booking | None = None,
                  has_problems: bool = False) -> list[StepState]:
    """The five steps, each done or not and the current one marked; empty for a
    cancelled journey. Every step before the current one is done, and the last one is
    done too once every member has confirmed (until then it reads "Being confirmed",
    not "Confirmed")."""
    current = current_step(journey, booking=booking, has_problems=has_problems)
    if current is None:
        return []
    index = STEPS.index(current)
    finished = journey.status in _FINISHED
    confirming = current == Step.CONFIRMED and not finished
    return [StepState(step, CONFIRMING if confirming and step == Step.CONFIRMED
                      else STEP_TITLES[step],
                      done=position < index or (finished and step == Step.CONFIRMED),
                      current=step == current)
            for position, step in enumerate(STEPS)]


# --- a package with dates that work ---------------------------------------------------

#: How many days after the wished arrival a package start looks for one that works.
ARRIVAL_SEARCH_DAYS = 21


@dataclass(frozen=True)
class PackageStart:
    journey: Journey
    wished_on: date  # the arrival asked for
    arrival_on: date | None  # the arrival planned (None: no plan found)
    reasons: list[Violation]  # why no plan was found, when none was

    @property
    def moved(self) -> bool:
        return self.arrival_on is not None and self.arrival_on != self.wished_on

    @property
    def planned(self) -> bool:
        return self.arrival_on is not None


def start_from_package(actor, journey_id: int, template_id: int, *,
                       arrival_on: date | None = None, now: datetime | None = None,
                       search_days: int = ARRIVAL_SEARCH_DAYS) -> PackageStart:
    """Apply the package (:func:`journeys.apply_template`), then plan its dates from the
    wished arrival; when that arrival leaves a line unavailable or a rule broken, from
    the next day, and so on for at most ``search_days`` days. The first arrival whose
    plan has no problem is kept; when none has, the package stays on the wished
    arrival and ``reasons`` says why the first one failed."""
    now = now or utcnow()
    journey = journeys.apply_template(actor, journey_id, template_id, arrival_on=arrival_on)
    wished = journey.arrival_on
    first_reasons: list[Violation] | None = None
    for offset in range(max(search_days, 0) + 1):
        arrival = wished + timedelta(days=offset)
        try:
            journeys.check_trip_dates(arrival_on=arrival)
        except InvalidInput:  # beyond the planning horizon: stop looking
            break
        journey, reasons = composition.plan_journey(actor, journey_id, arrival_on=arrival,
                                                    now=now)
        if not reasons:
            reasons = [violation for violation in composition.journey_violations(
                journey, now=now) if violation.blocking]
            if not reasons:
                return PackageStart(journey, wished, journey.arrival_on, [])
            # planned, and still a problem: the next try starts from the package again
            journey = journeys.apply_template(actor, journey_id, template_id,
                                              arrival_on=wished)
        if first_reasons is None:
            first_reasons = list(reasons)
    if journey.arrival_on != wished:  # back to the package as applied on the wish
        journey = journeys.apply_template(actor, journey_id, template_id, arrival_on=wished)
    return PackageStart(journey, wished, None, first_reasons or [])
