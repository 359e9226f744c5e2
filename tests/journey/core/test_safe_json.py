"""Bodies no handler should see are refused at the edge with a 4xx in the reader's
language: deep nesting, huge numbers, NUL and lone surrogates, oversized bodies."""

from __future__ import annotations

import pytest

from journey.core.accounts.models import User
from journey.core.extensions import db

ENDPOINTS = ["/api/v1/auth/register", "/api/v1/auth/tokens", "/api/v1/journeys"]

BODIES = {
    "deep nesting": "[" * 100_000 + "]" * 100_000,
    "deep objects": '{"a":' * 5_000 + "1" + "}" * 5_000,
    "a 5,000-digit integer": '{"full_name": "x", "n": ' + "9" * 5000 + "}",
    "a lone surrogate": '{"email": "a@b.example", "password": "long-enough-pw", '
                        '"full_name": "\\ud800"}',
    "a NUL": '{"email": "a@b.example", "password": "long-enough-pw", '
             '"full_name": "Ann\\u0000"}',
    "Infinity": '{"n": Infinity}',
    "a huge float": '{"n": 1e999}',
    "not UTF-8": b'{"full_name": "\xff"}',
    "broken": '{"email": ',
}


@pytest.mark.parametrize("path", ENDPOINTS)
@pytest.mark.parametrize("body", BODIES.values(), ids=BODIES.keys())
def test_a_body_beyond_the_limits_is_400_never_500(client, path, body):
    response = client.post(path, data=body, content_type="application/json")
    assert response.status_code in (400, 401), response.get_data(as_text=True)[:200]
    assert response.is_json and response.json["message"]


def test_the_refusal_is_in_the_readers_language(client):
    response = client.post("/api/v1/auth/register?lang=de", data=BODIES["a NUL"],
                           content_type="application/json")
    assert response.status_code == 400
    assert response.json["message"] == "Texte dürfen keine NUL-Zeichen enthalten."


def test_nothing_is_written(client, ctx):
    client.post("/api/v1/auth/register", data=BODIES["a lone surrogate"],
                content_type="application/json")
    assert db.session.scalar(db.select(db.func.count(User.id))) == 0


def test_an_oversized_body_is_413(client):
    response = client.post("/api/v1/auth/register", data="x" * (3 * 1024 * 1024),
                           content_type="application/json")
    assert response.status_code == 413


def test_ordinary_json_still_works(client):
    response = client.post("/api/v1/auth/register", json={
        "email": "new.patient@test.example", "password": "a-long-password",
        "full_name": "Nora Nilsen — “Norway” 🇳🇴"})
    assert response.status_code == 201, response.json
