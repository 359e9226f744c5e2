"""The balance is paid like the deposit: with a card at once, or without one through the
open PaymentIntent's client secret that the client confirms with Stripe.js."""

from __future__ import annotations

from bookings.models import Escalation, Payment, PaymentKind, PaymentStatus
from journey.core.extensions import db
from tests.booking_fixtures import confirmed_booking

BALANCE = 511000


def _balance_rows(booking_id):
    db.session.rollback()
    return db.session.scalars(db.select(Payment).where(
        Payment.booking_id == booking_id, Payment.kind == PaymentKind.BALANCE)
        .order_by(Payment.id)).all()


def test_the_balance_without_a_card_answers_a_client_secret(client, make, world, gateway):
    booking = confirmed_booking(world, gateway)
    url = f"/api/v1/bookings/{booking.id}/balance"
    patient = make.token(world["patient"])
    first = client.post(url, json={}, headers=patient)
    assert first.status_code == 201, first.json
    assert first.json["status"] == "requires_payment_method"
    assert first.json["client_secret"] and first.json["intent_id"].startswith("pi_")
    again = client.post(url, json={}, headers=patient)  # asked again: the same intent
    assert again.status_code == 201
    assert (again.json["id"], again.json["client_secret"]) == (
        first.json["id"], first.json["client_secret"])
    assert db.session.scalar(db.select(db.func.count(Escalation.id))) == 0
    rows = _balance_rows(booking.id)
    assert [(p.status, p.amount_minor) for p in rows] == [
        (PaymentStatus.REQUIRES_PAYMENT_METHOD, BALANCE)]

    # localstripe cannot confirm an intent with a new card (STACK.md), so the patient
    # pays with a card instead: the open intent is cancelled at Stripe, a new one is
    # authorised and captured, and nothing is escalated.
    paid = client.post(url, json={"payment_method": "pm_card_visa"}, headers=patient)
    assert paid.status_code == 201, paid.json
    assert paid.json["status"] == "captured" and paid.json["id"] != first.json["id"]
    rows = _balance_rows(booking.id)
    assert [(p.status, p.captured_minor) for p in rows] == [
        (PaymentStatus.CANCELLED, 0), (PaymentStatus.CAPTURED, BALANCE)]
    assert gateway.retrieve(first.json["intent_id"]).status == PaymentStatus.CANCELLED
    assert db.session.scalar(db.select(db.func.count(Escalation.id))) == 0
