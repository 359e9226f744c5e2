"""A booking's amounts come from one function (``bookings.services.amounts``): the total is what
the lines owe, the deposit shrinks in proportion before capture and never exceeds the
total after it."""

from __future__ import annotations

from bookings.models import (
    Booking,
    BookingLine,
    BookingStatus,
    LineStatus,
    Payment,
    PaymentStatus,
)
from bookings.services.amounts import amounts_of, owed_by_lines, price_breakdown, reprice


def _booking(*amounts, due_now):
    booking = Booking(status=BookingStatus.AUTHORISED, total_minor=sum(amounts),
                      due_now_minor=due_now)
    booking.lines = [BookingLine(amount_minor=a, kept_minor=0, status=LineStatus.CONFIRMED)
                     for a in amounts]
    booking.payments = []
    return booking


def test_the_total_is_what_the_lines_owe():
    booking = _booking(60000, 30000, 10000, due_now=30000)
    assert owed_by_lines(booking) == 100000
    booking.lines[1].status, booking.lines[1].kept_minor = LineStatus.CANCELLED, 7500
    assert owed_by_lines(booking) == 77500


def test_before_capture_the_deposit_shrinks_in_proportion():
    booking = _booking(60000, 30000, 10000, due_now=30000)
    booking.lines[1].status = LineStatus.CANCELLED
    reprice(booking, captured=False)
    assert (booking.total_minor, booking.due_now_minor) == (70000, 21000)


def test_after_capture_due_now_never_exceeds_the_total():
    booking = _booking(60000, 30000, due_now=90000)
    booking.lines[0].status, booking.lines[0].kept_minor = LineStatus.CANCELLED, 6000
    reprice(booking, captured=True)
    assert (booking.total_minor, booking.due_now_minor) == (36000, 36000)


def test_amounts_of_a_booking_with_payments_and_a_refund():
    booking = _booking(60000, 40000, due_now=30000)
    booking.payments = [
        Payment(status=PaymentStatus.CAPTURED, amount_minor=30000, captured_minor=30000,
                refunded_minor=5000),
        Payment(status=PaymentStatus.AUTHORISED, amount_minor=20000, captured_minor=0,
                refunded_minor=0),
    ]
    amounts = amounts_of(booking)
    assert (amounts.paid_minor, amounts.authorised_minor, amounts.balance_minor,
            amounts.overpaid_minor) == (25000, 20000, 55000, 0)


def test_the_price_breakdown_adds_up_to_the_total_after_a_cancellation():
    """List price less discount and insurer, plus the fees cancelled lines keep: the
    total, whatever left; a line another member bears is not on the patient's bill."""
    booking = _booking(54000, 20000, 10000, 0, due_now=25200)
    discounted, covered, kept, borne = booking.lines
    discounted.value_minor = 60000  # 6000 of package discount
    covered.value_minor, covered.covered_minor = 30000, 10000
    kept.value_minor = 10000
    borne.value_minor, borne.borne_by_provider_id = 45000, 7
    first = price_breakdown(booking)
    assert (first.list_minor, first.discount_minor, first.covered_minor,
            first.fees_kept_minor, first.total_minor) == (100000, 6000, 10000, 0, 84000)
    kept.status, kept.kept_minor = LineStatus.CANCELLED, 2500
    discounted.status = LineStatus.CANCELLED
    reprice(booking, captured=True)
    after = price_breakdown(booking)
    assert (after.list_minor, after.discount_minor, after.covered_minor,
            after.fees_kept_minor) == (30000, 0, 10000, 2500)
    assert after.total_minor == booking.total_minor == 22500
    assert after.list_minor - after.discount_minor - after.covered_minor \
        + after.fees_kept_minor == booking.total_minor
