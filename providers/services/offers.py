"""Offers: creation, texts per language, prices, cancellation terms, calendars."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from decimal import Decimal
from functools import cache
from operator import attrgetter
from types import SimpleNamespace

from flask_babel import lazy_gettext as _l
from flask_babel import lazy_ngettext
from sqlalchemy import Boolean, Date, DateTime, Numeric, and_, select, update

from journey.core.accounts.permissions import can_manage_member, require_member_access
from journey.core.errors import Conflict, DomainError, InvalidInput, NotFound, refuse
from journey.core.extensions import db
from journey.core.money import Money, require_currency
from journey.core.persistence import insert_on_conflict, json_rows
from providers.models import (
    CHAIN_LINK_TITLES,
    CancellationTier,
    CapacityDay,
    ChainLink,
    ConfirmationMode,
    DurationUnit,
    MemberStatus,
    Offer,
    OfferStatus,
    OfferText,
    PriceRule,
    Provider,
)
from providers.procedures import PROCEDURE_TITLES, Procedure, fits_link
from providers.services.availability import (
    MAX_WINDOW_DAYS,
    counted_units,
    lock_calendar,
    used_units,
)
from providers.services.common import check_language, text_in
from providers.services.members import get_member, get_member_for_change

OFFER_FIELDS = ("chain_link", "currency", "price_unit", "base_price_minor",
                "companion_price_minor", "min_quantity", "max_quantity", "capacity_unit",
                "lead_time_days", "duration_value", "duration_unit", "confirmation_mode",
                "requires_consultation", "recovery_days", "fit_to_fly_days", "vat_percent",
                "min_days_after_treatment", "procedure")


# --- loading with access rules ------------------------------------------------------

def is_public(offer: Offer) -> bool:
    """On sale to everyone: published, by a member the cluster has verified."""
    return offer.status == OfferStatus.PUBLISHED and offer.provider.status == MemberStatus.VERIFIED


def public_condition():
    """:func:`is_public` as a query condition; the query joins :class:`Provider`."""
    return and_(Offer.status == OfferStatus.PUBLISHED, Provider.status == MemberStatus.VERIFIED)


def get_offer(actor, offer_id: int) -> Offer:
    """An offer as ``actor`` may see it: public ones for everyone, the rest for the
    member's own staff and the cluster. Anyone else gets 404, whatever the id."""
    offer = db.session.get(Offer, offer_id)
    if offer is None or not (is_public(offer) or can_manage_member(actor, offer.provider_id)):
        raise NotFound(_l("No such offer."))
    return offer


def get_offer_for_change(actor, offer_id: int) -> Offer:
    offer = get_offer(actor, offer_id)
    require_member_access(actor, offer.provider_id)
    return offer


# --- the offer itself ------------------------------------------------------------------

def _check_quantities(offer: Offer) -> None:
    if offer.max_quantity is not None and offer.max_quantity < offer.min_quantity:
        raise InvalidInput(fields={"max_quantity": [
            _l("Must not be less than the minimum quantity.")]})
    vat = offer.vat_percent
    if vat is not None and not (Decimal(0) <= Decimal(vat) < Decimal(100)
                                and Decimal(vat) == Decimal(vat).quantize(Decimal("0.01"))):
        raise InvalidInput(fields={"vat_percent": [
            _l("A VAT rate from 0 to 99.99 %, with at most two decimals.")]})


def _check_procedure(procedure, chain_link) -> Procedure | None:
    """What an offer treats, checked before it is written: something its link of the
    chain treats (a knee replacement is a consultation, a treatment or its follow-up,
    never a transfer)."""
    if procedure is None or procedure == "":
        return None
    try:
        procedure, chain_link = Procedure(procedure), ChainLink(chain_link)
    except ValueError:
        raise InvalidInput(fields={"procedure": [_l("Not a known procedure.")]}) from None
    if not fits_link(procedure, chain_link):
        raise InvalidInput(fields={"procedure": [
            _l("%(procedure)s is not offered as %(link)s; choose a procedure of this step "
               "of the trip or none.", procedure=PROCEDURE_TITLES[procedure],
               link=CHAIN_LINK_TITLES[chain_link])]})
    return procedure


def create_offer(actor, provider_id: int, *, texts: dict | None = None,
                 cancellation_tiers=None, status=OfferStatus.DRAFT, **data) -> Offer:
    provider = get_member_for_change(actor, provider_id)
    values = {k: v for k, v in data.items() if k in OFFER_FIELDS}
    values["currency"] = require_currency(values.get("currency") or provider.currency)
    for field, default in (("min_quantity", 1), ("lead_time_days", 0), ("duration_value", 1),
                           ("confirmation_mode", ConfirmationMode.APPROVAL)):
        values.setdefault(field, default)
    values["procedure"] = _check_procedure(values.get("procedure"), values.get("chain_link"))
    offer = Offer(provider=provider, status=OfferStatus.DRAFT, **values)
    _check_quantities(offer)
    db.session.add(offer)
    for language, text in (texts or {}).items():
        _apply_text(offer, check_language(language, "texts"), **text)
    if cancellation_tiers is not None:
        _set_tiers(offer, cancellation_tiers)
    db.session.flush()
    if status != OfferStatus.DRAFT:
        set_offer_status(actor, offer.id, status)
    return offer


def update_offer(actor, offer_id: int, **data) -> Offer:
    offer = get_offer_for_change(actor, offer_id)
    if "procedure" in data or "chain_link" in data:
        data = {**data, "procedure": _check_procedure(
            data.get("procedure", offer.procedure), data.get("chain_link", offer.chain_link))}
    for field, value in data.items():
        if field not in OFFER_FIELDS:
            continue
        if field == "currency":
            value = require_currency(value)
        setattr(offer, field, value)
    _check_quantities(offer)
    db.session.flush()
    if "status" in data and data["status"] != offer.status:
        set_offer_status(actor, offer.id, data["status"])
    return offer


def set_offer_status(actor, offer_id: int, status: OfferStatus) -> Offer:
    offer = get_offer_for_change(actor, offer_id)
    status = OfferStatus(status)
    if status == OfferStatus.PUBLISHED:
        if not offer.texts:
            raise Conflict(_l("Add a title in at least one language before publishing."))
        if not any(t.language in (offer.provider.default_language, "en") for t in offer.texts):
            raise Conflict(_l("Add the texts in the member's default language or English "
                              "before publishing."))
    offer.status = status
    db.session.flush()
    return offer


def deletion_refusal(offer: Offer) -> DomainError | None:
    """Why ``offer`` may not be deleted (None when it may): only a draft is; a published
    offer is archived instead. Who may change it is :func:`get_offer_for_change`'s."""
    if offer.status != OfferStatus.DRAFT:
        return Conflict(_l("Only a draft can be deleted; archive a published offer instead."))
    return None


def delete_offer(actor, offer_id: int) -> None:
    offer = get_offer_for_change(actor, offer_id)
    refuse(deletion_refusal(offer))
    db.session.delete(offer)
    db.session.flush()


# --- texts ---------------------------------------------------------------------------

def set_offer_text(actor, offer_id: int, language: str, *, title: str, description: str = "",
                   inclusions=(), exclusions=()) -> OfferText:
    offer = get_offer_for_change(actor, offer_id)
    text = _apply_text(offer, check_language(language), title=title, description=description,
                       inclusions=inclusions, exclusions=exclusions)
    db.session.flush()
    return text


def _apply_text(offer: Offer, language: str, *, title: str, description: str = "",
                inclusions=(), exclusions=()) -> OfferText:
    title = (title or "").strip()
    if not title:
        raise InvalidInput(fields={"title": [_l("May not be empty.")]})
    text = next((t for t in offer.texts if t.language == language), None)
    if text is None:
        text = OfferText(language=language)
        offer.texts.append(text)
    text.title = title
    text.description = (description or "").strip()
    text.inclusions = [s.strip() for s in inclusions if s.strip()]
    text.exclusions = [s.strip() for s in exclusions if s.strip()]
    return text


def delete_offer_text(actor, offer_id: int, language: str) -> None:
    offer = get_offer_for_change(actor, offer_id)
    text = next((t for t in offer.texts if t.language == language), None)
    if text is None:
        raise NotFound(_l("No text in this language."))
    if offer.status == OfferStatus.PUBLISHED:
        rest = [t for t in offer.texts if t is not text]
        if not any(t.language in (offer.provider.default_language, "en") for t in rest):
            raise Conflict(_l("A published offer keeps its texts in the member's default "
                              "language or English."))
    offer.texts.remove(text)
    db.session.flush()


def offer_text(offer: Offer, language: str | None) -> tuple[str | None, OfferText | None]:
    """The offer's text along the fallback chain; returns ``(language, text)``."""
    return text_in({t.language: t for t in offer.texts}, language, offer.provider)


# --- offers as plain rows --------------------------------------------------------------

#: What :func:`offer_rows` gives an offer besides its columns: its member's columns
#: that pricing and the chain's rules read, and its texts, seasonal prices and
#: cancellation tiers in the order of :class:`~providers.models.Offer`'s relationships
#: (name, model, sort key, descending).
ROW_MEMBER_COLUMNS = ("name", "city", "country", "default_language", "timezone")
_ROW_DETAILS = (("texts", OfferText, "language", False),
                ("price_rules", PriceRule, "starts_on", False),
                ("cancellation_tiers", CancellationTier, "days_before", True))


def offer_row_columns() -> list:
    """The columns a caller selects (joining ``offer`` and its ``provider``) to hand
    its rows to :func:`offer_rows`: the offer's as ``offer_<name>``, the member's as
    ``member_<name>``, and each offer's texts, seasonal prices and tiers as a JSON list
    (a correlated subquery each), so that one statement reads them all."""
    return [*(column.label(f"offer_{column.name}") for column in Offer.__table__.c),
            *(Provider.__table__.c[name].label(f"member_{name}")
              for name in ROW_MEMBER_COLUMNS),
            *(select(json_rows(*model.__table__.c)).where(model.offer_id == Offer.id)
              .scalar_subquery().label(f"offer_{name}")
              for name, model, _key, _reverse in _ROW_DETAILS)]


@cache
def _dates_of(model) -> tuple[str, ...]:
    """The date columns of ``model`` (ISO strings in JSON); any other type JSON would
    not give back as it was is refused."""
    for column in model.__table__.c:
        if isinstance(column.type, DateTime | Numeric | Boolean):
            raise TypeError(f"{column} would not come back from JSON as it was")
    return tuple(column.key for column in model.__table__.c
                 if isinstance(column.type, Date))


def _details(values: list | None, model, key: str, reverse: bool) -> list[SimpleNamespace]:
    details = []
    for value in values or ():
        for name in _dates_of(model):
            if value[name] is not None:
                value[name] = date.fromisoformat(value[name])
        details.append(SimpleNamespace(**value))
    details.sort(key=attrgetter(key), reverse=reverse)
    return details


def offer_rows(rows) -> dict[int, SimpleNamespace]:
    """The offers of ``rows`` (selected with :func:`offer_row_columns`) as plain objects
    with the attribute names of :class:`~providers.models.Offer` (``provider`` holds
    :data:`ROW_MEMBER_COLUMNS`; ``texts``, ``price_rules`` and ``cancellation_tiers``
    are lists of rows in the relationships' order), by id, for a hot path that reads
    offers and changes nothing: :func:`offer_text`, :func:`price_for` and the chain's
    rules read them as they read ORM offers.

    Without an ORM object per offer, text, price and tier (a seven-link quote has
    about 80) nor a statement per kind of them, loading them takes about half the CPU
    (``python -m bench.quote --profile``)."""
    offers: dict[int, SimpleNamespace] = {}
    columns = Offer.__table__.c.keys()
    for row in rows:
        mapping = row._mapping
        if mapping["offer_id"] in offers:
            continue
        offer = SimpleNamespace(**{name: mapping[f"offer_{name}"] for name in columns})
        offer.provider = SimpleNamespace(id=offer.provider_id, **{
            name: mapping[f"member_{name}"] for name in ROW_MEMBER_COLUMNS})
        for name, model, key, reverse in _ROW_DETAILS:
            setattr(offer, name, _details(mapping[f"offer_{name}"], model, key, reverse))
        offers[offer.id] = offer
    return offers


# --- prices --------------------------------------------------------------------------

def price_for(offer: Offer, day: date, *, companion: bool = False) -> Money:
    """The unit price on ``day``: a seasonal rule covering it, else the base price."""
    rule = next((r for r in offer.price_rules if r.starts_on <= day <= r.ends_on), None)
    if companion:
        amount = (rule.companion_price_minor if rule and rule.companion_price_minor is not None
                  else offer.companion_price_minor)
        if amount is None:
            amount = rule.price_minor if rule else offer.base_price_minor
    else:
        amount = rule.price_minor if rule else offer.base_price_minor
    return Money(amount, offer.currency)


def _check_rule(offer: Offer, starts_on: date, ends_on: date, ignore_id: int | None = None):
    if ends_on < starts_on:
        raise InvalidInput(fields={"ends_on": [_l("Must not be before the start.")]})
    for rule in offer.price_rules:
        if rule.id != ignore_id and rule.starts_on <= ends_on and starts_on <= rule.ends_on:
            raise Conflict(_l("Overlaps the seasonal price %(name)s (%(start)s to %(end)s).",
                              name=rule.name or rule.id, start=rule.starts_on.isoformat(),
                              end=rule.ends_on.isoformat()),
                           fields={"starts_on": [_l("Overlaps another seasonal price.")]})


def add_price_rule(actor, offer_id: int, *, starts_on, ends_on, price_minor,
                   companion_price_minor=None, name="") -> PriceRule:
    offer = get_offer_for_change(actor, offer_id)
    _check_rule(offer, starts_on, ends_on)
    rule = PriceRule(name=name, starts_on=starts_on, ends_on=ends_on, price_minor=price_minor,
                     companion_price_minor=companion_price_minor)
    offer.price_rules.append(rule)
    db.session.flush()
    return rule


def update_price_rule(actor, offer_id: int, rule_id: int, **data) -> PriceRule:
    offer = get_offer_for_change(actor, offer_id)
    rule = _rule(offer, rule_id)
    starts_on = data.get("starts_on", rule.starts_on)
    ends_on = data.get("ends_on", rule.ends_on)
    _check_rule(offer, starts_on, ends_on, ignore_id=rule.id)
    for field in ("name", "starts_on", "ends_on", "price_minor", "companion_price_minor"):
        if field in data:
            setattr(rule, field, data[field])
    db.session.flush()
    return rule


def delete_price_rule(actor, offer_id: int, rule_id: int) -> None:
    offer = get_offer_for_change(actor, offer_id)
    offer.price_rules.remove(_rule(offer, rule_id))
    db.session.flush()


def _rule(offer: Offer, rule_id: int) -> PriceRule:
    rule = next((r for r in offer.price_rules if r.id == rule_id), None)
    if rule is None:
        raise NotFound(_l("No such seasonal price."))
    return rule


# --- cancellation terms ------------------------------------------------------------------

def _set_tiers(offer: Offer, tiers) -> None:
    seen = set()
    for tier in tiers:
        if tier["days_before"] in seen:
            raise InvalidInput(fields={"cancellation_tiers": [
                _l("Each number of days may appear once.")]})
        seen.add(tier["days_before"])
    ordered = sorted(tiers, key=lambda t: -t["days_before"])
    for earlier, later in zip(ordered, ordered[1:], strict=False):
        if later["refund_percent"] > earlier["refund_percent"]:
            raise InvalidInput(fields={"cancellation_tiers": [
                _l("Cancelling later may not refund more than cancelling earlier.")]})
    offer.cancellation_tiers.clear()
    db.session.flush()
    for tier in ordered:
        offer.cancellation_tiers.append(CancellationTier(**tier))


def set_cancellation_tiers(actor, offer_id: int, tiers) -> Offer:
    offer = get_offer_for_change(actor, offer_id)
    _set_tiers(offer, tiers)
    db.session.flush()
    return offer


def last_day(offer: Offer | None, start_on: date, end_on: date) -> date:
    """The last day to show of a line from ``start_on`` to ``end_on`` (the day after
    its last): for a stay the departure day (its last night's morning), for anything
    else its last day."""
    if offer is not None and offer.duration_unit == DurationUnit.NIGHTS:
        return end_on
    return max(start_on, end_on - timedelta(days=1))


def refund_percent(offer: Offer, days_before_start: int) -> int:
    """The share refunded when cancelling ``days_before_start`` days before the start."""
    best = 0
    for tier in offer.cancellation_tiers:
        if days_before_start >= tier.days_before:
            best = max(best, tier.refund_percent)
    return best


# --- capacity calendar -----------------------------------------------------------------

def _check_range(start: date, end: date) -> int:
    if end < start:
        raise InvalidInput(fields={"end": [_l("Must not be before the start.")]})
    days = (end - start).days + 1
    if days > MAX_WINDOW_DAYS:
        raise InvalidInput(fields={"end": [
            _l("At most %(n)d days at once.", n=MAX_WINDOW_DAYS)]})
    return days


def set_capacity(actor, offer_id: int, *, start: date, end: date, capacity: int,
                 weekdays: list[int] | None = None, now: datetime | None = None) -> int:
    """Set the capacity of every day from ``start`` to ``end`` (on ``weekdays`` only,
    0 = Monday, when given). Returns the number of days written.

    A day without a row gets one first, by one ``INSERT ... ON CONFLICT DO NOTHING``
    (another writer of the same new day at the same moment: its row is kept, then
    overwritten here), so every day's row exists and is locked before the check and
    the write: two staff setting a new range at once both succeed, the later one's
    capacity standing (it was a bare "conflicts with the current state" 409)."""
    offer = get_offer_for_change(actor, offer_id)
    days = _check_range(start, end)
    chosen = [start + timedelta(days=i) for i in range(days)
              if weekdays is None or (start + timedelta(days=i)).weekday() in weekdays]
    if chosen:
        # A new day starts with what already uses it, if anything (normally nothing:
        # units are taken only where there is capacity).
        counted = counted_units(offer.id, chosen[0], chosen[-1])
        table = CapacityDay.__table__
        db.session.execute(insert_on_conflict(table).values([
            {"offer_id": offer.id, "day": day, "capacity": capacity,
             "used": counted.get(day, 0)} for day in chosen])
            .on_conflict_do_nothing(index_elements=["offer_id", "day"]))
    _refuse_below_use(offer.id, start, end, capacity, weekdays, now)
    if chosen:
        db.session.execute(update(CapacityDay).where(
            CapacityDay.offer_id == offer.id, CapacityDay.day.in_(chosen))
            .values(capacity=capacity))  # only the capacity: ``used`` is the engine's
    db.session.flush()
    return len(chosen)


def _refuse_below_use(offer_id: int, start: date, end: date, capacity: int,
                      weekdays: list[int] | None, now: datetime | None) -> None:
    """409 when a day of the range would get less capacity than the units in use on it
    now (held or booked): capacity is never below what is sold. The days' rows are
    locked first, as a hold's writer locks them, so no hold slips in between."""
    lock_calendar(offer_id, start, end)
    for day, units in sorted(used_units(offer_id, start, end, now=now).items()):
        if units > capacity and (weekdays is None or day.weekday() in weekdays):
            message = lazy_ngettext(
                "%(num)d unit is already held or booked on %(day)s; cancel it before "
                "lowering the capacity below that.",
                "%(num)d units are already held or booked on %(day)s; cancel them before "
                "lowering the capacity below that.", units, day=day.isoformat())
            raise Conflict(message, fields={"capacity": [message]})


def capacity_by_day(offer_id: int, start: date, end: date) -> dict[date, int]:
    """The calendar's capacity per day of ``[start, end]`` (days without a row absent)."""
    return dict(db.session.execute(
        select(CapacityDay.day, CapacityDay.capacity).where(
            CapacityDay.offer_id == offer_id, CapacityDay.day.between(start, end))).all())


def get_calendar(actor, offer_id: int, *, start: date, end: date) -> list[dict]:
    """Capacity, units in use and units available for each day of the range."""
    offer = get_offer(actor, offer_id)
    days = _check_range(start, end)
    capacity = capacity_by_day(offer.id, start, end)
    used = used_units(offer.id, start, end)
    calendar = []
    for i in range(days):
        day = start + timedelta(days=i)
        cap = capacity.get(day, 0)
        in_use = used.get(day, 0)
        calendar.append({"day": day, "capacity": cap, "used": in_use,
                         "available": max(0, cap - in_use)})
    return calendar


def list_member_offers(actor, provider_id: int, *, status: OfferStatus | None = None):
    """A member's offers: all of them for its staff and the cluster, else the public ones."""
    provider = get_member(actor, provider_id)
    query = select(Offer).where(Offer.provider_id == provider.id).order_by(Offer.chain_link,
                                                                           Offer.id)
    if not can_manage_member(actor, provider.id):
        query = query.where(Offer.status == OfferStatus.PUBLISHED)
    elif status is not None:
        query = query.where(Offer.status == status)
    return list(db.session.scalars(query))
