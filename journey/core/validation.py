"""Translated validation messages for marshmallow.

marshmallow formats its messages with ``str.format`` when it raises. :class:`T` is a
message id that translates itself at that moment, in the locale of the request, so
field errors reach the user in their language. :func:`install` swaps marshmallow's
English defaults for such ids once at start-up; ``pybabel extract -k T`` finds them.
"""

from __future__ import annotations

from datetime import date, timedelta

from flask_babel import gettext, lazy_ngettext
from marshmallow import Schema, ValidationError, fields, validate


class T(str):
    """A message id translated when marshmallow formats it."""

    __slots__ = ()

    def format(self, *args, **kwargs):  # noqa: A003 - str API
        try:
            translated = gettext(str(self))
        except (RuntimeError, KeyError):  # outside an app context: plain English
            translated = str(self)
        # gettext may already have %-formatted nothing; .format fills {placeholders}.
        return str.format(translated, *args, **kwargs)


MESSAGES = {
    fields.Field: {
        "required": T("Missing data for required field."),
        "null": T("Field may not be null."),
        "validator_failed": T("Invalid value."),
    },
    fields.String: {"invalid": T("Not a valid string."), "invalid_utf8": T("Not a valid string.")},
    fields.Integer: {
        "invalid": T("Not a valid integer."),
        "too_large": T("Number too large."),
    },
    fields.Float: {"invalid": T("Not a valid number."), "special": T("Not a valid number.")},
    fields.Decimal: {"invalid": T("Not a valid number."), "special": T("Not a valid number.")},
    fields.Boolean: {"invalid": T("Not a valid boolean.")},
    fields.Date: {
        "invalid": T("Not a valid date."),
        "format": T("Not a valid date."),
    },
    fields.DateTime: {
        "invalid": T("Not a valid datetime."),
        "invalid_awareness": T("Not a valid datetime."),
        "format": T("Not a valid datetime."),
    },
    fields.Email: {"invalid": T("Not a valid email address.")},
    fields.List: {"invalid": T("Not a valid list.")},
    fields.Dict: {"invalid": T("Not a valid mapping type.")},
    fields.Nested: {"type": T("Invalid input type.")},
    fields.Enum: {"unknown": T("Must be one of: {choices}.")},
}

SCHEMA_MESSAGES = {
    "unknown": T("Unknown field."),
    "type": T("Invalid input type."),
}


def install() -> None:
    """Replace marshmallow's default messages with translatable ones (idempotent)."""
    for field_class, messages in MESSAGES.items():
        merged = dict(field_class.__dict__.get("default_error_messages", {}))
        merged.update(messages)
        field_class.default_error_messages = merged
    Schema._default_error_messages = {**Schema._default_error_messages, **SCHEMA_MESSAGES}


def in_range(low, high) -> validate.Range:
    """``validate.Range`` with a translated message."""
    return validate.Range(min=low, max=high, error=T("Must be between {min} and {max}."))


def length(low, high) -> validate.Length:
    """``validate.Length`` with a translated message."""
    return validate.Length(min=low, max=high,
                           error=T("Length must be between {min} and {max}."))


#: Dates written through the API lie in this window: nothing the cluster books, prices or
#: converts is older, and nothing is planned further ahead than the planning horizon.
EARLIEST_DATE = date(2000, 1, 1)
YEARS_AHEAD = 5


def latest_date(today: date | None = None) -> date:
    today = today or date.today()
    return today + timedelta(days=YEARS_AHEAD * 366)


class DateWindow(validate.Validator):
    """A date between :data:`EARLIEST_DATE` and :data:`YEARS_AHEAD` years from today
    (the window moves with the calendar), with a translated message."""

    error = T("Use a date between {min} and {max}.")

    def window(self) -> tuple[date, date]:
        """The first and the last date accepted today."""
        return EARLIEST_DATE, latest_date()

    def refusal(self, value: date) -> str | None:
        """The message for ``value`` outside the window (None inside it), for the
        pages' forms and query strings as much as the API's schemas."""
        earliest, latest = self.window()
        if earliest <= value <= latest:
            return None
        return self.error.format(min=earliest.isoformat(), max=latest.isoformat())

    def __call__(self, value: date) -> date:
        message = self.refusal(value)
        if message is not None:
            raise ValidationError(message)
        return value


class StrictDate(fields.Date):
    """A date written as the document says, ``YYYY-MM-DD`` (Python reads ``20270201``
    too, which the pattern refuses)."""

    def _deserialize(self, value, attr, data, **kwargs):
        if isinstance(value, str) and not (len(value) == 10 and value[4] == value[7] == "-"):
            raise self.make_error("invalid")
        return super()._deserialize(value, attr, data, **kwargs)


class Day(StrictDate):
    """A date field for anything written: bounded by :class:`DateWindow`, and documented
    so in the OpenAPI document."""

    def __init__(self, **kwargs):
        validators = kwargs.pop("validate", None)
        validators = [validators] if callable(validators) else list(validators or [])
        metadata = {"x-earliest": EARLIEST_DATE.isoformat(),
                    "description": f"A date from {EARLIEST_DATE.isoformat()} to "
                                   f"{YEARS_AHEAD} years ahead.",
                    **kwargs.pop("metadata", {})}
        super().__init__(validate=[DateWindow(), *validators], metadata=metadata, **kwargs)


#: The earliest date of birth written through the API.
EARLIEST_BIRTH_DATE = date(1900, 1, 1)


class BirthWindow(DateWindow):
    """A date of birth: from :data:`EARLIEST_BIRTH_DATE` to today."""

    def window(self) -> tuple[date, date]:
        return EARLIEST_BIRTH_DATE, date.today()


class BirthDay(StrictDate):
    """A date of birth (not :class:`Day`'s window of things booked and planned),
    documented so in the OpenAPI document."""

    def __init__(self, **kwargs):
        metadata = {"x-earliest": EARLIEST_BIRTH_DATE.isoformat(),
                    "description": f"A date from {EARLIEST_BIRTH_DATE.isoformat()} to today.",
                    **kwargs.pop("metadata", {})}
        super().__init__(validate=BirthWindow(), metadata=metadata, **kwargs)


def at_most(limit: int, what: str = "characters"):
    """"At most 500 characters." with the plural form the reader's language needs for
    ``limit`` (one message per counted thing, so translators see whole sentences)."""
    if what == "characters":
        return lazy_ngettext("At most %(num)d character.", "At most %(num)d characters.", limit)
    if what == "documents":
        return lazy_ngettext("At most %(num)d document.", "At most %(num)d documents.", limit)
    if what == "questions":
        return lazy_ngettext("At most %(num)d question.", "At most %(num)d questions.", limit)
    if what == "steps":
        return lazy_ngettext("At most %(num)d step.", "At most %(num)d steps.", limit)
    if what == "attachments":
        return lazy_ngettext("At most %(num)d document to a message.",
                             "At most %(num)d documents to a message.", limit)
    raise ValueError(what)
