"""README's "Paying, step by step", call for call, through the test client, against
localstripe and the demo cluster: what a new API client does to pay, without reading
the code.

The app is also served on a loopback port, so that localstripe, told where the webhook
is (``POST /_config/webhooks/<id>`` with the development secret), delivers its events to
it for real.
"""

import threading
import time
import uuid
from datetime import date, timedelta
from urllib.parse import urlencode
from urllib.request import Request, urlopen

import pytest
from sqlalchemy import select
from werkzeug.serving import make_server

from bookings.jobs import reconcile_payments
from bookings.models import ProcessedStripeEvent
from bookings.payments import StripeGateway
from journey.core.extensions import db
from journey.demo import DEMO_PASSWORD, seed_demo

DEVELOPMENT_SECRET = "whsec_localstripe"  # STRIPE_WEBHOOK_SECRET's default


@pytest.fixture
def served(stripe_app):
    """The demo cluster, and the app on a loopback port (for localstripe's webhook) with
    the development webhook secret."""
    with stripe_app.app_context():
        seed_demo()  # what `make run` loads into an empty database
        db.session.commit()
    stripe_app.config["STRIPE_WEBHOOK_SECRET"] = DEVELOPMENT_SECRET
    server = make_server("127.0.0.1", 0, stripe_app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}"
    server.shutdown()
    thread.join(timeout=10)


def _post_form(address: str, **fields) -> None:
    urlopen(Request(address, data=urlencode(fields).encode(), method="POST"),
            timeout=10).close()


def _day(days: int) -> str:
    return (date.today() + timedelta(days=days)).isoformat()  # date -d '+N days' +%F


def _new_key() -> str:
    return str(uuid.uuid4())


@pytest.mark.commits  # localstripe's webhook arrives on the server's thread meanwhile
def test_a_new_client_registers_plans_quotes_and_pays(client, served, localstripe_url,
                                                      stripe_app):
    api = "/api/v1"
    _post_form(f"{localstripe_url}/_config/webhooks/onewindow",
               url=f"{served}/api/v1/stripe/webhook", secret=DEVELOPMENT_SECRET)

    registered = client.post(f"{api}/auth/register", json={
        "email": "ingrid@example.org", "password": "correct-horse-battery",
        "full_name": "Ingrid Solberg", "currency": "EUR", "issue_token": True})
    assert registered.status_code == 201, registered.json
    auth = {"Authorization": f"Bearer {registered.json['token']['token']}"}
    arrival, departure, checkup, trip = _day(30), _day(33), _day(31), _day(32)
    journey = client.post(f"{api}/journeys", headers={**auth, "Idempotency-Key": _new_key()},
                          json={"arrival_on": arrival, "departure_on": departure,
                                "currency": "EUR", "nationality": "NO"})
    assert journey.status_code == 201, journey.json
    journey_id = journey.json["id"]
    room = client.get(f"{api}/offers", query_string={
        "chain_link": "accommodation", "city": "Vilnius", "start": arrival, "end": trip,
        "sort": "price"}).json["items"][0]["offer"]["id"]
    heart = client.get(f"{api}/offers", query_string={
        "chain_link": "diagnostics", "city": "Vilnius", "q": "cardiac"}).json["items"][0]
    trakai = client.get(f"{api}/offers", query_string={
        "chain_link": "leisure", "city": "Vilnius", "q": "Trakai"}).json["items"][0]
    for item in ({"offer_id": room, "start_on": arrival, "days": 3},
                 {"offer_id": heart["offer"]["id"], "start_on": checkup},
                 {"offer_id": trakai["offer"]["id"], "start_on": trip}):
        added = client.post(f"{api}/journeys/{journey_id}/items", headers=auth, json=item)
        assert added.status_code == 201, added.json
    assert client.get(f"{api}/journeys/{journey_id}/check", headers=auth).json == {
        "ok": True, "violations": []}

    quote = client.post(f"{api}/journeys/{journey_id}/quotes", headers=auth)
    assert quote.status_code == 201, quote.json
    accepted = client.post(f"{api}/quotes/{quote.json['id']}/accept", headers=auth)
    assert accepted.status_code == 200 and accepted.json["accepted_at"]
    due_now = accepted.json["due_now"]
    assert set(due_now) == {"amount_minor", "currency", "formatted"}
    key = _new_key()
    checkout = client.post(f"{api}/quotes/{quote.json['id']}/checkout",
                           headers={**auth, "Idempotency-Key": key},
                           json={"payment_method": "pm_card_visa"})
    assert checkout.status_code == 201, checkout.json
    booking_id = checkout.json["id"]
    assert checkout.json["due_now"] == due_now
    again = client.post(f"{api}/quotes/{quote.json['id']}/checkout",
                        headers={**auth, "Idempotency-Key": key},
                        json={"payment_method": "pm_card_visa"})
    assert (again.status_code, again.json) == (201, checkout.json)  # the first answer
    booking = client.get(f"{api}/bookings/{booking_id}", headers=auth).json
    # Confirmed with the card at checkout: the authorisation is known at once, the
    # instant lines are confirmed and the cardiac check-up waits for its member.
    assert (booking["status"], booking["payment"]["status"]) == ("authorised", "authorised")
    assert sorted(line["status"] for line in booking["lines"]) == [
        "confirmed", "confirmed", "requested"]
    with stripe_app.app_context():  # the reconcile job finds nothing left to learn
        assert reconcile_payments(StripeGateway.from_config()) == 0
        db.session.commit()

    # The member accepts (its manager: manager@<slug>.demo), the deposit is captured,
    # and localstripe's payment_intent.succeeded arrives at the webhook, signed.
    line = next(line for line in booking["lines"] if line["status"] == "requested")
    slug = client.get(f"{api}/members/{line['provider_id']}").json["slug"]
    staff = client.post(f"{api}/auth/tokens", json={"email": f"manager@{slug}.demo",
                                                     "password": DEMO_PASSWORD})
    assert staff.status_code == 201, staff.json
    member = {"Authorization": f"Bearer {staff.json['token']}"}
    inbox = client.get(f"{api}/members/{line['provider_id']}/inbox", headers=member).json
    assert [entry["id"] for entry in inbox] == [line["id"]]
    answer = client.post(f"{api}/booking-lines/{line['id']}/accept", headers=member)
    assert answer.status_code == 200, answer.json
    confirmed = client.get(f"{api}/bookings/{booking_id}", headers=auth).json
    assert confirmed["status"] == "confirmed"
    assert confirmed["payment"]["captured"] == due_now
    deadline = time.monotonic() + 10
    with stripe_app.app_context():
        while db.session.scalar(select(ProcessedStripeEvent).where(
                ProcessedStripeEvent.type == "payment_intent.succeeded")) is None:
            assert time.monotonic() < deadline, "localstripe's webhook never arrived"
            db.session.rollback()
            time.sleep(0.1)
