"""Catalogue search: filters, language, currency, availability, sorting (by relevance,
rating, price or name; never by anything a member pays), pages."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime
from functools import lru_cache

from flask_babel import lazy_gettext as _l
from sqlalchemy import (
    BigInteger,
    Date,
    Float,
    Integer,
    Numeric,
    String,
    Subquery,
    and_,
    bindparam,
    case,
    cast,
    exists,
    func,
    literal,
    literal_column,
    null,
    or_,
    select,
)
from sqlalchemy.orm import joinedload
from sqlalchemy.sql import operators
from sqlalchemy.sql.elements import UnaryExpression

from journey.core.errors import InvalidInput
from journey.core.extensions import db
from journey.core.i18n import fallback_chain, note_served_along
from journey.core.money import Money, convert_minor
from journey.core.persistence import driver_read
from journey.core.types import UTCDateTime, today_in, utcnow
from providers.models import (
    ChainLink,
    MemberKind,
    Offer,
    OfferText,
    PriceRule,
    Provider,
)
from providers.procedures import Procedure
from providers.services.availability import MAX_WINDOW_DAYS, available_condition
from providers.services.offers import public_condition
from providers.services.rates import (
    RATES_VERSION,
    Rate,
    last_rates_version,
    rate_from_table,
    rates_of_version,
    rates_version,
    saw_rates_version,
)

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


def check_query(query: SearchQuery) -> None:
    """Refuse a query whose fields disagree (an end before the start, a window too long,
    a maximum price below the minimum, an unknown order), naming every wrong field at
    once. Asked by the search itself, and by a page whose form refused other fields, so
    that a patient hears of all of them together."""
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


@lru_cache(maxsize=4096)
def _rates_to(target: str, on: date, version: str) -> dict[str, Rate]:
    """A rate into ``target`` for every currency the rate table (or target) knows, as
    in force on ``on`` (:func:`providers.services.rates.rates_in_force`), from the
    table of ``version`` (:func:`~providers.services.rates.rates_of_version`)."""
    table = rates_of_version(on, version)
    currencies = {target} | {currency for pair in table for currency in pair}
    found = {}
    for currency in currencies:
        rate = rate_from_table(table, currency, target)
        if rate is not None:
            found[currency] = rate
    return found


def _rate_factor_expr(currency_column, currencies: tuple[str, ...]):
    """Per offer currency, the factor from its minor units to the target's (unrounded),
    bound as ``factor_<currency>``; NULL for a currency without a rate."""
    if not currencies:
        return literal(None, Numeric(30, 12))
    return case({_constant(currency): bindparam(f"factor_{currency}", type_=Numeric(30, 12))
                 for currency in currencies}, value=currency_column, else_=None)


def _title_expr(languages: int):
    """The offer's title along the fallback chain (its first ``languages`` languages,
    bound as ``title_0``…), lower-cased, as a SQL expression: requested language, its
    base, the reader's other languages, English, the member's default, then any."""

    def title_in(language_expr):
        return (select(func.lower(OfferText.title))
                .where(OfferText.offer_id == Offer.id, OfferText.language == language_expr)
                .limit(1).correlate(Offer).scalar_subquery())

    candidates = [title_in(bindparam(f"title_{n}", type_=String()))
                  for n in range(languages)]
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
    return case((ratings.c.review_count >= _constant(RANKED_FROM_REVIEWS),
                 cast(ratings.c.rating_total, Float) / ratings.c.review_count), else_=null())


def _relevance_order(converted, title_match, ratings: Subquery | None, *,
                     one_link: bool = False) -> list:
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
        order.append(case((title_match, _constant(0)), else_=_constant(1)))
    if not one_link:  # (offers of one link all weigh the same)
        order.append(case({_constant(link.value): _constant(weight)
                           for link, weight in LINK_WEIGHTS.items()},
                          value=Offer.chain_link, else_=_constant(len(LINK_WEIGHTS))))
    average = _ranked_average(ratings)
    if average is not None:
        order.append(average.desc().nulls_last())
    order.extend([converted.asc().nulls_last(), Offer.id])
    return order


def _rating_order(converted, title_match, ratings: Subquery | None, *,
                  one_link: bool = False) -> list:
    """The "rating" sort (best rated first): the member's published average, highest
    first (members not ranked yet, with fewer than :data:`RANKED_FROM_REVIEWS` reviews,
    after the ranked ones), on a tie the member with more reviews, then as
    "relevance"."""
    average = _ranked_average(ratings)
    if average is None:
        return _relevance_order(converted, title_match, None, one_link=one_link)
    # the relevance's own rating step would repeat the first terms: left out
    relevance = _relevance_order(converted, title_match, None, one_link=one_link)
    ranked_count = case((ratings.c.review_count >= _constant(RANKED_FROM_REVIEWS),
                         ratings.c.review_count), else_=0)
    return [average.desc().nulls_last(), ranked_count.desc(), *relevance]


#: The filters whose presence changes the search statement (their values are bound).
FILTERS = ("chain_link", "procedure", "member_kind", "city", "provider_id", "text",
           "price_min", "price_max", "dates")


@dataclass(frozen=True)
class _Shape:
    """What the text of a search statement depends on; everything else is a bound
    parameter, so each shape's statement is built (and compiled) once per process."""

    filters: frozenset[str]
    sort: str
    currencies: tuple[str, ...]  # those with a rate into the asked one
    chain: int  # languages of the reader's fallback chain
    rating_source: int | None
    ranked_from: int  # :data:`RANKED_FROM_REVIEWS`, written into the statement


def _shape_of(query: SearchQuery, rates: dict[str, Rate], chain: list[str]) -> _Shape:
    present = {name for name in ("chain_link", "procedure", "member_kind", "provider_id",
                                 "price_min", "price_max") if getattr(query, name) is not None}
    if query.city:
        present.add("city")
    if query.text and query.text.strip():
        present.add("text")
    if query.start and query.end:
        present.add("dates")
    return _Shape(frozenset(present), query.sort, tuple(sorted(rates)), len(chain),
                  id(_rating_sources[0]) if _rating_sources else None, RANKED_FROM_REVIEWS)


def _parameters(query: SearchQuery, shape: _Shape, rates: dict[str, Rate],
                chain: list[str], price_date: date, now: datetime) -> dict:
    """The values of a :func:`_statement`'s bound parameters for ``query``."""
    parameters: dict = {"price_date": price_date, "now": now,
                        "limit": query.per_page, "offset": (query.page - 1) * query.per_page}
    for n, language in enumerate(chain):
        parameters[f"chain_{n}"] = language
        parameters[f"title_{n}"] = language
    for currency in shape.currencies:
        parameters[f"factor_{currency}"] = rates[currency].minor_factor()
    for name in ("chain_link", "procedure", "member_kind", "provider_id", "price_min",
                 "price_max"):
        if name in shape.filters:
            parameters[name] = getattr(query, name)
    if "city" in shape.filters:
        parameters["city"] = query.city.strip().lower()
    if "text" in shape.filters:
        parameters["pattern"] = "%" + _escape_like(query.text.strip().lower()) + "%"
        parameters["readable"] = list(dict.fromkeys(chain))
    if "dates" in shape.filters:
        parameters.update(start=query.start, end=query.end, quantity=query.quantity,
                          days=(query.end - query.start).days + 1)
    return parameters


def _statement(shape: _Shape, *, with_offers: bool):
    """The search statement of ``shape``, built once (:func:`_build`).

    With ``with_offers``: the page (ids, unit prices, the members' ratings, the total
    through a window count and the order's keys, ordered and cut with bound
    LIMIT/OFFSET) joined to its offers, members and the one text the fallback chain picks
    (chosen by a correlated subquery per row of the page: the requested language, the
    reader's other ones, English, the member's default, then the first there is), so a
    search is one round trip and no ORM object. Without: every match, neither ordered
    nor cut, to count them.
    """
    return _build(shape)[0 if with_offers else 1]


@lru_cache(maxsize=512)
def _build(shape: _Shape) -> tuple:
    def bound(name, type_):
        return bindparam(name, type_=type_)

    price_date = bound("price_date", Date())
    unit_price = func.coalesce(PriceRule.price_minor, Offer.base_price_minor)
    converted = cast(unit_price, Numeric(30, 12)) * _rate_factor_expr(Offer.currency,
                                                                      shape.currencies)
    filters = shape.filters
    conditions = [public_condition()]
    if "chain_link" in filters:
        conditions.append(Offer.chain_link == bound("chain_link", Offer.chain_link.type))
    if "procedure" in filters:
        conditions.append(Offer.procedure == bound("procedure", Offer.procedure.type))
    if "member_kind" in filters:
        conditions.append(Provider.kind == bound("member_kind", Provider.kind.type))
    if "city" in filters:
        conditions.append(func.lower(Provider.city) == bound("city", String()))
    if "provider_id" in filters:
        conditions.append(Offer.provider_id == bound("provider_id", Integer()))
    title_match = None
    if "text" in filters:
        pattern = bound("pattern", String())
        readable = or_(OfferText.language.in_(bindparam("readable", expanding=True)),
                       OfferText.language == Provider.default_language)
        in_title = func.lower(OfferText.title).like(pattern, escape="\\")
        conditions.append(exists().where(
            OfferText.offer_id == Offer.id, readable,
            or_(in_title, func.lower(OfferText.description).like(pattern, escape="\\"))))
        title_match = exists().where(OfferText.offer_id == Offer.id, readable, in_title)
    if "price_min" in filters:
        conditions.append(converted >= bound("price_min", BigInteger()))
    if "price_max" in filters:
        conditions.append(converted <= bound("price_max", BigInteger()))
    if "dates" in filters:
        quantity = bound("quantity", Integer())
        conditions.append(Offer.min_quantity <= quantity)
        conditions.append(or_(Offer.max_quantity.is_(None), Offer.max_quantity >= quantity))
        conditions.append(available_condition(
            Offer.id, bound("start", Date()), bound("end", Date()), quantity,
            bound("now", UTCDateTime()), days=bound("days", Integer())))

    ratings = _rating_table() if shape.rating_source is not None else None
    one_link = "chain_link" in filters
    if shape.sort == "relevance":
        order = _relevance_order(converted, title_match, ratings, one_link=one_link)
    elif shape.sort == "rating":
        order = _rating_order(converted, title_match, ratings, one_link=one_link)
    elif shape.sort in ("price", "-price"):
        key = converted.desc() if shape.sort == "-price" else converted.asc()
        order = [key.nulls_last(), Offer.id]
    else:
        title = _title_expr(min(shape.chain, 6))
        order = [title.desc() if shape.sort == "-name" else title.asc(), Offer.id]
    rating_columns = ((ratings.c.review_count, ratings.c.rating_total) if ratings is not None
                      else (literal(None).label("review_count"),
                            literal(None).label("rating_total")))
    # Each ORDER BY term once, as a column of the page (o0, o1, …): the page is ordered
    # by them and the outer statement orders its 20 rows by them again. (Written once,
    # the statement stays short enough for the driver to cache its parsing.)
    keys = [_order_key(term) for term in order]
    key_columns = [expression.label(f"o{n}") for n, (expression, _how) in enumerate(keys)]
    # The page carries the columns of its offers and members that the answer shows, so
    # the outer statement reads neither table again (each a primary-key lookup per row).
    shown = [Offer.__table__.c[name] for name in HitOffer.columns if name != "id"]
    shown += [Provider.name.label("provider_name"), Provider.kind.label("provider_kind"),
              Provider.city.label("provider_city"),
              Provider.country.label("provider_country")]
    page = (
        select(Offer.id, unit_price.label("unit_price"), func.count().over().label("total"),
               *rating_columns, Provider.default_language.label("default_language"),
               *key_columns, *shown)
        .join(Provider, Provider.id == Offer.provider_id)
        .outerjoin(PriceRule, and_(PriceRule.offer_id == Offer.id,
                                   PriceRule.starts_on <= price_date,
                                   PriceRule.ends_on >= price_date)))
    if ratings is not None:
        page = page.outerjoin(ratings, ratings.c.provider_id == Offer.provider_id)
    page = page.where(and_(*conditions))
    ranked = (page.order_by(*[how(column)
                              for column, (_expr, how) in zip(key_columns, keys, strict=True)])
              .offset(bound("offset", Integer())).limit(bound("limit", Integer()))
              .subquery("page"))
    # The text's language: the best rank along the chain, then the first by name. A
    # two-digit rank glued to the language and the minimum taken (SQLite refuses an
    # outer column in a subquery's ORDER BY, so no ORDER BY … LIMIT 1 here).
    language_rank = case(*((OfferText.language == bound(f"chain_{n}", String()),
                            _constant(f"{n:02d}")) for n in range(shape.chain)),
                         (OfferText.language == ranked.c.default_language,
                          _constant(f"{shape.chain:02d}")),
                         else_=_constant(f"{shape.chain + 1:02d}"))
    chosen = (select(func.substr(func.min(language_rank.concat(OfferText.language)),
                                 _constant(3)))
              .where(OfferText.offer_id == ranked.c.id)
              .correlate(ranked).scalar_subquery())
    with_offers = (
        select(ranked.c.unit_price, ranked.c.total, ranked.c.review_count,
               ranked.c.rating_total, ranked.c.id,
               *(ranked.c[column.name] for column in shown),
               OfferText.language.label("text_language"), OfferText.title.label("text_title"),
               RATES_VERSION.label("rates_version"),
               func.substr(OfferText.description, _constant(1),
                           _constant(SUMMARY_LENGTH)).label("text_summary"))
        .select_from(ranked)
        .outerjoin(OfferText, and_(OfferText.offer_id == ranked.c.id,
                                   OfferText.language == chosen))
        .order_by(*[how(ranked.c[f"o{n}"]) for n, (_expression, how) in enumerate(keys)]))
    return with_offers, page


_DIRECTIONS = {operators.asc_op: lambda c: c.asc(), operators.desc_op: lambda c: c.desc(),
               operators.nulls_last_op: lambda c: c.nulls_last(),
               operators.nulls_first_op: lambda c: c.nulls_first()}


def _order_key(term) -> tuple:
    """An ORDER BY term as ``(expression, how)``: ``how(column)`` orders ``column`` as
    the term orders its expression (ascending or descending, nulls first or last)."""
    modifiers = []
    while isinstance(term, UnaryExpression) and term.modifier in _DIRECTIONS:
        modifiers.append(_DIRECTIONS[term.modifier])
        term = term.element

    def how(column):
        for modifier in reversed(modifiers):
            column = modifier(column)
        return column
    return term, how


def _constant(value: str | int):
    """A constant of the statement written into its text rather than bound (fewer
    parameters: the driver caches the parsing of a statement with at most 50)."""
    if isinstance(value, int):
        return literal_column(str(int(value)))
    if not value.replace("_", "").isalnum() or not value.isascii():
        raise ValueError(f"not a plain constant: {value!r}")
    return literal_column(f"'{value}'")


SUMMARY_LENGTH = 280


def search_offers(query: SearchQuery, *, now: datetime | None = None,
                  orm_offers: bool = True) -> SearchResult:
    """Published offers of verified members that match ``query``, one page of them.

    One SQL statement, built once per shape of query (:func:`_statement`), finds the
    page with its offers, members and texts. With ``orm_offers`` (the pages, which show
    pictures), the hits' offers are then loaded as ORM objects with their members; the
    API's answer needs only the statement's columns (:class:`HitOffer`).
    """
    check_query(query)
    now = now or utcnow()
    price_date = query.start or today_in(now=now)
    chain = fallback_chain(query.language)
    # The rates of the version this process saw last; the statement reads the version
    # in force with the page, and a search that used an older one runs again.
    version = last_rates_version() or rates_version()
    for _attempt in range(2):
        rates = _rates_to(query.currency, price_date, version)
        shape = _shape_of(query, rates, chain)
        parameters = _parameters(query, shape, rates, chain, price_date, now)
        rows = driver_read(_statement(shape, with_offers=True), parameters)
        current = rows[0].rates_version if rows else rates_version()
        if current == version:
            break
        saw_rates_version(current)
        version = current
    if rows:
        total = rows[0].total
    elif query.page > 1:  # past the last page: still tell the reader how many there are
        page = _statement(shape, with_offers=False)
        total = db.session.scalar(select(func.count()).select_from(
            page.order_by(None).subquery()), parameters)
    else:
        total = 0

    hits = []
    served = set()
    for row in rows:
        offer = HitOffer.of(row)
        language = row.text_language
        if language is not None:
            served.add(language)
        text = HitText(row.text_title, row.text_summary) if language is not None else None
        price = Money(int(row.unit_price), offer.currency)
        rate = rates.get(offer.currency)
        converted_money = (Money(convert_minor(price.amount, price.currency, query.currency,
                                               rate.rate), query.currency)
                           if rate is not None else None)
        rating = (HitRating(int(row.review_count), int(row.rating_total or 0))
                  if row.review_count else NO_RATING)
        hits.append(SearchHit(offer, language, text, price, converted_money, rate, rating))
    for language in sorted(served, key=[row.text_language for row in rows].index):
        note_served_along(chain, language)  # in the order the page shows them
    if orm_offers and hits:
        loaded = {offer.id: offer for offer in db.session.scalars(
            select(Offer).options(joinedload(Offer.provider))
            .where(Offer.id.in_([hit.offer.id for hit in hits])))}
        for hit in hits:
            hit.offer = loaded[hit.offer.id]
    return SearchResult(hits, total, query.page, query.per_page, price_date, query.currency,
                        rates)


class HitMember:
    """What a search hit carries of the offer's member."""

    __slots__ = ("id", "name", "kind", "city", "country")

    def __init__(self, id, name, kind, city, country):  # noqa: A002 (the column's name)
        self.id, self.name, self.kind, self.city = id, name, kind, city
        self.country = country


class HitOffer:
    """An offer's columns as the search statement read them (no ORM object): the same
    attribute names as :class:`~providers.models.Offer`, its member as ``provider``."""

    #: what the API's answer shows of an offer (``SearchHitSchema``)
    columns = ("id", "provider_id", "chain_link", "procedure", "status", "currency",
               "price_unit", "min_quantity", "max_quantity", "capacity_unit",
               "lead_time_days", "duration_value", "duration_unit", "confirmation_mode",
               "requires_consultation", "recovery_days", "fit_to_fly_days",
               "min_days_after_treatment", "vat_percent")
    __slots__ = (*columns, "provider")

    @classmethod
    def of(cls, row) -> HitOffer:
        offer = cls.__new__(cls)
        for name in cls.columns:
            setattr(offer, name, getattr(row, name))
        offer.provider = HitMember(offer.provider_id, row.provider_name, row.provider_kind,
                                   row.provider_city, row.provider_country)
        return offer


def _escape_like(value: str) -> str:
    return value.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")

