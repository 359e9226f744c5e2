"""What the booking engine uses of the members' capacity, as the catalogue counts it.

``create_app`` registers these with :func:`providers.services.availability.register_usage_sources`,
so the catalogue subtracts holds and booked lines without importing the booking engine;
availability refuses to run before they are registered.

The engine keeps ``capacity_day.used`` equal to what the sources count, in the same
transaction as the rows it writes: :mod:`bookings.services.holds` when it places or
releases holds, :func:`count_move` (called by :func:`bookings.services.audit.move`,
through which every state of a booking and of its lines changes) when a booked line
starts or stops counting. :func:`usage_differences` and :func:`rebuild_usage_counts`
(``flask usage check|rebuild``) compare and repair it.
"""

from __future__ import annotations

from datetime import date

from sqlalchemy import and_, select

from bookings.models import Booking, BookingLine, BookingStatus, LineStatus
from bookings.services.availability import Line
from bookings.services.holds import HOLD_USAGE, lock_capacity_of
from journey.core.extensions import db
from providers.services.availability import (
    change_used,
    rebuild_usage_counts,
    usage_differences,
)

__all__ = ["BOOKED_LINE_STATES", "LIVE_BOOKING_STATES", "USAGE_SOURCES", "BookedLineUsage",
           "count_move", "rebuild_usage_counts", "usage_differences"]

BOOKED_LINE_STATES = (LineStatus.REQUESTED, LineStatus.CONFIRMED)
#: While the patient decides after a decline, the confirmed lines keep their units.
LIVE_BOOKING_STATES = (BookingStatus.AUTHORISED, BookingStatus.ACTION_REQUIRED,
                       BookingStatus.CONFIRMED)


class BookedLineUsage:
    """Units that booked lines use (requested or confirmed, while the booking lives);
    a line that is only held counts through its hold. A booked line is never stale:
    it counts until its state or its booking's changes."""

    def counted_ranges(self):
        return select(BookingLine.offer_id.label("offer_id"),
                      BookingLine.start_on.label("start_on"),
                      BookingLine.end_on.label("end_on"),
                      BookingLine.quantity.label("units")).where(
            and_(BookingLine.status.in_(BOOKED_LINE_STATES),
                 BookingLine.booking_id == Booking.id,
                 Booking.status.in_(LIVE_BOOKING_STATES)))

    def stale_by_day(self, offer_id: int, start: date, end: date, now) -> dict[date, int]:
        return {}

    def stale_expr(self, offer_id, day, now):
        return None


#: Holds not yet released, and lines of live bookings (requested or confirmed).
USAGE_SOURCES = (HOLD_USAGE, BookedLineUsage())


def line_counts(line_status, booking_status) -> bool:
    """Whether a line in ``line_status`` of a booking in ``booking_status`` counts."""
    return line_status in BOOKED_LINE_STATES and booking_status in LIVE_BOOKING_STATES


def count_move(booking: Booking, subject_obj, old, new) -> None:
    """Keep ``used`` as a move of ``booking`` or of one of its lines from ``old`` to
    ``new`` changes what counts (before the move is written): a line counts while it
    is requested or confirmed and its booking lives. The capacity rows of all the
    booking's lines are locked first, in the fixed order of the holds, once per
    transaction: the lines of a booking then change their counts one after another
    without ever waiting for a row while holding another's out of order."""
    if subject_obj is booking:
        was, becomes = old in LIVE_BOOKING_STATES, new in LIVE_BOOKING_STATES
        lines = [line for line in booking.lines if line.status in BOOKED_LINE_STATES]
    elif isinstance(subject_obj, BookingLine):
        was = line_counts(old, booking.status)
        becomes = line_counts(new, booking.status)
        lines = [subject_obj]
    else:
        return
    if was == becomes or not lines:
        return
    _lock_booking_capacity(booking)
    sign = 1 if becomes else -1
    change_used([(line.offer_id, line.start_on, line.end_on, sign * line.quantity)
                 for line in lines])


def _lock_booking_capacity(booking: Booking) -> None:
    """Lock the capacity rows of every line of ``booking``, once per transaction (the
    session's info remembers which bookings, and in which transaction)."""
    transaction = db.session().get_transaction()
    locked = db.session.info.get("usage_locked")
    if transaction is None or locked is None or locked[0] is not transaction:
        locked = db.session.info["usage_locked"] = (transaction, set())
    if booking.id in locked[1]:
        return
    lock_capacity_of([Line(line.offer_id, line.start_on, line.days, line.quantity)
                      for line in booking.lines])
    if transaction is not None:
        locked[1].add(booking.id)
