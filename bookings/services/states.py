"""The booking engine's state machines, one explicit transition table each.

:func:`bookings.services.audit.move` checks every change of a booking, line, payment, refund or
payout against these tables: a move that is not listed raises :class:`IllegalTransition`
(a 409: the state changed under the caller) and writes nothing. Staying in the same state
is no move. The tables are the documentation too: read them to know what can happen.
"""

from __future__ import annotations

import enum

from flask_babel import lazy_gettext as _l

from bookings.models import (
    BookingStatus,
    LineStatus,
    PaymentStatus,
    PayoutStatus,
    RefundStatus,
)
from journey.core.errors import Conflict

B, L, P = BookingStatus, LineStatus, PaymentStatus

TRANSITIONS: dict[type[enum.Enum], dict[enum.Enum, frozenset]] = {
    BookingStatus: {
        # holds placed, waiting for the card
        B.PENDING_PAYMENT: frozenset({B.AUTHORISED, B.FAILED, B.EXPIRED, B.CANCELLED}),
        # the card is authorised, members are asked
        B.AUTHORISED: frozenset({B.ACTION_REQUIRED, B.CONFIRMED, B.CANCELLED}),
        # a member declined: the patient goes on without it, or cancels
        B.ACTION_REQUIRED: frozenset({B.AUTHORISED, B.CANCELLED}),
        B.CONFIRMED: frozenset({B.CANCELLED}),
        B.CANCELLED: frozenset(),
        B.EXPIRED: frozenset(),
        B.FAILED: frozenset(),
    },
    LineStatus: {
        L.HELD: frozenset({L.REQUESTED, L.CONFIRMED, L.CANCELLED}),
        L.REQUESTED: frozenset({L.CONFIRMED, L.DECLINED, L.CANCELLED}),
        L.CONFIRMED: frozenset({L.CANCELLED}),
        L.DECLINED: frozenset({L.CANCELLED}),
        L.CANCELLED: frozenset(),
    },
    # Stripe's answers move a payment forward only (a late event never goes back).
    PaymentStatus: {
        P.CREATED: frozenset({P.REQUIRES_PAYMENT_METHOD, P.REQUIRES_ACTION, P.AUTHORISED,
                              P.CAPTURED, P.FAILED, P.CANCELLED}),
        P.REQUIRES_PAYMENT_METHOD: frozenset({P.REQUIRES_ACTION, P.AUTHORISED, P.CAPTURED,
                                              P.FAILED, P.CANCELLED}),
        P.REQUIRES_ACTION: frozenset({P.AUTHORISED, P.CAPTURED, P.FAILED, P.CANCELLED}),
        P.AUTHORISED: frozenset({P.CAPTURED, P.CANCELLED}),
        P.CAPTURED: frozenset(),
        P.FAILED: frozenset(),
        P.CANCELLED: frozenset(),
    },
    RefundStatus: {
        RefundStatus.CREATED: frozenset({RefundStatus.SUCCEEDED, RefundStatus.FAILED}),
        RefundStatus.SUCCEEDED: frozenset(),
        RefundStatus.FAILED: frozenset(),
    },
    # A failed transfer is tried again (the same row) on the next payout run.
    PayoutStatus: {
        PayoutStatus.CREATED: frozenset({PayoutStatus.PAID, PayoutStatus.FAILED}),
        PayoutStatus.FAILED: frozenset({PayoutStatus.PAID}),
        PayoutStatus.PAID: frozenset(),
    },
}


class IllegalTransition(Conflict):
    code = "illegal_transition"
    default_message = _l("This conflicts with the current state; reload and try again.")

    def __init__(self, machine: str, old, new):
        self.machine, self.old, self.new = machine, old, new
        super().__init__()

    def __str__(self) -> str:
        return f"{self.machine}: {self.old} -> {self.new} is not a transition"


def can_move(old: enum.Enum, new: enum.Enum) -> bool:
    """Whether ``old -> new`` is in the table of their state machine."""
    return old == new or new in TRANSITIONS[type(old)][old]


def check_move(old: enum.Enum, new: enum.Enum) -> None:
    if type(old) is not type(new) or not can_move(old, new):
        raise IllegalTransition(type(new).__name__, old, new)


def terminal(state: enum.Enum) -> bool:
    return not TRANSITIONS[type(state)][state]
