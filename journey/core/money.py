"""Money: an integer of minor units and an ISO 4217 code. Never a float.

Conversion multiplies by a stored :class:`~decimal.Decimal` rate and rounds
explicitly (half-even unless told otherwise) to the target currency's minor unit;
display goes through Babel for the reader's locale.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import ROUND_HALF_EVEN, Decimal, localcontext
from functools import lru_cache

from babel.numbers import format_currency, get_currency_precision, list_currencies
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
    """``€1,234.50`` / ``1.234,50 €``: Babel's pattern for the locale (cached, since
    catalogue pages show the same prices over and over)."""
    return _format(money.amount, money.currency, locale)


@lru_cache(maxsize=8192)
def _format(amount: int, currency: str, locale: str) -> str:
    return format_currency(Money(amount, currency).to_decimal(), currency, locale=locale)


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
