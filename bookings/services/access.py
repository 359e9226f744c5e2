"""Who may see a booking, the row lock every change of a booking takes, the timeline."""

from __future__ import annotations

from functools import cache

from flask_babel import lazy_gettext as _l
from sqlalchemy import Integer, bindparam, select, update
from sqlalchemy.orm import selectinload

from bookings.models import Booking, BookingEvent, Refund
from journey.core.accounts.permissions import is_cluster, require_authenticated
from journey.core.errors import Forbidden, NotFound
from journey.core.extensions import db
from journey.core.persistence import dialect_name


def actor_ref(actor) -> str:
    return f"user:{actor.id}"


def is_customer(actor, booking: Booking) -> bool:
    return booking.customer_ref == actor_ref(actor)


def member_of(actor, booking: Booking) -> bool:
    """Staff of a member that delivers (or bears) one of the booking's lines."""
    return actor.role.is_member and actor.provider_id is not None and any(
        actor.provider_id in (line.provider_id, line.borne_by_provider_id)
        for line in booking.lines)


#: what a locked booking is read with afresh (see lock_booking)
_FRESH = (selectinload(Booking.lines), selectinload(Booking.payments))


def lock_booking(booking_id: int) -> Booking | None:
    """Take the booking's row lock for the rest of the transaction (PostgreSQL
    ``FOR UPDATE``; SQLite's write lock through a no-op update), then read it afresh
    with its lines and payments, whatever this session held of them, so two steps of
    one booking never interleave and a step never decides on rows read before the lock.

    The lines and payments are read by statements after the lock, not joined to it: a
    ``FOR UPDATE`` that waited for another step re-reads the locked row as that step
    left it, but joined rows as they stood when the statement began (PostgreSQL's READ
    COMMITTED), so a joined payment would still look authorised after the other step
    captured it (tests/bookings/test_races.py caught that)."""
    if dialect_name() == "sqlite":
        db.session.execute(update(Booking).where(Booking.id == booking_id)
                           .values(status=Booking.status))
        return db.session.get(Booking, booking_id, populate_existing=True, options=_FRESH)
    return db.session.scalar(_lock_booking_statement(), {"booking_id": booking_id})


@cache
def _lock_booking_statement():
    """PostgreSQL's read of :func:`lock_booking`, built once (each step of a checkout
    takes the lock)."""
    return (select(Booking).where(Booking.id == bindparam("booking_id", type_=Integer()))
            .options(*_FRESH).with_for_update(of=Booking)
            .execution_options(populate_existing=True))


def get_visible_booking(actor, booking_id: int, *, lock: bool = False) -> Booking:
    """The booking, if ``actor`` is its patient, staff of one of its members or the
    cluster; otherwise 404, whether it exists or not."""
    require_authenticated(actor)
    booking = lock_booking(booking_id) if lock else db.session.get(Booking, booking_id)
    if booking is None or not (is_cluster(actor) or is_customer(actor, booking)
                               or member_of(actor, booking)):
        raise NotFound(_l("No such booking."))
    return booking


def patients_booking(actor, booking_id: int, refusal) -> Booking:
    """The booking, locked, for its patient or the cluster acting for them; member staff
    who can see it get 403 with ``refusal`` (what only the patient may do)."""
    booking = get_visible_booking(actor, booking_id, lock=True)
    if not (is_customer(actor, booking) or is_cluster(actor)):
        raise Forbidden(refusal)
    return booking


class MemberView:
    """What a member's staff see of a booking: their own lines (those they deliver or
    bear), what those are worth, and no payments: not the other members' lines, the
    total, nor the card's client secret."""

    def __init__(self, booking: Booking, provider_id: int):
        self._booking = booking
        self.lines = [line for line in booking.lines
                      if provider_id in (line.provider_id, line.borne_by_provider_id)]
        self.payments: list = []
        self.total_minor = sum(line.amount_minor for line in self.lines)
        self.due_now_minor = 0

    def __getattr__(self, name):
        return getattr(self._booking, name)


def booking_view(actor, booking: Booking):
    """``booking`` as ``actor`` may see it (see :class:`MemberView`)."""
    if is_cluster(actor) or is_customer(actor, booking):
        return booking
    return MemberView(booking, actor.provider_id)


def booking_for(actor, booking_id: int):
    return booking_view(actor, get_visible_booking(actor, booking_id))




def timeline(actor, booking_id: int) -> list[BookingEvent]:
    """Every transition of the booking, its lines, payments, refunds and payouts, in
    order. A member's staff see the booking-level rows and their own lines only."""
    booking = get_visible_booking(actor, booking_id)
    events = list(db.session.scalars(select(BookingEvent).where(
        BookingEvent.booking_id == booking.id).order_by(BookingEvent.at, BookingEvent.id)))
    if is_cluster(actor) or is_customer(actor, booking):
        return events
    own_lines = {line.id for line in booking.lines if actor.provider_id in
                 (line.provider_id, line.borne_by_provider_id)}
    return [event for event in events
            if event.subject == "booking" or (event.subject == "line"
                                               and event.subject_id in own_lines)]


def refunds_for(actor, booking_id: int) -> list[Refund]:
    """A booking's refunds: for its patient and the cluster only."""
    booking = get_visible_booking(actor, booking_id)
    if not (is_cluster(actor) or is_customer(actor, booking)):
        raise Forbidden(_l("A booking's refunds are for its patient and the cluster to "
                           "see."))
    return refunds_of(booking)


def refunds_of(booking: Booking) -> list[Refund]:
    return list(db.session.scalars(select(Refund).where(Refund.booking_id == booking.id)
                                   .order_by(Refund.id)))

