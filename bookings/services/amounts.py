"""A booking's amounts, derived in one place from its lines and payments.

- **total**: what the booking owes: the amount of every line not cancelled, plus the
  fee each cancelled line keeps under its terms (see :mod:`bookings.services.cancellation`).
- **due now**: what is charged before the balance date (the deposit, or everything);
  before anything is captured it shrinks in proportion when lines leave, after that
  it never exceeds the total.
- **price breakdown**: the total as the patient reads it: the list price of the lines
  still booked, less the package discount their members give and the insurer's share,
  plus the fees cancelled lines keep.
- **paid**: captured, less refunded; **authorised**: held on a card, not yet captured;
  **balance**: owed and neither paid nor authorised; **overpaid**: paid beyond the
  total, which a refund gives back.

:func:`reprice` is the only writer of ``Booking.total_minor`` and ``due_now_minor``
after the checkout.
"""

from __future__ import annotations

from dataclasses import dataclass

from bookings.models import Booking, LineStatus, PaymentStatus
from journey.core.money import split_minor


@dataclass(frozen=True)
class Amounts:
    total_minor: int
    due_now_minor: int
    paid_minor: int
    authorised_minor: int
    balance_minor: int
    overpaid_minor: int


def owed_by_lines(booking: Booking) -> int:
    return sum(line.kept_minor if line.status == LineStatus.CANCELLED else line.amount_minor
               for line in booking.lines)


@dataclass(frozen=True)
class PriceBreakdown:
    """``list_minor - discount_minor - covered_minor + fees_kept_minor == total_minor``,
    whatever has been cancelled."""

    list_minor: int
    discount_minor: int
    covered_minor: int
    fees_kept_minor: int
    total_minor: int


def price_breakdown(booking: Booking) -> PriceBreakdown:
    """The total of ``booking`` from its lines (those :func:`owed_by_lines` counts): a
    line's value is its list price (its amount, the insurer's share and the discount its
    member funds); a line another member bears is included and not on the patient's
    bill; a cancelled line counts for the fee it keeps only."""
    live = [line for line in booking.lines if line.status != LineStatus.CANCELLED]
    charged = [line for line in live if line.borne_by_provider_id is None]
    listed = sum(line.value_minor or line.amount_minor for line in charged)
    covered = sum(line.covered_minor or 0 for line in live)
    amount = sum(line.amount_minor for line in live)
    fees = sum(line.kept_minor for line in booking.lines
               if line.status == LineStatus.CANCELLED)
    return PriceBreakdown(list_minor=listed, discount_minor=listed - covered - amount,
                          covered_minor=covered, fees_kept_minor=fees,
                          total_minor=amount + fees)


def paid_minor(booking: Booking) -> int:
    """What the patient has paid and kept paid: captures less refunds."""
    return sum(p.captured_minor - p.refunded_minor for p in booking.payments)


def authorised_minor(booking: Booking) -> int:
    return sum(p.amount_minor for p in booking.payments
               if p.status == PaymentStatus.AUTHORISED)


def balance_minor(booking: Booking) -> int:
    """What is owed and neither captured nor authorised yet."""
    return max(0, booking.total_minor - paid_minor(booking) - authorised_minor(booking))


def amounts_of(booking: Booking) -> Amounts:
    paid = paid_minor(booking)
    return Amounts(total_minor=booking.total_minor, due_now_minor=booking.due_now_minor,
                   paid_minor=paid, authorised_minor=authorised_minor(booking),
                   balance_minor=balance_minor(booking),
                   overpaid_minor=max(0, paid - booking.total_minor))


def reprice(booking: Booking, *, captured: bool) -> None:
    """Bring the stored total and due-now amount in line with the lines, after a line
    left or a fee changed. Before capture (``captured=False``) the deposit shrinks in
    proportion to the total; after it, due now never exceeds the total."""
    old, new = booking.total_minor, owed_by_lines(booking)
    if not captured and 0 <= new < old:
        booking.due_now_minor = split_minor(booking.due_now_minor, [new, old - new])[0]
    booking.due_now_minor = min(booking.due_now_minor, new)
    booking.total_minor = new
