"""A 201 answer says where what it created is (``Location``): the URL of its ``get``
link's operation, filled from the answer and the request's path, and documented."""

from journey.core.accounts.models import Role
from tests.journey.builder_world import soon


def test_a_created_journey_and_quote_say_where_they_are(client, make):
    member = make.member()
    offer = make.offer(member, capacity=3)
    headers = {**make.token(make.user(Role.PATIENT)), "Idempotency-Key": "journey-0001"}
    created = client.post("/api/v1/journeys", json={"currency": "EUR"}, headers=headers)
    assert created.status_code == 201, created.json
    journey_id = created.json["id"]
    assert created.headers["Location"] == f"/api/v1/journeys/{journey_id}"
    read = client.get(created.headers["Location"], headers=headers)
    assert read.status_code == 200 and read.json["id"] == journey_id
    again = client.post("/api/v1/journeys", json={"currency": "EUR"}, headers=headers)
    assert again.headers["Location"] == created.headers["Location"]  # replayed too
    added = client.post(f"/api/v1/journeys/{journey_id}/items",
                        json={"offer_id": offer.id,
                              "start_on": soon(10).isoformat()}, headers=headers)
    assert added.status_code == 201, added.json
    assert "Location" not in added.headers  # no operation reads one item
    quoted = client.post(f"/api/v1/journeys/{journey_id}/quotes", headers=headers)
    assert quoted.status_code == 201, quoted.json
    assert quoted.headers["Location"] == f"/api/v1/quotes/{quoted.json['id']}"


def test_the_document_lists_the_location_of_what_is_created(client):
    document = client.get("/api/openapi.json").json
    for path, operation_id in (("/api/v1/journeys", "postJourneys"),
                               ("/api/v1/quotes/{quote_id}/checkout", "postQuoteCheckout")):
        operation = document["paths"][path]["post"]
        assert operation["operationId"] == operation_id
        assert "Location" in operation["responses"]["201"]["headers"], path
