"""Every transition of a booking, a line, a payment, a refund or a payout is a row:
who, when, from, to, why (a reason code, translated when read). State changes go
through :func:`move`, which writes that row and tells whoever listens (the journey
follows its booking) in the same transaction; a move that makes a booked line start or
stop using its units changes ``capacity_day.used`` with it (:mod:`bookings.services.usage`)."""

from __future__ import annotations

from datetime import datetime

from blinker import Namespace

from bookings.models import Booking, BookingEvent, BookingLine, LineEndedBy, Payment, Refund
from bookings.services.states import check_move
from bookings.services.usage import count_move
from journey.core.extensions import db
from journey.core.reasons import Why

signals = Namespace()
#: Sent as ``booking_moved.send(booking, old=..., new=..., actor=..., now=...)``.
booking_moved = signals.signal("booking-moved")
#: Sent as ``line_moved.send(booking, line=..., old=..., new=..., now=...)``.
line_moved = signals.signal("booking-line-moved")
#: Sent as ``payment_moved.send(booking, payment=..., old=..., new=..., now=...)``
#: (e.g. captured: the receipt is issued in the same transaction).
payment_moved = signals.signal("booking-payment-moved")
#: Sent as ``refund_moved.send(booking, refund=..., old=..., new=..., now=...)``
#: (succeeded or failed: the credit note and the patient's e-mail follow).
refund_moved = signals.signal("booking-refund-moved")
#: Sent as ``line_cancellation_settled.send(booking, line=..., now=...)`` once a line
#: cancelled after capture has its final fee (``kept_minor``) and its ledger reversed
#: (the invoice's credit note follows).
line_cancellation_settled = signals.signal("booking-line-cancellation-settled")
#: Sent as ``ledger_posted.send(booking, entry=..., line=...)`` once a settlement ledger
#: entry is written (in the same transaction; the figures keep their sums from it).
ledger_posted = signals.signal("ledger-posted")


def _state(value) -> str | None:
    if value is None:
        return None
    return str(getattr(value, "value", value))


def record(booking: Booking, subject: str, subject_id: int, from_state, to_state, *,
           actor: str, now: datetime, reason: Why | str = "") -> None:
    event = BookingEvent(
        booking_id=booking.id, subject=subject, subject_id=subject_id,
        from_state=_state(from_state), to_state=_state(to_state), actor=actor, at=now)
    event.set_reason(reason)
    db.session.add(event)


def move(booking: Booking, subject_obj, to, *, actor: str, now: datetime,
         reason: Why | str = "") -> bool:
    """Set ``subject_obj.status`` (the booking itself, or one of its lines, payments,
    refunds, payouts) to ``to`` and record it; nothing happens when it is there already.
    A move that its machine's table (:mod:`bookings.services.states`) does not list raises
    :class:`~bookings.services.states.IllegalTransition` before anything is written."""
    old = subject_obj.status
    if old == to:
        return False
    check_move(old, to)
    if isinstance(subject_obj, BookingLine) and not subject_obj.active_state(to) \
            and subject_obj.ended_by is None:
        raise ValueError("a line is ended through end_line(), which says who ended it")
    subject = "booking" if subject_obj is booking else subject_obj.__tablename__.replace(
        "booking_", "")
    if subject_obj.id is None:
        db.session.flush()
    count_move(booking, subject_obj, old, to)  # capacity_day.used, in this transaction
    subject_obj.status = to
    record(booking, subject, subject_obj.id, old, to, actor=actor, now=now, reason=reason)
    if subject_obj is booking:
        booking_moved.send(booking, old=old, new=to, actor=actor, now=now)
    elif isinstance(subject_obj, BookingLine):
        line_moved.send(booking, line=subject_obj, old=old, new=to, now=now)
    elif isinstance(subject_obj, Payment):
        payment_moved.send(booking, payment=subject_obj, old=old, new=to, now=now)
    elif isinstance(subject_obj, Refund):
        refund_moved.send(booking, refund=subject_obj, old=old, new=to, now=now)
    return True


def end_line(booking: Booking, line: BookingLine, to, *, ended_by: LineEndedBy, actor: str,
             now: datetime, reason: Why | str = "") -> bool:
    """:func:`move` a line to declined or cancelled, noting who ended it (the first who
    did: a declined line that the patient then drops stays ended by its member)."""
    if line.ended_by is None:
        line.ended_by = ended_by
    return move(booking, line, to, actor=actor, now=now, reason=reason)
