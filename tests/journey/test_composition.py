"""Templates, the rule check, the planner and alternatives, through the API."""

import pytest

from journey.builder.services import templates
from journey.core.extensions import db
from providers.services import offers
from tests.journey.builder_world import build_world, soon


@pytest.fixture
def world(make):
    w = build_world(make)
    w["h"] = {k: make.token(w[k]) for k in ("patient", "coordinator", "clinic_staff",
                                            "hotel_staff", "admin")}
    return w


def _journey(client, world, **body):
    body = {"arrival_on": soon(10).isoformat(), "departure_on": soon(20).isoformat(),
            "nationality": "DE", "currency": "EUR", **body}
    response = client.post("/api/v1/journeys", json=body, headers=world["h"]["patient"])
    assert response.status_code == 201, response.json
    return response.json["id"]


def test_coordinator_curates_a_template_and_a_patient_starts_from_it(client, world):
    body = {"status": "published",
            "texts": {"en": {"name": "Knee replacement and rehabilitation"},
                      "de": {"name": "Knieprothese mit Rehabilitation"}},
            "links": [{"default_offer_id": world["room"].id, "day_offset": 0, "days": 10,
                       "alternative_offer_ids": [world["room2"].id]},
                      {"default_offer_id": world["surgery"].id, "day_offset": 2}]}
    created = client.post("/api/v1/templates", json=body, headers=world["h"]["coordinator"])
    assert created.status_code == 201, created.json
    template_id = created.json["id"]
    listed = client.get("/api/v1/templates?lang=de").json
    assert [t["name"] for t in listed] == ["Knieprothese mit Rehabilitation"]
    journey_id = _journey(client, world)
    applied = client.post(f"/api/v1/journeys/{journey_id}/apply-template",
                          json={"template_id": template_id}, headers=world["h"]["patient"])
    assert applied.status_code == 200, applied.json
    items = applied.json["items"]
    assert [(i["title"], i["start_on"], i["days"]) for i in items] == [
        ("Double room", soon(10).isoformat(), 10),
        ("Knee replacement", soon(12).isoformat(), 1)]
    check = client.get(f"/api/v1/journeys/{journey_id}/check",
                       headers=world["h"]["patient"]).json
    assert check["ok"], check


def test_templates_refuse_mismatched_links_and_patients(client, world):
    bad = {"texts": {"en": {"name": "x"}},
           "links": [{"default_offer_id": world["room"].id, "chain_link": "treatment"}]}
    response = client.post("/api/v1/templates", json=bad, headers=world["h"]["coordinator"])
    assert response.status_code == 422
    assert client.post("/api/v1/templates", json={"texts": {"en": {"name": "x"}}},
                       headers=world["h"]["patient"]).status_code == 403


def test_member_curates_for_itself_only(client, world):
    own = {"provider_id": world["clinic"].id, "texts": {"en": {"name": "Clinic package"}},
           "links": [{"default_offer_id": world["surgery"].id}]}
    assert client.post("/api/v1/templates", json=own,
                       headers=world["h"]["clinic_staff"]).status_code == 201
    other = {**own, "provider_id": world["hotel"].id}
    assert client.post("/api/v1/templates", json=other,
                       headers=world["h"]["clinic_staff"]).status_code == 403


@pytest.mark.parametrize("lang, fragment", [("en", "Double room"), ("de", "Doppelzimmer")])
def test_rule_check_explains_in_the_patients_language(client, world, lang, fragment):
    journey_id = _journey(client, world)
    client.post(f"/api/v1/journeys/{journey_id}/items",
                json={"offer_id": world["room"].id, "start_on": soon(10).isoformat(),
                      "days": 4}, headers=world["h"]["patient"])
    body = client.get(f"/api/v1/journeys/{journey_id}/check?lang={lang}",
                      headers=world["h"]["patient"]).json
    assert body["ok"] is False
    codes = {v["code"] for v in body["violations"]}
    assert any("accommodation" in code or "night" in code for code in codes), codes
    english = client.get(f"/api/v1/journeys/{journey_id}/check?lang=en",
                         headers=world["h"]["patient"]).json
    if lang != "en":
        assert [v["message"] for v in body["violations"]] != \
            [v["message"] for v in english["violations"]]


def test_unavailable_items_are_flagged_and_alternatives_offered(client, make, world):
    journey_id = _journey(client, world)
    item = client.post(f"/api/v1/journeys/{journey_id}/items",
                       json={"offer_id": world["room"].id, "start_on": soon(10).isoformat(),
                             "days": 10}, headers=world["h"]["patient"]).json
    offers.set_capacity(world["admin"], world["room"].id, start=soon(14), end=soon(14),
                        capacity=0)
    db.session.commit()
    body = client.get(f"/api/v1/journeys/{journey_id}/check",
                      headers=world["h"]["patient"]).json
    assert "unavailable" in {v["code"] for v in body["violations"]}
    alternatives = client.get(f"/api/v1/journeys/{journey_id}/items/{item['id']}/alternatives",
                              headers=world["h"]["patient"]).json
    assert [a["offer_id"] for a in alternatives] == [world["room2"].id]
    assert alternatives[0]["unit_price"]["amount_minor"] == 9000


def test_planner_places_a_package_from_the_arrival(client, world):
    journey_id = _journey(client, world, departure_on=None)
    for offer, days in ((world["room"], 3), (world["surgery"], 1), (world["rehab"], 3)):
        client.post(f"/api/v1/journeys/{journey_id}/items",
                    json={"offer_id": offer.id, "start_on": soon(30).isoformat(),
                          "days": days}, headers=world["h"]["patient"])
    planned = client.post(f"/api/v1/journeys/{journey_id}/plan",
                          json={"arrival_on": soon(10).isoformat()},
                          headers=world["h"]["patient"])
    assert planned.status_code == 200, planned.json
    assert planned.json["ok"], planned.json
    check = client.get(f"/api/v1/journeys/{journey_id}/check",
                       headers=world["h"]["patient"]).json
    assert check["ok"], check
    assert client.post(f"/api/v1/journeys/{journey_id}/quotes",
                       headers=world["h"]["patient"]).status_code == 201


def test_planner_says_why_when_no_plan_exists(client, world):
    journey_id = _journey(client, world, departure_on=None)
    client.post(f"/api/v1/journeys/{journey_id}/items",
                json={"offer_id": world["surgery"].id, "start_on": soon(12).isoformat()},
                headers=world["h"]["patient"])
    far = soon(400).isoformat()  # beyond every calendar
    planned = client.post(f"/api/v1/journeys/{journey_id}/plan?lang=de",
                          json={"arrival_on": far}, headers=world["h"]["patient"])
    assert planned.status_code == 200
    assert planned.json["ok"] is False
    assert planned.json["violations"][0]["message"]


def test_template_status_needs_texts_and_links(world):
    template = templates.create_template(world["admin"])
    db.session.commit()
    from journey.core.errors import Conflict

    with pytest.raises(Conflict):
        templates.set_template_status(world["admin"], template.id, "published")


def test_template_with_a_departure_transfer_keeps_the_departure_day(client, make, world):
    transfer = make.offer(world["hotel"], chain_link="transfer", price_unit="stay",
                          capacity_unit="seat", duration_unit="days", base_price_minor=3500,
                          capacity=8, days=90, texts={"en": {"title": "Airport transfer"}})
    template = templates.create_template(
        world["admin"], status="published", texts={"en": {"name": "Short stay"}},
        links=[{"default_offer_id": transfer.id, "day_offset": 0},
               {"default_offer_id": world["room"].id, "day_offset": 0, "days": 10},
               {"default_offer_id": transfer.id, "day_offset": 10}])
    db.session.commit()
    journey_id = _journey(client, world, departure_on=None)
    applied = client.post(f"/api/v1/journeys/{journey_id}/apply-template",
                          json={"template_id": template.id}, headers=world["h"]["patient"])
    assert applied.json["departure_on"] == soon(20).isoformat()
    check = client.get(f"/api/v1/journeys/{journey_id}/check",
                       headers=world["h"]["patient"]).json
    assert check["ok"], check


def test_a_transfer_may_move_the_patient_between_stays(client, make, world):
    transfer = make.offer(world["sanatorium"], chain_link="transfer", price_unit="stay",
                          capacity_unit="seat", duration_unit="days", base_price_minor=9000,
                          capacity=8, days=90, texts={"en": {"title": "Hospital transfer"}})
    journey_id = _journey(client, world)
    h = world["h"]["patient"]
    for offer, start, days in ((world["room"], 10, 4), (world["room2"], 14, 6),
                               (transfer, 14, 1), (transfer, 17, 1)):
        client.post(f"/api/v1/journeys/{journey_id}/items",
                    json={"offer_id": offer.id, "start_on": soon(start).isoformat(),
                          "days": days}, headers=h)
    codes = [v["code"] for v in client.get(f"/api/v1/journeys/{journey_id}/check",
                                           headers=h).json["violations"] if v["blocking"]]
    # Day 14 (the move to the second hotel) is fine; day 17 is not, nor a missing
    # transfer on arrival.
    assert sorted(codes) == ["transfer_missing_on_arrival", "transfer_wrong_day"]
