"""Composition rules: what makes a package a journey a patient can actually make.

Every rule is a pure function ``rule(ctx, items) -> list[Violation]``; :data:`RULES`
names them so a service can run one (:func:`run_rule`) or all (:func:`check_plan`).
A violation carries a stable ``code``, the offending ``item_key`` (``None`` for the
plan as a whole), ``blocking`` (``False`` for a mere suggestion) and a lazy
``message`` rendered in the reader's language, with dates in the reader's format.

Each problem is reported by one rule only, so :func:`check_plan` does not repeat
itself: :func:`lead_time` leaves visa support to :func:`visa_before_travel`, and
:func:`within_trip` leaves nightly items to :func:`accommodation_cover`.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from datetime import date, timedelta

from flask import has_app_context
from flask_babel import format_date
from flask_babel import lazy_gettext as _l

from journey.builder.plan import PlanContext, PlanItem, Violation, day_runs
from providers.models import CHAIN_LINK_TITLES, ChainLink

Rule = Callable[[PlanContext, list[PlanItem]], list[Violation]]

DAY = timedelta(days=1)
CONSULTATION_LINKS = frozenset({ChainLink.CONSULTATION, ChainLink.DIAGNOSTICS})
# Links that need not lie inside arrival .. departure (aftercare may follow it).
OUTSIDE_TRIP_ALLOWED = frozenset({ChainLink.TRAVEL, ChainLink.VISA_SUPPORT,
                                  ChainLink.INSURANCE})


class LocalDate:
    """A date that formats itself in the reader's locale when the message is rendered."""

    __slots__ = ("value",)

    def __init__(self, value: date):
        self.value = value

    def __str__(self) -> str:
        if has_app_context():
            return format_date(self.value)
        return self.value.isoformat()

    def __repr__(self) -> str:
        return f"LocalDate({self.value.isoformat()})"


def title_of(item: PlanItem):
    """The item's own title, or the name of its chain link when it has none."""
    return item.title or CHAIN_LINK_TITLES[item.chain_link]


def _of(items: Iterable[PlanItem], *links: ChainLink) -> list[PlanItem]:
    return [item for item in items if item.chain_link in links]


def _violation(code: str, message, item: PlanItem | None = None, *,
               blocking: bool = True) -> Violation:
    return Violation(code=code, message=message, item_key=item.key if item else None,
                     blocking=blocking)


def _too_soon(ctx: PlanContext, item: PlanItem) -> list[Violation]:
    if item.start_on < ctx.today:
        return [_violation("starts_in_past", _l(
            "%(title)s starts on %(date)s, which has already passed.",
            title=title_of(item), date=LocalDate(item.start_on)), item)]
    earliest = ctx.today + timedelta(days=item.lead_time_days)
    if item.start_on < earliest:
        return [_violation("lead_time", _l(
            "%(title)s cannot start before %(date)s: the provider needs time to prepare it.",
            title=title_of(item), date=LocalDate(earliest)), item)]
    return []


# --- the rules ----------------------------------------------------------------------


def visa_before_travel(ctx: PlanContext, items: list[PlanItem]) -> list[Violation]:
    """Visa support is finished before any travel and before arrival, and starts no
    sooner than its lead time allows."""
    found: list[Violation] = []
    travels = _of(items, ChainLink.TRAVEL)
    for visa in _of(items, ChainLink.VISA_SUPPORT):
        found.extend(_too_soon(ctx, visa))
        late_for = [t for t in travels if visa.end_on > t.start_on]
        if late_for:
            travel = min(late_for, key=lambda t: (t.start_on, t.key))
            found.append(_violation("visa_after_travel", _l(
                "%(title)s lasts until %(last)s, but %(travel)s starts on %(date)s. "
                "The visa must be ready before you travel.",
                title=title_of(visa), last=LocalDate(visa.last_day),
                travel=title_of(travel), date=LocalDate(travel.start_on)), visa))
        if ctx.arrival_on and visa.end_on > ctx.arrival_on:
            found.append(_violation("visa_after_arrival", _l(
                "%(title)s lasts until %(last)s, but you arrive on %(arrival)s. "
                "The visa must be ready before you arrive.",
                title=title_of(visa), last=LocalDate(visa.last_day),
                arrival=LocalDate(ctx.arrival_on)), visa))
    return found


def arrival_transfer(ctx: PlanContext, items: list[PlanItem]) -> list[Violation]:
    """With transfers in the plan, one meets the patient on the arrival day; any other
    transfer is on the departure day or on a day the patient moves to another stay
    (from the hospital to the sanatorium, say)."""
    transfers = _of(items, ChainLink.TRANSFER)
    if not transfers or ctx.arrival_on is None:
        return []
    found: list[Violation] = []
    if all(t.start_on != ctx.arrival_on for t in transfers):
        found.append(_violation("transfer_missing_on_arrival", _l(
            "No transfer is planned on your arrival day, %(date)s.",
            date=LocalDate(ctx.arrival_on))))
    moves = {item.start_on for item in items if item.is_nightly}
    if ctx.departure_on is not None:
        for transfer in transfers:
            if transfer.start_on not in (ctx.arrival_on, ctx.departure_on, *moves):
                found.append(_violation("transfer_wrong_day", _l(
                    "%(title)s is on %(date)s; a transfer should be on your arrival day "
                    "(%(arrival)s) or your departure day (%(departure)s).",
                    title=title_of(transfer), date=LocalDate(transfer.start_on),
                    arrival=LocalDate(ctx.arrival_on),
                    departure=LocalDate(ctx.departure_on)), transfer))
    return found


def _outside(ctx: PlanContext, item: PlanItem, code: str, *, after: bool = True
             ) -> list[Violation]:
    found: list[Violation] = []
    if ctx.arrival_on and item.start_on < ctx.arrival_on:
        found.append(_violation(code, _l(
            "%(title)s starts on %(date)s, before your arrival on %(arrival)s.",
            title=title_of(item), date=LocalDate(item.start_on),
            arrival=LocalDate(ctx.arrival_on)), item))
    if not after or ctx.departure_on is None:
        return found
    if item.is_nightly and item.end_on > ctx.departure_on:
        found.append(_violation(code, _l(
            "%(title)s checks out on %(date)s, after your departure on %(departure)s.",
            title=title_of(item), date=LocalDate(item.end_on),
            departure=LocalDate(ctx.departure_on)), item))
    elif not item.is_nightly and item.last_day > ctx.departure_on:
        found.append(_violation(code, _l(
            "%(title)s lasts until %(date)s, after your departure on %(departure)s.",
            title=title_of(item), date=LocalDate(item.last_day),
            departure=LocalDate(ctx.departure_on)), item))
    return found


def accommodation_cover(ctx: PlanContext, items: list[PlanItem]) -> list[Violation]:
    """Every night of the trip is covered by exactly one nightly item (a hotel, an
    inpatient stay, a residential rehabilitation), and none lies outside the trip."""
    nightly = sorted((i for i in items if i.is_nightly), key=lambda i: (i.start_on, i.key))
    found: list[Violation] = []
    for item in nightly:
        found.extend(_outside(ctx, item, "stay_outside_trip"))
    for index, first in enumerate(nightly):
        for second in nightly[index + 1:]:
            start, last = max(first.start_on, second.start_on), min(first.last_day,
                                                                    second.last_day)
            if start > last:
                continue
            names = {"title": title_of(first), "other": title_of(second)}
            if start == last:
                message = _l("%(title)s and %(other)s are both booked for the night of "
                             "%(date)s.", date=LocalDate(start), **names)
            else:
                message = _l("%(title)s and %(other)s are both booked for the nights from "
                             "%(first)s to %(last)s.",
                             first=LocalDate(start), last=LocalDate(last), **names)
            found.append(_violation("accommodation_overlap", message, second))
    if ctx.arrival_on is None or ctx.departure_on is None:
        return found
    covered = {day for item in nightly for day in item.occupied_days()}
    nights = (ctx.arrival_on + timedelta(days=n)
              for n in range((ctx.departure_on - ctx.arrival_on).days))
    for first, last in day_runs(night for night in nights if night not in covered):
        if first == last:
            message = _l("No accommodation is booked for the night of %(date)s.",
                         date=LocalDate(first))
        else:
            message = _l("No accommodation is booked for the nights from %(first)s to "
                         "%(last)s.", first=LocalDate(first), last=LocalDate(last))
        found.append(_violation("accommodation_gap", message))
    return found


def consultation_before_treatment(ctx: PlanContext, items: list[PlanItem]
                                  ) -> list[Violation]:
    """A treatment that requires it follows a consultation or diagnostics."""
    consultations = _of(items, *CONSULTATION_LINKS)
    found: list[Violation] = []
    for treatment in _of(items, ChainLink.TREATMENT):
        if not treatment.requires_consultation:
            continue
        if not consultations:
            found.append(_violation("consultation_missing", _l(
                "%(title)s needs a consultation or diagnostics first; please add one.",
                title=title_of(treatment)), treatment))
        elif all(c.last_day >= treatment.start_on for c in consultations):
            found.append(_violation("consultation_after_treatment", _l(
                "%(title)s on %(date)s needs a consultation or diagnostics on an "
                "earlier day.",
                title=title_of(treatment), date=LocalDate(treatment.start_on)), treatment))
    return found


def earliest_rehabilitation(rehabilitation: PlanItem, treatment: PlanItem) -> date:
    """The first day a rehabilitation may start after a treatment (never on it)."""
    return treatment.last_day + timedelta(days=max(rehabilitation.min_days_after_treatment, 1))


def rehabilitation_after_treatment(ctx: PlanContext, items: list[PlanItem]
                                   ) -> list[Violation]:
    """Rehabilitation starts its minimum gap (at least a day) after the last day of the
    latest treatment that starts before it. Rehabilitation without treatment is fine."""
    treatments = sorted(_of(items, ChainLink.TREATMENT), key=lambda t: (t.start_on, t.key))
    found: list[Violation] = []
    if not treatments:
        return found
    for rehabilitation in _of(items, ChainLink.REHABILITATION):
        before = [t for t in treatments if t.start_on < rehabilitation.start_on]
        if not before:
            found.append(_violation("rehabilitation_before_treatment", _l(
                "%(title)s starts on %(date)s, before %(treatment)s; rehabilitation comes "
                "after the treatment.",
                title=title_of(rehabilitation), date=LocalDate(rehabilitation.start_on),
                treatment=title_of(treatments[0])), rehabilitation))
            continue
        treatment = max(before, key=lambda t: (t.start_on, t.last_day, t.key))
        earliest = earliest_rehabilitation(rehabilitation, treatment)
        if rehabilitation.start_on < earliest:
            found.append(_violation("rehabilitation_too_early", _l(
                "%(title)s starts on %(start)s, too soon after %(treatment)s; it can start "
                "on %(date)s at the earliest.",
                title=title_of(rehabilitation), start=LocalDate(rehabilitation.start_on),
                treatment=title_of(treatment), date=LocalDate(earliest)), rehabilitation))
    return found


def recovery_window(treatment: PlanItem) -> tuple[date, date]:
    """The treatment days and the recovery days after them: no leisure then."""
    return treatment.start_on, treatment.last_day + timedelta(days=treatment.recovery_days)


def no_leisure_in_recovery(ctx: PlanContext, items: list[PlanItem]) -> list[Violation]:
    """No excursion on a treatment day or during the recovery after it."""
    treatments = sorted(_of(items, ChainLink.TREATMENT), key=lambda t: (t.start_on, t.key))
    found: list[Violation] = []
    for leisure in _of(items, ChainLink.LEISURE):
        for treatment in treatments:
            first, last = recovery_window(treatment)
            clash = [d for d in leisure.occupied_days() if first <= d <= last]
            if clash:
                found.append(_violation("leisure_in_recovery", _l(
                    "%(title)s on %(date)s falls in your recovery time after %(treatment)s; "
                    "please choose a day on or after %(free)s.",
                    title=title_of(leisure), date=LocalDate(clash[0]),
                    treatment=title_of(treatment), free=LocalDate(last + DAY)), leisure))
                break
    return found


def fit_to_fly(ctx: PlanContext, items: list[PlanItem]) -> list[Violation]:
    """No departure until every medical item's fit-to-fly days have passed (a medical
    item without such days only has to lie within the trip)."""
    if ctx.departure_on is None:
        return []
    found: list[Violation] = []
    for item in items:
        if not item.is_medical or item.fit_to_fly_days <= 0:
            continue  # without fit-to-fly days, within_trip / accommodation_cover judge
        earliest = item.last_day + timedelta(days=item.fit_to_fly_days)
        if ctx.departure_on < earliest:
            found.append(_violation("fit_to_fly", _l(
                "After %(title)s you should not fly before %(date)s; please plan your "
                "departure on or after that day.",
                title=title_of(item), date=LocalDate(earliest)), item))
    return found


def lead_time(ctx: PlanContext, items: list[PlanItem]) -> list[Violation]:
    """Nothing starts in the past or sooner than its provider's lead time (visa support
    is checked by :func:`visa_before_travel`)."""
    found: list[Violation] = []
    for item in items:
        if item.chain_link != ChainLink.VISA_SUPPORT:
            found.extend(_too_soon(ctx, item))
    return found


def quantity_limits(ctx: PlanContext, items: list[PlanItem]) -> list[Violation]:
    found: list[Violation] = []
    for item in items:
        if item.quantity < item.min_quantity:
            found.append(_violation("quantity_too_small", _l(
                "%(title)s needs a quantity of at least %(min)s.",
                title=title_of(item), min=item.min_quantity), item))
        elif item.max_quantity is not None and item.quantity > item.max_quantity:
            found.append(_violation("quantity_too_large", _l(
                "%(title)s allows a quantity of at most %(max)s.",
                title=title_of(item), max=item.max_quantity), item))
    return found


def childcare_needs_children(ctx: PlanContext, items: list[PlanItem]) -> list[Violation]:
    if ctx.children > 0:
        return []
    return [_violation("childcare_without_children", _l(
        "%(title)s is childcare, but no children are travelling with you.",
        title=title_of(item)), item) for item in _of(items, ChainLink.CHILDCARE)]


def visa_needed(ctx: PlanContext, items: list[PlanItem]) -> list[Violation]:
    """A suggestion, not an error: the patient may arrange the visa themselves."""
    if not ctx.needs_visa or _of(items, ChainLink.VISA_SUPPORT):
        return []
    return [_violation("visa_suggested", _l(
        "You may need a visa for this trip; consider adding visa support to your package."),
        blocking=False)]


def within_trip(ctx: PlanContext, items: list[PlanItem]) -> list[Violation]:
    """Items lie within arrival .. departure. Travel, visa support and insurance may lie
    anywhere; aftercare may follow the departure; nightly items are checked by
    :func:`accommodation_cover`."""
    found: list[Violation] = []
    for item in items:
        if item.chain_link in OUTSIDE_TRIP_ALLOWED or item.is_nightly:
            continue
        found.extend(_outside(ctx, item, "outside_trip",
                              after=item.chain_link != ChainLink.AFTERCARE))
    return found


RULES: dict[str, Rule] = {
    "visa_before_travel": visa_before_travel,
    "arrival_transfer": arrival_transfer,
    "accommodation_cover": accommodation_cover,
    "consultation_before_treatment": consultation_before_treatment,
    "rehabilitation_after_treatment": rehabilitation_after_treatment,
    "no_leisure_in_recovery": no_leisure_in_recovery,
    "fit_to_fly": fit_to_fly,
    "lead_time": lead_time,
    "quantity_limits": quantity_limits,
    "childcare_needs_children": childcare_needs_children,
    "visa_needed": visa_needed,
    "within_trip": within_trip,
}


def run_rule(name: str, ctx: PlanContext, items: list[PlanItem]) -> list[Violation]:
    """One rule by its name in :data:`RULES` (``KeyError`` for an unknown name)."""
    return RULES[name](ctx, list(items))


def check_plan(ctx: PlanContext, items: list[PlanItem]) -> list[Violation]:
    """Every violation of every rule, in rule order; an empty list is a good plan."""
    items = list(items)
    return [violation for rule in RULES.values() for violation in rule(ctx, items)]


def blocking(violations: Iterable[Violation]) -> list[Violation]:
    return [v for v in violations if v.blocking]
