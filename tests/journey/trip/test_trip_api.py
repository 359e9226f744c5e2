"""The trip through the API, as a new client would use it."""

from __future__ import annotations

import re
from datetime import date, timedelta

import pytest
from flask_babel import force_locale, gettext

from journey.builder.models import Journey
from journey.builder.services import journeys
from journey.core.extensions import db
from journey.trip.services import progress
from tests.booking_fixtures import confirmed_booking
from tests.journey.builder_world import soon
from tests.journey.trip_clock import begun


@pytest.fixture
def trip(world, gateway, make):
    confirmed_booking(world, gateway)
    journey = journeys.list_journeys(world["patient"])[0][0]
    db.session.commit()
    tokens = {name: make.token(world[name])
              for name in ("patient", "hotel_staff", "other_staff", "coordinator")}
    return world, journey.id, tokens


def test_travellers_arrival_tasks_and_the_agenda(client, trip):
    world, journey_id, tokens = trip
    base = f"/api/v1/journeys/{journey_id}"
    added = client.post(f"{base}/travellers", headers=tokens["patient"], json={
        "full_name": "Ingrid Solberg", "nationality": "NO", "passport_number": "NO1234567",
        "needs": ["wheelchair"]})
    assert added.status_code == 201 and added.json["is_patient"] is True
    hotel = client.get(f"{base}/travellers", headers=tokens["hotel_staff"]).json
    assert hotel[0]["passport_number"] == "NO1234567"
    assert client.get(f"{base}/travellers", headers=tokens["other_staff"]).status_code == 404
    arrival = client.put(f"{base}/travel/arrival", headers=tokens["patient"], json={
        "mode": "flight", "number": "LH 886", "place": "Vilnius Airport (VNO)",
        "local_time": f"{soon(10).isoformat()}T14:30:00", "timezone": "Europe/Vilnius"})
    assert arrival.status_code == 200, arrival.json
    assert arrival.json["local_time"].endswith("14:30:00")
    listed = client.get(f"{base}/tasks", headers=tokens["patient"]).json
    pickup = next(t for t in listed if t["kind"] == "airport_pickup")
    assert pickup["local_time"].startswith(f"{soon(10).isoformat()}T14:30:00+0")
    assert pickup["timezone"] == "Europe/Vilnius" and pickup["generated"] is True
    agenda = client.get("/api/v1/agenda", headers=tokens["coordinator"], query_string={
        "from": soon(0).isoformat(), "days": "30", "unassigned": "true"})
    assert agenda.status_code == 200 and pickup["id"] in [t["id"] for t in agenda.json]
    assigned = client.put(f"/api/v1/tasks/{pickup['id']}/assignee",
                          headers=tokens["coordinator"],
                          json={"assignee_id": world["coordinator"].id})
    assert assigned.status_code == 200 and assigned.json["status"] == "assigned"
    done = client.put(f"/api/v1/tasks/{pickup['id']}/status", headers=tokens["coordinator"],
                      json={"status": "done", "note": "Met at gate 4"})
    assert done.json["status"] == "done"
    again = client.put(f"/api/v1/tasks/{pickup['id']}/status", headers=tokens["coordinator"],
                       json={"status": "no_show"})
    assert again.status_code == 409


def test_a_traveller_born_last_century_is_written_and_one_born_tomorrow_is_not(client,
                                                                             trip):
    _world, journey_id, tokens = trip
    base = f"/api/v1/journeys/{journey_id}/travellers"
    born = client.post(base, headers=tokens["patient"], json={
        "full_name": "Ola Nordmann", "birth_date": "1931-04-02", "nationality": "NO"})
    assert born.status_code == 201, born.json
    assert born.json["birth_date"] == "1931-04-02"
    tomorrow = (date.today() + timedelta(days=1)).isoformat()
    for wrong in ("1899-12-31", tomorrow):
        refused = client.post(base, headers={**tokens["patient"], "Accept-Language": "nb"},
                              json={"full_name": "Kari Nordmann", "birth_date": wrong})
        assert refused.status_code == 422
        assert "1900-01-01" in refused.json["errors"]["json"]["birth_date"][0]
    document = client.get("/api/openapi.json").json
    pattern = document["components"]["schemas"]["Traveller"]["properties"]["birth_date"][
        "pattern"]
    assert re.fullmatch(pattern, "1931-04-02") and not re.fullmatch(pattern, tomorrow)


def test_bad_travel_details_are_explained_in_the_callers_language(client, trip):
    _world, journey_id, tokens = trip
    url = f"/api/v1/journeys/{journey_id}/travel/arrival"
    wrong_zone = client.put(url, headers={**tokens["patient"], "Accept-Language": "de"}, json={
        "mode": "flight", "place": "VNO", "local_time": "2027-01-10T14:30:00",
        "timezone": "Mars/Olympus"})
    assert wrong_zone.status_code == 422 and "timezone" in wrong_zone.json["errors"]["json"]
    far = client.put(url, headers=tokens["patient"], json={
        "mode": "flight", "place": "VNO", "local_time": "9999-01-10T14:30:00",
        "timezone": "Europe/Vilnius"})
    assert far.status_code == 422
    supplier = client.put(url, headers=tokens["hotel_staff"], json={
        "mode": "flight", "place": "VNO", "local_time": f"{soon(10).isoformat()}T14:30:00",
        "timezone": "Europe/Vilnius"})
    assert supplier.status_code == 403


def test_a_coordinator_marks_the_progress_by_hand(client, trip, monkeypatch):
    _world, journey_id, tokens = trip
    url = f"/api/v1/journeys/{journey_id}/progress"
    assert client.put(url, headers=tokens["patient"],
                      json={"status": "in_progress"}).status_code == 403
    early = client.put(url, headers={**tokens["coordinator"], "Accept-Language": "nb"},
                       json={"status": "in_progress"})
    assert early.status_code == 409  # the trip is ten days away
    assert early.json["message"].startswith("Reisen begynner ")
    first_day = begun(db.session.get(Journey, journey_id))
    db.session.rollback()
    monkeypatch.setattr(progress, "utcnow", lambda: first_day)  # its day has come
    assert client.put(url, headers=tokens["coordinator"],
                      json={"status": "completed"}).status_code == 409  # not yet over
    moved = client.put(url, headers=tokens["coordinator"], json={"status": "in_progress"})
    assert moved.status_code == 200 and moved.json["status"] == "in_progress"
    assert client.put(url, headers=tokens["coordinator"],
                      json={"status": "in_progress"}).status_code == 409


def test_a_wrong_passport_number_is_explained_in_the_callers_language(client, trip):
    _world, journey_id, tokens = trip
    response = client.post(f"/api/v1/journeys/{journey_id}/travellers",
                           headers={**tokens["patient"], "Accept-Language": "de"},
                           json={"full_name": "Ingrid Solberg", "passport_number": "no!"})
    assert response.status_code == 422
    message = response.json["errors"]["json"]["passport_number"][0]
    assert "Reisepass" in message or "Pass" in message


def test_a_flight_a_year_before_the_trip_is_refused(client, trip, app):
    """A pick-up planned for a flight a year before the trip (a typo in the year) would
    send a driver to the airport then: the time must be within a week of the trip."""
    _world, journey_id, tokens = trip
    url = f"/api/v1/journeys/{journey_id}/travel/arrival"
    leg = {"mode": "flight", "number": "LH 886", "place": "Vilnius Airport (VNO)",
           "timezone": "Europe/Vilnius"}
    a_year_early = soon(10) - timedelta(days=365)
    refused = client.put(url, headers={**tokens["patient"], "Accept-Language": "nb"},
                         json={**leg, "local_time": f"{a_year_early.isoformat()}T14:30:00"})
    assert refused.status_code == 409  # the trip as it stands: its dates may move
    assert "local_time" in refused.json["errors"]["json"]
    with app.test_request_context(), force_locale("nb"):
        assert refused.json["message"].startswith(
            gettext("Travel within a week of the trip (%(first)s to %(last)s).",
                    first="X", last="Y").split("(")[0])
    day_before = soon(9).isoformat()
    accepted = client.put(url, headers=tokens["patient"],
                          json={**leg, "local_time": f"{day_before}T22:05:00"})
    assert accepted.status_code == 200, accepted.json
