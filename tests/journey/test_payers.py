"""Who pays is decided by the payer: nobody but a member's manager makes that member
bear a line or fund a discount; everyone else may only ask, and a refused attempt writes
nothing. The discount of a member's package comes off that member's own lines, and the
settlement shows what each member funded."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from bookings.models import LedgerEntry
from journey.builder.models import BearingRequest, BearingStatus, JourneyItem, QuoteLineKind
from journey.builder.services import journeys, payers, quotes, templates
from journey.core.accounts.models import Role
from journey.core.errors import Conflict, Forbidden, InvalidInput, NotFound
from journey.core.extensions import db
from tests.booking_fixtures import clinic_manager, confirmed_booking
from tests.journey.builder_world import soon


def _journey(world):
    journey = journeys.open_journey(world["patient"], arrival_on=soon(10),
                                    departure_on=soon(20), currency="EUR", nationality="DE")
    room = journeys.add_item(world["patient"], journey.id, offer_id=world["room"].id,
                             start_on=soon(10), days=10)
    journeys.add_item(world["patient"], journey.id, offer_id=world["surgery"].id,
                      start_on=soon(12))
    db.session.flush()
    return journey, room


def _items() -> int:
    return db.session.scalar(select(func.count(JourneyItem.id)))


@pytest.mark.parametrize("who", ["patient", "hotel_staff", "clinic_staff", "coordinator",
                                 "admin"])
def test_nobody_but_the_payers_manager_sets_a_payer(world, who):
    journey, room = _journey(world)
    actor = world[who]
    before = _items()
    with pytest.raises((Forbidden, NotFound)):
        journeys.add_item(actor, journey.id, offer_id=world["room2"].id, start_on=soon(10),
                          days=2, borne_by_provider_id=world["clinic"].id)
    assert _items() == before
    assert db.session.scalar(select(func.count(BearingRequest.id))) == 0


def test_a_coordinator_asks_and_only_the_manager_decides(world):
    journey, room = _journey(world)
    with pytest.raises(Forbidden):  # a patient cannot choose who pays
        payers.request_bearing(world["patient"], journey.id, room.id, world["clinic"].id)
    asked = payers.request_bearing(world["coordinator"], journey.id, room.id,
                                   world["clinic"].id, note="Our patient, our hotel.")
    assert asked.status == BearingStatus.PENDING and asked.amount_minor == 80000
    with pytest.raises(Conflict):  # one open request per line
        payers.request_bearing(world["coordinator"], journey.id, room.id, world["clinic"].id)
    for who in ("clinic_staff", "coordinator", "admin"):
        with pytest.raises(Forbidden):
            payers.decide_bearing(world[who], asked.id, accept=True)
    with pytest.raises(NotFound):  # another member does not even see it
        payers.decide_bearing(world["hotel_staff"], asked.id, accept=True)
    assert room.borne_by_provider_id is None
    payers.decide_bearing(clinic_manager(world), asked.id, accept=True)
    assert room.borne_by_provider_id == world["clinic"].id
    quote = quotes.create_quote(world["patient"], journey.id)
    borne = next(line for line in quote.lines if line.journey_item_id == room.id)
    assert borne.kind == QuoteLineKind.BORNE and borne.total_minor == 0
    assert quote.total_minor == 650000  # the patient pays the surgery only
    assert [r.id for r in payers.member_requests(clinic_manager(world), world["clinic"].id)] \
        == [asked.id]


def test_a_line_changed_after_it_was_accepted_goes_back_to_the_patients_bill(world):
    journey, room = _journey(world)
    asked = payers.request_bearing(world["coordinator"], journey.id, room.id,
                                   world["clinic"].id)
    payers.decide_bearing(clinic_manager(world), asked.id, accept=True)
    journeys.update_item(world["patient"], journey.id, room.id, days=12)  # two more nights
    assert room.borne_by_provider_id is None and asked.status == BearingStatus.LAPSED


def test_a_request_for_a_line_that_costs_more_now_lapses(world):
    journey, room = _journey(world)
    asked = payers.request_bearing(world["coordinator"], journey.id, room.id,
                                   world["clinic"].id)
    room.quantity = 2  # changed behind the request's back
    with pytest.raises(Conflict, match="costs more"):
        payers.decide_bearing(clinic_manager(world), asked.id, accept=True)
    assert asked.status == BearingStatus.LAPSED and room.borne_by_provider_id is None


def test_a_package_bears_and_discounts_only_on_its_own_members_account(world, make):
    hotel_manager = make.user(Role.MEMBER_MANAGER, world["hotel"])
    links = [{"default_offer_id": world["room"].id, "day_offset": 0, "days": 10},
             {"default_offer_id": world["surgery"].id, "day_offset": 2,
              "borne_by_provider_id": world["clinic"].id}]
    with pytest.raises(InvalidInput) as refused:
        templates.create_template(hotel_manager, provider_id=world["hotel"].id,
                                  texts={"en": {"name": "Knee on the clinic"}}, links=links)
    assert "only the member whose package" in str(refused.value.fields["links"][0])
    with pytest.raises(InvalidInput) as refused:
        templates.create_template(world["coordinator"], discount_percent=90,
                                  texts={"en": {"name": "90 % off"}}, links=links[:1])
    assert "cluster carries none" in str(refused.value.fields["discount_percent"][0])
    with pytest.raises(Forbidden):  # a coordinator cannot spend the hotel's money
        templates.create_template(world["coordinator"], provider_id=world["hotel"].id,
                                  discount_percent=90, texts={"en": {"name": "90 % off"}},
                                  links=links[:1])
    # The hotel's own 90 % comes off its own room, never off the clinic's surgery.
    links[1].pop("borne_by_provider_id")
    template = templates.create_template(
        hotel_manager, provider_id=world["hotel"].id, discount_percent=90,
        status="published", texts={"en": {"name": "Hotel's knee"}}, links=links)
    journey = journeys.open_journey(world["patient"], arrival_on=soon(10),
                                    departure_on=soon(20), currency="EUR")
    journeys.apply_template(world["patient"], journey.id, template.id)
    quote = quotes.create_quote(world["patient"], journey.id)
    assert quote.discount_minor == 72000 and quote.total_minor == 650000 + 8000


def test_the_settlement_shows_who_funded_the_discount(world, gateway, make):
    manager = clinic_manager(world)
    template = templates.create_template(
        manager, provider_id=world["clinic"].id, discount_percent=10, status="published",
        texts={"en": {"name": "The clinic's knee"}},
        links=[{"default_offer_id": world["room"].id, "day_offset": 0, "days": 10},
               {"default_offer_id": world["surgery"].id, "day_offset": 2}])
    db.session.commit()
    booking = confirmed_booking(world, gateway, template=template)
    entries = {(e.provider_id, e.kind): e.amount_minor
               for e in db.session.scalars(select(LedgerEntry).where(
                   LedgerEntry.booking_id == booking.id))}
    assert entries[(world["clinic"].id, "gross")] == 650000
    assert entries[(world["clinic"].id, "discount")] == -65000
    assert (world["hotel"].id, "discount") not in entries
    assert entries[(world["hotel"].id, "gross")] == 80000
    assert sum(line.amount_minor for line in booking.lines) == booking.total_minor == 665000


def test_the_api_refuses_a_patient_setting_a_payer_and_writes_nothing(world, client, make):
    journey, _room = _journey(world)
    db.session.commit()
    token = make.token(world["patient"])
    before = _items()
    response = client.post(f"/api/v1/journeys/{journey.id}/items", headers=token, json={
        "offer_id": world["room2"].id, "start_on": soon(10).isoformat(), "days": 2,
        "borne_by_provider_id": world["clinic"].id})
    assert response.status_code == 403 and "manager of the member" in response.json["message"]
    assert _items() == before
    asked = client.post(f"/api/v1/journeys/{journey.id}/items/{_room.id}/bearing-requests",
                        headers=token, json={"provider_id": world["clinic"].id})
    assert asked.status_code == 403
    coordinator = make.token(world["coordinator"])
    asked = client.post(f"/api/v1/journeys/{journey.id}/items/{_room.id}/bearing-requests",
                        headers=coordinator, json={"provider_id": world["clinic"].id})
    assert asked.status_code == 201, asked.json
    decided = client.post(f"/api/v1/bearing-requests/{asked.json['id']}/decision",
                          headers=make.token(world["hotel_staff"]), json={"accept": True})
    assert decided.status_code == 404
    decided = client.post(f"/api/v1/bearing-requests/{asked.json['id']}/decision",
                          headers=make.token(clinic_manager(world)), json={"accept": True})
    assert decided.status_code == 200 and decided.json["status"] == "accepted"
