"""Quotes: a stored, itemised price of a journey that holds until it expires.

Amounts are integers of minor units. Each line is priced in its offer's currency (the
seasonal price of every night or day), converted once into the patient's currency at
the rate in force today (half-even, to the currency's minor unit) and stored with that
rate and its date. Totals are sums of the stored lines; nothing is recomputed later.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal
from functools import cache

from flask_babel import force_locale, get_locale
from flask_babel import lazy_gettext as _l
from sqlalchemy import Integer, bindparam, func, select
from sqlalchemy.orm.attributes import set_committed_value

from bookings.payments import MAX_PAYMENT_MINOR
from journey.builder.models import (
    Journey,
    JourneyStatus,
    PackageTemplate,
    Quote,
    QuoteLine,
    QuoteLineKind,
)
from journey.builder.services.composition import cluster_today, journey_violations
from journey.builder.services.journeys import (
    get_journey_for_change,
    get_package,
    item_rows,
    transition,
    transition_to_write,
    visible_journey,
)
from journey.builder.services.settings import settings_with
from journey.core.accounts.models import Role
from journey.core.errors import Conflict, DomainError, Forbidden, InvalidInput, NotFound, refuse
from journey.core.extensions import db
from journey.core.money import Money, convert_minor, format_money, percent_of
from journey.core.persistence import insert_new_with_children
from journey.core.reasons import why
from journey.core.types import utcnow
from journey.insurance.services import coverage
from providers.models import PriceUnit
from providers.services.offers import offer_text, price_for
from providers.services.rates import (
    RATES_VERSION,
    Rate,
    rate_from_table,
    rates_of_version,
    saw_rates_version,
)


def item_price(item, *, companions: bool = False) -> tuple[int, int]:
    """``(unit price on the start day, total in the offer's currency)`` of one item.

    Nightly and daily prices are summed over every occupied day, so a stay across a
    seasonal boundary is priced night by night. Per-stay, per-session and per-person
    prices count once per unit of ``quantity``.
    """
    offer = item.offer
    days = [item.start_on + timedelta(days=i) for i in range(item.days)]
    if offer.price_unit in (PriceUnit.NIGHT, PriceUnit.DAY):
        per_unit = sum(price_for(offer, day).amount for day in days)
        per_companion = sum(price_for(offer, day, companion=True).amount for day in days)
    else:
        per_unit = price_for(offer, item.start_on).amount
        per_companion = price_for(offer, item.start_on, companion=True).amount
    total = per_unit * item.quantity + per_companion * item.companions
    return price_for(offer, item.start_on).amount, total


def _terms(offer) -> list[dict]:
    return [{"days_before": t.days_before, "refund_percent": t.refund_percent}
            for t in offer.cancellation_tiers]


def package_discount(template: PackageTemplate | None, subtotal: int, currency: str,
              table) -> tuple[int, Rate | None]:
    """The package's discount on ``subtotal``, the template's own member's lines (it
    funds the discount from them; a cluster package has none): at most all of it."""
    if template is None or template.provider_id is None or subtotal <= 0:
        return 0, None
    if template.discount_percent:
        return min(subtotal, percent_of(subtotal, template.discount_percent)), None
    if template.discount_minor:
        rate = _quoting_rate(table, template.discount_currency, currency)
        amount = convert_minor(template.discount_minor, template.discount_currency, currency,
                               rate.rate)
        return min(subtotal, amount), rate
    return 0, None


def _in_language(language: str, message) -> str:
    """``message`` in the journey's language: a stored line is read by the patient,
    whoever asked for the quote."""
    with force_locale(language):
        return str(message)


def create_quote(actor, journey_id: int, *, now: datetime | None = None) -> Quote:
    """Price the journey as it stands into a new quote version.

    Refused while a rule is broken or an item is unavailable, so a quote is always a
    plan that can be booked.
    """
    # the journey's row locked as it is read (see price_journey)
    return price_journey(get_journey_for_change(actor, journey_id), actor,
                         now=now or utcnow(), locked=True)


@cache
def _version_columns() -> tuple:
    """What a quote reads with the cluster's settings, for the journey bound as
    ``journey_id``: its last version, the rates' version and its active insurance
    policy (built once: a quote no longer builds and keys these statements)."""
    journey_id = bindparam("journey_id", type_=Integer())
    return (select(func.max(Quote.version)).where(Quote.journey_id == journey_id)
            .scalar_subquery(), RATES_VERSION, coverage.active_policy_id(journey_id))


def price_journey(journey: Journey, actor, *, now: datetime, locked: bool = False) -> Quote:
    """A new quote version of ``journey``, for a caller whose right to change it has been
    decided (:func:`create_quote`, or a treating member amending its own lines when it
    approves the patient's case). ``locked``: the caller read the journey with its row
    lock (:func:`~journey.builder.services.journeys.visible_journey`)."""
    # read-only rows (no ORM object per offer, text, price), with their availability
    items = item_rows(journey, available_at=now)
    if not items:
        raise Conflict(_l("Add at least one offer before asking for a quote."))
    # Versions are numbered under a lock on the journey row (PostgreSQL), so concurrent
    # requests get 1, 2, 3...; SQLite serialises writers, and the unique constraint on
    # (journey, version) is the last word on both. Once the lock is held (by a statement
    # of its own, here or the caller's read of the journey: the next one must see what
    # the lock's last holder committed), one statement reads the cluster's settings
    # (the rules below read them too), the last version, the rates' version and whether
    # an insurance policy is active.
    if not locked:
        db.session.execute(select(Journey.id).where(Journey.id == journey.id)
                           .with_for_update())
    settings, (last, rates_seen, policy_id) = settings_with(
        *_version_columns(), parameters={"journey_id": journey.id})
    blocking = [v for v in journey_violations(journey, now=now, items=items) if v.blocking]
    if blocking:
        raise Conflict(_l("The package breaks some rules; fix them first."),
                       fields={"items": [str(v.message) for v in blocking]})
    today = cluster_today(journey, now, items)
    version = (last or 0) + 1
    saw_rates_version(rates_seen)
    quote = Quote(journey_id=journey.id, version=version, currency=journey.currency,
                  language=journey.language, created_by_id=actor.id, created_at=now,
                  expires_at=now + timedelta(hours=settings.quote_validity_hours),
                  deposit_percent=settings.deposit_percent)
    table = rates_of_version(today, rates_seen)  # one table of rates for every line
    lines = []
    for item in items:
        offer = item.offer
        _language, text = offer_text(offer, journey.language)
        unit, total_offer = item_price(item)
        rate = _quoting_rate(table, offer.currency, journey.currency)
        borne = item.borne_by_provider_id is not None
        lines.append(QuoteLine(
            kind=QuoteLineKind.BORNE if borne else QuoteLineKind.ITEM,
            journey_item_id=item.id, offer_id=offer.id, provider_id=offer.provider_id,
            provider_name=offer.provider.name, chain_link=offer.chain_link,
            title=text.title if text else f"#{offer.id}", start_on=item.start_on,
            days=item.days, quantity=item.quantity, companions=item.companions,
            unit_price_minor=unit, offer_currency=offer.currency,
            total_offer_minor=total_offer,
            total_minor=0 if borne else convert_minor(total_offer, offer.currency,
                                                      journey.currency, rate.rate),
            rate=rate.rate, rate_on=rate.effective_on,
            borne_by_provider_id=item.borne_by_provider_id,
            inclusions=list(text.inclusions) if text else [],
            exclusions=list(text.exclusions) if text else [],
            cancellation_terms=_terms(offer)))
    subtotal = sum(line.total_minor for line in lines)
    template = db.session.get(PackageTemplate, journey.template_id) if journey.template_id \
        else None
    funder = template.provider_id if template is not None else None
    discount, discount_rate = package_discount(
        template, sum(line.total_minor for line in lines if line.provider_id == funder),
        journey.currency, table)
    if discount:
        lines.append(QuoteLine(
            kind=QuoteLineKind.DISCOUNT, provider_id=funder,
            title=_in_language(journey.language, _l("Package discount")),
            offer_currency=(template.discount_currency or journey.currency),
            total_offer_minor=-(template.discount_minor or discount),
            total_minor=-discount,
            rate=discount_rate.rate if discount_rate else Decimal(1),
            rate_on=discount_rate.effective_on if discount_rate else None))
    for position, line in enumerate(lines, start=1):
        line.position = position
    # The patient's insurer (journey.insurance.services.coverage): its share of each
    # line is not the patient's to pay; a guarantee of it is asked below.
    policy = coverage.active_policy(journey.id) if policy_id is not None else None
    if policy is not None:
        bases = [line.total_minor - share for line, share in zip(
            lines, coverage.discount_shares(lines, discount, funder), strict=True)]
        for line, covered in zip(lines, coverage.covered_amounts(
                policy.product, lines, bases, currency=journey.currency, table=table),
                strict=True):
            line.covered_minor = covered
    quote.subtotal_minor = subtotal
    quote.discount_minor = discount
    quote.covered_minor = sum(line.covered_minor or 0 for line in lines)
    quote.total_minor = sum(line.total_minor for line in lines) - quote.covered_minor
    quote.deposit_minor = percent_of(quote.total_minor, settings.deposit_percent)
    quote.balance_minor = quote.total_minor - quote.deposit_minor
    first_day = min(item.start_on for item in items)
    quote.balance_due_on = max(today, first_day - timedelta(days=settings.balance_due_days))
    if max(quote.deposit_minor, quote.balance_minor) > MAX_PAYMENT_MINOR:
        raise InvalidInput(_l(
            "This package costs more than one card payment can carry (%(amount)s at a "
            "time): a coordinator can split it into several journeys.",
            amount=format_money(Money(MAX_PAYMENT_MINOR, journey.currency),
                                str(get_locale() or "en"))))
    # The quote, its lines, the journey's new state and the row recording it in one
    # statement (PostgreSQL), without the unit of work (its flushes took 5-6 ms of a 20 ms
    # quote in-process, then 1 ms of 7 for the state alone: `python -m bench.quote
    # --profile`)
    moved, changes = transition_to_write(journey, JourneyStatus.QUOTED, actor=actor,
                                         now=now, reason=why("quoted", version=version))
    insert_new_with_children(quote, lines, key="quote_id", also=[moved],
                             update=(journey, changes))
    set_committed_value(quote, "lines", lines)
    db.session.expire(journey, ["transitions"])  # one more, without loading the history
    db.session.flush()
    if policy is not None:
        coverage.request_guarantee(policy, quote, now=now)
        db.session.flush()
    db.session.expire(journey, ["quotes"])
    return quote


def get_quote(actor, quote_id: int) -> Quote:
    quote = db.session.get(Quote, quote_id)
    if quote is None:
        raise NotFound(_l("No such quote."))
    # its prices: not for a member supplying a line. The journey read to decide is the
    # quote's: kept on it, not dropped by the session and read again on first use.
    try:
        journey = get_package(actor, quote.journey_id)
    except NotFound as hidden:  # a quote the caller may not see is a quote not found
        raise NotFound(_l("No such quote.")) from hidden
    set_committed_value(quote, "journey", journey)
    return quote


def _quoting_rate(table, source: str, target: str) -> Rate:
    """The rate a quote converts with; none stored is 409, the journey's currency
    conflicting with the cluster's rates (it was 422 on a ``currency`` field of a
    request that has no body)."""
    rate = rate_from_table(table, source, target)
    if rate is None:
        raise Conflict(_l("No exchange rate from %(source)s to %(target)s.", source=source,
                          target=target))
    return rate


def latest_version(journey: Journey) -> int:
    """The journey's newest quote version (0 before any), without loading the quotes."""
    return db.session.scalar(select(func.max(Quote.version))
                             .where(Quote.journey_id == journey.id)) or 0


def acceptance_refusal(actor, quote: Quote, *, now: datetime) -> DomainError | None:
    """Why ``actor`` may not accept ``quote`` now (None when it may): the one rule the
    accept action and the quote page share."""
    journey = quote.journey
    if actor.role not in (Role.PATIENT, Role.COORDINATOR, Role.ADMIN):
        return Forbidden(_l("The patient accepts a quote (or a coordinator for them)."))
    if journey.status == JourneyStatus.CANCELLED:
        return Conflict(_l("This journey is cancelled."))
    if quote.version != latest_version(journey):
        return Conflict(_l("The journey has changed since this quote; accept the newest "
                           "version."))
    if journey.status != JourneyStatus.QUOTED:  # changed since, and not quoted again
        return Conflict(_l("The journey has changed since this quote; ask for a new "
                           "quote."))
    if quote.expires_at <= now:
        return Conflict(_l("This quote has expired; ask for a new one."))
    return None


def accept_quote(actor, quote_id: int, *, now: datetime | None = None) -> Quote:
    """The patient (or a coordinator for them) accepts the latest, unexpired version.

    The journey's row is locked first and the quote read afresh, as every change of the
    journey does: an acceptance at the same moment as another (two tabs) is the same
    answer, not a second move; one at the same moment as a change of the package or a
    new version is decided on what that change left."""
    now = now or utcnow()
    quote = get_quote(actor, quote_id)
    visible_journey(actor, quote.journey_id, lock=True)  # quote.journey, read afresh
    db.session.refresh(quote, ["accepted_at", "accepted_by_id"])
    if (quote.accepted_at is not None and actor.role in (Role.PATIENT, Role.COORDINATOR,
                                                         Role.ADMIN)
            and quote.version == latest_version(quote.journey)):
        return quote  # accepting twice changes nothing (an older version: refused below)
    refuse(acceptance_refusal(actor, quote, now=now))
    quote.accepted_at = now
    quote.accepted_by_id = actor.id
    transition(quote.journey, JourneyStatus.ACCEPTED, actor=actor, now=now,
               reason=why("quote_accepted", version=quote.version))
    db.session.flush()
    return quote


@dataclass
class LineChange:
    change: str  # added, removed, changed, same
    before: QuoteLine | None
    after: QuoteLine | None
    fields: list[str]


COMPARED = ("title", "start_on", "days", "quantity", "companions", "unit_price_minor",
            "total_minor", "offer_id")


def _line_key(line: QuoteLine):
    return (line.kind.value, line.journey_item_id or line.offer_id or line.title)


def diff_quotes(actor, quote_id: int, other_id: int) -> list[LineChange]:
    """Line by line, how ``quote_id`` differs from the earlier ``other_id``."""
    after, before = get_quote(actor, quote_id), get_quote(actor, other_id)
    if after.journey_id != before.journey_id:
        raise InvalidInput(fields={"against": [_l("Compare versions of the same journey.")]})
    old = {_line_key(line): line for line in before.lines}
    changes = []
    for line in after.lines:
        previous = old.pop(_line_key(line), None)
        if previous is None:
            changes.append(LineChange("added", None, line, []))
            continue
        fields = [f for f in COMPARED if getattr(previous, f) != getattr(line, f)]
        changes.append(LineChange("changed" if fields else "same", previous, line, fields))
    changes.extend(LineChange("removed", line, None, []) for line in old.values())
    return changes
