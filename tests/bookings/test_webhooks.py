"""The Stripe webhook refuses, with 400 and nothing written, every signed event that is
not a well-formed event object (Stripe retries a 5xx for days)."""

from __future__ import annotations

import pytest

from bookings.models import BookingEvent, ProcessedStripeEvent
from journey.core.extensions import db
from tests.booking_fixtures import signed

INTENT = {"id": "pi_123", "object": "payment_intent"}
LONG = "x" * 101

MALFORMED = {
    "an empty list": [],
    "a string": "payment_intent.succeeded",
    "a number": 7,
    "null": None,
    "no id": {"type": "payment_intent.succeeded", "data": {"object": INTENT}},
    "no type": {"id": "evt_1", "data": {"object": INTENT}},
    "no data": {"id": "evt_1", "type": "payment_intent.succeeded"},
    "data is a list": {"id": "evt_1", "type": "payment_intent.succeeded", "data": []},
    "no data.object": {"id": "evt_1", "type": "payment_intent.succeeded", "data": {}},
    "data.object without an id": {"id": "evt_1", "type": "payment_intent.succeeded",
                                  "data": {"object": {"object": "payment_intent"}}},
    "an id that is a number": {"id": 5, "type": "payment_intent.succeeded",
                               "data": {"object": INTENT}},
    "an id over 100 characters": {"id": LONG, "type": "payment_intent.succeeded",
                                  "data": {"object": INTENT}},
    "a type over 100 characters": {"id": "evt_1", "type": LONG, "data": {"object": INTENT}},
    "a NUL in the id": {"id": "evt_\x00", "type": "payment_intent.succeeded",
                        "data": {"object": INTENT}},
    "a NUL in the type": {"id": "evt_1", "type": "payment_intent.\x00",
                          "data": {"object": INTENT}},
    "a NUL in the object id": {"id": "evt_1", "type": "payment_intent.succeeded",
                               "data": {"object": {"id": "pi_\x00"}}},
    "an object id over 100 characters": {"id": "evt_1", "type": "payment_intent.succeeded",
                                         "data": {"object": {"id": LONG}}},
}

RAW = {
    "not JSON": b"{nope",
    "not UTF-8": b"\xff\xfe{}",
    "deeply nested": b"[" * 100_000 + b"]" * 100_000,
    "empty": b"",
}


def _written() -> tuple[int, int]:
    db.session.rollback()
    return (db.session.scalar(db.select(db.func.count()).select_from(ProcessedStripeEvent)),
            db.session.scalar(db.select(db.func.count(BookingEvent.id))))


@pytest.mark.parametrize("payload", MALFORMED.values(), ids=MALFORMED.keys())
def test_a_signed_malformed_event_is_400_and_writes_nothing(stripe_app, ctx, client, payload):
    body, headers = signed(payload)
    response = client.post("/api/v1/stripe/webhook", data=body, headers=headers)
    assert response.status_code == 400, response.get_data(as_text=True)[:200]
    assert response.json["message"]
    assert _written() == (0, 0)


@pytest.mark.parametrize("raw", RAW.values(), ids=RAW.keys())
def test_a_signed_body_that_is_not_json_is_400(stripe_app, ctx, client, raw):
    body, headers = signed(None, raw=raw)
    response = client.post("/api/v1/stripe/webhook", data=body, headers=headers)
    assert response.status_code == 400
    assert _written() == (0, 0)


def test_a_well_formed_event_of_another_kind_is_taken_once(stripe_app, ctx, client):
    body, headers = signed({"id": "evt_other", "type": "customer.created",
                            "data": {"object": {"id": "cus_1", "object": "customer"}}})
    for _ in range(2):
        response = client.post("/api/v1/stripe/webhook", data=body, headers=headers)
        assert response.status_code == 200
    assert _written() == (1, 0)
