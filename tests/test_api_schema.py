"""Property-based test of the whole API against its own OpenAPI document (schemathesis):
no 5xx, and every response matches the schema it documents. Bounded so CI stays fast.

Each operation is its own test (listed at collection time from the document, which
needs no database), run as an admin against the suite's database."""

import contextvars

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import response_schema_conformance

from journey.app import create_app
from journey.core.extensions import db

MAX_EXAMPLES = 25
_SPEC_APP = create_app({"SQLALCHEMY_DATABASE_URI": "sqlite://", "TESTING": True})
with _SPEC_APP.app_context():  # requests read the cluster's languages
    db.create_all()
LABELS = [result.ok().label for result in
          schemathesis.openapi.from_wsgi("/api/openapi.json", _SPEC_APP).get_all_operations()]


def test_every_operation_is_covered():
    assert len(LABELS) >= 30
    assert "GET /api/v1/offers" in LABELS


@pytest.mark.parametrize("label", LABELS)
def test_operation_never_fails_and_keeps_its_schema(app, make, label):
    member = make.member(name="Schema Clinic")  # some generated ids point at real rows
    make.offer(member, capacity=2, days=5)
    headers = make.token(make.admin())
    operation = schemathesis.openapi.from_wsgi("/api/openapi.json", app
                                               ).find_operation_by_label(label)

    @given(case=operation.as_strategy())
    @settings(max_examples=MAX_EXAMPLES, deadline=None, derandomize=True, database=None,
              suppress_health_check=list(HealthCheck))
    def check(case):
        # Each call in its own context, so it gets its own app context and database
        # session, as a real request does (see IsolatedClient in conftest).
        contextvars.Context().run(case.call_and_validate, headers=headers,
                                  checks=[not_a_server_error, response_schema_conformance])

    check()
