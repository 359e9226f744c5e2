"""The request edge reads no more than it needs: a bearer token and its account in
one SELECT, and the reader's language kept from then, so that writing the answer's
Content-Language after the commit does not load the account again."""

from __future__ import annotations

import pytest
from sqlalchemy import event

from journey.core.extensions import db


@pytest.fixture
def statements(app):
    seen: list[str] = []

    def record(_conn, _cursor, statement, *_args):
        seen.append(" ".join(statement.split()))

    event.listen(db.engine, "before_cursor_execute", record)
    yield seen
    event.remove(db.engine, "before_cursor_execute", record)


def _reads_of_accounts(statements: list[str]) -> list[str]:
    return [s for s in statements if s.startswith("SELECT") and "FROM user_account" in s
            or "JOIN user_account" in s]


def test_a_token_and_its_account_are_one_select(client, make, statements):
    patient = make.user(locale="nb")
    headers = make.token(patient)
    statements.clear()
    response = client.get("/api/v1/journeys", headers=headers)
    assert response.status_code == 200
    reads = _reads_of_accounts(statements)
    assert len(reads) == 1 and "api_token" in reads[0], reads


def test_a_write_answers_in_the_readers_language_without_reloading_them(
        client, make, statements):
    patient = make.user(locale="nb")
    headers = make.token(patient)
    statements.clear()
    response = client.post("/api/v1/journeys",
                           headers={**headers, "Idempotency-Key": "edge-key-0001"},
                           json={"currency": "EUR", "nationality": "DE"})
    assert response.status_code == 201, response.get_json()
    assert response.headers["Content-Language"].startswith("nb")
    assert len(_reads_of_accounts(statements)) == 1, _reads_of_accounts(statements)
    # and a refusal is worded in it
    refused = client.post("/api/v1/journeys",
                          headers={**headers, "Idempotency-Key": "edge-key-0002"},
                          json={"currency": "EUR", "nationality": "XX"})
    assert refused.status_code == 422
    assert refused.headers["Content-Language"].startswith("nb")
