"""3-D Secure (SCA): a card whose bank wants to check the cardholder leaves the intent in
``requires_action``. The booking stays pending with its holds; the patient passes the
bank's step (Stripe.js), then the server reads the intent again and the booking goes on
as after a direct authorisation, once, whether the finish call or the webhook comes
first. Against localstripe, whose 3-D Secure cards (4000002760003184 and friends) wait
for ``POST /v1/payment_intents/{id}/_authenticate?success=...``: the call its Stripe.js
makes when the cardholder answers its box, made here directly."""

from __future__ import annotations

import json
import threading
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta
from urllib.request import Request, urlopen

import pytest

from bookings.jobs import expire_unpaid
from bookings.models import (
    Booking,
    BookingEvent,
    BookingStatus,
    Escalation,
    LineStatus,
    Payment,
    PaymentKind,
    PaymentStatus,
)
from bookings.payments import RETURN_PATH, StripeGateway, return_url_for
from bookings.services import balance
from bookings.services.availability import Line, free_units
from bookings.services.checkout import awaiting_bank, bank_step, finish_payment
from journey.builder.services import checkout
from journey.core.accounts.models import Role
from journey.core.errors import Conflict
from journey.core.extensions import db
from journey.core.types import utcnow
from tests.booking_fixtures import accepted_quote, confirmed_booking, signed
from tests.journey.builder_world import soon
from tests.journey.pages.patient_fixtures import login

THREE_D_SECURE = "4000002760003184"  # Stripe's "always authenticate" test card
DEPOSIT = 219000


def card(gateway, number: str = THREE_D_SECURE) -> str:
    return gateway.client.v1.payment_methods.create({"type": "card", "card": {
        "number": number, "exp_month": 12, "exp_year": 2030, "cvc": "123"}}).id


def bank_answers(localstripe_url: str, payment: Payment, *, success: bool) -> None:
    """The cardholder answers their bank's check, as localstripe's Stripe.js does (with
    the publishable key and the client secret only)."""
    body = json.dumps({"key": "pk_test_localstripe",
                       "client_secret": payment.client_secret}).encode()
    urlopen(Request(f"{localstripe_url}/v1/payment_intents/{payment.intent_id}/_authenticate"
                    f"?success={'true' if success else 'false'}", data=body, method="POST",
                    headers={"Content-Type": "application/json"}), timeout=10).close()


def pending_3ds(world, gateway) -> Booking:
    quote = accepted_quote(world)
    booking = checkout.checkout_quote(world["patient"], quote.id, gateway=gateway,
                                      payment_method=card(gateway))
    db.session.commit()
    return booking


def _room(world) -> Line:
    return Line(world["room"].id, soon(10), 10, 1)


def _events(booking_id: int, subject: str, to_state: str) -> int:
    return db.session.scalar(db.select(db.func.count(BookingEvent.id)).where(
        BookingEvent.booking_id == booking_id, BookingEvent.subject == subject,
        BookingEvent.to_state == to_state))


def test_a_3ds_card_leaves_the_booking_pending_with_its_holds(client, make, world, gateway):
    quote = accepted_quote(world)
    answer = client.post(f"/api/v1/quotes/{quote.id}/checkout",
                         json={"payment_method": card(gateway)},
                         headers={**make.token(world["patient"]), "Idempotency-Key": "sca-0001"})
    assert answer.status_code == 201, answer.json
    assert answer.json["status"] == "pending_payment"
    payment = answer.json["payment"]
    # What a client needs for the bank's step: the state and Stripe.js's client secret.
    assert payment["status"] == "requires_action"
    assert payment["client_secret"].startswith(payment["intent_id"] + "_secret_")
    intent = gateway.retrieve(payment["intent_id"])
    assert (intent.status, intent.next_action) == (PaymentStatus.REQUIRES_ACTION,
                                                   "use_stripe_sdk")
    assert free_units(_room(world)) == 4  # the held unit still counts
    booking = db.session.get(Booking, answer.json["id"])
    assert [line.status for line in booking.lines] == [LineStatus.HELD] * 2
    assert awaiting_bank(booking).intent_id == payment["intent_id"]
    assert bank_step(awaiting_bank(booking), gateway) == {
        "type": "use_stripe_sdk", "client_secret": payment["client_secret"],
        "return_url": None}  # localstripe takes no return_url (see payments.py)
    assert db.session.scalar(db.select(db.func.count(Escalation.id))) == 0


def test_finishing_after_the_bank_said_yes_books_as_a_direct_authorisation(
        world, gateway, localstripe_url):
    booking = pending_3ds(world, gateway)
    payment = booking.payments[0]
    # Before the cardholder answers, finishing changes nothing: still pending and held.
    assert finish_payment(world["patient"], booking.id, gateway=gateway).status == \
        PaymentStatus.REQUIRES_ACTION
    assert booking.status == BookingStatus.PENDING_PAYMENT
    bank_answers(localstripe_url, payment, success=True)
    finished = finish_payment(world["patient"], booking.id, gateway=gateway)
    assert finished.id == payment.id and finished.status == PaymentStatus.AUTHORISED
    db.session.refresh(booking)
    assert booking.status == BookingStatus.AUTHORISED
    assert [line.status for line in booking.lines] == [LineStatus.REQUESTED] * 2
    assert free_units(_room(world), now=utcnow() + timedelta(days=2)) == 4  # booked now
    # Finishing again (a reload, a double click) completes nothing more.
    assert finish_payment(world["patient"], booking.id, gateway=gateway).id == payment.id
    assert _events(booking.id, "payment", "authorised") == 1
    assert _events(booking.id, "booking", "authorised") == 1
    assert gateway.retrieve(payment.intent_id).status == PaymentStatus.AUTHORISED


def test_an_all_instant_booking_is_confirmed_and_captured_after_the_bank(
        world, gateway, localstripe_url):
    from providers.models import ConfirmationMode

    for name in ("room", "surgery"):
        world[name].confirmation_mode = ConfirmationMode.INSTANT
    db.session.commit()
    booking = pending_3ds(world, gateway)
    bank_answers(localstripe_url, booking.payments[0], success=True)
    payment = finish_payment(world["patient"], booking.id, gateway=gateway)
    db.session.refresh(booking)
    assert booking.status == BookingStatus.CONFIRMED
    assert (payment.status, payment.captured_minor) == (PaymentStatus.CAPTURED, DEPOSIT)


def test_only_the_patient_or_the_cluster_finishes(world, gateway, make):
    booking = pending_3ds(world, gateway)
    with pytest.raises(Exception) as refused:
        finish_payment(world["patient2"], booking.id, gateway=gateway)
    assert getattr(refused.value, "status", None) in (403, 404)
    coordinator = make.user(Role.COORDINATOR)
    assert finish_payment(coordinator, booking.id, gateway=gateway).status == \
        PaymentStatus.REQUIRES_ACTION


def test_an_abandoned_bank_step_expires_releases_the_holds_and_cancels_the_intent(
        world, gateway):
    booking = pending_3ds(world, gateway)
    payment = booking.payments[0]
    assert expire_unpaid(gateway, now=utcnow() + timedelta(minutes=5)) == 0  # not yet
    assert free_units(_room(world)) == 4
    later = utcnow() + timedelta(minutes=31)
    assert expire_unpaid(gateway, now=later) == 1
    assert expire_unpaid(gateway, now=later) == 0
    db.session.refresh(booking)
    assert booking.status == BookingStatus.EXPIRED
    assert booking.payments[0].status == PaymentStatus.CANCELLED
    assert gateway.retrieve(payment.intent_id).status == PaymentStatus.CANCELLED
    assert free_units(_room(world)) == 5
    # The patient coming back from the bank afterwards changes nothing.
    with pytest.raises(Conflict):
        finish_payment(world["patient"], booking.id, gateway=gateway)


def test_a_refused_check_fails_the_attempt_and_keeps_the_holds_for_another_card(
        world, gateway, localstripe_url):
    """Our call: the attempt fails at once (its intent cancelled, a coordinator told),
    but the units stay held until the hold expires, so the patient can pay again
    meanwhile; the expiry job then frees them as for any unpaid booking."""
    booking = pending_3ds(world, gateway)
    payment = booking.payments[0]
    bank_answers(localstripe_url, payment, success=False)
    with pytest.raises(Conflict, match="bank did not confirm"):
        finish_payment(world["patient"], booking.id, gateway=gateway)
    db.session.rollback()
    db.session.refresh(booking)
    assert booking.status == BookingStatus.PENDING_PAYMENT
    assert booking.payments[0].status == PaymentStatus.FAILED
    assert gateway.retrieve(payment.intent_id).status == PaymentStatus.CANCELLED
    assert db.session.scalar(db.select(db.func.count(Escalation.id))) == 1
    assert free_units(_room(world)) == 4  # still held
    # Again, with a card that needs no check: a new payment row, authorised.
    quote_id = int(booking.reference.removeprefix("quote:"))
    checkout.checkout_quote(world["patient"], quote_id, gateway=gateway,
                            payment_method="pm_card_visa")
    db.session.commit()
    db.session.refresh(booking)
    assert booking.status == BookingStatus.AUTHORISED
    assert [p.status for p in booking.payments] == [PaymentStatus.FAILED,
                                                    PaymentStatus.AUTHORISED]


def test_the_webhook_alone_completes_it_too(client, world, gateway, localstripe_url):
    booking = pending_3ds(world, gateway)
    payment = booking.payments[0]
    bank_answers(localstripe_url, payment, success=True)
    body, headers = signed({"id": "evt_sca_1", "object": "event",
                            "type": "payment_intent.amount_capturable_updated",
                            "data": {"object": {"id": payment.intent_id,
                                                "object": "payment_intent"}}})
    assert client.post("/api/v1/stripe/webhook", data=body, headers=headers).json["changed"]
    db.session.refresh(booking)
    assert booking.status == BookingStatus.AUTHORISED
    assert finish_payment(world["patient"], booking.id, gateway=gateway).status == \
        PaymentStatus.AUTHORISED  # the patient's own finish afterwards: nothing more
    assert _events(booking.id, "payment", "authorised") == 1


def _quote_from(world, patient, day: int):
    from journey.builder.services import journeys, quotes

    journey = journeys.open_journey(patient, arrival_on=soon(day), departure_on=soon(day + 5),
                                    currency="EUR", nationality="DE")
    journeys.add_item(patient, journey.id, offer_id=world["room"].id, start_on=soon(day),
                      days=5)
    journeys.add_item(patient, journey.id, offer_id=world["surgery"].id,
                      start_on=soon(day + 2))
    quote = quotes.create_quote(patient, journey.id)
    quotes.accept_quote(patient, quote.id)
    db.session.commit()
    return quote


@pytest.mark.commits
def test_a_finish_and_the_webhook_at_the_same_time_complete_once(
        app, stripe_app, make, world, gateway, localstripe_url):
    rounds = []
    for n in range(4):  # the world's room has 5 units; each round books one
        patient = make.user(Role.PATIENT, full_name=f"Racer {n}")
        quote = _quote_from(world, patient, 10 + 3 * n)  # a surgery has 2 slots a day
        booking = checkout.checkout_quote(patient, quote.id, gateway=gateway,
                                          payment_method=card(gateway))
        db.session.commit()
        payment = booking.payments[0]
        bank_answers(localstripe_url, payment, success=True)
        rounds.append((booking.id, patient.id, payment.intent_id))
    db.session.rollback()
    barrier_for = {}

    def by_webhook(booking_id, intent_id):
        body, headers = signed({"id": f"evt_race_{booking_id}", "object": "event",
                                "type": "payment_intent.amount_capturable_updated",
                                "data": {"object": {"id": intent_id,
                                                    "object": "payment_intent"}}})
        barrier_for[booking_id].wait()
        return app.test_client().post("/api/v1/stripe/webhook", data=body,
                                      headers=headers).status_code

    def by_finish(booking_id, patient_id):
        with app.app_context():
            from journey.core.accounts.models import User

            patient = db.session.get(User, patient_id)
            barrier_for[booking_id].wait()
            try:
                return finish_payment(patient, booking_id,
                                      gateway=StripeGateway.from_config()).status.value
            finally:
                db.session.remove()

    for booking_id, patient_id, intent_id in rounds:
        barrier_for[booking_id] = threading.Barrier(2)
        with ThreadPoolExecutor(2) as pool:
            hook = pool.submit(by_webhook, booking_id, intent_id)
            done = pool.submit(by_finish, booking_id, patient_id)
            assert hook.result() == 200
            assert done.result() == "authorised"
        db.session.rollback()
        booking = db.session.get(Booking, booking_id)
        assert booking.status == BookingStatus.AUTHORISED
        assert _events(booking_id, "payment", "authorised") == 1
        assert _events(booking_id, "booking", "authorised") == 1
        assert _events(booking_id, "line", "requested") == 2


def test_the_balance_asks_the_bank_too(world, gateway, localstripe_url):
    booking = confirmed_booking(world, gateway)
    payment = balance.pay_balance(world["patient"], booking.id,
                                  payment_method=card(gateway), gateway=gateway)
    db.session.commit()
    assert (payment.kind, payment.status) == (PaymentKind.BALANCE,
                                              PaymentStatus.REQUIRES_ACTION)
    assert awaiting_bank(booking).id == payment.id
    bank_answers(localstripe_url, payment, success=True)
    finished = finish_payment(world["patient"], booking.id, gateway=gateway)
    assert finished.id == payment.id
    assert (finished.status, finished.captured_minor) == (PaymentStatus.CAPTURED,
                                                          payment.amount_minor)
    assert booking.status == BookingStatus.CONFIRMED


def test_a_refused_balance_check_goes_to_a_coordinator(world, gateway, localstripe_url):
    booking = confirmed_booking(world, gateway)
    payment = balance.pay_balance(world["patient"], booking.id,
                                  payment_method=card(gateway), gateway=gateway)
    db.session.commit()
    bank_answers(localstripe_url, payment, success=False)
    with pytest.raises(Conflict):
        finish_payment(world["patient"], booking.id, gateway=gateway)
    db.session.rollback()
    db.session.refresh(payment)
    assert payment.status == PaymentStatus.FAILED
    assert db.session.scalar(db.select(Escalation.kind)) == "payment_failed"


def test_real_stripe_gets_the_return_url_and_localstripe_does_not(app, stripe_app):
    payment = Payment(id=7, booking_id=3, amount_minor=1000, currency="EUR")
    real = StripeGateway("sk_test_x", "https://api.stripe.com",
                         return_url="https://onewindow.example" + RETURN_PATH)
    params = real.intent_params(payment, payment_method="pm_card_visa")
    assert params["return_url"] == "https://onewindow.example/my/payments/return"
    assert params["use_stripe_sdk"] is True and params["confirm"] is True
    assert "return_url" not in real.intent_params(payment)  # no confirmation, no return
    config = {"STRIPE_API_BASE": "https://api.stripe.com",
              "PUBLIC_URL": "https://onewindow.example/"}
    assert return_url_for(config) == "https://onewindow.example/my/payments/return"
    assert return_url_for({**config, "STRIPE_RETURN_URL": "https://x.example/r"}) == \
        "https://x.example/r"
    with stripe_app.app_context():
        local = StripeGateway.from_config()
        assert local.return_url is None
        assert "return_url" not in local.intent_params(payment, payment_method="pm_x")


# --- the pages ----------------------------------------------------------------------------

def test_the_bank_step_page_and_the_finish(client, world, gateway, localstripe_url):
    booking = pending_3ds(world, gateway)
    payment = booking.payments[0]
    login(client, world["patient"])
    page = client.get(f"/my/bookings/{booking.id}/authenticate?lang=en")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert f'data-client-secret="{payment.client_secret}"' in html
    assert "data-autostart" in html and 'id="authenticate"' in html
    # Back before the bank answered: still waiting, said so, no second start.
    again = client.post(f"/my/bookings/{booking.id}/authenticate?lang=en")
    assert again.status_code == 200
    assert "not confirmed the payment yet" in again.get_data(as_text=True)
    assert "data-autostart" not in again.get_data(as_text=True)
    bank_answers(localstripe_url, payment, success=True)
    done = client.post(f"/my/bookings/{booking.id}/authenticate")
    assert done.status_code == 302 and "/my/journeys/" in done.location
    db.session.refresh(booking)
    assert booking.status == BookingStatus.AUTHORISED
    # Nothing waits for the bank any more: the page sends the patient to the journey.
    assert client.get(f"/my/bookings/{booking.id}/authenticate").status_code == 302


def test_a_refused_check_sends_the_patient_back_to_pay(client, world, gateway,
                                                       localstripe_url):
    booking = pending_3ds(world, gateway)
    bank_answers(localstripe_url, booking.payments[0], success=False)
    login(client, world["patient"])
    answer = client.post(f"/my/bookings/{booking.id}/authenticate?lang=en")
    assert answer.status_code == 302
    quote_id = booking.reference.removeprefix("quote:")
    assert answer.location.endswith(f"/my/quotes/{quote_id}/checkout")
    page = client.get(answer.location + "?lang=en")
    assert "Your bank did not confirm the payment" in page.get_data(as_text=True)


def test_the_banks_redirect_comes_back_to_the_return_page(client, world, gateway,
                                                         localstripe_url):
    booking = pending_3ds(world, gateway)
    payment = booking.payments[0]
    bank_answers(localstripe_url, payment, success=True)
    login(client, world["patient2"])  # not theirs: refused, nothing done
    url = f"{RETURN_PATH}?payment_intent={payment.intent_id}"
    assert client.get(url).status_code in (403, 404)
    assert client.get(f"{RETURN_PATH}?payment_intent=pi_unknown").status_code == 404
    db.session.refresh(booking)
    assert booking.status == BookingStatus.PENDING_PAYMENT
    login(client, world["patient"])
    back = client.get(url + f"&payment_intent_client_secret={payment.client_secret}")
    assert back.status_code == 302 and "/my/journeys/" in back.location
    db.session.refresh(booking)
    assert booking.status == BookingStatus.AUTHORISED


def test_the_balance_page_sends_a_3ds_card_to_the_bank_step(client, world, gateway,
                                                             localstripe_url):
    booking = confirmed_booking(world, gateway)
    login(client, world["patient"])
    paid = client.post(f"/my/bookings/{booking.id}/balance",
                       data={"idempotency_key": "balance-sca-01",
                             "payment_method": card(gateway)})
    assert paid.status_code == 302
    assert paid.location.endswith(f"/my/bookings/{booking.id}/authenticate")
    payment = awaiting_bank(booking)
    bank_answers(localstripe_url, payment, success=True)
    done = client.post(paid.location)
    assert done.status_code == 302
    db.session.refresh(payment)
    assert payment.status == PaymentStatus.CAPTURED
