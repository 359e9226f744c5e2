"""The API's shared edge (journey/core/api.py): a required body is required, roles are
checked before anything is read, a URL that names no operation answers for itself, and
the fields whose rules the document states refuse what it refuses."""

import re
from datetime import date, timedelta

import pytest
from flask_babel import force_locale, gettext

from journey.builder.models import PackageTemplate
from journey.core.accounts.models import Role
from journey.core.api import date_pattern
from journey.core.extensions import db
from journey.core.validation import EARLIEST_DATE, latest_date

SOON = (date.today() + timedelta(days=20)).isoformat()
MISSING = "Send JSON with Content-Type: application/json."


@pytest.fixture
def h(make):
    member = make.member()
    offer = make.offer(member)
    return {"patient": make.token(make.user(Role.PATIENT)),
            "coordinator": make.token(make.user(Role.COORDINATOR)),
            "admin": make.token(make.admin()), "offer": offer.id}


def _journey(client, headers) -> int:
    response = client.post("/api/v1/journeys", json={"currency": "EUR"}, headers=headers)
    assert response.status_code == 201, response.json
    return response.json["id"]


@pytest.mark.parametrize("how", [
    {}, {"data": b"", "content_type": "application/json"},
    {"data": b"texts=x", "content_type": "application/x-www-form-urlencoded"}])
def test_a_required_body_must_be_sent(app, client, h, how):
    response = client.post("/api/v1/templates", headers=h["coordinator"], **how)
    assert response.status_code == 422, response.json
    assert response.json["message"] == MISSING
    with app.app_context():
        assert db.session.scalar(db.select(db.func.count(PackageTemplate.id))) == 0


def test_the_missing_body_is_said_in_the_callers_language(app, client, h):
    response = client.patch("/api/v1/cluster-settings?lang=de", headers=h["admin"])
    assert response.status_code == 422
    with app.test_request_context(), force_locale("de"):
        assert response.json["message"] == gettext(MISSING) != MISSING


def test_every_body_the_issue_named_is_required(client, h):
    journey = _journey(client, h["patient"])
    for method, path, who in (("post", "/api/v1/journeys", "patient"),
                              ("patch", f"/api/v1/journeys/{journey}", "patient"),
                              ("patch", f"/api/v1/offers/{h['offer']}", "admin"),
                              ("patch", "/api/v1/cluster-settings", "admin")):
        response = getattr(client, method)(path, headers=h[who])
        assert response.status_code == 422, (path, response.json)


def test_an_optional_body_may_be_left_out(client, h):
    journey = _journey(client, h["patient"])
    cancelled = client.post(f"/api/v1/journeys/{journey}/cancel", headers=h["patient"])
    assert cancelled.status_code == 200, cancelled.json
    assert cancelled.json["status"] == "cancelled"


def test_the_role_is_checked_before_the_body(client, h):
    bad = {"deposit_percent": "lots", "unknown": 1}
    refused = client.patch("/api/v1/cluster-settings", json=bad, headers=h["patient"])
    assert refused.status_code == 403
    assert refused.json["message"] == "Only a cluster admin may do this."
    assert client.patch("/api/v1/cluster-settings", json=bad).status_code == 401
    assert client.patch("/api/v1/cluster-settings", json=bad,
                        headers=h["admin"]).status_code == 422
    assert client.post("/api/v1/escalations/1/resolve", json={"note": 5},
                       headers=h["patient"]).status_code == 403


def test_a_url_without_an_operation_answers_before_the_token_is_read(client):
    bad_token = {"Authorization": "Bearer ow_not-a-token"}
    traced = client.open("/api/v1/members/1", method="TRACE", headers=bad_token)
    assert traced.status_code == 405
    assert "GET" in traced.headers["Allow"]
    assert client.get("/api/v1/nothing-here", headers=bad_token).status_code == 404
    assert client.get("/api/v1/members/1", headers=bad_token).status_code == 401


def test_a_nul_in_a_query_is_refused_with_its_field(client):
    response = client.get("/api/v1/members?city=Vil%00nius")
    assert response.status_code == 422
    assert "city" in response.json["errors"]["query"]


@pytest.mark.parametrize("body, field", [
    ({"currency": "Nok"}, "currency"),  # upper or lower case, as the document says
    ({"nationality": "XX"}, "nationality"),
    ({"language": "klingon"}, "language"),
    ({"adults": True}, "adults"),
])
def test_codes_and_types_are_refused_as_documented(client, h, body, field):
    response = client.post("/api/v1/journeys", json=body, headers=h["patient"])
    assert response.status_code == 422, response.json
    assert field in response.json["errors"]["json"]


def test_codes_are_read_in_their_documented_spellings(client, h):
    response = client.post("/api/v1/journeys", json={
        "currency": "nok", "nationality": "no", "language": "pt-BR"}, headers=h["patient"])
    assert response.status_code == 201, response.json
    assert (response.json["currency"], response.json["nationality"],
            response.json["language"]) == ("NOK", "NO", "pt_BR")


@pytest.mark.parametrize("field, value", [
    ("requires_consultation", 1), ("requires_consultation", "true"),
    ("base_price_minor", "100"),
])
def test_json_types_are_strict(client, h, field, value):
    response = client.patch(f"/api/v1/offers/{h['offer']}", json={field: value},
                            headers=h["admin"])
    assert response.status_code == 422 and field in response.json["errors"]["json"]


def test_a_decimal_travels_as_a_string_of_its_documented_spelling(client, h):
    for rate in (1.5, "1e3", "0.00000000001", "-2"):
        response = client.post("/api/v1/exchange-rates", headers=h["admin"], json={
            "base": "EUR", "quote": "NOK", "rate": rate, "effective_on": SOON})
        assert response.status_code == 422, (rate, response.json)
    created = client.post("/api/v1/exchange-rates", headers=h["admin"], json={
        "base": "EUR", "quote": "NOK", "rate": "11.7", "effective_on": SOON})
    assert created.status_code == 201 and created.json["rate"] == "11.7000000000"


@pytest.mark.parametrize("key", ["short", "ünicode-key-1", " padded-key "])
def test_an_idempotency_key_is_printable_ascii_of_8_to_200(client, h, key):
    """Refused where it was sent: among the headers (it was said to be a field of the
    JSON body, which has none of that name)."""
    response = client.post("/api/v1/journeys", json={"currency": "EUR"},
                           headers={**h["patient"], "Idempotency-Key": key})
    assert response.status_code == 422
    assert list(response.json["errors"]) == ["headers"], response.json
    assert "Idempotency-Key" in response.json["errors"]["headers"]


def test_a_missing_idempotency_key_is_refused_among_the_headers(client, h):
    response = client.post("/api/v1/quotes/1/checkout", json={}, headers=h["patient"])
    assert response.status_code == 422, response.json
    assert response.json["errors"] == {"headers": {"Idempotency-Key": [
        "Send an Idempotency-Key header of 8 to 200 characters."]}}


def test_the_date_pattern_is_exactly_the_window():
    last = latest_date()
    pattern = re.compile(date_pattern(EARLIEST_DATE, last))
    day = EARLIEST_DATE - timedelta(days=3)
    while day <= last + timedelta(days=3):
        assert bool(pattern.fullmatch(day.isoformat())) == (EARLIEST_DATE <= day <= last), day
        day += timedelta(days=1)
    assert not pattern.fullmatch("2001-02-29") and not pattern.fullmatch("2010-13-01")


@pytest.mark.parametrize("body, field", [({"foo": 1}, "foo"), ([], "_schema")])
def test_schema_level_messages_are_in_the_callers_language(app, client, h, body, field):
    """"Unknown field." and "Invalid input type." come from the schema, not a field:
    marshmallow raises them unformatted, and they were left in English."""
    answer = client.post("/api/v1/journeys", json=body,
                         headers={**h["patient"], "Accept-Language": "nb"})
    assert answer.status_code == 422
    message = answer.json["errors"]["json"][field][0]
    english = "Unknown field." if field == "foo" else "Invalid input type."
    with app.test_request_context(), force_locale("nb"):
        assert message == gettext(english) != english


def test_a_date_is_written_as_the_document_says(client, h):
    """``YYYY-MM-DD``: the basic ISO form Python also reads (``20270201``) is refused,
    as the documented pattern refuses it."""
    for spelling, status in (("20270201", 422), ("2027-02-01", 201)):
        answer = client.post("/api/v1/journeys", headers=h["patient"],
                             json={"currency": "EUR", "arrival_on": spelling})
        assert answer.status_code == status, (spelling, answer.json)


def test_a_refused_query_field_is_filed_under_query(client):
    answer = client.get("/api/v1/offers?start=2027-03-10&end=2027-03-01")
    assert answer.status_code == 422
    assert set(answer.json["errors"]) == {"query"}, answer.json


def test_an_unknown_query_parameter_is_refused_like_an_unknown_field(client, h):
    """A misspelt filter must not answer as if there were none."""
    answer = client.get("/api/v1/offers?citty=Oslo&lang=nb")
    assert answer.status_code == 422
    assert answer.json["errors"] == {"query": {"citty": ["Ukjent felt."]}}
    members = client.get("/api/v1/members?lang=de&kind=clinic&sort_by=name")
    assert members.status_code == 422
    assert members.json["errors"] == {"query": {"sort_by": ["Unbekanntes Feld."]}}


def test_the_interface_language_is_a_query_parameter_of_every_operation(client, h):
    """``lang`` chooses the answer's language wherever the operation has a query."""
    assert client.get("/api/v1/members?lang=nb&kind=clinic").status_code == 200
    refused = client.get("/api/v1/members?lang=ar&kind=castle")
    assert refused.status_code == 422 and refused.headers["Content-Language"] == "ar"
    assert client.get("/api/v1/offers?lang=ar&currency=EUR").status_code == 200


@pytest.mark.parametrize(("percent", "english"), [
    ("150", "This number is out of the allowed range or has too many decimals."),
    ("12.125", "This number is out of the allowed range or has too many decimals."),
    (12.5, 'Send this number as a JSON string, for example "{example}".'),
    ("abc", "Not a valid number."),
])
def test_a_refused_decimal_says_what_is_wrong_with_it(client, h, percent, english):
    """Every refusal of a decimal string was "Not a valid number.", also for a number out
    of its range, with a decimal too many, or sent as a JSON number."""
    response = client.put("/api/v1/commission-rates/treatment?lang=de",
                          json={"percent": percent}, headers=h["admin"])
    assert response.status_code == 422, response.json
    with force_locale("de"):
        expected = gettext(english).format(example="12.50")
    assert response.json["errors"]["json"]["percent"] == [expected]
    assert expected != english.format(example="12.50")
