"""Checkout of an accepted quote against localstripe through the real stripe client:
holds, a payment row committed before Stripe, Idempotency-Key, signed webhooks."""

import hashlib
import hmac
import json
import socket
import subprocess
import sys
import time
from pathlib import Path
from urllib.request import Request, urlopen

import pytest

from bookings.availability import Line, free_units
from bookings.models import Booking, BookingEvent, Payment, PaymentStatus
from journey.builder.services import journeys, quotes
from journey.extensions import db
from tests.journey.builder_world import build_world, soon

SECRET = "whsec_test_secret"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="session")
def localstripe_url():
    port = _free_port()
    binary = Path(sys.executable).with_name("localstripe")
    process = subprocess.Popen([str(binary), "--port", str(port), "--from-scratch"],
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.5).close()
            break
        except OSError:
            time.sleep(0.2)
    else:
        process.terminate()
        pytest.fail("localstripe did not start")
    yield url
    process.terminate()
    process.wait(timeout=10)


@pytest.fixture
def stripe_app(app, localstripe_url):
    urlopen(Request(f"{localstripe_url}/_config/data", method="DELETE"), timeout=10).close()
    saved = {k: app.config[k] for k in ("STRIPE_API_BASE", "STRIPE_WEBHOOK_SECRET")}
    app.config.update(STRIPE_API_BASE=localstripe_url, STRIPE_WEBHOOK_SECRET=SECRET)
    yield app
    app.config.update(saved)


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


def test_only_an_accepted_unexpired_quote_is_paid(stripe_app, client, make, accepted):
    world, quote_id, headers = accepted
    journeys.update_journey(world["patient"], quotes.get_quote(world["patient"],
                                                               quote_id).journey_id, adults=2)
    db.session.commit()
    response = _checkout(client, quote_id, headers)
    assert response.status_code == 409
    with stripe_app.app_context():
        assert db.session.scalar(db.select(db.func.count(Booking.id))) == 0


def _signed(payload: dict, secret: str = SECRET) -> tuple[bytes, dict]:
    body = json.dumps(payload).encode()
    timestamp = str(int(time.time()))
    signature = hmac.new(secret.encode(), f"{timestamp}.".encode() + body,
                         hashlib.sha256).hexdigest()
    return body, {"Stripe-Signature": f"t={timestamp},v1={signature}",
                  "Content-Type": "application/json"}


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
        body, signed = _signed(payload)
        response = client.post("/api/v1/stripe/webhook", data=body, headers=signed)
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
    body, signed = _signed(_event("evt_9", "payment_intent.succeeded", intent_id),
                           secret="whsec_wrong")
    response = client.post("/api/v1/stripe/webhook", data=body, headers=signed)
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
    from journey.types import utcnow

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
    from journey.types import utcnow

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

    from bookings.checkout import CheckoutLine, start_checkout
    from bookings.jobs import expire_unpaid
    from bookings.models import BookingStatus
    from bookings.payments import StripeGateway
    from journey.types import utcnow

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
