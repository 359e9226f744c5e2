"""Invoicing follows the booking engine: its signals (:mod:`bookings.services.audit`)
issue the documents in the transaction of the fact (the invoice at confirmation, a
receipt per capture, a credit note per invoiced line cancelled), and a refund that ends
(succeeded or failed) is e-mailed to the patient.

E-mail kind (registered with :mod:`journey.notices`):

- ``refund_update`` (to the patient): the amount given back, its state (refunded, or
  failed: the coordinators are on it) and the number of the cancellation's credit note;
  with the link to the journey page, where the refund and the documents are listed.

Imported by :mod:`journey.invoicing.api`, so it is connected when the app starts.
"""

from __future__ import annotations

from flask import current_app, url_for
from flask_babel import get_locale
from flask_babel import lazy_gettext as _l

from bookings.models import (
    BookingStatus,
    Notification,
    PaymentStatus,
    Refund,
    RefundStatus,
)
from bookings.services.audit import (
    booking_moved,
    line_cancellation_settled,
    payment_moved,
    refund_moved,
)
from journey import notices
from journey.builder.services.booking_link import journey_of
from journey.core.extensions import db
from journey.core.money import Money, format_money
from journey.invoicing import services

REFUND_MAIL = "refund_update"

REFUND_STATE_TITLES = {RefundStatus.CREATED: _l("Under way"),
                       RefundStatus.SUCCEEDED: _l("Refunded"),
                       RefundStatus.FAILED: _l("Failed: our coordinators are on it")}


def _on_booking(booking, *, old=None, new=None, now=None, **_kw) -> None:
    if new == BookingStatus.CONFIRMED:
        services.on_booking_confirmed(booking, now=now)


def _on_payment(booking, *, payment, old=None, new=None, now=None, **_kw) -> None:
    if new == PaymentStatus.CAPTURED:
        services.on_payment_captured(payment, now=now)


def _on_line_settled(booking, *, line, now=None, **_kw) -> None:
    services.on_line_cancellation_settled(booking, line, now=now)


def _on_refund(booking, *, refund, old=None, new=None, now=None, **_kw) -> None:
    if new not in (RefundStatus.SUCCEEDED, RefundStatus.FAILED):
        return
    notices.queue(f"refund:{refund.id}:{new.value}", booking.customer_ref, REFUND_MAIL,
                  payload={"refund_id": refund.id}, booking_id=booking.id, now=now)


booking_moved.connect(_on_booking, weak=False)
payment_moved.connect(_on_payment, weak=False)
refund_moved.connect(_on_refund, weak=False)
line_cancellation_settled.connect(_on_line_settled, weak=False)


def _link(endpoint: str, **values) -> str:
    base = current_app.config["PUBLIC_URL"].rstrip("/")
    with current_app.test_request_context(base_url=base):
        return url_for(endpoint, _external=True, **values)


def _refund_params(notification: Notification) -> dict:
    refund = db.session.get(Refund, notification.payload["refund_id"])
    booking = refund.payment.booking
    journey = journey_of(booking)
    credits = services.credit_notes_of(refund)
    link = (_link("journey.show", journey_id=journey.id) + "#booking" if journey is not None
            else _link("journey.index"))
    return {"booking": booking.id,
            "amount": format_money(Money(refund.amount_minor, refund.currency),
                                   str(get_locale() or "en")),
            "state": str(REFUND_STATE_TITLES[refund.status]),
            "credit_note": ", ".join(note.number for note in credits) or "—",
            "link": link}


notices.register(
    REFUND_MAIL, _l("Your refund of %(amount)s: %(state)s"),
    _l("The refund of %(amount)s for your booking %(booking)s: %(state)s.\n"
       "Credit note: %(credit_note)s\n\n"
       "A refund reaches your card within 5 to 10 working days, depending on your bank. "
       "Your invoice, receipts and credit notes are on your journey page:\n%(link)s"),
    _refund_params)
