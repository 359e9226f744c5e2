"""Idempotency-Key at the edge (``bookings.idempotency``): a burst of one request gets
one effect and the first answer (or "in progress"), refusals are replayed, a key reused
for another request is 422, a reservation left by a dead process is taken over."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta

import pytest

from bookings.idempotency import STALE_AFTER, InProgress, Replayed, run_once
from bookings.models import Booking, IdempotentRequest, Payment
from journey.builder.services import journeys, quotes
from journey.core.errors import Conflict
from journey.core.extensions import db
from journey.core.types import utcnow
from tests.journey.builder_world import build_world, soon

BURST = 20


@pytest.fixture
def quoted(stripe_app, make):
    """A patient's quote, not yet accepted, and their bearer header."""
    world = build_world(make)
    journey = journeys.open_journey(world["patient"], arrival_on=soon(10),
                                    departure_on=soon(14), currency="EUR", nationality="DE")
    journeys.add_item(world["patient"], journey.id, offer_id=world["room"].id,
                      start_on=soon(10), days=4)
    quote = quotes.create_quote(world["patient"], journey.id)
    db.session.commit()
    return world, quote.id, make.token(world["patient"])


def _checkout(client, quote_id, headers, key, method="pm_card_visa"):
    return client.post(f"/api/v1/quotes/{quote_id}/checkout",
                       json={"payment_method": method},
                       headers={**headers, "Idempotency-Key": key})


@pytest.mark.commits  # threads at once, each with its own connection
def test_a_burst_of_one_checkout_makes_one_booking_and_one_intent(stripe_app, quoted):
    world, quote_id, headers = quoted
    quotes.accept_quote(world["patient"], quote_id)
    db.session.commit()
    barrier = threading.Barrier(BURST)

    def fire(_n):
        client = stripe_app.test_client()
        barrier.wait()
        response = _checkout(client, quote_id, headers, "burst-key-0001")
        return response.status_code, response.json, response.headers.get("Retry-After")

    with ThreadPoolExecutor(BURST) as pool:
        answers = list(pool.map(fire, range(BURST)))
    codes = [code for code, _body, _retry in answers]
    assert all(code < 500 for code in codes), answers
    firsts = [body for code, body, _ in answers if code == 201]
    assert firsts, "one request must win"
    assert all(body == firsts[0] for body in firsts)  # every 201 is the first answer
    waits = [(body, retry) for code, body, retry in answers if code != 201]
    assert all(body["error"] == "idempotency_in_progress" and retry == "1"
               for body, retry in waits), waits
    assert set(codes) <= {201, 409}
    db.session.rollback()
    assert db.session.scalar(db.select(db.func.count(Booking.id))) == 1
    intents = db.session.scalars(db.select(Payment.intent_id)
                                 .where(Payment.intent_id.is_not(None))).all()
    assert len(intents) == 1
    # Once the first has finished, the same key answers the first answer.
    again = _checkout(stripe_app.test_client(), quote_id, headers, "burst-key-0001")
    assert (again.status_code, again.json) == (201, firsts[0])


def test_a_refusal_is_stored_and_replayed(stripe_app, client, quoted):
    world, quote_id, headers = quoted
    refused = _checkout(client, quote_id, headers, "refused-key-01")
    assert refused.status_code == 409  # the quote is not accepted yet
    quotes.accept_quote(world["patient"], quote_id)
    db.session.commit()
    replay = _checkout(client, quote_id, headers, "refused-key-01")
    assert (replay.status_code, replay.json) == (409, refused.json)
    db.session.rollback()
    assert db.session.scalar(db.select(db.func.count(Booking.id))) == 0
    fresh = _checkout(client, quote_id, headers, "another-key-02")
    assert fresh.status_code == 201, fresh.json


def test_a_key_reused_for_another_request_is_422(stripe_app, client, quoted):
    world, quote_id, headers = quoted
    quotes.accept_quote(world["patient"], quote_id)
    db.session.commit()
    assert _checkout(client, quote_id, headers, "reused-key-01").status_code == 201
    other = _checkout(client, quote_id, headers, "reused-key-01", method="pm_card_mastercard")
    assert other.status_code == 422
    assert "Idempotency-Key" in other.json["message"]


def test_a_live_reservation_answers_in_progress(ctx):
    now = utcnow()
    db.session.add(IdempotentRequest(scope="s", key="live-key-01", request_hash="h",
                                     locked_at=now, created_at=now))
    db.session.commit()
    ran = []
    with pytest.raises(InProgress) as raised:
        run_once("s", "live-key-01", "h", lambda: ran.append(1) or (200, {}), now=now)
    assert ran == [] and raised.value.headers == {"Retry-After": "1"}


def test_a_reservation_left_by_a_dead_process_is_taken_over(ctx):
    then = utcnow() - STALE_AFTER - timedelta(seconds=1)
    db.session.add(IdempotentRequest(scope="s", key="dead-key-01", request_hash="h",
                                     locked_at=then, created_at=then))
    db.session.commit()
    assert run_once("s", "dead-key-01", "h", lambda: (201, {"ok": True})) == (201, {"ok": True})
    db.session.commit()
    assert run_once("s", "dead-key-01", "h", lambda: (500, {})) == (201, {"ok": True})


def test_a_stored_refusal_is_raised_again_as_it_was(ctx):
    def refuse():
        raise Conflict("sold out")

    with pytest.raises(Conflict):
        run_once("s", "refusal-key-1", "h", refuse)
    db.session.rollback()
    with pytest.raises(Replayed) as replayed:
        run_once("s", "refusal-key-1", "h", lambda: (201, {}))
    assert replayed.value.status == 409 and replayed.value.to_dict()["message"] == "sold out"


def test_without_a_key_every_call_runs(ctx):
    calls = []
    for _ in range(2):
        run_once("s", None, "h", lambda: calls.append(1) or (200, {}))
    assert calls == [1, 1]


def test_a_refusal_after_a_committed_reservation_is_kept_once(ctx):
    """A request that committed on the way (the payment row before Stripe) and is then
    refused: the key's one row gets the refusal, and its replay is that refusal."""
    from journey.core.persistence import commit_unit

    def commit_then_refuse():
        commit_unit()  # the reservation is committed with it
        raise Conflict("card declined")

    with pytest.raises(Conflict):
        run_once("s", "committed-key-1", "h", commit_then_refuse)
    db.session.rollback()
    rows = db.session.scalars(db.select(IdempotentRequest).where(
        IdempotentRequest.key == "committed-key-1")).all()
    assert [(row.status_code, row.body["message"]) for row in rows] == [(409, "card declined")]
    with pytest.raises(Replayed) as replayed:
        run_once("s", "committed-key-1", "h", lambda: (201, {}))
    assert replayed.value.status == 409


def test_after_a_503_the_same_key_runs_again_at_once(ctx):
    """The gateway did not answer after the reservation was committed with the payment
    row: the retry with the same key runs again now (not "in progress" for two
    minutes), and what the failed attempt wrote after its commit is rolled back."""
    from journey.core.errors import Busy
    from journey.core.persistence import commit_unit

    def commit_then_no_answer():
        commit_unit()  # the reservation is committed with it
        db.session.add(IdempotentRequest(scope="other", key="written-after", request_hash="h",
                                         locked_at=utcnow(), created_at=utcnow()))
        db.session.flush()
        raise Busy("the payment service did not answer")

    with pytest.raises(Busy):
        run_once("s", "unanswered-key-1", "h", commit_then_no_answer)
    db.session.rollback()
    assert db.session.scalar(db.select(IdempotentRequest).where(
        IdempotentRequest.key == "written-after")) is None
    assert run_once("s", "unanswered-key-1", "h", lambda: (201, {"ok": True})) == \
        (201, {"ok": True})
    db.session.commit()
    assert run_once("s", "unanswered-key-1", "h", lambda: (500, {})) == (201, {"ok": True})
