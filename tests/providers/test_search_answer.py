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
    # a text in the member's language and one in a language no reader asks for
    make.offer(clinic, chain_link="leisure", base_price_minor=7000,
               texts={"pl": {"title": "Rejs"}, "lt": {"title": "Kruizas"}})
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
    """The API's path (one statement, no ORM object, its text chosen in SQL) answers
    what the schema dumps of the ORM offers, each text the one the fallback chain picks
    in Python (:func:`offer_text`)."""
    compared = 0
    for query in QUERIES:
        with app.test_request_context(f"/api/v1/offers?lang={query['language']}"):
            result = search_offers(SearchQuery(**query))
            fast = search_offers(SearchQuery(**query), orm_offers=False)
            expected = json.loads(json.dumps(SearchResultSchema().dump(result)))
            assert json.loads(json.dumps(search_answer(result))) == expected, query
            assert json.loads(json.dumps(search_answer(fast))) == expected, query
            for hit in result.hits:
                language, text = offers.offer_text(hit.offer, query["language"])
                assert (hit.language, hit.text and hit.text.title) == (
                    language, text and text.title), query
            compared += len(result.hits)
    assert compared > 100  # the searches found offers to compare


def test_a_rate_added_is_used_by_the_next_search(app, catalogue, make):
    """The process keeps the rate table of the version it saw last; the search's own
    statement reads the version in force and a stale search runs again."""
    admin = make.admin()
    query = SearchQuery(language="en", currency="SEK", sort="price")
    with app.test_request_context("/api/v1/offers"):
        before = search_offers(query, orm_offers=False)
        assert {hit.offer.currency: hit.rate for hit in before.hits}["EUR"] is None
        rates.add_rate(admin, base="EUR", quote="SEK", rate=Decimal("11.5000"),
                       effective_on=TODAY)
        db.session.commit()
        after = search_offers(query, orm_offers=False)
        rate = {hit.offer.currency: hit.rate for hit in after.hits}["EUR"]
        assert rate is not None and rate.rate == Decimal("11.5000")
        assert [hit.converted for hit in after.hits if hit.offer.currency == "EUR"][0] \
            is not None


def test_the_api_answers_with_it(client, app, catalogue):
    response = client.get("/api/v1/offers?lang=nb&currency=NOK&sort=price")
    assert response.status_code == 200
    with app.test_request_context("/api/v1/offers?lang=nb"):
        result = search_offers(SearchQuery(language="nb", currency="NOK", sort="price"))
        assert response.json == json.loads(json.dumps(SearchResultSchema().dump(result)))
    assert {item["price"] is None for item in response.json["items"]} == {False, True}


def test_a_price_bound_beyond_32_bits(client, catalogue):
    """The schema takes prices up to 10^11 minor units; the statement binds them as
    such (PostgreSQL refused a 32-bit parameter with 'integer out of range')."""
    response = client.get("/api/v1/offers?currency=EUR&price_min=99999999999")
    assert response.status_code == 200, response.json
    assert response.json["total"] == 0
    response = client.get("/api/v1/offers?currency=EUR&price_max=99999999999")
    assert response.status_code == 200 and response.json["total"] > 0
