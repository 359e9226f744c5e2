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


def test_answers_are_the_json_flask_s_own_encoder_writes(app):
    """orjson writes the answers; parsed, each is what Flask's encoder writes (dates as
    HTTP dates, decimals and UUIDs as text, dataclasses, lazily translated strings,
    keys that are not text, text outside ASCII), its keys sorted as Flask sorts them;
    an integer beyond 64 bits goes to Flask's encoder."""
    import json
    import uuid
    from dataclasses import dataclass
    from datetime import UTC, date, datetime
    from decimal import Decimal

    from flask.json.provider import DefaultJSONProvider
    from flask_babel import lazy_gettext

    @dataclass
    class Point:
        x: int
        label: str

    body = {"when": datetime(2026, 12, 7, 9, 30, tzinfo=UTC), "day": date(2026, 12, 7),
            "rate": Decimal("11.7000000000"), "id": uuid.UUID(int=7),
            "point": Point(1, "Ålesund"), "label": lazy_gettext("Not found."),
            "by_id": {3: "c", 1: "a"}, "text": "مرحبا – Tromsø", "list": [1.5, None, True],
            "z": 0, "a": {"b": [], "A": {}}}
    flask = DefaultJSONProvider(app)
    with app.test_request_context("/"):
        ours = app.json.response(body)
        theirs = flask.response(body)
        assert json.loads(ours.get_data()) == json.loads(theirs.get_data())
        assert ours.get_data().decode().startswith('{"a":{"A":{},"b":[]},"by_id":{"1":"a"')
        assert ours.get_data().endswith(b"\n") and ours.mimetype == "application/json"
        huge = {"n": 2 ** 70}
        assert json.loads(app.json.response(huge).get_data()) == huge
