"""Helpers of the patient's page tests: log in through the login page, read a page,
find the errors beside a field, open a journey and add offers to it as the patient's
forms do, or quote one through the services."""

from __future__ import annotations

import re

from journey.builder.services import journeys, quotes
from journey.core.extensions import db
from tests.conftest import PASSWORD
from tests.journey.builder_world import soon


def login(client, user):
    response = client.post("/login", data={"email": user.email, "password": PASSWORD})
    assert response.status_code == 302


def text(response) -> str:
    return response.get_data(as_text=True)


def field_errors(html: str, field_id: str) -> list[str]:
    """The error messages inside the .field that holds ``#field_id``."""
    match = re.search(r'<div class="field[^"]*">(?:(?!<div class="field).)*?id="'
                      + re.escape(field_id) + r'".*?(?=<div class="field|</form>)', html, re.S)
    assert match, f"no field {field_id}"
    return re.findall(r'<p class="error">([^<]*)</p>', match.group(0))


def open_journey(client, world, **extra) -> int:
    data = {"arrival_on": soon(10).isoformat(), "adults": "1", "children": "0",
            "nationality": "DE", "currency": "EUR", **extra}
    response = client.post("/my/journeys", data=data)
    assert response.status_code == 302, text(response)
    return int(response.headers["Location"].rsplit("/", 1)[1])


def add(client, journey_id, offer, start, days="1"):
    response = client.post(f"/catalogue/offers/{offer.id}", data={
        "journey_id": str(journey_id), "start_on": start.isoformat(), "days": days,
        "quantity": "1"})
    assert response.status_code == 302, text(response)


def room_quote(world, *, accept: bool = False):
    """The patient's quote for ten nights of the double room (accepted, if told)."""
    patient = world["patient"]
    journey = journeys.open_journey(patient, arrival_on=soon(10), departure_on=soon(20),
                                    currency="EUR", nationality="DE")
    journeys.add_item(patient, journey.id, offer_id=world["room"].id, start_on=soon(10),
                      days=10)
    quote = quotes.create_quote(patient, journey.id)
    if accept:
        quotes.accept_quote(patient, quote.id)
    db.session.commit()
    return quote
