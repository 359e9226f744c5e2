"""Catalogue search: filters, language, currency, availability, sorting (by relevance,
rating, price or name; never by anything a member pays), pages."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime
from functools import lru_cache

from flask_babel import lazy_gettext as _l
from sqlalchemy import (
    Float,
    Numeric,
    Subquery,
    and_,
    case,
    cast,
    exists,
    func,
    literal,
    null,
    or_,
    select,
)
from sqlalchemy.orm import joinedload

from journey.core.errors import InvalidInput
from journey.core.extensions import db
from journey.core.i18n import fallback_chain
from journey.core.money import Money, convert_minor
from journey.core.types import today_in, utcnow
from providers.models import (
    ChainLink,
    ExchangeRate,
    MemberKind,
    Offer,
    OfferText,
    PriceRule,
    Provider,
)
from providers.procedures import Procedure
from providers.services.availability import MAX_WINDOW_DAYS, available_condition
from providers.services.common import text_in
from providers.services.offers import public_condition
from providers.services.rates import Rate, rate_from_table, rates_in_force

#: ``rating``: the best rated first (see :func:`_rating_order`).
SORTS = ("relevance", "rating", "price", "-price", "name", "-name")

#: The relevance of a link of the chain to a medical tourist looking through the
#: catalogue, lowest first: what they come for, then what heals them afterwards, then
#: where they sleep, then the logistics and the extras.
LINK_WEIGHTS = {
    ChainLink.TREATMENT: 0,
    ChainLink.CONSULTATION: 1,
    ChainLink.DIAGNOSTICS: 1,
    ChainLink.REHABILITATION: 2,
    ChainLink.AFTERCARE: 3,
    ChainLink.ACCOMMODATION: 4,
    ChainLink.VISA_SUPPORT: 5,
    ChainLink.TRAVEL: 5,
    ChainLink.TRANSFER: 5,
    ChainLink.TRANSLATION: 6,
    ChainLink.LEISURE: 7,
    ChainLink.CHILDCARE: 8,
    ChainLink.INSURANCE: 8,
}


#: A member with fewer published reviews than this is ranked as not rated yet (its
#: rating is still shown): one enthusiastic review must not put a member above one that
#: forty patients rate a little lower.
RANKED_FROM_REVIEWS = 3

#: The members' published ratings, as a table of ``provider_id``, ``review_count`` and
#: ``rating_total`` (the sum of the overall ratings), one row per reviewed member. The
#: reviews live above the catalogue (``journey.reviews``), so ``create_app`` registers
#: where they come from (:func:`register_rating_source`); without one, nothing is rated.
RatingSource = Callable[[], Subquery]
_rating_sources: list[RatingSource] = []


def register_rating_source(source: RatingSource) -> None:
    """Where the members' ratings come from; ``create_app`` registers the published
    reviews. Registering again replaces the source."""
    _rating_sources[:] = [source]


def _rating_table() -> Subquery | None:
    return _rating_sources[0]() if _rating_sources else None


@dataclass
class SearchQuery:
    language: str
    currency: str
    chain_link: ChainLink | None = None
    procedure: Procedure | None = None
    city: str | None = None
    member_kind: MemberKind | None = None
    provider_id: int | None = None
    text: str | None = None
    price_min: int | None = None  # minor units of ``currency``
    price_max: int | None = None
    start: date | None = None
    end: date | None = None
    quantity: int = 1
    sort: str = "relevance"
    page: int = 1
    per_page: int = 20


@dataclass(frozen=True)
class HitText:
    """What a result shows of an offer's text: its title and the start of its
    description."""

    title: str
    summary: str


@dataclass(frozen=True)
class HitRating:
    """The published reviews of an offer's member: how many, and the sum of their
    overall ratings (1 to 5)."""

    count: int = 0
    total: int = 0

    @property
    def average(self) -> float | None:
        return round(self.total / self.count, 1) if self.count else None


NO_RATING = HitRating()


@dataclass
class SearchHit:
    offer: Offer
    language: str | None
    text: HitText | None
    price: Money
    converted: Money | None
    rate: Rate | None
    rating: HitRating = NO_RATING


@dataclass
class SearchResult:
    hits: list[SearchHit]
    total: int
    page: int
    per_page: int
    price_date: date
    currency: str
    rates: dict[str, Rate] = field(default_factory=dict)


def _validate(query: SearchQuery) -> None:
    errors = {}
    if (query.start is None) != (query.end is None):
        errors["end" if query.end is None else "start"] = [
            _l("Give both a start and an end date.")]
    elif query.start and query.end:
        if query.end < query.start:
            errors["end"] = [_l("Must not be before the start.")]
        elif (query.end - query.start).days + 1 > MAX_WINDOW_DAYS:
            errors["end"] = [_l("At most %(n)d days at once.", n=MAX_WINDOW_DAYS)]
    if (query.price_min is not None and query.price_max is not None
            and query.price_max < query.price_min):
        errors["price_max"] = [_l("Must not be below the minimum price.")]
    if query.sort not in SORTS:
        errors["sort"] = [_l("Must be one of: %(choices)s.", choices=", ".join(SORTS))]
    if errors:
        raise InvalidInput(fields=errors)


def _rates_to(target: str, on: date) -> dict[str, Rate]:
    """A rate into ``target`` for every currency the rate table (or target) knows.

    Rates are only ever added, so the table's size, newest id and newest insertion time
    identify its content: while they stay the same, the rates computed before are reused.
    """
    version = tuple(db.session.execute(
        select(func.count(ExchangeRate.id), func.max(ExchangeRate.id),
               func.max(ExchangeRate.created_at))).one())
    return _rates_to_cached(target, on, version)


@lru_cache(maxsize=256)
def _rates_to_cached(target: str, on: date, version: tuple) -> dict[str, Rate]:
    table = rates_in_force(on)
    currencies = {target} | {currency for pair in table for currency in pair}
    found = {}
    for currency in currencies:
        rate = rate_from_table(table, currency, target)
        if rate is not None:
            found[currency] = rate
    return found


def _rate_factor_expr(currency_column, rates: dict[str, Rate]):
    """Per offer currency, the factor from its minor units to the target's (unrounded);
    NULL for a currency without a rate."""
    whens = [(currency_column == currency, literal(rate.minor_factor(), Numeric(30, 12)))
             for currency, rate in sorted(rates.items())]
    if not whens:
        return literal(None, Numeric(30, 12))
    return case(*whens, else_=None)


def _title_expr(language: str):
    """The offer's title along the fallback chain, lower-cased, as a SQL expression:
    requested language, its base, the reader's other languages, English, the member's
    default, then any."""

    def title_in(language_expr):
        return (select(func.lower(OfferText.title))
                .where(OfferText.offer_id == Offer.id, OfferText.language == language_expr)
                .limit(1).correlate(Offer).scalar_subquery())

    candidates = [title_in(lang) for lang in fallback_chain(language)[:6]]
    candidates.append(title_in(Provider.default_language).correlate(Offer, Provider))
    candidates.append(select(func.min(func.lower(OfferText.title)))
                      .where(OfferText.offer_id == Offer.id).correlate(Offer)
                      .scalar_subquery())
    return func.coalesce(*candidates)


def _ranked_average(ratings: Subquery | None):
    """The average overall rating the order uses: NULL for a member with fewer than
    :data:`RANKED_FROM_REVIEWS` published reviews."""
    if ratings is None:
        return None
    return case((ratings.c.review_count >= RANKED_FROM_REVIEWS,
                 cast(ratings.c.rating_total, Float) / ratings.c.review_count), else_=null())


def _relevance_order(converted, title_match, ratings: Subquery | None) -> list:
    """The "relevance" sort, as ORDER BY terms of the one search statement.

    1. With a text, offers that have it in their title before those that have it only in
       their description (a reader typing "spa" wants the spa week first).
    2. The link of the chain by :data:`LINK_WEIGHTS` (a knee surgery before the travel
       insurance and the babysitter).
    3. The member's published average rating, highest first; members not ranked yet
       (fewer than :data:`RANKED_FROM_REVIEWS` reviews) after those that are.
    4. The price in the reader's currency, lowest first (unknown rates last), then the id
       so that pages never overlap.

    Nothing a member pays (commission, fees, payments) takes part: no placement is sold.
    """
    order = []
    if title_match is not None:
        order.append(case((title_match, 0), else_=1))
    order.append(case(*((Offer.chain_link == link, weight)
                        for link, weight in LINK_WEIGHTS.items()), else_=len(LINK_WEIGHTS)))
    average = _ranked_average(ratings)
    if average is not None:
        order.extend([average.is_(None), average.desc()])
    order.extend([converted.is_(None), converted.asc(), Offer.id])
    return order


def _rating_order(converted, title_match, ratings: Subquery | None) -> list:
    """The "rating" sort (best rated first): the member's published average, highest
    first (members not ranked yet, with fewer than :data:`RANKED_FROM_REVIEWS` reviews,
    after the ranked ones), on a tie the member with more reviews, then as
    "relevance"."""
    average = _ranked_average(ratings)
    if average is None:
        return _relevance_order(converted, title_match, None)
    # the relevance's own rating step would repeat the first terms: left out
    relevance = _relevance_order(converted, title_match, None)
    ranked_count = case((ratings.c.review_count >= RANKED_FROM_REVIEWS,
                         ratings.c.review_count), else_=0)
    return [average.is_(None), average.desc(), ranked_count.desc(), *relevance]


def search_offers(query: SearchQuery, *, now: datetime | None = None) -> SearchResult:
    """Published offers of verified members that match ``query``, one page of them.

    One SQL statement finds the page (ids, unit prices, the members' ratings and the
    total through a window count); a second loads those offers with their members, a
    third only the texts the fallback chain can pick.
    """
    _validate(query)
    now = now or utcnow()
    price_date = query.start or today_in(now=now)
    rates = _rates_to(query.currency, price_date)
    # Seasonal rules of one offer never overlap (the service refuses it), so the outer
    # join finds at most one rule for the price date.
    unit_price = func.coalesce(PriceRule.price_minor, Offer.base_price_minor)
    converted = cast(unit_price, Numeric(30, 12)) * _rate_factor_expr(Offer.currency, rates)

    conditions = [public_condition()]
    if query.chain_link is not None:
        conditions.append(Offer.chain_link == query.chain_link)
    if query.procedure is not None:
        conditions.append(Offer.procedure == query.procedure)
    if query.member_kind is not None:
        conditions.append(Provider.kind == query.member_kind)
    if query.city:
        conditions.append(func.lower(Provider.city) == query.city.strip().lower())
    if query.provider_id is not None:
        conditions.append(Offer.provider_id == query.provider_id)
    title_match = None
    if query.text and query.text.strip():
        pattern = "%" + _escape_like(query.text.strip().lower()) + "%"
        languages = set(fallback_chain(query.language))
        readable = or_(OfferText.language.in_(languages),
                       OfferText.language == Provider.default_language)
        in_title = func.lower(OfferText.title).like(pattern, escape="\\")
        conditions.append(exists().where(
            OfferText.offer_id == Offer.id, readable,
            or_(in_title, func.lower(OfferText.description).like(pattern, escape="\\"))))
        title_match = exists().where(OfferText.offer_id == Offer.id, readable, in_title)
    if query.price_min is not None:
        conditions.append(converted >= query.price_min)
    if query.price_max is not None:
        conditions.append(converted <= query.price_max)
    if query.start and query.end:
        conditions.append(Offer.min_quantity <= query.quantity)
        conditions.append(or_(Offer.max_quantity.is_(None), Offer.max_quantity >= query.quantity))
        conditions.append(available_condition(Offer.id, query.start, query.end,
                                              query.quantity, now))

    ratings = _rating_table()
    if query.sort == "relevance":
        order = _relevance_order(converted, title_match, ratings)
    elif query.sort == "rating":
        order = _rating_order(converted, title_match, ratings)
    elif query.sort in ("price", "-price"):
        key = converted.desc() if query.sort == "-price" else converted.asc()
        order = [converted.is_(None), key, Offer.id]
    else:
        title = _title_expr(query.language)
        order = [title.desc() if query.sort == "-name" else title.asc(), Offer.id]
    rating_columns = ((ratings.c.review_count, ratings.c.rating_total) if ratings is not None
                      else (literal(None).label("review_count"),
                            literal(None).label("rating_total")))
    page_query = (
        select(Offer.id, unit_price.label("unit_price"), func.count().over().label("total"),
               *rating_columns)
        .join(Provider, Provider.id == Offer.provider_id)
        .outerjoin(PriceRule, and_(PriceRule.offer_id == Offer.id,
                                   PriceRule.starts_on <= price_date,
                                   PriceRule.ends_on >= price_date)))
    if ratings is not None:
        page_query = page_query.outerjoin(ratings, ratings.c.provider_id == Offer.provider_id)
    page_query = (
        page_query.where(and_(*conditions))
        .order_by(*order)
        .offset((query.page - 1) * query.per_page).limit(query.per_page))
    rows = db.session.execute(page_query).all()
    if rows:
        total = rows[0].total
    else:  # past the last page: still tell the reader how many there are
        total = db.session.scalar(
            select(func.count()).select_from(page_query.limit(None).offset(None)
                                             .order_by(None).subquery())) if query.page > 1 else 0

    ids = [row.id for row in rows]
    offers = {offer.id: offer for offer in db.session.scalars(
        select(Offer).options(joinedload(Offer.provider)).where(Offer.id.in_(ids)))}
    texts = _texts_for(ids, query.language, {o.provider.default_language
                                             for o in offers.values()})
    hits = []
    for row in rows:
        offer = offers[row.id]
        language, text = text_in(texts.get(offer.id, {}), query.language, offer.provider)
        price = Money(int(row.unit_price), offer.currency)
        rate = rates.get(offer.currency)
        converted_money = (Money(convert_minor(price.amount, price.currency, query.currency,
                                               rate.rate), query.currency)
                           if rate is not None else None)
        rating = (HitRating(int(row.review_count), int(row.rating_total or 0))
                  if row.review_count else NO_RATING)
        hits.append(SearchHit(offer, language, text, price, converted_money, rate, rating))
    return SearchResult(hits, total, query.page, query.per_page, price_date, query.currency,
                        rates)


SUMMARY_LENGTH = 280


def _texts_for(offer_ids: list[int], language: str,
               member_defaults: set[str]) -> dict[int, dict[str, HitText]]:
    """The texts a fallback chain may pick, per offer and language (one query).

    An offer whose chain finds none of these languages falls back to any text it has,
    which is then loaded for that offer alone.
    """
    if not offer_ids:
        return {}
    columns = (OfferText.offer_id, OfferText.language, OfferText.title,
               func.substr(OfferText.description, 1, SUMMARY_LENGTH).label("summary"))
    languages = {*fallback_chain(language), *member_defaults}
    found: dict[int, dict[str, HitText]] = {}

    def collect(condition):
        for row in db.session.execute(select(*columns).where(condition)):
            found.setdefault(row.offer_id, {})[row.language] = HitText(row.title, row.summary)

    collect(OfferText.offer_id.in_(offer_ids) & OfferText.language.in_(languages))
    missing = [offer_id for offer_id in offer_ids if offer_id not in found]
    if missing:
        collect(OfferText.offer_id.in_(missing))
    return found


def _escape_like(value: str) -> str:
    return value.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")

