"""A package's "from" price: what a quote would say for its default offers, quantities
and durations when the patient arrives on the default day.

Each link is priced the way :func:`journey.builder.services.quotes.price_journey` prices
a journey item (:func:`~journey.builder.services.quotes.item_price`: seasonal prices day
by day or night by night), converted into the reader's currency at the rates in force
today in the cluster, a line borne by a member counting nothing, and the package's
discount taken off the curating member's lines as the quote takes it. So a patient who
starts a journey from the package on that day and asks for a quote reads the same total
(before any insurer's share, which depends on the patient's policy).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from journey.builder.models import PackageTemplate
from journey.builder.services.quotes import item_price, package_discount
from journey.core.money import Money, convert_minor
from journey.core.types import today_in, utcnow
from providers.models import Offer
from providers.services.rates import rate_from_table, rates_in_force

#: The package page's default arrival: this many days from today.
DEFAULT_ARRIVAL_DAYS = 45


def default_arrival(now: datetime | None = None) -> date:
    """The arrival day the package page proposes and its "from" price assumes."""
    return today_in(now=now) + timedelta(days=DEFAULT_ARRIVAL_DAYS)


@dataclass(frozen=True)
class PackagePrice:
    """A package priced for one arrival day, in one currency."""

    total: Money
    subtotal: Money
    discount: Money
    arrival_on: date


@dataclass(frozen=True)
class _Item:
    """The journey item a link becomes (:func:`journeys.apply_template`), unsaved."""

    offer: Offer
    start_on: date
    days: int
    quantity: int
    companions: int = 0


def package_price(template: PackageTemplate, currency: str, *,
                  arrival_on: date | None = None, now: datetime | None = None,
                  table=None) -> PackagePrice | None:
    """``template`` priced for an arrival on ``arrival_on`` (default:
    :func:`default_arrival`) in ``currency``; None when an offer's currency has no rate
    into it, or the template has no links."""
    now = now or utcnow()
    arrival = arrival_on or default_arrival(now)
    links = list(template.links)
    if not links:
        return None
    if table is None:
        table = rates_in_force(_cluster_today(links, now))
    funder = template.provider_id
    subtotal = funder_total = 0
    for link in links:
        offer = link.default_offer
        item = _Item(offer, arrival + timedelta(days=link.day_offset or 0), link.days,
                     link.quantity)
        _unit, total_offer = item_price(item)
        rate = rate_from_table(table, offer.currency, currency)
        if rate is None:
            return None
        total = 0 if link.borne_by_provider_id is not None else convert_minor(
            total_offer, offer.currency, currency, rate.rate)
        subtotal += total
        if funder is not None and offer.provider_id == funder:
            funder_total += total
    if template.discount_minor and template.discount_currency \
            and rate_from_table(table, template.discount_currency, currency) is None:
        return None
    discount, _rate = package_discount(template, funder_total, currency, table)
    return PackagePrice(total=Money(subtotal - discount, currency),
                        subtotal=Money(subtotal, currency),
                        discount=Money(discount, currency), arrival_on=arrival)


def package_prices(found: Iterable[PackageTemplate], currency: str, *,
                   now: datetime | None = None) -> dict[int, PackagePrice | None]:
    """:func:`package_price` of several packages (a list of cards), by template id."""
    now = now or utcnow()
    tables: dict[date, dict] = {}
    prices = {}
    for template in found:
        links = list(template.links)
        if not links:
            prices[template.id] = None
            continue
        today = _cluster_today(links, now)
        if today not in tables:
            tables[today] = rates_in_force(today)
        prices[template.id] = package_price(template, currency, now=now,
                                            table=tables[today])
    return prices


def _cluster_today(links, now: datetime) -> date:
    """Today where the quote would count it: the earliest item's member (a journey
    opened from a package has no entry member; see ``composition.cluster_today``)."""
    first = min(links, key=lambda link: (link.day_offset or 0, link.position))
    return today_in(first.default_offer.provider.timezone, now)
