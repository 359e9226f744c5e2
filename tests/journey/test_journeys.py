"""Journeys: opened from any member's window, composed from every member's offers,
seen only by those who should."""

import pytest

from journey.builder.models import Journey, JourneyStatus
from journey.core.extensions import db
from tests.journey.builder_world import build_world, soon


@pytest.fixture
def world(make):
    w = build_world(make)
    w["h"] = {k: make.token(w[k]) for k in ("patient", "patient2", "clinic_staff",
                                            "hotel_staff", "other_staff", "coordinator",
                                            "admin")}
    return w


def _open(client, headers, **body):
    body = {"arrival_on": soon(10).isoformat(), "departure_on": soon(20).isoformat(),
            "nationality": "NO", "currency": "NOK", "language": "en", **body}
    response = client.post("/api/v1/journeys", json=body, headers=headers)
    assert response.status_code == 201, response.json
    return response.json


def test_patient_opens_own_journey(client, world):
    journey = _open(client, world["h"]["patient"])
    assert journey["patient_id"] == world["patient"].id
    assert journey["entry_provider_id"] is None
    assert journey["status"] == "draft"
    assert journey["transitions"][0]["to_status"] == "draft"


def test_member_staff_is_the_window_for_a_walk_in_patient(app, client, world):
    journey = _open(client, world["h"]["hotel_staff"], patient_email="walk.in@x.example",
                    patient_name="Walk In")
    assert journey["entry_provider_id"] == world["hotel"].id
    # The hotel adds the clinic's surgery: the whole cluster's package from one window.
    item = client.post(f"/api/v1/journeys/{journey['id']}/items",
                       json={"offer_id": world["surgery"].id, "start_on": soon(12).isoformat()},
                       headers=world["h"]["hotel_staff"])
    assert item.status_code == 201, item.json
    assert item.json["provider_name"] == "Neris Clinic"
    # The clinic now sees the journey, because it contains its offer.
    assert client.get(f"/api/v1/journeys/{journey['id']}",
                      headers=world["h"]["clinic_staff"]).status_code == 200


def test_staff_cannot_open_for_a_staff_account(client, world):
    response = client.post("/api/v1/journeys", json={"patient_email":
                                                     world["clinic_staff"].email},
                           headers=world["h"]["hotel_staff"])
    assert response.status_code == 422


@pytest.mark.parametrize("reader, visible, may_change", [
    ("patient", True, True), ("patient2", False, False), ("hotel_staff", True, False),
    ("clinic_staff", False, False), ("other_staff", False, False),
    ("coordinator", True, True), ("admin", True, True),
])
def test_who_sees_a_journey(client, world, reader, visible, may_change):
    journey = _open(client, world["h"]["patient"])
    client.post(f"/api/v1/journeys/{journey['id']}/items",
                json={"offer_id": world["room"].id, "start_on": soon(10).isoformat(),
                      "days": 10}, headers=world["h"]["patient"])
    response = client.get(f"/api/v1/journeys/{journey['id']}", headers=world["h"][reader])
    assert response.status_code == (200 if visible else 404)
    listed = client.get("/api/v1/journeys", headers=world["h"][reader]).json
    assert (journey["id"] in [j["id"] for j in listed["items"]]) is visible
    # Nobody who cannot see it can change it, whatever the id; the hotel on it sees its
    # own line but may not change the patient's package.
    change = client.post(f"/api/v1/journeys/{journey['id']}/items",
                         json={"offer_id": world["room"].id, "start_on": soon(11).isoformat()},
                         headers=world["h"][reader])
    assert change.status_code == (201 if may_change else 403 if visible else 404)


def test_anonymous_gets_401(client, world):
    assert client.get("/api/v1/journeys").status_code == 401
    assert client.post("/api/v1/journeys", json={}).status_code == 401


def test_compose_swap_and_remove(client, world):
    h = world["h"]["patient"]
    journey = _open(client, h)
    item = client.post(f"/api/v1/journeys/{journey['id']}/items",
                       json={"offer_id": world["room"].id, "start_on": soon(10).isoformat(),
                             "days": 10}, headers=h).json
    swapped = client.patch(f"/api/v1/journeys/{journey['id']}/items/{item['id']}",
                           json={"offer_id": world["room2"].id}, headers=h)
    assert swapped.status_code == 200
    assert swapped.json["title"] == "Garden room"
    assert client.delete(f"/api/v1/journeys/{journey['id']}/items/{item['id']}",
                         headers=h).status_code == 204
    assert client.get(f"/api/v1/journeys/{journey['id']}", headers=h).json["items"] == []


def test_bad_input_writes_nothing(app, client, world):
    h = world["h"]["patient"]
    response = client.post("/api/v1/journeys?lang=de",
                           json={"arrival_on": soon(10).isoformat(),
                                 "departure_on": soon(5).isoformat()}, headers=h)
    assert response.status_code == 422
    assert "departure_on" in response.json["errors"]["json"]
    journey = _open(client, h)
    for body in ({"offer_id": world["room"].id}, {"offer_id": 999999, "start_on": "2030-01-01"},
                 {"offer_id": world["room"].id, "start_on": "2030-01-01", "quantity": 0}):
        response = client.post(f"/api/v1/journeys/{journey['id']}/items", json=body, headers=h)
        assert response.status_code in (404, 422), (body, response.json)
    with app.app_context():
        assert db.session.get(Journey, journey["id"]).items == []


def test_changes_after_a_quote_make_a_draft_again(app, client, world, make):
    h = world["h"]["patient"]
    journey = _open(client, h)
    client.post(f"/api/v1/journeys/{journey['id']}/items",
                json={"offer_id": world["room"].id, "start_on": soon(10).isoformat(),
                      "days": 10}, headers=h)
    assert client.post(f"/api/v1/journeys/{journey['id']}/quotes", headers=h).status_code == 201
    client.patch(f"/api/v1/journeys/{journey['id']}", json={"adults": 2}, headers=h)
    body = client.get(f"/api/v1/journeys/{journey['id']}", headers=h).json
    assert body["status"] == "draft"
    assert [t["to_status"] for t in body["transitions"]] == ["draft", "quoted", "draft"]


def test_cancelled_journey_cannot_change(app, client, world):
    h = world["h"]["patient"]
    journey = _open(client, h)
    assert client.post(f"/api/v1/journeys/{journey['id']}/cancel", json={"reason": "ill"},
                       headers=h).status_code == 200
    response = client.post(f"/api/v1/journeys/{journey['id']}/items",
                           json={"offer_id": world["room"].id,
                                 "start_on": soon(10).isoformat()}, headers=h)
    assert response.status_code == 409
    with app.app_context():
        assert db.session.get(Journey, journey["id"]).status == JourneyStatus.CANCELLED


def test_coordinator_is_assigned_by_the_cluster_only(client, world):
    journey = _open(client, world["h"]["patient"])
    body = {"coordinator_id": world["coordinator"].id}
    assert client.put(f"/api/v1/journeys/{journey['id']}/coordinator", json=body,
                      headers=world["h"]["patient"]).status_code == 403
    ok = client.put(f"/api/v1/journeys/{journey['id']}/coordinator", json=body,
                    headers=world["h"]["coordinator"])
    assert ok.status_code == 200 and ok.json["coordinator_id"] == world["coordinator"].id
    bad = client.put(f"/api/v1/journeys/{journey['id']}/coordinator",
                     json={"coordinator_id": world["patient"].id},
                     headers=world["h"]["coordinator"])
    assert bad.status_code == 422


def test_visa_is_suggested_unless_the_nationality_is_visa_free(client, world):
    journey = _open(client, world["h"]["patient"], nationality="IN")
    codes = {v["code"]: v for v in client.get(f"/api/v1/journeys/{journey['id']}/check",
                                              headers=world["h"]["patient"]).json["violations"]}
    assert codes["visa_suggested"]["blocking"] is False
    assert client.patch("/api/v1/cluster-settings", json={"visa_free_nationalities": ["in"]},
                        headers=world["h"]["coordinator"]).status_code == 403
    settings = client.patch("/api/v1/cluster-settings",
                            json={"visa_free_nationalities": ["in", "NO"]},
                            headers=world["h"]["admin"])
    assert settings.status_code == 200
    assert settings.json["visa_free_nationalities"] == ["IN", "NO"]
    codes = {v["code"] for v in client.get(f"/api/v1/journeys/{journey['id']}/check",
                                           headers=world["h"]["patient"]).json["violations"]}
    assert "visa_suggested" not in codes


def test_dates_far_ahead_are_refused_not_overflowed(app, client, world):
    """Year 9999 plus the days of a stay would overflow: every way of giving a date
    answers 422 with the field named, and nothing is written."""
    h = world["h"]["patient"]
    far = "9999-12-31"
    refused = client.post("/api/v1/journeys?lang=lt", json={"arrival_on": far}, headers=h)
    assert refused.status_code == 422 and "arrival_on" in refused.json["errors"]["json"]
    journey = _open(client, h)
    base = f"/api/v1/journeys/{journey['id']}"
    item = client.post(f"{base}/items", json={"offer_id": world["room"].id,
                                              "start_on": soon(10).isoformat(), "days": 3},
                       headers=h).json
    for method, path, body, field in (
            ("post", f"{base}/items", {"offer_id": world["room"].id, "start_on": far},
             "start_on"),
            ("patch", f"{base}/items/{item['id']}", {"start_on": far}, "start_on"),
            ("post", f"{base}/plan", {"arrival_on": "9999-12-19"}, "arrival_on"),
            ("post", f"{base}/plan", {"treatment_start": far}, "treatment_start"),
            ("patch", base, {"departure_on": far}, "departure_on")):
        response = getattr(client, method)(path, json=body, headers=h)
        assert response.status_code == 422, (path, body, response.json)
        assert field in response.json["errors"]["json"], response.json
    with app.app_context():
        stored = db.session.get(Journey, journey["id"])
        assert [i.start_on for i in stored.items] == [soon(10)]
        assert stored.departure_on == soon(20)


def test_a_template_applied_from_an_arrival_after_the_departure_moves_the_departure(
        client, world):
    """The journey was opened for days 10 to 20; the package starts on day 30: its
    departure follows the package's last day (it was a bare 409 'conflicts with the
    current state', the database refusing a departure before the arrival)."""
    from tests.booking_fixtures import knee_package

    template = knee_package(world)
    journey = _open(client, world["h"]["patient"])
    applied = client.post(f"/api/v1/journeys/{journey['id']}/apply-template",
                          json={"template_id": template.id,
                                "arrival_on": soon(30).isoformat()},
                          headers=world["h"]["patient"])
    assert applied.status_code == 200, applied.json
    assert applied.json["arrival_on"] == soon(30).isoformat()
    assert applied.json["departure_on"] == soon(40).isoformat()  # the room's 10 nights
    assert [item["start_on"] for item in applied.json["items"]] == [
        soon(30).isoformat(), soon(32).isoformat(), soon(35).isoformat()]


def test_a_template_is_not_applied_from_an_arrival_in_the_past(app, client, world):
    """As opening a journey or moving its dates: 422 in the caller's language, nothing
    written (the package was laid out from 2026-01-01, items and all)."""
    from tests.booking_fixtures import knee_package

    template = knee_package(world)
    journey = _open(client, world["h"]["patient"])
    refused = client.post(f"/api/v1/journeys/{journey['id']}/apply-template",
                          json={"template_id": template.id,
                                "arrival_on": soon(-3).isoformat()},
                          headers={**world["h"]["patient"], "Accept-Language": "nb"})
    assert refused.status_code == 422, refused.json
    assert refused.json["errors"]["json"]["arrival_on"] == ["Kan ikke være tilbake i tid."]
    db.session.expire_all()
    kept = db.session.get(Journey, journey["id"])
    assert (kept.arrival_on, kept.items, kept.template_id) == (soon(10), [], None)


def test_a_cancelled_journey_says_it_is_cancelled(app, client, world):
    """Changing it, quoting it or cancelling it again is a 409 that says it is cancelled,
    in the patient's language (it said the journey was booked, and cancelling again was
    a 403 saying only a coordinator cancels a booked journey)."""
    from flask_babel import force_locale

    from journey.builder.services import journeys

    h = {**world["h"]["patient"], "Accept-Language": "de"}
    journey = _open(client, h)
    url = f"/api/v1/journeys/{journey['id']}"
    assert client.post(f"{url}/cancel", json={}, headers=h).status_code == 200
    with force_locale("de"):
        cancelled = str(journeys._l("This journey is cancelled."))
        again = str(journeys._l("This journey is already cancelled."))
    assert "Reise" in cancelled and "Reise" in again
    for answer in (client.patch(url, json={"adults": 2}, headers=h),
                   client.post(f"{url}/quotes", headers=h),
                   client.post(f"{url}/items", json={"offer_id": world["room"].id,
                                                     "start_on": soon(10).isoformat()},
                               headers=h)):
        assert (answer.status_code, answer.json["message"]) == (409, cancelled), answer.json
    for who in (h, world["h"]["coordinator"]):
        repeated = client.post(f"{url}/cancel", json={}, headers={**who,
                                                                  "Accept-Language": "de"})
        assert (repeated.status_code, repeated.json["message"]) == (409, again), repeated.json


def test_a_patient_opening_a_journey_for_someone_else_is_told(app, client, world):
    """A patient's journey is their own: naming another patient (by e-mail or account)
    is 422 on that field, translated (the journey was opened for the caller instead,
    without a word); their own address is fine."""
    from flask_babel import force_locale

    from journey.builder.services import journeys

    h = {**world["h"]["patient"], "Accept-Language": "de"}
    with force_locale("de"):
        expected = [str(journeys._l("A patient opens journeys for themselves only: leave "
                                    "this field out."))]
    assert expected != ["A patient opens journeys for themselves only: leave this field out."]
    for field, value in (("patient_email", world["patient2"].email),
                         ("patient_id", world["patient2"].id)):
        response = client.post("/api/v1/journeys", json={"currency": "EUR", field: value},
                               headers=h)
        assert response.status_code == 422, response.json
        assert response.json["errors"]["json"] == {field: expected}
    with app.app_context():
        assert db.session.scalar(db.select(db.func.count(Journey.id))) == 0
    own = _open(client, h, patient_email=world["patient"].email.upper())
    assert own["patient_id"] == world["patient"].id
