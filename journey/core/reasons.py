"""Why something happened: a code with parameters, stored, and translated when read.

Journey transitions, booking events, escalations and refunds are read by patients,
members and coordinators in ten languages, so they store ``reason_code`` and
``reason_params`` instead of an English sentence. What a person typed (a patient's
reason for cancelling, a member's decline) or what Stripe answered is kept as it came,
in the row's note (``reason`` or ``detail``), and shown after the translated sentence.

Parameters are plain JSON. A name ending in ``_minor`` is an amount in the minor units
of the ``currency`` parameter, one ending in ``_on`` an ISO date and one ending in
``_at`` an ISO datetime; each is formatted for the reader's locale.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime

from flask_babel import format_date, format_datetime, get_locale
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from marshmallow import Schema, fields
from sqlalchemy import JSON, String
from sqlalchemy.orm import Mapped, mapped_column

from journey.core.money import Money, format_money

#: Every reason the code may give, by code: the few every package shares, and each
#: package's own vocabulary (``bookings.reasons``, ``journey.builder.reasons``), which
#: ``create_app`` registers with :func:`register_reasons`. A code is never renamed once
#: stored.
MESSAGES = {
    "cancelled": _l("Cancelled"),
}


def register_reasons(*tables: dict) -> None:
    """Add a package's reason codes. Registering a table again changes nothing; a code
    that another package already gives a different meaning is an error."""
    for table in tables:
        for code, message in table.items():
            known = MESSAGES.get(code)
            if known is not None and known._args != message._args:
                raise ValueError(f"reason code {code!r} is registered with another message")
            MESSAGES[code] = message


@dataclass(frozen=True)
class Why:
    """A reason as stored: its code, its parameters and a note as it came."""

    code: str
    params: dict = field(default_factory=dict)
    note: str = ""


def why(code: str, note: str | None = "", **params) -> Why:
    """The reason ``code`` with ``params``; ``note`` is kept as written."""
    if code not in MESSAGES:
        raise ValueError(f"unknown reason code {code!r}")
    return Why(code, {name: _json(value) for name, value in params.items()},
               (note or "")[:500])


def as_why(reason: Why | str | None) -> Why:
    """A bare text (what a person typed, or Stripe's message) is a note without a code."""
    if isinstance(reason, Why):
        return reason
    return Why("", {}, (reason or "")[:500])


def _json(value):
    if isinstance(value, datetime | date):
        return value.isoformat()
    return value


def describe(code: str | None, params: dict | None, note: str = "") -> str:
    """The reason in the reader's language, followed by its note."""
    message = MESSAGES.get(code or "")
    text = str(message) % _formatted(params or {}) if message is not None else ""
    note = (note or "").strip()
    if text and note:
        return _("%(reason)s: %(note)s", reason=text, note=note)
    return text or note


def _formatted(params: dict) -> dict:
    locale = str(get_locale() or "en")
    shown = {}
    for name, value in params.items():
        if name.endswith("_minor") and "currency" in params:
            shown[name] = format_money(Money(int(value), params["currency"]), locale)
        elif name.endswith("_on") and isinstance(value, str):
            shown[name] = format_date(date.fromisoformat(value), "medium")
        elif name.endswith("_at") and isinstance(value, str):
            shown[name] = format_datetime(datetime.fromisoformat(value), "medium")
        else:
            shown[name] = value
    return shown


class ReasonSchema(Schema):
    """The reason of a row in API output: its code and its text for the reader."""

    reason_code = fields.String(metadata={"description": "Stable code of the reason."})
    reason = fields.Function(lambda row: row.explained, metadata={
        "description": "The reason in the request's language, with any note after it."})


class Reasoned:
    """Columns for a stored reason; ``note_column`` names the row's free-text column."""

    note_column = "reason"

    reason_code: Mapped[str] = mapped_column(String(40), default="", server_default="")
    reason_params: Mapped[dict | None] = mapped_column(JSON)

    def set_reason(self, reason: Why | str | None) -> None:
        stated = as_why(reason)
        self.reason_code = stated.code
        self.reason_params = stated.params or None
        setattr(self, self.note_column, stated.note)

    @property
    def explained(self) -> str:
        """The reason in the reader's language (with the note after it)."""
        return describe(self.reason_code, self.reason_params,
                        getattr(self, self.note_column) or "")
