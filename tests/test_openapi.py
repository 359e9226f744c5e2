"""What the OpenAPI document promises, read as a client reads it (the behaviour behind it
is held to it by tests/test_api_schema.py)."""

import re

import pytest

from journey.app import create_app
from journey.core.extensions import db


@pytest.fixture(scope="module")
def document():
    app = create_app({"SQLALCHEMY_DATABASE_URI": "sqlite://", "TESTING": True})
    with app.app_context():  # the answer reads the cluster's languages
        db.create_all()
        return app.test_client().get("/api/openapi.json").get_json()


def _operations(document):
    for path, item in document["paths"].items():
        for method, operation in item.items():
            if method in ("get", "post", "put", "patch", "delete"):
                yield method, path, operation


def _reference(prop: dict) -> str | None:
    """The component a property is (``$ref``, or its one ``allOf``)."""
    if "$ref" in prop:
        return prop["$ref"]
    if len(prop.get("allOf", [])) == 1:
        return prop["allOf"][0].get("$ref")
    return None


def test_every_operation_is_named_once(document):
    ids = [operation["operationId"] for _method, _path, operation in _operations(document)]
    assert len(ids) >= 80
    assert len(set(ids)) == len(ids)
    assert {"postJourneys", "getJourneyItem", "postQuoteCheckout", "getBookingOne"} <= set(ids)


def test_every_operation_lists_the_errors_it_can_give(document):
    """With the one error schema; no catch-all ``default``."""
    for method, path, operation in _operations(document):
        codes = set(operation["responses"])
        label = f"{method.upper()} {path}"
        assert "default" not in codes, label
        assert "401" in codes, label  # a bad bearer token is refused everywhere
        if operation.get("security"):
            assert "403" in codes, label
        if "{" in path:
            assert "404" in codes, label
        if "requestBody" in operation:
            assert {"400", "413"} <= codes, label
            # A body is checked against its schema (422); the webhook's refusal is 400.
            assert "422" in codes or path == "/api/v1/stripe/webhook", label
        if method != "get":
            assert {"409", "503"} <= codes, label
        for code in codes - {"200", "201", "202", "204"}:
            assert operation["responses"][code]["$ref"].startswith("#/components/responses/")
    for response in document["components"]["responses"].values():
        assert response["content"]["application/json"]["schema"] == {
            "$ref": "#/components/schemas/Error"}
    error = document["components"]["schemas"]["Error"]
    assert error["required"] == ["code", "status", "message"]
    assert set(error["properties"]) == {"code", "status", "error", "message", "errors"}
    assert "Retry-After" in document["components"]["responses"]["ServiceUnavailable"]["headers"]


def test_login_documents_its_throttle(document):
    assert "429" in document["paths"]["/api/v1/auth/tokens"]["post"]["responses"]


def test_operations_for_some_roles_say_which(document):
    paths = document["paths"]
    assert paths["/api/v1/cluster-settings"]["patch"]["x-roles"] == ["admin"]
    assert paths["/api/v1/escalations"]["get"]["x-roles"] == ["coordinator", "admin"]
    assert "Roles: `admin`." in paths["/api/v1/exchange-rates"]["post"]["description"]
    assert "x-roles" not in paths["/api/v1/journeys"]["post"]  # every signed-in caller


def test_bodies_say_whether_they_are_required(document):
    paths = document["paths"]
    for path, method in (("/api/v1/templates", "post"), ("/api/v1/journeys", "post"),
                         ("/api/v1/journeys/{journey_id}", "patch"),
                         ("/api/v1/offers/{offer_id}", "patch"),
                         ("/api/v1/cluster-settings", "patch")):
        assert paths[path][method]["requestBody"]["required"] is True, path
    for path in ("/api/v1/journeys/{journey_id}/plan", "/api/v1/journeys/{journey_id}/cancel",
                 "/api/v1/quotes/{quote_id}/checkout", "/api/v1/bookings/{booking_id}/cancel"):
        assert paths[path]["post"]["requestBody"]["required"] is False, path
    assert "requestBody" not in paths["/api/v1/bookings/{booking_id}/payouts"]["post"]


def test_the_servers_rules_are_in_the_schemas(document):
    schemas = document["components"]["schemas"]
    assert schemas["Register"]["properties"]["password"]["minLength"] == 10
    currency = schemas["CurrencyCode"]["pattern"]
    assert re.fullmatch(currency, "EUR") and re.fullmatch(currency, "nok")
    assert not re.fullmatch(currency, "XYZ")
    assert re.fullmatch(schemas["LanguageCode"]["pattern"], "pt-BR")
    assert re.fullmatch(schemas["CountryCode"]["pattern"], "LT")
    assert re.fullmatch(schemas["TimeZone"]["pattern"], "Europe/Vilnius")
    profile = schemas["JourneyProfile"]["properties"]
    assert profile["currency"] == {"$ref": "#/components/schemas/CurrencyCode"}
    assert profile["nationality"]["allOf"] == [{"$ref": "#/components/schemas/CountryCode"}]
    dates = re.compile(profile["arrival_on"]["pattern"])
    assert dates.fullmatch("2000-01-01") and not dates.fullmatch("1999-12-31")
    assert not dates.fullmatch("2021-02-29") and dates.fullmatch("2024-02-29")
    assert "After `arrival_on`" in profile["departure_on"]["description"]
    texts = schemas["TemplateIn"]["properties"]["texts"]
    assert (texts["minProperties"], texts["maxProperties"]) == (1, 30)
    name = schemas["MemberProfile"]["properties"]["name"]["pattern"]
    assert re.search(name, " Spa ") and not re.search(name, "   ")
    assert not re.search(schemas["Login"]["properties"]["name"]["pattern"], "a\x00")


def test_money_is_one_schema(document):
    money = document["components"]["schemas"]["Money"]
    assert money["required"] == ["amount_minor", "currency"]
    assert money["properties"]["amount_minor"]["type"] == "integer"
    schemas = document["components"]["schemas"]
    for schema, field in (("Quote", "total"), ("Quote", "due_now"), ("BookingOut", "total"),
                          ("PaymentOut", "captured"), ("QuoteLine", "unit_price"),
                          ("Offer", "base_price")):
        assert _reference(schemas[schema]["properties"][field]) == \
            "#/components/schemas/Money", (schema, field)
    price = schemas["SearchHit"]["properties"]["price"]
    assert _reference(price) == "#/components/schemas/Money" and price["nullable"]


def test_the_webhook_documents_its_header_body_and_refusal(document):
    webhook = document["paths"]["/api/v1/stripe/webhook"]["post"]
    header = next(p for p in webhook["parameters"] if p["name"] == "Stripe-Signature")
    assert header["in"] == "header" and header["required"] is True
    event = webhook["requestBody"]["content"]["application/json"]["schema"]
    assert webhook["requestBody"]["required"] is True
    assert event["required"] == ["id", "type", "data"]
    assert "400" in webhook["responses"] and "security" not in webhook


def test_links_lead_from_what_is_created_to_what_comes_next(document):
    by_id = {operation["operationId"]: (path, operation)
             for _method, path, operation in _operations(document)}
    expected = {
        "postRegister": {"postTokens"},
        "postJourneys": {"getJourneyItem", "patchJourneyItem", "postJourneyItems",
                         "postJourneyQuotes"},
        "postJourneyItems": {"patchJourneyItemDetail", "deleteJourneyItemDetail"},
        "postJourneyQuotes": {"getQuoteItem", "postQuoteAccept", "postQuoteCheckout"},
        "postQuoteCheckout": {"getBookingOne", "postBookingCancel"},
        "postMembers": {"getMember", "patchMember"},
        "postMemberOffers": {"getOfferItem", "patchOfferItem", "deleteOfferItem"},
        "postTemplates": {"getTemplateItem", "patchTemplateItem"},
    }
    for source, targets in expected.items():
        _path, operation = by_id[source]
        created = next(code for code in ("201", "200") if code in operation["responses"])
        links = operation["responses"][created]["links"]
        assert targets <= {link["operationId"] for link in links.values()}, source
    for source, (_path, operation) in by_id.items():  # every link leads somewhere real
        for answer in operation["responses"].values():
            for link in answer.get("links", {}).values():
                target_path, target = by_id[link["operationId"]]
                names = {p["name"] for p in document["paths"][target_path].get(
                    "parameters", [])} | {p["name"] for p in target.get("parameters", [])}
                assert set(link.get("parameters", {})) <= names, (source, link)


def test_the_planner_reads_the_journeys_name_for_the_treatment_start(document):
    plan = document["components"]["schemas"]["PlanIn"]["properties"]
    assert "treatment_start_on" in plan
    assert plan["treatment_start"]["deprecated"] is True


def test_registering_says_how_to_go_on(document):
    register = document["paths"]["/api/v1/auth/register"]["post"]
    assert "issue_token" in document["components"]["schemas"]["Register"]["properties"]
    assert "token" in document["components"]["schemas"]["Registered"]["properties"]
    assert register["responses"]["201"]["links"]["login"]["operationId"] == "postTokens"


def test_every_reference_resolves(document):
    """A client generator follows every ``$ref``: none may point at a component the
    document does not define."""
    import json
    referenced = set(re.findall(r'"#/components/([a-zA-Z]+)/([^"]+)"', json.dumps(document)))
    missing = sorted(f"{kind}/{name}" for kind, name in referenced
                     if name not in document["components"].get(kind, {}))
    assert missing == []
