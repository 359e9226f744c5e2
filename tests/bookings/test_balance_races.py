"""Ten payers of one balance at once (a patient's clicks, tabs and a coordinator), each
with its own Idempotency-Key, and a payer whose worker died while Stripe was asked."""

from datetime import timedelta
from types import SimpleNamespace

import pytest
from flask_babel import force_locale

from bookings.models import BookingEvent, Payment, PaymentKind, PaymentStatus
from bookings.payments import GatewayUnavailable
from bookings.services import balance, checkout
from bookings.services.audit import record
from journey.core.accounts.models import Role
from journey.core.errors import Conflict
from journey.core.extensions import db
from journey.core.reasons import why
from journey.core.types import utcnow
from providers.services import offers
from tests.booking_fixtures import confirmed_booking
from tests.http_races import post, race
from tests.journey.builder_world import soon

BALANCE = 511000
ROUNDS = 3
PAYERS = 10
UNDER_WAY = "A payment of the balance is already under way; reload in a moment to see it."
NOTHING_OWED = "Nothing is owed on this booking."


def _balance_rows(booking_id):
    db.session.rollback()
    return db.session.scalars(db.select(Payment).where(
        Payment.booking_id == booking_id, Payment.kind == PaymentKind.BALANCE)
        .order_by(Payment.id)).all()


def _clear_answers() -> dict:
    """The 409s a second payer may get, by language."""
    answers = {}
    for lang in ("en", "de"):
        with force_locale(lang):
            answers[lang] = {str(balance._l(UNDER_WAY)), str(balance._l(NOTHING_OWED))}
    assert answers["de"].isdisjoint(answers["en"])  # the German ones are German
    return answers


@pytest.mark.commits
def test_ten_payers_of_one_balance_charge_once_and_each_is_told_clearly(
        stripe_app, make, world, gateway):
    """One payer charges the balance (201, captured); every other one is told, in their
    language, that a payment of the balance is under way or that nothing is owed any
    more. (They were answered the generic "This conflicts with the current state": a
    second payer took the first one's row while Stripe was asked, sent it again, got the
    same intent back captured by the first, and failed it, which the payment's state
    machine refused.)"""
    for offer in (world["room"], world["surgery"]):  # room for every round's booking
        offers.set_capacity(world["admin"], offer.id, start=soon(5), end=soon(30),
                            capacity=2 * ROUNDS)
    db.session.commit()
    answers = _clear_answers()
    for n in range(ROUNDS):
        patient = make.user(Role.PATIENT, full_name=f"Payer {n}")
        booking = confirmed_booking(world, gateway, patient=patient)
        booking_id, deposit_id = booking.id, booking.payments[0].id
        token = make.token(patient)
        db.session.commit()
        url = f"/api/v1/bookings/{booking_id}/balance"
        langs = ["en", "de"] * (PAYERS // 2)
        results = race(stripe_app, *[
            post(url, {**token, "Accept-Language": lang}, f"balance-{n}-{k:04d}",
                  {"payment_method": "pm_card_visa"})
            for k, lang in enumerate(langs)])
        paid = [body for code, body in results if code == 201]
        assert len(paid) == 1, (n, results)
        assert paid[0]["status"] == "captured", (n, results)
        for (code, body), lang in zip(results, langs, strict=True):
            if code != 201:
                assert code == 409 and body["message"] in answers[lang], (n, lang, body)
        rows = _balance_rows(booking_id)
        assert [(p.id, p.status, p.captured_minor) for p in rows] == [
            (paid[0]["id"], PaymentStatus.CAPTURED, BALANCE)], n
        assert gateway.retrieve(rows[0].intent_id).status == PaymentStatus.CAPTURED
        intents = [i for i in gateway.client.v1.payment_intents.list({"limit": 100}).data
                   if i.metadata.to_dict().get("booking_id") == str(booking_id)
                   and i.metadata.to_dict().get("payment_id") != str(deposit_id)]
        assert [i.id for i in intents] == [rows[0].intent_id], n  # one charge at Stripe
        assert db.session.scalar(db.select(db.func.count(BookingEvent.id)).where(
            BookingEvent.booking_id == booking_id, BookingEvent.subject == "payment",
            BookingEvent.subject_id == rows[0].id,
            BookingEvent.to_state == PaymentStatus.CAPTURED.value)) == 1, n


def _sent_to_stripe(booking, now):
    """The booking's balance row as a payer left it ten seconds ago: sent to Stripe,
    no answer recorded yet."""
    sent = balance.open_balance_payment(booking, now=now, actor="user:1")
    record(booking, "payment", sent.id, sent.status, sent.status, actor="user:1",
           now=now - timedelta(seconds=10), reason=why("balance_sent"))
    db.session.commit()
    return sent


def test_a_balance_payment_whose_payer_died_is_sent_again_after_a_while(world, gateway):
    """The first payer's worker died after the row was sent to Stripe: while it may still
    be under way a second payer is told so; after that, the same row is sent again (the
    same Stripe idempotency key: one intent at most) and paid."""
    booking = confirmed_booking(world, gateway)
    now = utcnow()
    sent = _sent_to_stripe(booking, now)
    with pytest.raises(Conflict) as refused:
        balance.pay_balance(world["patient"], booking.id, payment_method="pm_card_visa",
                            gateway=gateway, now=now)
    assert str(refused.value.message) == UNDER_WAY
    later = now + balance.UNDER_WAY
    payment = balance.pay_balance(world["patient"], booking.id,
                                  payment_method="pm_card_visa", gateway=gateway, now=later)
    assert payment.id == sent.id and payment.status == PaymentStatus.CAPTURED
    assert [(p.status, p.captured_minor) for p in _balance_rows(booking.id)] == [
        (PaymentStatus.CAPTURED, BALANCE)]


def test_no_reminder_to_pay_while_the_patient_is_paying(world, gateway):
    """The reminder job takes each booking's lock, as payers do: while a payer's balance
    payment is under way at Stripe it neither reminds the patient to pay nor touches
    the row; once that time is over, it reminds as before."""
    booking = confirmed_booking(world, gateway)
    now = utcnow()
    sent = _sent_to_stripe(booking, now)
    assert balance.send_balance_reminders(now=now) == 0
    assert [(p.id, p.status) for p in _balance_rows(booking.id)] == [
        (sent.id, PaymentStatus.CREATED)]
    assert balance.send_balance_reminders(now=now + balance.UNDER_WAY) == 1


def test_a_late_authorisation_that_stripe_cannot_release_is_said_to_lapse(
        world, gateway, monkeypatch):
    """Nothing tries again to release it: the booking's history must not promise so."""
    booking = confirmed_booking(world, gateway)
    row = balance.open_balance_payment(booking, now=utcnow(), actor="user:1")

    def down(_intent_id):
        raise GatewayUnavailable("Stripe is down")
    monkeypatch.setattr(gateway, "cancel", down)
    checkout._release_late_intent(row, SimpleNamespace(id="pi_late", status="authorised"),
                                  gateway, actor="user:1", now=utcnow())
    last = db.session.scalars(db.select(BookingEvent).where(
        BookingEvent.subject == "payment", BookingEvent.subject_id == row.id)
        .order_by(BookingEvent.id.desc())).first()
    assert last.reason_code == "late_authorisation_kept"


def test_a_cancellation_while_the_balance_is_charged_leaves_no_authorisation(
        client, make, world, gateway, monkeypatch):
    """The patient cancels the booking while their balance payment waits for Stripe's
    answer: the cancellation drops the balance row; Stripe then authorises the card.
    That authorisation is released at once (it was left held on the card: the row was
    final, so neither the payer, the webhook nor the reconcile job touched it) and the
    payer is told, in their language, that nothing was charged (it was the generic 409
    of a cancelled payment that could not fail)."""
    for offer in (world["room"], world["surgery"]):
        offers.set_cancellation_tiers(world["admin"], offer.id,
                                      [{"days_before": 0, "refund_percent": 100}])
    booking = confirmed_booking(world, gateway)
    booking_id, token = booking.id, make.token(world["patient"])
    db.session.commit()
    create_intent = type(gateway).create_intent
    cancelled = []

    def cancel_meanwhile(self, payment, **kwargs):
        if payment.kind == PaymentKind.BALANCE and not cancelled:
            cancelled.append(client.post(f"/api/v1/bookings/{booking_id}/cancel",
                                         json={}, headers=token))
        return create_intent(self, payment, **kwargs)

    monkeypatch.setattr(type(gateway), "create_intent", cancel_meanwhile)
    paying = client.post(f"/api/v1/bookings/{booking_id}/balance",
                         json={"payment_method": "pm_card_visa"},
                         headers={**token, "Accept-Language": "de"})
    assert cancelled[0].status_code == 200, cancelled[0].json
    assert paying.status_code == 409, paying.json
    with force_locale("de"):
        expected = str(balance._l(
            "The amount owed changed while your card was being checked; nothing was "
            "charged. Reload to see what is owed."))
    assert paying.json["message"] == expected and expected.startswith("Der ")
    (row,) = _balance_rows(booking_id)
    assert row.status == PaymentStatus.CANCELLED and row.intent_id
    assert gateway.retrieve(row.intent_id).status == PaymentStatus.CANCELLED  # released


def test_a_cancellation_cancels_the_open_balance_intent_at_stripe(client, make, world,
                                                                  gateway):
    """A balance asked for without a card has an open intent whose client secret the
    patient holds: cancelling the booking cancels it at Stripe too (it was only marked
    cancelled here, so the patient could still confirm it, and the card was held with
    nobody to release it)."""
    booking = confirmed_booking(world, gateway)
    booking_id, token = booking.id, make.token(world["patient"])
    asked = client.post(f"/api/v1/bookings/{booking_id}/balance", json={}, headers=token)
    assert asked.status_code == 201, asked.json
    cancelled = client.post(f"/api/v1/bookings/{booking_id}/cancel", json={},
                            headers=token)
    assert cancelled.status_code == 200, cancelled.json
    (row,) = _balance_rows(booking_id)
    assert row.status == PaymentStatus.CANCELLED
    assert gateway.retrieve(asked.json["intent_id"]).status == PaymentStatus.CANCELLED
