"""A worker dies between the payment row and Stripe's answer: Stripe created (and
authorised) the intent, the row has no intent id. The reconcile job finds that intent
by its metadata and the booking goes on; the expiry job does not end a booking whose
card was authorised so (it released nothing and lost the authorisation on the card)."""

from contextlib import contextmanager
from datetime import timedelta

import pytest

from bookings.jobs import expire_unpaid, reconcile_payments
from bookings.models import Booking, BookingStatus, Payment, PaymentKind, PaymentStatus
from bookings.payments import StripeGateway
from bookings.services import balance
from journey.builder.services import checkout as journey_checkout
from journey.core.extensions import db
from journey.core.types import utcnow
from tests.booking_fixtures import accepted_quote, confirmed_booking

BALANCE = 511000


class Crash(Exception):
    """The worker dies (after Stripe answered, before the answer is recorded)."""


@contextmanager
def crash_after_stripe(monkeypatch):
    create_intent = StripeGateway.create_intent

    def answered_then_crash(self, payment, **kwargs):
        create_intent(self, payment, **kwargs)
        raise Crash

    with monkeypatch.context() as patched:
        patched.setattr(StripeGateway, "create_intent", answered_then_crash)
        with pytest.raises(Crash):
            yield
    db.session.rollback()


def _lost_checkout(world, gateway, monkeypatch):
    quote = accepted_quote(world)
    with crash_after_stripe(monkeypatch):
        journey_checkout.checkout_quote(world["patient"], quote.id, gateway=gateway,
                                        payment_method="pm_card_visa")
    booking = db.session.scalar(db.select(Booking).where(
        Booking.reference == f"quote:{quote.id}"))
    (payment,) = booking.payments
    assert (payment.status, payment.intent_id) == (PaymentStatus.CREATED, None)
    return booking


def test_reconcile_finds_the_intent_of_a_checkout_whose_answer_was_lost(
        world, gateway, monkeypatch):
    booking = _lost_checkout(world, gateway, monkeypatch)
    assert reconcile_payments(gateway, now=utcnow() + timedelta(seconds=30)) == 0  # not yet
    reconcile_payments(gateway, now=utcnow() + timedelta(minutes=3))
    db.session.rollback()
    (payment,) = booking.payments
    assert payment.status == PaymentStatus.AUTHORISED and payment.intent_id
    assert gateway.retrieve(payment.intent_id).status == PaymentStatus.AUTHORISED
    assert booking.status == BookingStatus.AUTHORISED
    reconcile_payments(gateway, now=utcnow() + timedelta(minutes=4))  # once
    assert len(db.session.scalars(db.select(Payment).where(
        Payment.booking_id == booking.id)).all()) == 1


def test_the_expiry_job_does_not_lose_an_authorisation_whose_answer_was_lost(
        world, gateway, monkeypatch):
    booking = _lost_checkout(world, gateway, monkeypatch)
    expire_unpaid(gateway, now=booking.expires_at + timedelta(minutes=1))
    db.session.rollback()
    (payment,) = booking.payments
    assert payment.status == PaymentStatus.AUTHORISED and payment.intent_id
    assert booking.status == BookingStatus.AUTHORISED


def test_reconcile_captures_a_balance_whose_answer_was_lost(world, gateway, monkeypatch):
    booking = confirmed_booking(world, gateway)
    with crash_after_stripe(monkeypatch):
        balance.pay_balance(world["patient"], booking.id, payment_method="pm_card_visa",
                            gateway=gateway)
    reconcile_payments(gateway, now=utcnow() + timedelta(minutes=3))
    db.session.rollback()
    (row,) = [p for p in booking.payments if p.kind == PaymentKind.BALANCE]
    assert (row.status, row.captured_minor) == (PaymentStatus.CAPTURED, BALANCE)
    assert gateway.retrieve(row.intent_id).status == PaymentStatus.CAPTURED
