"""A PATCH changes something (journey/core/api.py): a body that names no field is
refused (422, in the caller's language) on every PATCH the API has, instead of a silent
no-op, and the document says so once for all of them (``minProperties: 1``)."""

import pytest
from flask_babel import force_locale, gettext

from journey.core.accounts.models import Role
from tests.journey.builder_world import build_world, soon

NOTHING = "Nothing to change: give at least one field."


@pytest.fixture
def document(client):
    return client.get("/api/openapi.json").json


def _patches(document):
    for path, item in document["paths"].items():
        if "patch" in item:
            parameters = [*item.get("parameters", []), *item["patch"].get("parameters", [])]
            yield path, item["patch"], [p for p in parameters if p["in"] == "path"]


def _filled(path: str, parameters) -> str:
    """The path with an id of 1 (or the example, or a language) in each parameter: an
    empty body is refused before anything is looked up."""
    for parameter in parameters:
        schema = parameter.get("schema", {})
        value = "1" if schema.get("type") == "integer" else schema.get("example", "en")
        path = path.replace("{" + parameter["name"] + "}", str(value))
    return path


def test_the_document_says_every_patch_names_a_field(document):
    patches = list(_patches(document))
    assert len(patches) >= 8
    for path, operation, _parameters in patches:
        body = operation["requestBody"]
        schema = body["content"]["application/json"]["schema"]
        assert body["required"] is True, path
        assert schema["minProperties"] == 1, path
        assert schema["allOf"][0]["$ref"].startswith("#/components/schemas/"), path
    # The component stays as it was: an answer may share it.
    assert "minProperties" not in document["components"]["schemas"]["ClusterSettings"]


def test_every_patch_refuses_an_empty_body(client, make, document):
    clinic = make.member()
    tokens = {role.value: make.token(make.user(role, clinic if role.is_member else None))
              for role in Role if role != Role.ADMIN}
    tokens[Role.ADMIN.value] = make.token(make.admin())
    for path, operation, parameters in _patches(document):
        allowed = operation.get("x-roles") or [Role.ADMIN.value]
        who = Role.ADMIN.value if Role.ADMIN.value in allowed else allowed[0]
        refused = client.patch(_filled(path, parameters), json={}, headers=tokens[who])
        assert refused.status_code == 422, (path, refused.json)
        assert refused.json["message"] == NOTHING, path


@pytest.fixture
def trip(client, make):
    world = build_world(make)
    patient = make.token(world["patient"])
    journey = client.post("/api/v1/journeys", json={"currency": "EUR"}, headers=patient)
    assert journey.status_code == 201, journey.json
    item = client.post(f"/api/v1/journeys/{journey.json['id']}/items", headers=patient, json={
        "offer_id": world["room"].id, "start_on": soon(10).isoformat(), "days": 4})
    assert item.status_code == 201, item.json
    return {"patient": patient, "admin": make.token(world["admin"]),
            "journey": f"/api/v1/journeys/{journey.json['id']}",
            "item": f"/api/v1/journeys/{journey.json['id']}/items/{item.json['id']}",
            "offer": f"/api/v1/offers/{world['room'].id}",
            "staff": f"/api/v1/auth/staff/{world['clinic_staff'].id}"}


@pytest.mark.parametrize("target, who, change", [
    ("journey", "patient", {"adults": 2}), ("item", "patient", {"days": 5}),
    ("offer", "admin", {"max_quantity": 4}), ("staff", "admin", {"active": False})])
def test_one_field_is_enough(client, trip, target, who, change):
    assert client.patch(trip[target], json={}, headers=trip[who]).status_code == 422
    changed = client.patch(trip[target], json=change, headers=trip[who])
    assert changed.status_code == 200, changed.json
    assert {key: changed.json[key] for key in change} == change


def test_the_refusal_is_in_the_callers_language(app, client, trip):
    refused = client.patch(trip["offer"] + "?lang=de", json={}, headers=trip["admin"])
    assert refused.status_code == 422
    with app.test_request_context(), force_locale("de"):
        assert refused.json["message"] == gettext(NOTHING) != NOTHING


def test_the_role_and_the_json_come_first(client, make, trip):
    assert client.patch("/api/v1/cluster-settings", json={},
                        headers=trip["patient"]).status_code == 403
    assert client.patch("/api/v1/cluster-settings", json={}).status_code == 401
    bad = client.patch(trip["offer"], data=b"{", content_type="application/json",
                       headers=trip["admin"])
    assert bad.status_code == 400
