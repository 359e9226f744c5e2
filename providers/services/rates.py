"""Exchange rates: admin-managed, dated, never overwritten; conversion is explicit."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from functools import lru_cache

from flask_babel import lazy_gettext as _l
from sqlalchemy import Row, String, cast, func, select, text

from journey.core.accounts.permissions import require_admin
from journey.core.errors import Conflict, InvalidInput
from journey.core.extensions import db
from journey.core.money import Money, convert, minor_factor, require_currency
from journey.core.persistence import dialect_name, flush_or_conflict
from providers.models import ExchangeRate

RATE_PRECISION = Decimal("0.0000000001")


@dataclass(frozen=True)
class Rate:
    """``1 source = rate target``, with the date of the published rate(s) it came from."""

    source: str
    target: str
    rate: Decimal
    effective_on: date | None

    def convert(self, money: Money) -> Money:
        return convert(money, self.target, self.rate)

    def minor_factor(self) -> Decimal:
        return minor_factor(self.source, self.target, self.rate)


def add_rate(actor, *, base: str, quote: str, rate: Decimal, effective_on: date) -> ExchangeRate:
    require_admin(actor)
    base, quote = require_currency(base, "base"), require_currency(quote, "quote")
    if base == quote:
        raise InvalidInput(fields={"quote": [_l("Must differ from the base currency.")]})
    if not isinstance(rate, Decimal) or rate <= 0:
        raise InvalidInput(fields={"rate": [_l("Must be a positive number.")]})
    rate = rate.quantize(RATE_PRECISION)
    if rate <= 0:
        raise InvalidInput(fields={"rate": [_l("Must be a positive number.")]})
    if dialect_name() == "postgresql":
        # one writer of rates at a time, until it commits: a rate with a smaller id
        # committed after a larger one would not change RATES_VERSION (SQLite has a
        # single writer anyway); readers are not blocked
        db.session.execute(text("LOCK TABLE exchange_rate IN SHARE ROW EXCLUSIVE MODE"))
    exists = db.session.scalar(select(ExchangeRate.id).where(
        ExchangeRate.base == base, ExchangeRate.quote == quote,
        ExchangeRate.effective_on == effective_on))
    if exists:
        raise Conflict(_l("A rate for this pair and date exists already."),
                       fields={"effective_on": [_l("A rate for this date exists already.")]})
    row = ExchangeRate(base=base, quote=quote, rate=rate, effective_on=effective_on)
    db.session.add(row)
    flush_or_conflict(_l("A rate for this pair and date exists already."))  # recorded concurrently
    return row


def list_rates(*, base: str | None = None, quote: str | None = None, limit: int = 200):
    query = select(ExchangeRate).order_by(ExchangeRate.effective_on.desc(), ExchangeRate.base,
                                          ExchangeRate.quote)
    if base:
        query = query.where(ExchangeRate.base == base.upper())
    if quote:
        query = query.where(ExchangeRate.quote == quote.upper())
    return list(db.session.scalars(query.limit(limit)))


#: Every stored rate as plain rows (``base``, ``quote``, ``rate``, ``effective_on``),
#: newest first.
_RATE_ROWS = (select(ExchangeRate.base, ExchangeRate.quote, ExchangeRate.rate,
                     ExchangeRate.effective_on)
              .order_by(ExchangeRate.effective_on.desc(), ExchangeRate.id.desc()))


def _in_force(rows, on: date) -> dict[tuple[str, str], Row]:
    """Of ``rows`` (newest first), the newest of every pair published on or before
    ``on``."""
    table: dict[tuple[str, str], Row] = {}
    for row in rows:
        if row.effective_on <= on:
            table.setdefault((row.base, row.quote), row)
    return table


def rates_in_force(on: date) -> dict[tuple[str, str], Row]:
    """The newest rate of every stored pair published on or before ``on`` (one query,
    plain rows: ``base``, ``quote``, ``rate``, ``effective_on``)."""
    return _in_force(db.session.execute(_RATE_ROWS.where(ExchangeRate.effective_on <= on)),
                     on)


#: The rate table's version: its newest row's id and insertion time. Rates are only ever
#: added, one writer at a time (:func:`add_rate` locks the table against other writers
#: first), so their ids are committed in order and the table stays the same while its
#: newest row does (the time tells a table emptied and filled again apart). Read
#: through the primary key's index: one row, however many years of rates are stored
#: (counting them read every row of the table in each search and quote). A scalar
#: subquery: a statement that needs the rates reads their version with its own rows.
RATES_VERSION = func.coalesce(
    select(cast(ExchangeRate.id, String()).concat("/")
           .concat(cast(ExchangeRate.created_at, String())))
    .order_by(ExchangeRate.id.desc()).limit(1).scalar_subquery(), "0/")

#: The version this process saw last, per database.
_last_version: dict[object, str] = {}


def _database():
    """The database the session works on (its URL): the process keeps what it read per
    database, so two applications in one process never share a table of rates whose
    versions happen to read the same."""
    return db.engine.engine.url


def rates_version() -> str:
    """The rate table's version now (one small query)."""
    version = db.session.scalar(select(RATES_VERSION))
    saw_rates_version(version)
    return version


def saw_rates_version(version: str) -> None:
    _last_version[_database()] = version


def last_rates_version() -> str | None:
    """The version this process saw last: what a statement can assume, and check with
    :data:`RATES_VERSION` among its columns."""
    return _last_version.get(_database())


@lru_cache(maxsize=4)
def _rows_of_version(database, version: str) -> tuple:
    """Every stored rate of ``database``, newest first (read once per version and
    process)."""
    return tuple(db.session.execute(_RATE_ROWS).all())


def rates_of_version(on: date, version: str) -> dict[tuple[str, str], Row]:
    """:func:`rates_in_force` on ``on``, from the table of ``version`` kept in the
    process (not to be changed by the caller)."""
    return _table_of_version(_database(), on, version)


@lru_cache(maxsize=1024)
def _table_of_version(database, on: date, version: str) -> dict[tuple[str, str], Row]:
    return _in_force(_rows_of_version(database, version), on)


def _direct(table, source: str, target: str) -> Rate | None:
    row = table.get((source, target))
    if row is not None:
        return Rate(source, target, Decimal(row.rate), row.effective_on)
    row = table.get((target, source))
    if row is not None:
        inverse = (Decimal(1) / Decimal(row.rate)).quantize(RATE_PRECISION)
        return Rate(source, target, inverse, row.effective_on)
    return None


def rate_from_table(table, source: str, target: str, pivot: str = "EUR") -> Rate | None:
    """Direct, inverse, or across ``pivot``; None when no path exists."""
    if source == target:
        return Rate(source, target, Decimal(1), None)
    rate = _direct(table, source, target)
    if rate is not None:
        return rate
    if pivot not in (source, target):
        first, second = _direct(table, source, pivot), _direct(table, pivot, target)
        if first and second:
            return Rate(source, target, (first.rate * second.rate).quantize(RATE_PRECISION),
                        min(first.effective_on, second.effective_on))
    return None


def get_rate(source: str, target: str, *, on: date, pivot: str = "EUR") -> Rate:
    """The rate in force on ``on``: direct, inverse, or across ``pivot``."""
    return require_rate(rates_in_force(on), source, target, pivot)


def require_rate(table, source: str, target: str, pivot: str = "EUR") -> Rate:
    """Like :func:`rate_from_table`, but a missing rate is a clear 4xx."""
    rate = rate_from_table(table, source, target, pivot)
    if rate is None:
        raise InvalidInput(
            _l("No exchange rate from %(source)s to %(target)s.", source=source, target=target),
            fields={"currency": [_l("No exchange rate for this currency.")]})
    return rate
