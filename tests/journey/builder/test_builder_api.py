"""The journey builder's API names one thing once: the wished start of the treatment is
``treatment_start_on`` for the planner as for the journey (``treatment_start`` is still
read, documented as deprecated)."""

from datetime import timedelta

import pytest
from flask_babel import force_locale, gettext

from journey.builder.services import journeys
from journey.core.extensions import db
from journey.core.types import utcnow
from tests.journey.builder_world import build_world, soon


@pytest.fixture
def world(make):
    w = build_world(make)
    w["h"] = make.token(w["patient"])
    return w


def _planned(client, world, body) -> dict:
    journey = client.post("/api/v1/journeys", json={"currency": "EUR", "nationality": "DE"},
                          headers=world["h"]).json["id"]
    for offer, days in ((world["room"], 3), (world["surgery"], 1), (world["rehab"], 3)):
        added = client.post(f"/api/v1/journeys/{journey}/items", headers=world["h"], json={
            "offer_id": offer.id, "start_on": soon(40).isoformat(), "days": days})
        assert added.status_code == 201, added.json
    planned = client.post(f"/api/v1/journeys/{journey}/plan", json=body, headers=world["h"])
    assert planned.status_code == 200, planned.json
    return planned.json


def _surgery_day(plan: dict, world) -> str:
    return next(item["start_on"] for item in plan["journey"]["items"]
                if item["offer_id"] == world["surgery"].id)


def test_the_planner_takes_the_journeys_name_and_the_old_one(client, world):
    wished = soon(20).isoformat()
    new = _planned(client, world, {"treatment_start_on": wished})
    old = _planned(client, world, {"treatment_start": wished})
    assert new["ok"] and old["ok"], (new, old)
    assert _surgery_day(new, world) == _surgery_day(old, world) == wished


def test_the_new_name_wins_over_the_deprecated_one(client, world):
    plan = _planned(client, world, {"treatment_start_on": soon(20).isoformat(),
                                    "treatment_start": soon(25).isoformat()})
    assert _surgery_day(plan, world) == soon(20).isoformat()


def test_the_plan_may_be_asked_for_without_a_body(client, world):
    journey = client.post("/api/v1/journeys", headers=world["h"], json={
        "currency": "EUR", "arrival_on": soon(10).isoformat()}).json["id"]
    client.post(f"/api/v1/journeys/{journey}/items", headers=world["h"], json={
        "offer_id": world["room"].id, "start_on": soon(30).isoformat(), "days": 3})
    planned = client.post(f"/api/v1/journeys/{journey}/plan", headers=world["h"])
    assert planned.status_code == 200, planned.json  # from the journey's arrival
    assert planned.json["journey"]["arrival_on"] == soon(10).isoformat()


def test_a_trip_is_not_planned_in_the_past_but_one_under_way_keeps_its_dates(client, world,
                                                                               app):
    """A new journey, or a date changed, before today is refused (422, in the caller's
    language); a journey whose arrival has passed may still change its other fields."""
    headers = {**world["h"], "Accept-Language": "nb"}
    refused = client.post("/api/v1/journeys", headers=headers, json={
        "currency": "EUR", "arrival_on": soon(-1).isoformat()})
    assert refused.status_code == 422
    with app.test_request_context(), force_locale("nb"):
        assert refused.json["errors"]["json"]["arrival_on"] == [
            gettext("Must not be in the past.")]
    under_way = journeys.open_journey(world["patient"], arrival_on=soon(-2),
                                      departure_on=soon(5), currency="EUR",
                                      now=utcnow() - timedelta(days=5))
    db.session.commit()
    url = f"/api/v1/journeys/{under_way.id}"
    kept = client.patch(url, headers=headers, json={
        "arrival_on": soon(-2).isoformat(), "departure_on": soon(7).isoformat()})
    assert kept.status_code == 200, kept.json
    assert kept.json["departure_on"] == soon(7).isoformat()
    moved = client.patch(url, headers=headers, json={"departure_on": soon(-1).isoformat()})
    assert moved.status_code == 422 and "departure_on" in moved.json["errors"]["json"]
