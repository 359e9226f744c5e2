"""Issue 17: alternatives treat the same thing and are priced in the journey's
currency; a package's "from" price is what a quote says for its default dates."""

from datetime import timedelta

import pytest

from journey.builder.services import composition, journeys, quotes
from journey.builder.services.package_prices import (
    default_arrival,
    package_price,
    package_prices,
)
from journey.core.extensions import db
from journey.core.types import today_in
from providers.services import offers
from tests.booking_fixtures import knee_package
from tests.journey.builder_world import build_world, soon


@pytest.fixture
def world(make):
    world = build_world(make)
    other_clinic = make.member(name="Vilnius Joint Centre", kind="clinic", city="Vilnius")
    surgery = {"chain_link": "treatment", "price_unit": "stay", "capacity_unit": "surgery_slot",
               "duration_unit": "days", "capacity": 2, "days": 90}
    world["knee"] = make.offer(world["clinic"], procedure="knee_arthroplasty",
                               base_price_minor=650000, texts={"en": {"title": "New knee"}},
                               **surgery)
    world["knee2"] = make.offer(other_clinic, procedure="knee_arthroplasty",
                                base_price_minor=600000,
                                texts={"en": {"title": "Knee arthroplasty"}}, **surgery)
    # Cheaper, the same link, the same city: what the builder used to suggest.
    world["hip"] = make.offer(other_clinic, procedure="hip_arthroplasty",
                              base_price_minor=640000,
                              texts={"en": {"title": "Hip arthroplasty"}}, **surgery)
    world["h"] = make.token(world["patient"])
    return world


def _journey(world, currency="NOK"):
    journey = journeys.open_journey(world["patient"], arrival_on=soon(10),
                                    departure_on=soon(20), nationality="DE",
                                    currency=currency, language="en")
    db.session.commit()
    return journey


def _item(world, journey, offer, start, days=1):
    item = journeys.add_item(world["patient"], journey.id, offer_id=offer.id, start_on=start,
                             days=days)
    db.session.commit()
    return item


def test_a_knee_line_is_never_offered_a_hip_and_is_priced_in_nok(world):
    journey = _journey(world)
    item = _item(world, journey, world["knee"], soon(12))
    found = composition.suggest_alternatives(world["patient"], journey.id, item.id)
    assert [a.offer.id for a in found] == [world["knee2"].id]
    assert found[0].price.currency == "NOK"
    assert found[0].price.amount == 600000 * 1170 // 100  # 11.70 NOK to the euro
    assert found[0].original.amount == 600000 and found[0].original.currency == "EUR"
    assert found[0].same_procedure


def test_a_medical_line_without_a_procedure_gets_no_classified_offer(world):
    journey = _journey(world)
    item = _item(world, journey, world["surgery"], soon(12))  # "Knee replacement", unclassified
    found = composition.suggest_alternatives(world["patient"], journey.id, item.id)
    assert {world["knee2"].id, world["hip"].id}.isdisjoint({a.offer.id for a in found})


def test_a_room_gets_the_rooms_of_its_city_in_the_journeys_currency(client, world):
    journey = _journey(world)
    item = _item(world, journey, world["room"], soon(10), days=10)
    response = client.get(f"/api/v1/journeys/{journey.id}/items/{item.id}/alternatives",
                          headers=world["h"])
    assert response.status_code == 200, response.json
    assert [a["offer_id"] for a in response.json] == [world["room2"].id]
    assert response.json[0]["unit_price"]["currency"] == "NOK"
    assert response.json[0]["unit_price"]["amount_minor"] == 9000 * 1170 // 100
    assert response.json[0]["original_price"] == {
        "amount_minor": 9000, "currency": "EUR",
        "formatted": response.json[0]["original_price"]["formatted"]}


def test_the_alternatives_api_keeps_to_the_procedure(client, world):
    journey = _journey(world)
    item = _item(world, journey, world["knee"], soon(12))
    response = client.get(f"/api/v1/journeys/{journey.id}/items/{item.id}/alternatives",
                          headers=world["h"])
    assert [(a["offer_id"], a["procedure"]) for a in response.json] == [
        (world["knee2"].id, "knee_arthroplasty")]


def _package(world, arrival):
    """The clinic's knee package: a room (a seasonal price in the middle of the stay),
    the surgery, rehabilitation the clinic bears, 10 % off the clinic's lines."""
    offers.add_price_rule(world["admin"], world["room"].id, starts_on=arrival + timedelta(days=3),
                          ends_on=arrival + timedelta(days=5), price_minor=10000)
    return knee_package(world, surgery=world["knee"])


@pytest.mark.parametrize("currency", ["NOK", "EUR"])
def test_the_from_price_is_what_a_quote_says_for_the_default_dates(world, currency):
    arrival = default_arrival()
    assert arrival == today_in() + timedelta(days=45)
    template = _package(world, arrival)
    price = package_price(template, currency)
    journey = journeys.open_journey(world["patient"], arrival_on=arrival, nationality="DE",
                                    currency=currency, language="en")
    journeys.apply_template(world["patient"], journey.id, template.id, arrival_on=arrival)
    quote = quotes.create_quote(world["patient"], journey.id)
    assert price.total.currency == currency
    assert (price.total.amount, price.subtotal.amount, price.discount.amount) == (
        quote.total_minor, quote.subtotal_minor, quote.discount_minor)
    assert quote.discount_minor > 0
    assert package_prices([template], currency)[template.id] == price


def test_no_from_price_without_a_rate(world):
    template = _package(world, default_arrival())
    assert package_price(template, "SEK") is None  # no EUR-SEK rate stored
