"""Probes a careless or hostile API client ran against the journey API (issue 16)."""

from __future__ import annotations

from journey.builder.models import Journey
from journey.builder.services import journeys, quotes
from journey.core.extensions import db
from tests.journey.builder_world import build_world, soon


def _two_quotes(make):
    world = build_world(make)
    journey = journeys.open_journey(world["patient"], arrival_on=soon(10),
                                    departure_on=soon(14), currency="EUR", nationality="DE")
    journeys.add_item(world["patient"], journey.id, offer_id=world["room"].id,
                      start_on=soon(10), days=4)
    first = quotes.create_quote(world["patient"], journey.id)
    journeys.add_item(world["patient"], journey.id, offer_id=world["surgery"].id,
                      start_on=soon(12))
    second = quotes.create_quote(world["patient"], journey.id)
    db.session.commit()
    return world, first.id, second.id


def test_the_quote_diff_reads_its_query_string(client, make):
    world, first, second = _two_quotes(make)
    answer = client.get(f"/api/v1/quotes/{second}/diff?against={first}",
                        headers=make.token(world["patient"]))
    assert answer.status_code == 200, answer.json
    assert sorted(change["change"] for change in answer.json) == ["added", "same"]
    bad = client.get(f"/api/v1/quotes/{second}/diff?against=x",
                     headers=make.token(world["patient"]))
    assert bad.status_code == 422


def test_a_read_that_needs_a_caller_is_401_before_its_query_is_read(client, make):
    _world, first, second = _two_quotes(make)
    assert client.get(f"/api/v1/quotes/{second}/diff?against={first}").status_code == 401
    assert client.get(f"/api/v1/quotes/{second}/diff?against=x").status_code == 401


def test_opening_a_journey_twice_with_one_key_opens_one(client, make):
    world = build_world(make)
    headers = {**make.token(world["patient"]), "Idempotency-Key": "open-journey-0001"}
    body = {"arrival_on": soon(10).isoformat(), "departure_on": soon(14).isoformat(),
            "currency": "EUR"}
    first = client.post("/api/v1/journeys", json=body, headers=headers)
    again = client.post("/api/v1/journeys", json=body, headers=headers)
    assert first.status_code == again.status_code == 201, first.json
    assert first.json == again.json
    db.session.rollback()
    assert db.session.scalar(db.select(db.func.count(Journey.id))) == 1
    other = client.post("/api/v1/journeys", json={**body, "currency": "NOK"},
                        headers=headers)
    assert other.status_code == 422


def test_dates_outside_the_window_are_refused_with_a_message(client, make):
    world = build_world(make)
    headers = make.token(world["patient"])
    for arrival in ("0001-01-01", "1999-12-31", "9999-12-31"):
        answer = client.post("/api/v1/journeys", json={"arrival_on": arrival},
                             headers=headers)
        assert answer.status_code == 422, (arrival, answer.json)
        assert "2000-01-01" in answer.json["errors"]["json"]["arrival_on"][0]
    german = client.post("/api/v1/journeys?lang=de", json={"arrival_on": "0001-01-01"},
                         headers=headers)
    assert "Datum" in german.json["errors"]["json"]["arrival_on"][0]
    db.session.rollback()
    assert db.session.scalar(db.select(db.func.count(Journey.id))) == 0
