"""A new quote's answer is written without marshmallow (the quote is a hot path); field
for field it is what QuoteSchema, the documented contract, dumps: checked on quotes with
a discount, a borne line, converted currencies and two reader languages, and through
the API."""

from __future__ import annotations

import json

from journey.builder.schemas import QuoteSchema, quote_answer
from journey.builder.services import journeys, quotes
from journey.core.extensions import db
from tests.booking_fixtures import knee_package
from tests.journey.builder_world import build_world, soon


def _schema(quote) -> dict:
    return json.loads(json.dumps(QuoteSchema().dump(quote)))


def _direct(quote) -> dict:
    return json.loads(json.dumps(quote_answer(quote)))


def test_the_answer_is_what_the_schema_dumps(app, make):
    world = build_world(make)
    template = knee_package(world)
    made = []
    for currency, language in (("EUR", "en"), ("NOK", "de"), ("EUR", "ar")):
        journey = journeys.open_journey(world["patient"], arrival_on=soon(10),
                                        departure_on=soon(20), nationality="DE",
                                        currency=currency, language=language)
        journeys.apply_template(world["patient"], journey.id, template.id)
        db.session.commit()
        made.append(quotes.create_quote(world["patient"], journey.id))
    quotes.accept_quote(world["patient"], made[0].id)
    db.session.commit()
    for lang in ("en", "de", "ar", "nb"):
        with app.test_request_context(f"/?lang={lang}"):
            for quote in made:
                assert _direct(quote) == _schema(quote), (lang, quote.id)
    kinds = {line["kind"] for quote in made for line in _direct(quote)["lines"]}
    assert kinds == {"item", "borne", "discount"}
    assert _direct(made[0])["accepted_at"] is not None


def test_the_api_answers_with_it(client, app, make):
    world = build_world(make)
    journey = journeys.open_journey(world["patient"], arrival_on=soon(10),
                                    departure_on=soon(20), nationality="DE", currency="NOK")
    journeys.add_item(world["patient"], journey.id, offer_id=world["room"].id,
                      start_on=soon(10), days=10)
    db.session.commit()
    response = client.post(f"/api/v1/journeys/{journey.id}/quotes?lang=de",
                           headers=make.token(world["patient"]))
    assert response.status_code == 201, response.json
    quote = quotes.get_quote(world["patient"], response.json["id"])
    with app.test_request_context("/?lang=de"):
        assert response.json == _schema(quote)
