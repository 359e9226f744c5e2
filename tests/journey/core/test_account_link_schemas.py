"""The account links' API (journey/core/accounts/invitations_api.py) checks and
documents what its services check: a new password's length, a name of more than white
space, a JSON boolean for whether an account is active; and its throttled operations
document the 429 they can answer, with Retry-After."""

from __future__ import annotations

import re

import pytest

from journey.core.accounts import tokens
from journey.core.accounts.models import Role, TokenPurpose
from journey.core.accounts.services import MIN_PASSWORD_LENGTH, password_problem
from journey.core.extensions import db


@pytest.fixture
def document(client):
    return client.get("/api/openapi.json").json


@pytest.fixture
def team(make):
    clinic = make.member()
    manager = make.user(Role.MEMBER_MANAGER, clinic)
    return {"clinic": clinic, "manager": make.token(manager),
            "staff": make.user(Role.MEMBER_STAFF, clinic)}


def _fields(response) -> dict:
    return response.json["errors"]["json"]


# --- a new password is as long as a registration's ---------------------------------------

def test_the_document_gives_a_new_password_the_registrations_length(document):
    schemas = document["components"]["schemas"]
    assert schemas["SetPassword"]["properties"]["password"]["minLength"] == \
        schemas["Register"]["properties"]["password"]["minLength"] == MIN_PASSWORD_LENGTH


def test_the_document_states_the_password_rule_the_api_applies(document):
    for name in ("Register", "SetPassword"):
        rule = document["components"]["schemas"][name]["properties"]["password"]
        never = rule["not"]["anyOf"]
        for password, allowed in [("min hund heter Fido", True), ("a-brand-new-pw", True),
                                  ("  abc   def  ", False), ("x" * 12, False),
                                  ("1234567890", False)]:
            by_document = (len(password) >= rule["minLength"]
                           and re.search(rule["pattern"], password) is not None
                           and re.search(never[0]["pattern"], password) is None
                           and password not in never[1]["enum"])
            assert by_document is allowed is (password_problem(password) is None), password


def test_a_short_password_is_refused_by_the_schema_and_keeps_the_link(client, make):
    user = make.user()
    record = tokens.issue(user, TokenPurpose.PASSWORD_RESET, mail_kind="password_reset")
    db.session.commit()
    raw = tokens.raw_token(record)
    short = client.post("/api/v1/auth/passwords",
                        json={"token": raw, "password": "x" * (MIN_PASSWORD_LENGTH - 1)})
    assert short.status_code == 422
    assert "error" not in short.json  # the document's own rule, not the domain's
    assert _fields(short)["password"] == [f"Use at least {MIN_PASSWORD_LENGTH} characters."]
    used = client.post("/api/v1/auth/passwords",
                       json={"token": raw, "password": "xyzw" * (MIN_PASSWORD_LENGTH // 4 + 1)})
    assert used.status_code == 200, used.json


# --- an invited person has a name --------------------------------------------------------

@pytest.mark.parametrize("name", [" ", "  \t\n "])
def test_a_blank_name_is_refused_before_anyone_is_invited(client, team, name):
    refused = client.post(f"/api/v1/auth/members/{team['clinic'].id}/staff",
                          headers=team["manager"],
                          json={"email": "nina@example.com", "full_name": name})
    assert refused.status_code == 422
    assert "error" not in refused.json
    assert _fields(refused)["full_name"] == ["Give the person's name."]


def test_the_document_refuses_a_blank_name_as_member_names_do(client, team, document):
    schemas = document["components"]["schemas"]
    name = schemas["InviteStaff"]["properties"]["full_name"]
    assert name["pattern"] == schemas["MemberProfile"]["properties"]["name"]["pattern"]
    assert not re.search(name["pattern"], "   ") and re.search(name["pattern"], " Nina ")
    invited = client.post(f"/api/v1/auth/members/{team['clinic'].id}/staff",
                          headers=team["manager"],
                          json={"email": "nina@example.com", "full_name": " Nina New "})
    assert invited.status_code == 201, invited.json
    assert invited.json["full_name"] == "Nina New"


# --- active is a JSON boolean -------------------------------------------------------------

@pytest.mark.parametrize("active", [0, 1, "true", "false", "yes", None])
def test_active_is_true_or_false_only(client, team, active):
    refused = client.patch(f"/api/v1/auth/staff/{team['staff'].id}",
                           headers=team["manager"], json={"active": active})
    assert refused.status_code == 422, refused.json
    assert "active" in _fields(refused)
    db.session.expire_all()
    assert team["staff"].active is True


def test_active_false_deactivates(client, team, document):
    assert document["components"]["schemas"]["StaffChange"]["properties"]["active"] == {
        "type": "boolean"}
    changed = client.patch(f"/api/v1/auth/staff/{team['staff'].id}",
                           headers=team["manager"], json={"active": False})
    assert changed.status_code == 200, changed.json
    assert changed.json["active"] is False


# --- the throttled operations document their 429 ------------------------------------------

THROTTLED = (("/api/v1/auth/tokens", "post"), ("/api/v1/auth/password-resets", "post"),
             ("/api/v1/auth/me/email-verification", "post"))


def test_each_throttled_operation_documents_429_with_retry_after(document):
    answer = document["components"]["responses"]["TooManyRequests"]
    assert answer["content"]["application/json"]["schema"] == {
        "$ref": "#/components/schemas/Error"}
    assert answer["headers"]["Retry-After"]["required"] is True
    assert answer["headers"]["Retry-After"]["schema"]["type"] == "integer"
    for path, method in THROTTLED:
        assert document["paths"][path][method]["responses"]["429"] == {
            "$ref": "#/components/responses/TooManyRequests"}, path


def test_asking_for_links_past_the_limit_is_answered_as_documented(client, make):
    patient = make.token(make.user())
    for path, body, headers in (
            ("/api/v1/auth/password-resets", {"email": "someone@example.com"}, {}),
            ("/api/v1/auth/me/email-verification", None, patient)):
        statuses = [client.post(path, json=body, headers=headers) for _n in range(4)]
        assert [r.status_code for r in statuses] == [202, 202, 202, 429], path
        refused = statuses[-1]
        assert int(refused.headers["Retry-After"]) > 0
        assert {"code", "status", "message"} <= set(refused.json)


def test_registering_with_a_blank_name_is_refused(client):
    response = client.post("/api/v1/auth/register", json={
        "email": "blank@test.example", "password": "correct-horse-battery",
        "full_name": "   "})
    assert response.status_code == 422
    assert "full_name" in response.json["errors"]["json"]
