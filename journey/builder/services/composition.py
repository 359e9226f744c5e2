"""Checking a journey against the chain's rules and the availability, planning its
dates, and proposing alternatives."""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import date, datetime

from flask_babel import lazy_gettext as _l
from sqlalchemy import func, select

from bookings.services.availability import Line, line_available, lines_available
from journey.builder.models import Journey, JourneyItem
from journey.builder.plan import MEDICAL_LINKS, LinkSpec, PlanContext, PlanItem, Violation
from journey.builder.planner import plan_dates
from journey.builder.rules import check_plan
from journey.builder.services.journeys import (
    check_trip_dates,
    get_journey_for_change,
    get_package,
    journey_item,
    package_changed,
)
from journey.builder.services.settings import get_settings
from journey.core.errors import InvalidInput
from journey.core.extensions import db
from journey.core.money import Money
from journey.core.reasons import why
from journey.core.types import today_in, utcnow
from providers.models import ChainLink, Offer, Provider
from providers.services.offers import offer_text, price_for, public_condition
from providers.services.rates import rate_from_table, rates_in_force


def plan_item(item: JourneyItem, language: str) -> PlanItem:
    offer = item.offer
    _language, text = offer_text(offer, language)
    return PlanItem(
        key=str(item.id), chain_link=offer.chain_link, start_on=item.start_on, days=item.days,
        quantity=item.quantity, title=text.title if text else f"#{offer.id}",
        offer_id=offer.id, provider_id=offer.provider_id, city=offer.provider.city,
        duration_unit=offer.duration_unit, lead_time_days=offer.lead_time_days,
        min_quantity=offer.min_quantity, max_quantity=offer.max_quantity,
        requires_consultation=offer.requires_consultation,
        recovery_days=offer.recovery_days, fit_to_fly_days=offer.fit_to_fly_days,
        min_days_after_treatment=offer.min_days_after_treatment)


def plan_context(journey: Journey, today: date) -> PlanContext:
    return PlanContext(today=today, arrival_on=journey.arrival_on,
                       departure_on=journey.departure_on, adults=journey.adults,
                       children=journey.children, nationality=journey.nationality,
                       visa_free=frozenset(get_settings().visa_free_nationalities))


def cluster_today(journey: Journey, now: datetime, items=None) -> date:
    """Today in the cluster (the entry member's zone, else the first item's member).
    ``items``: the journey's items when the caller has them (:func:`item_rows`)."""
    items = journey.items if items is None else items
    provider = journey.entry_provider or (items[0].offer.provider if items else None)
    return today_in(provider.timezone if provider else None, now)


def unavailable_items(journey: Journey, *, now: datetime, items=None) -> list:
    """The items whose units are not free for their dates (one statement for all):
    the journey's items, or of ``items`` (:func:`item_rows`) when given; none when
    those were read with their availability at ``now`` (``item_rows(available_at=)``)."""
    items = list(journey.items if items is None else items)
    if items and all(getattr(item, "available_at", None) == now for item in items):
        return [item for item in items if not item.available]
    free = lines_available([Line(item.offer_id, item.start_on, item.days, item.quantity)
                            for item in items], now=now)
    return [item for item, available in zip(items, free, strict=True) if not available]


def journey_violations(journey: Journey, *, language: str | None = None,
                       now: datetime | None = None, items=None) -> list[Violation]:
    """Every broken rule of the journey, and every item without availability.
    ``items``: the journey's items as :func:`item_rows` read them, when the caller has
    them (else its ``items``)."""
    now = now or utcnow()
    language = language or journey.language
    items = journey.items if items is None else items
    violations = check_plan(plan_context(journey, cluster_today(journey, now, items)),
                            [plan_item(item, language) for item in items])
    for item in unavailable_items(journey, now=now, items=items):
        _language, text = offer_text(item.offer, language)
        violations.append(Violation(
            code="unavailable", item_key=str(item.id),
            message=_l("%(title)s is not available for %(quantity)d on these dates.",
                       title=text.title if text else f"#{item.offer_id}",
                       quantity=item.quantity)))
    return violations


def check_journey(actor, journey_id: int, *, language: str | None = None,
                  now: datetime | None = None) -> tuple[Journey, list[Violation]]:
    journey = get_package(actor, journey_id)
    return journey, journey_violations(journey, language=language, now=now)


def plan_journey(actor, journey_id: int, *, arrival_on: date | None = None,
                 treatment_start: date | None = None, now: datetime | None = None):
    """Propose and apply dates for every item that satisfy the rules and availability.

    Returns ``(journey, reasons)``: when no plan exists the journey is left as it was
    and ``reasons`` says why.
    """
    now = now or utcnow()
    journey = get_journey_for_change(actor, journey_id)
    check_trip_dates(arrival_on=arrival_on, treatment_start=treatment_start)
    if not journey.items:
        raise InvalidInput(fields={"items": [_l("Add the offers to plan first.")]})
    if arrival_on is None and treatment_start is None:
        arrival_on = journey.arrival_on
    if arrival_on is None and treatment_start is None:
        raise InvalidInput(fields={"arrival_on": [
            _l("Give the arrival date or the wished treatment start.")]})
    context = plan_context(journey, cluster_today(journey, now))
    context = replace(context, arrival_on=arrival_on, departure_on=None)
    links = []
    for item in journey.items:
        offset = None
        if item.template_link_id is not None and journey.arrival_on is not None:
            offset = (item.start_on - journey.arrival_on).days
        links.append(LinkSpec(key=str(item.id), item=plan_item(item, journey.language),
                              day_offset=offset))

    def is_available(candidate: PlanItem) -> bool:
        return line_available(Line(candidate.offer_id, candidate.start_on, candidate.days,
                                   candidate.quantity), now=now)

    result = plan_dates(context, links, is_available=is_available,
                        treatment_start=treatment_start)
    if not result.ok:
        return journey, result.reasons
    by_id = {str(item.id): item for item in journey.items}
    for planned in result.items:
        base_key, _, _part = planned.key.partition("#")
        item = by_id.get(planned.key)
        if item is None:  # the planner split an item (a stay around an inpatient one)
            original = by_id[base_key]
            item = JourneyItem(offer_id=original.offer_id, quantity=original.quantity,
                               companions=original.companions,
                               borne_by_provider_id=original.borne_by_provider_id,
                               template_link_id=original.template_link_id,
                               added_by_id=actor.id, start_on=planned.start_on,
                               days=planned.days)
            journey.items.append(item)
        item.start_on, item.days = planned.start_on, planned.days
    journey.arrival_on = result.arrival_on
    journey.departure_on = result.departure_on
    package_changed(journey, actor, why("dates_planned"))
    db.session.flush()
    return journey, []


#: Lines whose alternatives must treat the same thing (plus aftercare follow-ups).
TREATING_LINKS = MEDICAL_LINKS | {ChainLink.AFTERCARE}


@dataclass(frozen=True)
class Alternative:
    """An offer that could replace a journey's line, and its unit price on the line's
    first day: ``price`` in the journey's currency at today's rate (None without a
    rate), ``original`` in the offer's own currency."""

    offer: Offer
    price: Money | None
    original: Money
    same_procedure: bool

    def __iter__(self):  # callers that unpack ``(offer, price)`` pairs
        return iter((self.offer, self.price))


def suggest_alternatives(actor, journey_id: int, item_id: int, *, limit: int = 5,
                         now: datetime | None = None) -> list[Alternative]:
    """Offers that could replace a line, available for its dates and quantity.

    What they treat decides first: for a line with a procedure (a knee replacement),
    offers of that procedure at the same link of the chain, never another procedure
    for a medical line (no hip for a knee); a medical line without one gets only
    unclassified offers of its link. A non-medical line (a room, a transfer) gets any
    offer of its link, those of its own procedure (a spa week) first. Always in the same
    city; nearest in price (in the journey's currency, at the quote's rates) first.
    """
    now = now or utcnow()
    journey = get_package(actor, journey_id)
    item = journey_item(journey, item_id)
    offer = item.offer
    table = rates_in_force(cluster_today(journey, now))

    def in_journey_currency(price: Money) -> Money | None:
        rate = rate_from_table(table, price.currency, journey.currency)
        return rate.convert(price) if rate is not None else None

    conditions = [Offer.chain_link == offer.chain_link, Offer.id != offer.id,
                  public_condition(), func.lower(Provider.city) == offer.provider.city.lower()]
    if offer.chain_link in TREATING_LINKS:
        conditions.append(Offer.procedure == offer.procedure if offer.procedure is not None
                          else Offer.procedure.is_(None))
    candidates = db.session.scalars(select(Offer).join(Provider).where(*conditions)).all()
    reference = in_journey_currency(price_for(offer, item.start_on))
    ranked = []
    for candidate in candidates:
        if not line_available(Line(candidate.id, item.start_on, item.days, item.quantity),
                              now=now):
            continue
        original = price_for(candidate, item.start_on)
        converted = in_journey_currency(original)
        same = offer.procedure is not None and candidate.procedure == offer.procedure
        distance = (abs(converted.amount - reference.amount)
                    if converted is not None and reference is not None else float("inf"))
        ranked.append(((not same, distance, candidate.id),
                       Alternative(candidate, converted, original, same)))
    ranked.sort(key=lambda r: r[0])
    return [alternative for _key, alternative in ranked[:limit]]
