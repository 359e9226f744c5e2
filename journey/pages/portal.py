"""Helpers shared by the member portal, the coordinator's board and the admin pages:
amounts typed in major units, and Babel formatting for templates. The login check and
the form submission are every page's (journey.pages.common)."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from decimal import Decimal

from babel.numbers import format_decimal as babel_format_decimal
from flask_babel import format_date, format_decimal
from flask_babel import lazy_gettext as _l
from markupsafe import Markup

from journey.core.money import minor_digits
from journey.pages.common import language_name, page_locale, show_minor
from journey.pages.layout import day as layout_day
from journey.pages.layout import local_time, percent_filter
from journey.pages.member.calendar_cells import capacity_month


def to_minor(field, currency: str) -> int | None:
    """A decimal amount typed into ``field`` as minor units of ``currency``; None (with an
    error beside the field) when it has more decimals than the currency allows."""
    value: Decimal | None = field.data
    if value is None:
        return None
    digits = minor_digits(currency)
    scaled = value.scaleb(digits)
    if scaled != scaled.to_integral_value():
        field.errors = [*field.errors, str(_l("Use at most %(n)d decimal places.", n=digits))]
        return None
    return int(scaled)


def minor_amounts(currency: str, **fields) -> dict | None:
    """The amounts typed into ``fields`` as minor units of ``currency``, by the given
    names; None when one has more decimals than the currency allows (the error is
    beside that field)."""
    amounts = {name: to_minor(field, currency) for name, field in fields.items()}
    return None if any(field.errors for field in fields.values()) else amounts


def from_minor(amount: int | None, currency: str) -> Decimal | None:
    if amount is None:
        return None
    return Decimal(amount).scaleb(-minor_digits(currency))


def day(value: date | None, style: str = "medium") -> str:
    return layout_day(value, style)


def moment(value: datetime | None, style: str = "short", zone: str | None = None) -> Markup:
    """A moment in ``zone`` (where it happens; the cluster's by default) with the zone
    named, isolated so that it never breaks a sentence in another script
    (:func:`journey.pages.layout.local_time`)."""
    return local_time(value, zone, style)


def number(value) -> str:
    return format_decimal(value) if value is not None else ""


def stay(start_on: date, end_on: date, nightly: bool) -> str:
    """The dates of a booked line: check-in – check-out for nights, else the first and
    the last day (one date for a single day). ``end_on`` is the day after the last."""
    if nightly:
        return f"{day(start_on)} – {day(end_on)}"
    last = end_on - timedelta(days=1)
    return day(start_on) if last <= start_on else f"{day(start_on)} – {day(last)}"


def exact(value) -> str:
    """A decimal with all its significant digits (an exchange rate), in the locale."""
    return babel_format_decimal(Decimal(value).normalize(), locale=page_locale(),
                                decimal_quantization=False)


def weekday(value: date) -> str:
    return format_date(value, "EEE")


def formatting_context() -> dict:
    """What every portal, board and admin template may call: ``fmt.<name>`` and
    ``language_name`` and ``capacity_month`` (the capacity calendar's grid)."""
    return {"fmt": {"money": show_minor, "day": day, "moment": moment, "number": number,
                    "percent": percent_filter, "weekday": weekday, "exact": exact},
            "language_name": language_name,
            "capacity_month": capacity_month}
