"""The insurer's side follows the booking engine (its signals, in the transaction of
the fact): a confirmed booking writes the receivable and its invoice; a covered line
cancelled after it, a credit note. Imported by :mod:`journey.insurance.api`."""

from __future__ import annotations

from bookings.models import BookingStatus, LineStatus
from bookings.services.audit import booking_moved, line_moved
from journey.core.types import utcnow
from journey.insurance.services import receivables


def _on_booking(booking, *, old=None, new=None, now=None, **_kw) -> None:
    if new == BookingStatus.CONFIRMED:
        receivables.on_booking_confirmed(booking, now=now or utcnow())


def _on_line(booking, *, line, old=None, new=None, now=None, **_kw) -> None:
    if new == LineStatus.CANCELLED:
        receivables.on_line_cancelled(booking, line, now=now or utcnow())


booking_moved.connect(_on_booking, weak=False)
line_moved.connect(_on_line, weak=False)
