"""Money: an integer of minor units and an ISO 4217 code. Never a float.

Conversion multiplies by a stored :class:`~decimal.Decimal` rate and rounds
explicitly (half-even unless told otherwise) to the target currency's minor unit;
display goes through Babel for the reader's locale.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from decimal import ROUND_HALF_EVEN, Decimal, localcontext
from functools import lru_cache

from babel.core import Locale
from babel.numbers import (
    format_currency,
    get_currency_precision,
    get_currency_symbol,
    get_decimal_symbol,
    get_group_symbol,
    list_currencies,
)
from flask_babel import lazy_gettext as _l

from journey.core.errors import InvalidInput


@lru_cache(maxsize=1)
def known_currencies() -> frozenset[str]:
    return frozenset(list_currencies())


def is_currency(code: str | None) -> bool:
    return bool(code) and isinstance(code, str) and code in known_currencies()


def require_currency(code: str | None, field: str = "currency") -> str:
    """``code`` as an ISO 4217 code (upper-cased), or a field error."""
    code = (code or "").upper()
    if not is_currency(code):
        raise InvalidInput(fields={field: [_l("Not an ISO 4217 currency code.")]})
    return code


@lru_cache(maxsize=512)
def minor_digits(currency: str) -> int:
    """Digits after the decimal point: 2 for EUR, 0 for JPY and ISK, 3 for KWD."""
    return get_currency_precision(currency)


@dataclass(frozen=True, slots=True)
class Money:
    amount: int  # minor units
    currency: str

    def __post_init__(self):
        if isinstance(self.amount, bool) or not isinstance(self.amount, int):
            raise TypeError("Money.amount must be an int of minor units")
        if not is_currency(self.currency):
            raise ValueError(f"unknown currency {self.currency!r}")

    def __add__(self, other: Money) -> Money:
        self._same_currency(other)
        return Money(self.amount + other.amount, self.currency)

    def __sub__(self, other: Money) -> Money:
        self._same_currency(other)
        return Money(self.amount - other.amount, self.currency)

    def times(self, quantity: int) -> Money:
        if not isinstance(quantity, int):
            raise TypeError("quantity must be an int")
        return Money(self.amount * quantity, self.currency)

    def to_decimal(self) -> Decimal:
        """The amount in major units, exactly (``Decimal('12.50')``)."""
        return Decimal(self.amount).scaleb(-minor_digits(self.currency))

    @classmethod
    def from_decimal(cls, value: Decimal, currency: str, rounding: str = ROUND_HALF_EVEN):
        if not isinstance(value, Decimal):
            raise TypeError("Money.from_decimal takes a Decimal")
        minor = value.scaleb(minor_digits(currency))
        return cls(int(minor.to_integral_value(rounding=rounding)), currency)

    def _same_currency(self, other: Money) -> None:
        if self.currency != other.currency:
            raise ValueError(f"cannot mix {self.currency} and {other.currency}")


def convert_minor(amount: int, source: str, target: str, rate: Decimal,
                  rounding: str = ROUND_HALF_EVEN) -> int:
    """Convert ``amount`` minor units of ``source`` at ``rate`` (target per source)."""
    if not isinstance(rate, Decimal):
        raise TypeError("rate must be a Decimal")
    with localcontext() as ctx:
        ctx.prec = 38
        scaled = Decimal(amount) * rate
        scaled = scaled.scaleb(minor_digits(target) - minor_digits(source))
        return int(scaled.to_integral_value(rounding=rounding))


def convert(money: Money, target: str, rate: Decimal, rounding: str = ROUND_HALF_EVEN) -> Money:
    if money.currency == target:
        return money
    return Money(convert_minor(money.amount, money.currency, target, rate, rounding), target)


def minor_factor(source: str, target: str, rate: Decimal) -> Decimal:
    """Multiply minor units of ``source`` by this to get (unrounded) minor units of target."""
    return rate.scaleb(minor_digits(target) - minor_digits(source))


def format_money(money: Money, locale: str) -> str:
    """``€1,234.50`` / ``1.234,50 €``: Babel's standard currency pattern for the locale,
    through a layout read from Babel once per currency and locale
    (:func:`_currency_layout`); a search page shows forty prices."""
    return _format(money.amount, money.currency, locale)


def _format(amount: int, currency: str, locale: str) -> str:
    layout = _currency_layout(currency, locale)
    if layout is None:
        return _babel_format(amount, currency, locale)
    return layout.format(amount)


def _babel_format(amount: int, currency: str, locale: str) -> str:
    return format_currency(Money(amount, currency).to_decimal(), currency, locale=locale)


def _unquote(text: str) -> str:
    """Babel's last step: text quoted in a pattern loses its quotes (``''`` is one)."""
    return re.sub(r"'([^']*)'", lambda m: m.group(1) or "'", text)


@dataclass(frozen=True, slots=True)
class _CurrencyLayout:
    """What Babel's ``format_currency`` writes around and into the digits of an amount
    of one currency in one locale, read once: the prefix and suffix (symbol in place)
    of positive and negative amounts, the group and decimal symbols, the grouping, the
    least integer digits and the currency's minor digits."""

    prefixes: tuple[str, str]
    suffixes: tuple[str, str]
    group: str
    decimal: str
    grouping: tuple[int, int]
    min_integer: int
    digits: int

    def format(self, amount: int) -> str:
        negative = amount < 0
        whole, fraction = divmod(abs(amount), 10 ** self.digits)
        integer = str(whole).rjust(self.min_integer, "0")
        size, parts = self.grouping[0], []
        while len(integer) > size:
            parts.append(integer[-size:])
            integer = integer[:-size]
            size = self.grouping[1]
        parts.append(integer)
        number = self.group.join(reversed(parts))
        if self.digits:
            number += self.decimal + str(fraction).rjust(self.digits, "0")
        return self.prefixes[negative] + number + self.suffixes[negative]


#: amounts each layout is checked against Babel with before it is used
_LAYOUT_PROBES = (0, 1, -1, 7, 99, 100, -250, 123456, -98765432, 1234567890123)


@lru_cache(maxsize=1024)
def _currency_layout(currency: str, locale: str) -> _CurrencyLayout | None:
    """The layout of ``currency`` in ``locale``, or None where Babel's pattern is not a
    plain one (scientific, significant digits, a scale, a currency name by plural) or
    the layout would write any probe amount differently from Babel: Babel then formats
    each amount itself."""
    parsed = Locale.parse(locale)
    pattern = parsed.currency_formats["standard"]
    if (pattern.exp_prec or pattern.scale or "@" in pattern.pattern
            or "¤¤¤" in "".join(pattern.prefix + pattern.suffix)):
        return None
    symbol = get_currency_symbol(currency, parsed)

    def place(text: str) -> str:
        return _unquote(text.replace("¤¤", currency.upper()).replace("¤", symbol))

    layout = _CurrencyLayout(
        prefixes=(place(pattern.prefix[0]), place(pattern.prefix[1])),
        suffixes=(place(pattern.suffix[0]), place(pattern.suffix[1])),
        group=get_group_symbol(parsed, numbering_system="latn"),
        decimal=get_decimal_symbol(parsed, numbering_system="latn"),
        grouping=tuple(pattern.grouping), min_integer=pattern.int_prec[0],
        digits=minor_digits(currency))
    if any(layout.format(amount) != _babel_format(amount, currency, locale)
           for amount in _LAYOUT_PROBES):
        return None
    return layout


def percent_of(amount: int, percent) -> int:
    """``percent`` % of ``amount`` minor units, rounded half-even to a minor unit
    (``percent`` an int or a Decimal, never a float)."""
    share = Decimal(amount) * Decimal(percent) / Decimal(100)
    return int(share.to_integral_value(rounding=ROUND_HALF_EVEN))


def split_minor(amount: int, weights: list[int]) -> list[int]:
    """Split ``amount`` in proportion to ``weights`` so the parts add up exactly
    (largest remainder; ties to the earlier part)."""
    total = sum(weights)
    if total <= 0:
        return [0] * len(weights)
    parts = [amount * w // total for w in weights]
    remainders = sorted(range(len(weights)), key=lambda i: (-(amount * weights[i] % total), i))
    for i in remainders[: amount - sum(parts)]:
        parts[i] += 1
    return parts
