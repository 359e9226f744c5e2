"""The transition tables of the booking engine (``bookings.services.states``): complete, and
enforced by ``move()`` for each machine: an illegal move raises and writes nothing."""

from __future__ import annotations

import itertools

import pytest

from bookings.models import (
    Booking,
    BookingEvent,
    BookingLine,
    BookingStatus,
    LineStatus,
    Payment,
    PaymentStatus,
    Payout,
    PayoutStatus,
    Refund,
    RefundStatus,
)
from bookings.services.audit import move
from bookings.services.states import TRANSITIONS, IllegalTransition, can_move, terminal
from journey.core.extensions import db
from journey.core.types import utcnow

MACHINES = {
    BookingStatus: lambda booking: booking,
    LineStatus: lambda booking: BookingLine(booking=booking, status=LineStatus.HELD),
    PaymentStatus: lambda booking: Payment(booking=booking, status=PaymentStatus.CREATED),
    RefundStatus: lambda booking: Refund(booking_id=1, status=RefundStatus.CREATED),
    PayoutStatus: lambda booking: Payout(booking_id=1, status=PayoutStatus.CREATED),
}


def _illegal(machine):
    return [(old, new) for old, new in itertools.product(machine, machine)
            if old != new and not can_move(old, new)]


@pytest.mark.parametrize("machine", MACHINES, ids=lambda m: m.__name__)
def test_every_state_has_a_row(machine):
    assert set(TRANSITIONS[machine]) == set(machine)
    assert all(set(targets) <= set(machine) for targets in TRANSITIONS[machine].values())


@pytest.mark.parametrize("machine", MACHINES, ids=lambda m: m.__name__)
def test_an_illegal_move_raises_and_writes_nothing(ctx, machine):
    pairs = _illegal(machine)
    assert pairs, f"{machine.__name__} allows every move"
    for old, new in pairs:
        booking = Booking(id=1, status=BookingStatus.PENDING_PAYMENT)
        subject = MACHINES[machine](booking)
        subject.status = old
        with pytest.raises(IllegalTransition) as raised:
            move(booking, subject, new, actor="test", now=utcnow())
        assert subject.status == old
        assert raised.value.status == 409 and str(raised.value).endswith("is not a transition")
    assert not [o for o in db.session.new if isinstance(o, BookingEvent)]


def test_terminal_states_are_the_ends():
    ends = {state for machine in MACHINES for state in machine if terminal(state)}
    assert ends == {
        BookingStatus.CANCELLED, BookingStatus.EXPIRED, BookingStatus.FAILED,
        LineStatus.CANCELLED, PaymentStatus.CAPTURED, PaymentStatus.FAILED,
        PaymentStatus.CANCELLED, RefundStatus.SUCCEEDED, RefundStatus.FAILED,
        PayoutStatus.PAID}


def test_a_legal_move_is_recorded(ctx):
    booking = Booking(id=1, reference="test:1", status=BookingStatus.CONFIRMED)
    assert move(booking, booking, BookingStatus.CANCELLED, actor="test", now=utcnow())
    events = [o for o in db.session.new if isinstance(o, BookingEvent)]
    assert [(e.from_state, e.to_state) for e in events] == [("confirmed", "cancelled")]
    assert not move(booking, booking, BookingStatus.CANCELLED, actor="test", now=utcnow())


@pytest.mark.parametrize(("old", "new"), [
    (BookingStatus.CONFIRMED, BookingStatus.PENDING_PAYMENT),
    (BookingStatus.CANCELLED, BookingStatus.CONFIRMED),
    (LineStatus.CANCELLED, LineStatus.CONFIRMED),
    (LineStatus.DECLINED, LineStatus.CONFIRMED),
    (PaymentStatus.CAPTURED, PaymentStatus.AUTHORISED),
    (PaymentStatus.AUTHORISED, PaymentStatus.REQUIRES_PAYMENT_METHOD),
    (RefundStatus.SUCCEEDED, RefundStatus.FAILED),
    (PayoutStatus.PAID, PayoutStatus.FAILED),
])
def test_moves_that_would_lose_money_or_history_are_refused(old, new):
    assert not can_move(old, new)
