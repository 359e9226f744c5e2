"""A new quote's answer is written without marshmallow (the quote is a hot path); field
for field it is what QuoteSchema, the documented contract, dumps: checked on quotes with
a discount, a borne line, converted currencies and two reader languages, and through
the API."""

from __future__ import annotations

import json

from flask_babel import force_locale

from journey.builder.models import Quote
from journey.builder.schemas import QuoteSchema, quote_answer
from journey.builder.services import journeys, quotes
from journey.core.extensions import db
from providers.services import offers
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


def test_a_package_beyond_one_card_payment_is_not_quoted(client, app, make):
    """A deposit or balance above what one card payment carries could never be paid:
    the quote says so (422, in the caller's language) and is not written."""
    world = build_world(make)
    offers.update_offer(world["admin"], world["room"].id, base_price_minor=20_000_000)
    journey = journeys.open_journey(world["patient"], arrival_on=soon(10),
                                    departure_on=soon(20), nationality="DE", currency="EUR")
    journeys.add_item(world["patient"], journey.id, offer_id=world["room"].id,
                      start_on=soon(10), days=10)  # 2,000,000.00 EUR
    db.session.commit()
    response = client.post(f"/api/v1/journeys/{journey.id}/quotes?lang=de",
                           headers=make.token(world["patient"]))
    assert response.status_code == 422, response.json
    with app.test_request_context("/?lang=de"), force_locale("de"):
        assert "999.999,99" in response.json["message"]
    assert db.session.scalar(db.select(db.func.count(Quote.id))) == 0
