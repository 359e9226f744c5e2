"""Validation shared by the catalogue services."""

from __future__ import annotations

from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from babel import Locale
from flask_babel import lazy_gettext as _l

from journey.errors import InvalidInput
from journey.i18n import normalize_language


def check_timezone(value: str) -> str:
    try:
        ZoneInfo(value)
    except (ZoneInfoNotFoundError, ValueError, TypeError):
        raise InvalidInput(fields={"timezone": [_l("Not a known time zone.")]}) from None
    return value


def check_country(value: str) -> str:
    code = (value or "").upper()
    if code not in Locale("en").territories or not code.isalpha():
        raise InvalidInput(fields={"country": [_l("Not an ISO 3166 country code.")]})
    return code


def check_language(value: str, field: str = "language") -> str:
    language = normalize_language(value)
    if language is None:
        raise InvalidInput(fields={field: [_l("Not a known language code.")]})
    return language


