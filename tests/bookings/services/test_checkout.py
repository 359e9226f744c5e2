"""Checkout of an accepted quote against localstripe through the real stripe client:
holds, a payment row committed before Stripe, Idempotency-Key, signed webhooks."""

import threading

import pytest

from bookings.models import Booking, BookingEvent, Escalation, Payment, PaymentStatus
from bookings.services.availability import Line, free_units
from journey.builder.services import journeys, quotes
from journey.core.accounts.models import Role
from journey.core.extensions import db
from tests.booking_fixtures import accepted_quote, signed
from tests.journey.builder_world import build_world, soon


@pytest.fixture
def accepted(stripe_app, make):
    world = build_world(make)
    journey = journeys.open_journey(world["patient"], arrival_on=soon(10),
                                    departure_on=soon(20), currency="EUR", nationality="DE")
    journeys.add_item(world["patient"], journey.id, offer_id=world["room"].id,
                      start_on=soon(10), days=10)
    journeys.add_item(world["patient"], journey.id, offer_id=world["surgery"].id,
                      start_on=soon(12))
    quote = quotes.create_quote(world["patient"], journey.id)
    quotes.accept_quote(world["patient"], quote.id)
    db.session.commit()
    return world, quote.id, make.token(world["patient"])


def _checkout(client, quote_id, headers, key="key-0001", **body):
    return client.post(f"/api/v1/quotes/{quote_id}/checkout",
                       json={"payment_method": "pm_card_visa", **body},
                       headers={**headers, "Idempotency-Key": key})


def test_checkout_holds_every_line_and_authorises_the_deposit(stripe_app, client, accepted):
    world, quote_id, headers = accepted
    response = _checkout(client, quote_id, headers)
    assert response.status_code == 201, response.json
    body = response.json
    assert body["status"] == "authorised"
    assert body["total"]["amount_minor"] == 730000
    assert body["due_now"]["amount_minor"] == 219000  # the 30 % deposit, as quoted
    assert body["payment"]["status"] == "authorised"
    assert body["payment"]["intent_id"].startswith("pi_")
    assert {line["status"] for line in body["lines"]} == {"requested"}
    with stripe_app.app_context():
        assert free_units(Line(world["room"].id, soon(10), 10, 1)) == 4  # 5 rooms, 1 held
        events = db.session.scalars(db.select(BookingEvent.to_state)).all()
        assert events[:2] == ["pending_payment", "created"] and "authorised" in events


def test_a_retry_with_the_same_key_returns_the_first_answer(stripe_app, client, accepted):
    _world, quote_id, headers = accepted
    first = _checkout(client, quote_id, headers)
    again = _checkout(client, quote_id, headers)
    assert again.status_code == 201
    assert again.json == first.json
    with stripe_app.app_context():
        assert db.session.scalar(db.select(db.func.count(Booking.id))) == 1
        assert db.session.scalar(db.select(db.func.count(Payment.id))) == 1
    other = _checkout(client, quote_id, headers, payment_method="pm_card_mastercard")
    assert other.status_code == 422  # the same key for another request
    assert _checkout(client, quote_id, headers, key="short").status_code == 422


def test_an_unknown_payment_method_is_refused_and_another_card_then_pays(stripe_app, client,
                                                                         accepted):
    """Not "the payment service did not answer; try again" (503): Stripe answered, and
    no retry of that call can succeed. The refusal is the key's answer; a new key with
    a real card pays the same booking."""
    _world, quote_id, headers = accepted
    headers = {**headers, "Accept-Language": "nb"}
    refused = _checkout(client, quote_id, headers, payment_method="pm_bogus_does_not_exist")
    assert refused.status_code == 409, refused.json
    assert refused.json["message"] != "The card was refused; try another card."  # in nb
    again = _checkout(client, quote_id, headers, payment_method="pm_bogus_does_not_exist")
    assert (again.status_code, again.json) == (409, refused.json)
    paid = _checkout(client, quote_id, headers, key="key-0002")
    assert paid.status_code == 201 and paid.json["status"] == "authorised"
    with stripe_app.app_context():
        assert db.session.scalar(db.select(db.func.count(Booking.id))) == 1
        statuses = db.session.scalars(db.select(Payment.status).order_by(Payment.id)).all()
        assert statuses == [PaymentStatus.FAILED, PaymentStatus.AUTHORISED]


def test_a_checkout_of_a_quote_booked_and_confirmed_since_gets_its_booking(stripe_app, client,
                                                                           make, accepted):
    """Another tab, another key, after the members confirmed: the booking, not "the
    journey has changed since this quote" (nothing had)."""
    world, quote_id, headers = accepted
    first = _checkout(client, quote_id, headers)
    assert first.status_code == 201
    staff = {world["hotel"].id: make.token(world["hotel_staff"]),
             world["clinic"].id: make.token(world["clinic_staff"])}
    for line in first.json["lines"]:
        accepted_line = client.post(f"/api/v1/booking-lines/{line['id']}/accept",
                                    headers=staff[line["provider_id"]])
        assert accepted_line.status_code == 200, accepted_line.json
    journey = client.get(f"/api/v1/quotes/{quote_id}", headers=headers).json["journey_id"]
    assert client.get(f"/api/v1/journeys/{journey}", headers=headers).json["status"] == \
        "confirmed"
    again = _checkout(client, quote_id, headers, key="key-0002")
    assert again.status_code == 201, again.json
    assert again.json["id"] == first.json["id"] and again.json["status"] == "confirmed"
    with stripe_app.app_context():
        assert db.session.scalar(db.select(db.func.count(Payment.id))) == 1


def test_only_an_accepted_unexpired_quote_is_paid(stripe_app, client, make, accepted):
    world, quote_id, headers = accepted
    journeys.update_journey(world["patient"], quotes.get_quote(world["patient"],
                                                               quote_id).journey_id, adults=2)
    db.session.commit()
    response = _checkout(client, quote_id, headers)
    assert response.status_code == 409
    with stripe_app.app_context():
        assert db.session.scalar(db.select(db.func.count(Booking.id))) == 0


def _event(event_id: str, kind: str, intent_id: str) -> dict:
    return {"id": event_id, "object": "event", "type": kind,
            "data": {"object": {"id": intent_id, "object": "payment_intent",
                                "status": "requires_capture"}}}


def test_webhook_takes_effect_once_whatever_the_order(stripe_app, client, accepted):
    _world, quote_id, headers = accepted
    intent_id = _checkout(client, quote_id, headers).json["payment"]["intent_id"]
    with stripe_app.app_context():  # as if the answer to the create call had been lost
        payment = db.session.scalar(db.select(Payment))
        payment.status = PaymentStatus.REQUIRES_ACTION
        db.session.commit()
    deliveries = [_event("evt_2", "payment_intent.amount_capturable_updated", intent_id)] * 5
    deliveries.insert(2, _event("evt_1", "payment_intent.created", intent_id))
    changed = []
    for payload in deliveries:
        body, sig = signed(payload)
        response = client.post("/api/v1/stripe/webhook", data=body, headers=sig)
        assert response.status_code == 200, response.json
        changed.append(response.json["changed"])
    assert changed.count(True) == 1
    with stripe_app.app_context():
        assert db.session.scalar(db.select(Payment.status)) == PaymentStatus.AUTHORISED
        authorisations = db.session.scalar(db.select(db.func.count(BookingEvent.id)).where(
            BookingEvent.subject == "payment", BookingEvent.to_state == "authorised"))
        assert authorisations == 2  # once at checkout, once after the lost answer


def test_webhook_with_a_bad_signature_changes_nothing(stripe_app, client, accepted):
    _world, quote_id, headers = accepted
    intent_id = _checkout(client, quote_id, headers).json["payment"]["intent_id"]
    body, sig = signed(_event("evt_9", "payment_intent.succeeded", intent_id),
                           secret="whsec_wrong")
    response = client.post("/api/v1/stripe/webhook", data=body, headers=sig)
    assert response.status_code == 400
    unsigned = client.post("/api/v1/stripe/webhook", data=body,
                           headers={"Content-Type": "application/json"})
    assert unsigned.status_code == 400
    with stripe_app.app_context():
        from bookings.models import ProcessedStripeEvent

        assert db.session.scalar(db.select(db.func.count(ProcessedStripeEvent.id))) == 0


def test_reconciliation_finds_what_a_lost_webhook_said(stripe_app, client, accepted):
    from bookings.jobs import reconcile_payments
    from bookings.payments import StripeGateway

    _world, quote_id, headers = accepted
    _checkout(client, quote_id, headers)
    with stripe_app.app_context():
        payment = db.session.scalar(db.select(Payment))
        payment.status = PaymentStatus.REQUIRES_ACTION  # the answer never reached us
        db.session.commit()
        gateway = StripeGateway.from_config()
        assert reconcile_payments(gateway) == 1
        assert reconcile_payments(gateway) == 0  # idempotent
        assert db.session.scalar(db.select(Payment.status)) == PaymentStatus.AUTHORISED


def test_unpaid_bookings_expire_and_give_their_units_back(stripe_app, client, accepted):
    """A checkout without a card (the intent waits for one), and a crash right after the
    payment row was committed (no intent at all): both end expired, holds released."""
    from datetime import timedelta

    from bookings.jobs import expire_unpaid
    from bookings.models import BookingStatus
    from bookings.payments import StripeGateway
    from journey.core.types import utcnow

    world, quote_id, headers = accepted
    response = client.post(f"/api/v1/quotes/{quote_id}/checkout", json={},
                           headers={**headers, "Idempotency-Key": "no-card-1"})
    assert response.status_code == 201, response.json
    assert response.json["payment"]["status"] == "requires_payment_method"
    with stripe_app.app_context():
        room = Line(world["room"].id, soon(10), 10, 1)
        assert free_units(room) == 4
        gateway = StripeGateway.from_config()
        later = utcnow() + timedelta(minutes=31)
        assert expire_unpaid(gateway, now=later) == 1
        assert expire_unpaid(gateway, now=later) == 0
        booking = db.session.scalar(db.select(Booking))
        assert booking.status == BookingStatus.EXPIRED
        assert booking.payments[0].status == PaymentStatus.CANCELLED
        assert free_units(room) == 5
        intent = gateway.retrieve(booking.payments[0].intent_id)
        assert intent.status == PaymentStatus.CANCELLED


def test_an_authorised_booking_keeps_its_units_after_the_holds_expire(stripe_app, client,
                                                                        accepted):
    """At authorisation the holds become booked lines: the units keep counting when the
    30 minutes of the holds are long gone."""
    from datetime import timedelta

    from bookings.models import Hold
    from journey.core.types import utcnow

    world, quote_id, headers = accepted
    assert _checkout(client, quote_id, headers).json["status"] == "authorised"
    with stripe_app.app_context():
        room = Line(world["room"].id, soon(10), 10, 1)
        assert db.session.scalar(db.select(db.func.count(Hold.id))
                                 .where(Hold.released_at.is_(None))) == 0
        assert free_units(room) == 4
        assert free_units(room, now=utcnow() + timedelta(days=2)) == 4
    search = client.get(f"/api/v1/offers/{world['room'].id}/calendar"
                        f"?start={soon(10)}&end={soon(10)}").json[0]
    assert (search["used"], search["available"]) == (1, 4)


def test_a_crash_between_the_payment_row_and_stripe_loses_nothing(stripe_app, accepted):
    """The booking and payment row are committed, then the process dies before Stripe is
    called: no charge exists, and the expiry job ends the booking and frees the units."""
    from datetime import timedelta

    from bookings.jobs import expire_unpaid
    from bookings.models import BookingStatus
    from bookings.payments import StripeGateway
    from bookings.services.checkout import CheckoutLine, start_checkout
    from journey.core.types import utcnow

    world, _quote_id, _headers = accepted
    with stripe_app.app_context():
        start_checkout(reference="quote:crash", customer_ref="user:1", currency="EUR",
                       lines=[CheckoutLine(world["room"].id, world["hotel"].id, soon(10), 10,
                                           1, 80000, True)],
                       due_now_minor=24000, ttl=timedelta(minutes=30), actor="user:1")
        db.session.commit()  # ... and here the process is killed
        room = Line(world["room"].id, soon(10), 10, 1)
        assert free_units(room) == 4
        later = utcnow() + timedelta(minutes=31)
        assert free_units(room, now=later) == 5  # the hold stops counting at its expiry
        assert expire_unpaid(StripeGateway.from_config(), now=later) == 1
        booking = db.session.scalar(db.select(Booking))
        assert booking.status == BookingStatus.EXPIRED
        assert booking.payments[0].status == PaymentStatus.CANCELLED
        assert booking.payments[0].intent_id is None  # Stripe was never asked to charge
        assert free_units(room) == 5


def test_a_second_checkout_of_a_booking_reads_it_afresh(stripe_app, accepted):
    """The second tab's checkout finds the booking the first one made: it gets it as the
    database holds it now, not as this session last saw it. (Seen stale, still waiting
    for its payment while the first tab had it authorised, the payment looked like an
    earlier attempt: it was cancelled and the card authorised again.)"""
    from datetime import timedelta

    from sqlalchemy import update

    from bookings.models import BookingStatus
    from bookings.services.checkout import CheckoutLine, start_checkout

    world, _quote_id, _headers = accepted
    with stripe_app.app_context():
        def checkout():
            return start_checkout(
                reference="quote:tabs", customer_ref="user:1", currency="EUR",
                lines=[CheckoutLine(world["room"].id, world["hotel"].id, soon(10), 10, 1,
                                    80000, True)],
                due_now_minor=24000, ttl=timedelta(minutes=30), actor="user:1")

        first = checkout()
        assert first.status == BookingStatus.PENDING_PAYMENT
        # the other tab's authorisation, written behind this session's back
        db.session.execute(update(Booking.__table__).where(Booking.id == first.id)
                           .values(status=BookingStatus.AUTHORISED.value))
        db.session.execute(update(Payment.__table__)
                           .where(Payment.booking_id == first.id)
                           .values(status=PaymentStatus.AUTHORISED.value,
                                   intent_id="pi_first_tab"))
        again = checkout()
        assert again is first  # the same booking, not a second one
        assert again.status == BookingStatus.AUTHORISED
        assert [(p.status, p.intent_id) for p in again.payments] == [
            (PaymentStatus.AUTHORISED, "pi_first_tab")]
        db.session.rollback()


@pytest.mark.commits  # threads at once, each with its own connection
def test_concurrent_checkouts_for_the_last_units_never_oversell(stripe_app, make):
    """Eight patients pay at once for a surgery with two slots left. Each winner is
    authorised in its own request (its holds become booked lines), so this fails if a
    hold counted only other holds: two bookings, six clear 409s, no 500."""
    from concurrent.futures import ThreadPoolExecutor

    world = build_world(make)
    racers = []
    for n in range(8):
        patient = make.user(Role.PATIENT, full_name=f"Racer {n}")
        quote = accepted_quote(world, patient=patient)  # a room and the surgery
        racers.append((quote.id, make.token(patient)))
    barrier = threading.Barrier(len(racers))

    def race(args):
        quote_id, headers = args
        client = stripe_app.test_client()
        barrier.wait()
        response = _checkout(client, quote_id, headers, key=f"race-{quote_id:04d}")
        return response.status_code, response.json

    with ThreadPoolExecutor(len(racers)) as pool:
        results = list(pool.map(race, racers))
    codes = sorted(code for code, _body in results)
    assert codes == [201, 201] + [409] * 6, [(c, b.get("message")) for c, b in results]
    assert all(body["message"] for code, body in results if code == 409)
    db.session.rollback()
    assert db.session.scalar(db.select(db.func.count(Booking.id))) == 2
    assert free_units(Line(world["surgery"].id, soon(12), 1, 1)) == 0


def test_a_new_hold_counts_the_units_of_authorised_bookings(stripe_app, make):
    """Sequentially: two paid checkouts take both surgery slots; the third is refused
    though no hold is alive any more (the first two became booked lines)."""
    world = build_world(make)
    buyers = []
    for n in range(3):  # quoted while both slots were free
        patient = make.user(Role.PATIENT, full_name=f"Patient {n}")
        buyers.append((accepted_quote(world, patient=patient).id, make.token(patient)))
    codes = [_checkout(stripe_app.test_client(), quote_id, headers,
                       key=f"seq-{quote_id:04d}").status_code
             for quote_id, headers in buyers]
    assert codes == [201, 201, 409]


def test_a_coordinators_payment_link_holds_for_72_hours_until_the_patient_pays(
        stripe_app, client, make, world):
    from bookings.services.checkout import pay_now
    from journey.builder.services import checkout as journey_checkout
    from journey.core.types import utcnow

    quote = accepted_quote(world)
    booking = journey_checkout.checkout_quote(world["coordinator"], quote.id)
    db.session.commit()
    payment = booking.payments[0]
    assert booking.status.value == "pending_payment" and payment.intent_id is None
    hours = (booking.expires_at - utcnow()).total_seconds() / 3600
    assert 71.9 < hours <= 72
    assert free_units(Line(world["surgery"].id, soon(12), 1, 1)) == 1  # held meanwhile
    refused = client.post(f"/api/v1/bookings/{booking.id}/pay",
                          json={"payment_method": "pm_card_visa"},
                          headers=make.token(world["patient2"]))
    assert refused.status_code == 404
    paid = client.post(f"/api/v1/bookings/{booking.id}/pay",
                       json={"payment_method": "pm_card_visa"},
                       headers=make.token(world["patient"]))
    assert paid.status_code == 201, paid.json
    assert paid.json["status"] == "authorised"
    db.session.refresh(booking)
    assert booking.status.value == "authorised"
    with pytest.raises(Exception, match="not waiting"):
        pay_now(world["patient"], booking.id, payment_method="pm_card_visa")


def test_a_refused_card_can_be_replaced_by_another(stripe_app, client, make, world, gateway):
    quote = accepted_quote(world)
    declined = gateway.client.v1.payment_methods.create({"type": "card", "card": {
        "number": "4000000000000341", "exp_month": 12, "exp_year": 2030, "cvc": "123"}})
    headers = make.token(world["patient"])
    first = _checkout(client, quote.id, headers, payment_method=declined.id)
    assert first.status_code == 409 and first.json["message"]
    booking = db.session.scalar(db.select(Booking))
    assert booking.status.value == "pending_payment"
    again = client.post(f"/api/v1/bookings/{booking.id}/pay",
                        json={"payment_method": "pm_card_visa"}, headers=headers)
    assert again.status_code == 201, again.json
    db.session.refresh(booking)
    assert booking.status.value == "authorised"
    # The refused attempt stays on record (with its escalation); the new card is a new
    # payment row, so a new Stripe idempotency key.
    assert [p.status.value for p in booking.payments] == ["failed", "authorised"]
    assert db.session.scalar(db.select(db.func.count(Escalation.id))) == 1


def test_a_lost_stripe_answer_is_retried_with_the_same_payment_and_key(world, gateway):
    """Stripe created (and authorised) the intent, but its answer never arrived: the
    patient gets 503, the payment row stays open (not failed, no escalation), and the
    retry uses the same row, so the same idempotency key."""
    from bookings.payments import GatewayUnavailable, StripeGateway
    from journey.builder.services.checkout import checkout_quote
    from journey.core.errors import Busy

    class AnswerLost(StripeGateway):
        def create_intent(self, payment, *, payment_method=None):
            super().create_intent(payment, payment_method=payment_method)
            raise GatewayUnavailable("connection reset while reading the answer")

    quote = accepted_quote(world)
    lossy = AnswerLost.from_config()
    with pytest.raises(Busy):
        checkout_quote(world["patient"], quote.id, gateway=lossy,
                       payment_method="pm_card_visa")
    db.session.rollback()
    (payment,) = db.session.scalars(db.select(Payment)).all()
    assert payment.status == PaymentStatus.CREATED and payment.intent_id is None
    assert db.session.scalar(db.select(db.func.count(Escalation.id))) == 0  # not a refusal
    booking = checkout_quote(world["patient"], quote.id, gateway=gateway,
                             payment_method="pm_card_visa")
    db.session.commit()
    assert [p.id for p in booking.payments] == [payment.id]
    assert booking.payments[0].status == PaymentStatus.AUTHORISED
    # The same row means the same idempotency key (payment-<id>), with which real Stripe
    # answers the first intent again; localstripe ignores idempotency keys, so the
    # number of intents it holds cannot show that here.


def test_a_retry_after_a_lost_answer_under_the_same_key_pays_once(world, gateway,
                                                                   monkeypatch):
    """Exactly once across the key's release: Stripe authorised but its answer was lost
    (503), the reservation committed with the payment row is let go, and the client's
    retry with the same key runs at once — on the same booking and payment row (so the
    same Stripe idempotency key) — and its answer is the key's from then on."""
    from bookings.models import IdempotentRequest
    from bookings.payments import GatewayUnavailable, StripeGateway
    from journey.builder.services.checkout import checkout_once
    from journey.core.errors import Busy

    real = StripeGateway.create_intent
    lost = []

    def answer_lost_once(self, payment, *, payment_method=None):
        intent = real(self, payment, payment_method=payment_method)
        if not lost:
            lost.append(intent.id)
            raise GatewayUnavailable("connection reset while reading the answer")
        return intent

    monkeypatch.setattr(StripeGateway, "create_intent", answer_lost_once)
    quote = accepted_quote(world)

    def pay():
        return checkout_once(world["patient"], quote.id, key="lost-answer-1",
                             payment_method="pm_card_visa",
                             render=lambda booking: {"id": booking.id,
                                                     "status": booking.status.value})

    with pytest.raises(Busy):
        pay()
    db.session.rollback()
    status, body = pay()
    db.session.commit()
    assert (status, body["status"]) == (201, "authorised")
    (booking,) = db.session.scalars(db.select(Booking)).all()
    (payment,) = db.session.scalars(db.select(Payment)).all()
    assert body["id"] == booking.id and payment.status == PaymentStatus.AUTHORISED
    (key,) = db.session.scalars(db.select(IdempotentRequest)).all()
    assert (key.status_code, key.body) == (201, body)
    assert pay() == (201, body)  # the stored answer, nothing run again
    assert db.session.scalar(db.select(db.func.count(Payment.id))) == 1


def _expire_while_stripe_is_asked(stripe_app, gateway, monkeypatch):
    """Stripe is asked for the intent; meanwhile the expiry job ends the booking (its
    holds ran out while the patient's request waited), then Stripe authorises."""
    from datetime import timedelta

    from bookings.jobs import expire_unpaid
    from journey.core.types import utcnow

    create_intent = type(gateway).create_intent
    expired = []

    def expire_meanwhile(self, payment, **kwargs):
        if not expired:
            with stripe_app.app_context():
                expired.append(expire_unpaid(gateway, now=utcnow() + timedelta(days=4)))
        return create_intent(self, payment, **kwargs)
    monkeypatch.setattr(type(gateway), "create_intent", expire_meanwhile)
    return expired


def _lapsed_message(lang: str) -> str:
    from flask_babel import force_locale

    from bookings.services import checkout

    with force_locale(lang):
        return str(checkout.LAPSED_WHILE_PAYING)


def test_a_booking_that_lapses_while_the_card_is_checked_is_a_clear_409(
        stripe_app, client, accepted, gateway, monkeypatch):
    """The booking expired while Stripe authorised the card: the authorisation is
    released, and the checkout says, in the patient's language, that the booking lapsed
    and nothing was charged (it answered 201 with the expired booking and its cancelled
    payment, as if the checkout had gone through)."""
    _world, quote_id, headers = accepted
    expired = _expire_while_stripe_is_asked(stripe_app, gateway, monkeypatch)
    response = _checkout(client, quote_id, {**headers, "Accept-Language": "de"})
    assert expired == [1]
    assert response.status_code == 409, response.json
    assert response.json["message"] == _lapsed_message("de") != _lapsed_message("en")
    assert response.json["error"] == "booking_lapsed"
    payment = db.session.scalar(db.select(Payment))
    assert payment.status == PaymentStatus.CANCELLED and payment.intent_id
    assert gateway.retrieve(payment.intent_id).status == PaymentStatus.CANCELLED
    again = _checkout(client, quote_id, {**headers, "Accept-Language": "de"})
    assert again.status_code == 409 and again.json == response.json  # replayed


def test_a_payment_link_that_lapses_while_the_card_is_checked_is_a_clear_409(
        stripe_app, client, make, world, gateway, monkeypatch):
    """The same for a coordinator's payment link paid at ``/bookings/{id}/pay``: it
    answered 201 with the cancelled payment."""
    from journey.builder.services import checkout as journey_checkout

    quote = accepted_quote(world)
    booking = journey_checkout.checkout_quote(world["coordinator"], quote.id)
    db.session.commit()
    booking_id = booking.id
    expired = _expire_while_stripe_is_asked(stripe_app, gateway, monkeypatch)
    paid = client.post(f"/api/v1/bookings/{booking_id}/pay?lang=nb",
                       json={"payment_method": "pm_card_visa"},
                       headers=make.token(world["patient"]))
    assert expired == [1]
    assert paid.status_code == 409, paid.json
    assert paid.json["message"] == _lapsed_message("nb") != _lapsed_message("en")
    assert paid.json["error"] == "booking_lapsed"
    payment = db.session.scalars(db.select(Payment).where(
        Payment.booking_id == booking_id).order_by(Payment.id)).all()[-1]
    assert payment.status == PaymentStatus.CANCELLED and payment.intent_id
    assert gateway.retrieve(payment.intent_id).status == PaymentStatus.CANCELLED
