"""Validation shared by the catalogue services, and the choice of a member's text in the
reader's language."""

from __future__ import annotations

from collections.abc import Mapping
from typing import TypeVar
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from babel import Locale
from flask_babel import lazy_gettext as _l

from journey.core.errors import InvalidInput
from journey.core.i18n import fallback_chain, normalize_language, pick

T = TypeVar("T")


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




def text_in(texts: Mapping[str, T], language: str | None,
            provider=None) -> tuple[str | None, T | None]:
    """A member's content (``texts`` by language) for a reader of ``language``, along the
    catalogue's fallback chain: that language, its base language, the other languages
    the reader reads, English, the ``provider``'s default language, then any. Returns
    ``(language, text)``; ``(None, None)`` when there is no text at all."""
    default = provider.default_language if provider is not None else None
    return pick(texts, fallback_chain(language, default))
