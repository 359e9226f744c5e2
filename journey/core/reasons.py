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

#: Every reason the code may give, by code. A code is never renamed once stored.
MESSAGES = {
    # journeys
    "opened": _l("Opened"),
    "opened_by_member": _l("Opened by a member for the patient"),
    "trip_changed": _l("The trip details changed"),
    "item_added": _l("An item was added"),
    "item_changed": _l("An item was changed"),
    "item_removed": _l("An item was removed"),
    "template_applied": _l("A package was applied"),
    "dates_planned": _l("The dates were planned"),
    "quoted": _l("Quote version %(version)s"),
    "quote_accepted": _l("Quote version %(version)s accepted"),
    "booking_followed": _l("Follows booking %(booking)s"),
    "cancelled": _l("Cancelled"),
    # checkout and payments
    "checkout_started": _l("Checkout started, the units are held"),
    "holds_renewed": _l("The held units were renewed"),
    "payment_replaced": _l("Replaced by a new payment attempt"),
    "payment_refused": _l("The payment was refused"),
    "stripe_unanswered": _l("Stripe did not answer; the same payment will be tried again"),
    "card_authorised": _l("The card was authorised"),
    "not_authorised": _l("The card was not authorised"),
    "not_paid_in_time": _l("Not paid before the held units expired"),
    "not_authorised_in_time": _l("The card was not authorised in time"),
    "sold_out_before_authorisation": _l("Sold out before the card was authorised"),
    "nothing_to_capture": _l("Nothing to capture"),
    "capture_failed": _l("The capture failed; it will be tried again"),
    "authorisation_released": _l("The card authorisation was released"),
    "authorisation_released_ended": _l(
        "The card authorisation was released: the booking has ended"),
    "balance_requested": _l("The balance was requested"),
    "balance_replaced": _l("Replaced by a request for the current balance"),
    "balance_due": _l("The balance was due on %(due_on)s"),
    "amount_owed_changed": _l("The amount owed changed"),
    # members' answers
    "instant_confirmation": _l("Confirmed at once (instant booking)"),
    "waiting_for_member": _l("Waiting for the member's answer"),
    "member_accepted": _l("Accepted by the member"),
    "member_declined": _l("Declined by the member"),
    "no_answer": _l("No answer by %(deadline_at)s"),
    "declined_line_dropped": _l("Declined by the member; the patient went on without it"),
    "all_declined": _l("Every item was declined"),
    "patient_decides": _l("A member declined; the patient decides"),
    "all_confirmed": _l("Every item confirmed, the deposit captured"),
    "patient_went_on": _l("The patient goes on with the confirmed items"),
    "declined_line_gone": _l("The declined item is gone"),
    # cancellations, refunds, payouts
    "cancelled_by_member": _l("Cancelled by the member"),
    "cancelled_fee_kept": _l("Cancelled, %(kept_minor)s kept under the terms"),
    "refund_planned": _l("%(amount_minor)s to refund from payment %(payment)s"),
    "refund_refused": _l("Stripe refused the refund"),
    "refund_to_retry": _l("Stripe did not answer; the refund will be tried again"),
    "refund_done": _l("Refunded"),
    "payout_failed": _l("The payout failed"),
    "payout_paid": _l("Paid out"),
}


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
