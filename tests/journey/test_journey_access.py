"""Who learns what of a journey (DESIGN: scoped access), the same through the API and the
pages: a member that only supplies a line sees the travellers, the dates and its own
line; never the patient's nationality, another member's line, the quotes or prices."""

from __future__ import annotations

import pytest

from journey.builder.services import journeys, quotes
from journey.core.extensions import db
from tests.conftest import PASSWORD
from tests.journey.builder_world import build_world, soon


@pytest.fixture
def booked(make):
    world = build_world(make)
    journey = journeys.open_journey(world["patient"], arrival_on=soon(10),
                                    departure_on=soon(20), currency="EUR", nationality="DE",
                                    residence="DE")
    journeys.add_item(world["patient"], journey.id, offer_id=world["room"].id,
                      start_on=soon(10), days=10)
    journeys.add_item(world["patient"], journey.id, offer_id=world["surgery"].id,
                      start_on=soon(12))
    quote = quotes.create_quote(world["patient"], journey.id)
    db.session.commit()
    headers = {name: make.token(world[name])
               for name in ("patient", "hotel_staff", "clinic_staff", "coordinator")}
    return world, journey.id, quote.id, headers


def test_a_supplier_sees_only_its_own_line(client, booked):
    world, journey_id, _quote_id, headers = booked
    body = client.get(f"/api/v1/journeys/{journey_id}", headers=headers["hotel_staff"]).json
    assert body["nationality"] is None and body["residence"] is None
    assert [item["offer_id"] for item in body["items"]] == [world["room"].id]
    assert body["quote_versions"] == [] and body["transitions"] == []
    assert body["patient_name"] and body["arrival_on"]  # what it needs to deliver
    listed = client.get("/api/v1/journeys", headers=headers["hotel_staff"]).json["items"]
    assert [item["offer_id"] for item in listed[0]["items"]] == [world["room"].id]
    assert listed[0]["nationality"] is None


def test_a_member_opens_a_journey_by_the_patients_address_not_any_account(client, booked):
    """By id, a member's staff could attach a journey to any patient's account and read
    their name on it; they give the address the patient contacted them from."""
    world, _journey_id, _quote_id, headers = booked
    other = world["patient2"]
    before = len(journeys.list_journeys(other)[0])
    refused = client.post("/api/v1/journeys", json={"patient_id": other.id},
                          headers=headers["hotel_staff"])
    assert refused.status_code == 403, refused.json
    assert other.full_name not in refused.get_data(as_text=True)
    assert len(journeys.list_journeys(other)[0]) == before
    opened = client.post("/api/v1/journeys", json={"patient_id": other.id},
                         headers=headers["coordinator"])
    assert opened.status_code == 201, opened.json


@pytest.mark.parametrize("reader", ["patient", "clinic_staff", "coordinator"])
def test_the_patient_the_treating_clinic_and_the_cluster_see_the_trip(client, booked,
                                                                      reader):
    world, journey_id, _quote_id, headers = booked
    body = client.get(f"/api/v1/journeys/{journey_id}", headers=headers[reader]).json
    assert body["nationality"] == "DE"
    assert sorted(item["offer_id"] for item in body["items"]) == sorted(
        [world["room"].id, world["surgery"].id])


@pytest.mark.parametrize(("reader", "quote_status"), [
    ("patient", 200), ("coordinator", 200), ("hotel_staff", 404), ("clinic_staff", 200)])
def test_quotes_and_their_prices(client, booked, reader, quote_status):
    _world, journey_id, quote_id, headers = booked
    assert client.get(f"/api/v1/quotes/{quote_id}", headers=headers[reader]).status_code \
        == quote_status
    versions = client.get(f"/api/v1/journeys/{journey_id}/quotes", headers=headers[reader])
    assert (versions.status_code == 200 and bool(versions.json)) is (quote_status == 200)


@pytest.mark.parametrize("reader", ["hotel_staff", "clinic_staff"])
def test_members_on_the_journey_may_not_change_or_cancel_it(client, booked, reader):
    world, journey_id, _quote_id, headers = booked
    changed = client.patch(f"/api/v1/journeys/{journey_id}", json={"adults": 3},
                           headers=headers[reader])
    cancelled = client.post(f"/api/v1/journeys/{journey_id}/cancel", json={},
                            headers=headers[reader])
    assert changed.status_code == 403 and cancelled.status_code in (403, 404)
    db.session.rollback()
    assert db.session.get(journeys.Journey, journey_id).adults != 3


def test_the_journey_page_is_not_shown_to_a_supplier(client, booked):
    world, journey_id, _quote_id, _headers = booked
    client.post("/login", data={"email": world["hotel_staff"].email, "password": PASSWORD})
    assert client.get(f"/my/journeys/{journey_id}").status_code == 404
    client.post("/login", data={"email": world["patient"].email, "password": PASSWORD})
    page = client.get(f"/my/journeys/{journey_id}")
    assert page.status_code == 200 and "Double room" in page.get_data(as_text=True)


@pytest.mark.parametrize(("asker", "status"), [
    ("patient2", 404), ("other_staff", 404), ("hotel_staff", 403), ("clinic_staff", 403)])
def test_only_those_who_compose_the_journey_price_it(client, booked, asker, status, make):
    """A new quote reads the journey with its row lock in the visibility query itself:
    another patient and an unrelated member still get 404, a member that delivers or
    treats a line 403, and nothing is written (no quote, the journey's state and
    history as they were)."""
    from sqlalchemy import func, select

    from journey.builder.models import Journey, JourneyTransition, Quote

    world, journey_id, _quote_id, headers = booked
    token = headers.get(asker) or make.token(world[asker])

    def state():
        db.session.expire_all()
        return (db.session.scalar(select(func.count()).select_from(Quote)
                                  .where(Quote.journey_id == journey_id)),
                db.session.get(Journey, journey_id).status,
                db.session.scalar(select(func.count()).select_from(JourneyTransition)
                                  .where(JourneyTransition.journey_id == journey_id)))

    before = state()
    response = client.post(f"/api/v1/journeys/{journey_id}/quotes", headers=token)
    assert response.status_code == status, response.json
    assert state() == before
    assert client.post(f"/api/v1/journeys/{journey_id}/quotes",
                       headers=headers["patient"]).status_code == 201  # the lock was let go


def test_one_read_per_kind_of_viewer_with_who_and_which_bound(ctx, booked):
    """visible_journey reads with a statement built once per kind of viewer (patient,
    member, cluster), the journey and the viewer bound: another patient, another member
    or another journey of the same kind use it too, and still see only what is theirs."""
    from journey.core.errors import NotFound

    world, journey_id, _quote_id, _headers = booked
    journeys._visible_journey_statement.cache_clear()
    assert journeys.visible_journey(world["patient"], journey_id).id == journey_id
    assert journeys.visible_journey(world["hotel_staff"], journey_id).id == journey_id
    assert journeys.visible_journey(world["coordinator"], journey_id, lock=True).id == \
        journey_id
    built = journeys._visible_journey_statement.cache_info().currsize
    other = journeys.open_journey(world["patient"], arrival_on=soon(30),
                                  departure_on=soon(35), currency="EUR")
    db.session.flush()
    assert journeys.visible_journey(world["patient"], other.id).id == other.id
    with pytest.raises(NotFound):  # the hotel supplies nothing on the new one
        journeys.visible_journey(world["hotel_staff"], other.id)
    assert journeys._visible_journey_statement.cache_info().currsize == built == 3
