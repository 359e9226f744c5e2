"""The catalogue search's answer is written without marshmallow (the hottest path);
field for field it is what SearchResultSchema, the documented contract, dumps: checked
here on a set of searches (languages, currencies with and without a rate, procedures,
VAT, seasons, pages, no results), and through the API."""

from __future__ import annotations

import json
from datetime import timedelta
from decimal import Decimal
from itertools import product

import pytest

from journey.core.extensions import db
from journey.core.types import today_in
from providers.schemas import SearchResultSchema, search_answer
from providers.services import offers, rates
from providers.services.search import SORTS, SearchQuery, search_offers

TODAY = today_in()


@pytest.fixture
def catalogue(make):
    admin = make.admin()
    rates.add_rate(admin, base="EUR", quote="NOK", rate=Decimal("11.7000"), effective_on=TODAY)
    db.session.commit()
    clinic = make.member(kind="clinic", city="Vilnius", default_language="lt")
    hotel = make.member(kind="hotel", city="Kaunas", default_language="de")
    make.offer(clinic, procedure="knee_arthroplasty", base_price_minor=650000, capacity=2,
               vat_percent=Decimal("0"), texts={"en": {"title": "Knee", "description": "x" * 400},
                                                "lt": {"title": "Kelis"}})
    room = make.offer(hotel, chain_link="accommodation", price_unit="night",
                      capacity_unit="room", duration_unit="nights", base_price_minor=9000,
                      capacity=3, vat_percent=Decimal("12.50"),
                      texts={"de": {"title": "Doppelzimmer", "description": "Ruhig"}})
    offers.add_price_rule(admin, room.id, name="Summer", starts_on=TODAY,
                          ends_on=TODAY + timedelta(days=40), price_minor=11000)
    make.offer(hotel, chain_link="accommodation", price_unit="night", capacity_unit="room",
               duration_unit="nights", currency="NOK", base_price_minor=117000, capacity=1,
               max_quantity=1, texts={"en": {"title": "Annex"}, "nb": {"title": "Rom"}})
    make.offer(hotel, chain_link="leisure", currency="SEK", base_price_minor=50000,
               texts={"en": {"title": "Spa day"}})  # no rate into or from SEK
    db.session.commit()


QUERIES = [{"language": language, "currency": currency, "sort": sort}
           for language, currency, sort in product(("en", "lt", "ar", "nb"),
                                                   ("EUR", "NOK", "SEK"), SORTS)] + [
    {"language": "de", "currency": "EUR", "start": TODAY + timedelta(days=2),
         "end": TODAY + timedelta(days=4), "quantity": 1},
    {"language": "en", "currency": "EUR", "text": "knee"},
    {"language": "en", "currency": "EUR", "per_page": 1, "page": 2},
    {"language": "en", "currency": "EUR", "page": 9},
    {"language": "en", "currency": "EUR", "chain_link": "visa_support"},
]


def test_the_answer_is_what_the_schema_dumps(app, catalogue):
    compared = 0
    for query in QUERIES:
        with app.test_request_context(f"/api/v1/offers?lang={query['language']}"):
            result = search_offers(SearchQuery(**query))
            expected = json.loads(json.dumps(SearchResultSchema().dump(result)))
            assert json.loads(json.dumps(search_answer(result))) == expected, query
            compared += len(result.hits)
    assert compared > 100  # the searches found offers to compare


def test_the_api_answers_with_it(client, app, catalogue):
    response = client.get("/api/v1/offers?lang=nb&currency=NOK&sort=price")
    assert response.status_code == 200
    with app.test_request_context("/api/v1/offers?lang=nb"):
        result = search_offers(SearchQuery(language="nb", currency="NOK", sort="price"))
        assert response.json == json.loads(json.dumps(SearchResultSchema().dump(result)))
    assert {item["price"] is None for item in response.json["items"]} == {False, True}
