"""A bearer token's ``last_used_at``: written once per five minutes of use, by requests
that succeed and by requests that fail, never holding a request up; on PostgreSQL
with the request's own commit."""

import time
from datetime import timedelta

import pytest
from sqlalchemy import event, select, text
from sqlalchemy.exc import OperationalError

from journey.core.accounts.models import ApiToken
from journey.core.accounts.services import TOKEN_TOUCH_INTERVAL
from journey.core.extensions import db
from journey.core.types import utcnow

pytestmark = pytest.mark.commits  # the token's row is locked from a second connection


def _last_used(app):
    with app.app_context():
        return db.session.scalars(select(ApiToken.last_used_at)).one()


def _set_last_used(app, when):
    with app.app_context():
        db.session.execute(ApiToken.__table__.update().values(last_used_at=when))
        db.session.commit()


def test_a_successful_request_records_the_token_s_use(app, client, make):
    headers = make.token(make.user())
    assert _last_used(app) is None
    before = utcnow()
    assert client.get("/api/v1/auth/me", headers=headers).status_code == 200
    used = _last_used(app)
    assert used is not None and before <= used <= utcnow()


def test_a_refused_request_records_it_too(app, client, make):
    headers = make.token(make.user())
    response = client.post("/api/v1/journeys", json={"adults": "many"}, headers=headers)
    assert response.status_code == 422
    assert _last_used(app) is not None


def test_within_five_minutes_the_use_is_not_written_again(app, client, make):
    headers = make.token(make.user())
    recent = utcnow() - TOKEN_TOUCH_INTERVAL + timedelta(minutes=1)
    _set_last_used(app, recent)
    assert client.get("/api/v1/auth/me", headers=headers).status_code == 200
    assert _last_used(app) == recent
    stale = utcnow() - TOKEN_TOUCH_INTERVAL - timedelta(minutes=1)
    _set_last_used(app, stale)
    assert client.get("/api/v1/auth/me", headers=headers).status_code == 200
    assert _last_used(app) > stale


def test_on_postgresql_the_use_goes_with_the_request_s_commit(app, client, make):
    """The UPDATE of the token is written in the request's transaction, before its
    COMMIT, rather than in a transaction of its own after the request."""
    if db.engine.dialect.name != "postgresql":
        pytest.skip("SQLite writes the use in its own transaction after the request")
    headers = make.token(make.user())
    with app.app_context():
        engine = db.engine
    events = []
    def record(conn, cursor, statement, *args):
        events.append(statement.split(None, 2)[:2])
    def commit(conn):
        events.append(["COMMIT"])
    event.listen(engine, "before_cursor_execute", record)
    event.listen(engine, "commit", commit)
    try:
        assert client.get("/api/v1/auth/me", headers=headers).status_code == 200
    finally:
        event.remove(engine, "before_cursor_execute", record)
        event.remove(engine, "commit", commit)
    assert events.index(["UPDATE", "api_token"]) < events.index(["COMMIT"]), events
    assert events.count(["UPDATE", "api_token"]) == 1
    assert events.count(["COMMIT"]) == 1, events
    assert _last_used(app) is not None


def test_a_locked_token_row_does_not_hold_the_request_up(app, client, make):
    """Another transaction holding the token's row: the request answers at once (no
    wait for the lock, no 503) and the use is left to the holder."""
    headers = make.token(make.user())
    with app.app_context(), db.engine.connect() as blocker:
        if db.engine.dialect.name == "sqlite":
            pytest.skip("SQLite has no row locks; its writers queue for the database")
        blocker.execute(text("BEGIN"))
        blocker.execute(text("SELECT id FROM api_token FOR UPDATE"))
        started = time.monotonic()
        response = client.get("/api/v1/auth/me", headers=headers)
        elapsed = time.monotonic() - started
        blocker.rollback()
    assert response.status_code == 200
    assert elapsed < app.config["DB_LOCK_TIMEOUT_SECONDS"] / 2


def test_a_commit_that_fails_leaves_the_use_to_be_written_after_the_request(app, client,
                                                                              make):
    """The request's commit fails after the token's UPDATE (a 503 here): the UPDATE is
    rolled back with it, and the use is written after the request all the same."""
    headers = make.token(make.user())

    def fail(session):
        raise OperationalError("COMMIT", {}, Exception("database is locked"))

    with app.app_context():
        session = db.session
    event.listen(session, "before_commit", fail)
    try:
        response = client.get("/api/v1/auth/me", headers=headers)
    finally:
        event.remove(session, "before_commit", fail)
    assert response.status_code == 503
    assert _last_used(app) is not None
