"""A lock that cannot be had in a few seconds is "busy, try again" (503), not a 500,
and the refused request writes nothing."""

import time

import pytest
from sqlalchemy import text

from journey.core.extensions import db
from providers.models import Offer

pytestmark = pytest.mark.commits  # holds a lock from a second connection


def test_a_held_lock_becomes_503_busy(app, client, make):
    offer = make.offer()
    headers = make.token(make.admin())
    offer_id = offer.id
    with app.app_context(), db.engine.connect() as blocker:
        if db.engine.dialect.name == "sqlite":
            blocker.exec_driver_sql("BEGIN IMMEDIATE")
        else:
            blocker.execute(text("BEGIN"))
            blocker.execute(text("SELECT id FROM offer WHERE id = :id FOR UPDATE"),
                            {"id": offer_id})
        started = time.monotonic()
        response = client.patch(f"/api/v1/offers/{offer_id}",
                                json={"base_price_minor": 1}, headers=headers)
        elapsed = time.monotonic() - started
        blocker.rollback()
    assert response.status_code == 503, response.json
    assert response.json["error"] == "busy"
    assert response.headers["Retry-After"] == "1"
    assert elapsed < app.config["DB_LOCK_TIMEOUT_SECONDS"] + 3
    with app.app_context():
        assert db.session.get(Offer, offer_id).base_price_minor == 100000
    # Once the lock is gone the same request goes through.
    again = client.patch(f"/api/v1/offers/{offer_id}", json={"base_price_minor": 1},
                         headers=headers)
    assert again.status_code == 200


def test_a_deadlock_is_busy_too(app, make):
    """PostgreSQL breaks a deadlock by rolling one transaction back ("deadlock
    detected", SQLSTATE 40P01): that request is "busy, try again" like a lock timeout,
    not a 500. The error is made for real, two connections locking two rows in
    opposite orders, and handed to the request edge's test."""
    import threading

    from sqlalchemy.exc import OperationalError

    from journey.app import is_lock_error

    first, second = make.offer().id, make.offer().id
    with app.app_context():
        if db.engine.dialect.name == "sqlite":
            pytest.skip("SQLite has no row locks: its writers queue, they never deadlock")
        engine = db.engine  # (the threads have no application context)
        caught: list[OperationalError] = []
        both = threading.Barrier(2)

        def take(one: int, other: int) -> None:
            with engine.connect() as conn:
                try:
                    conn.execute(text("SET LOCAL lock_timeout = '10s'"))
                    conn.execute(text("SELECT id FROM offer WHERE id = :id FOR UPDATE"),
                                 {"id": one})
                    both.wait()
                    conn.execute(text("SELECT id FROM offer WHERE id = :id FOR UPDATE"),
                                 {"id": other})
                except OperationalError as error:
                    caught.append(error)
                finally:
                    conn.rollback()

        threads = [threading.Thread(target=take, args=pair)
                   for pair in ((first, second), (second, first))]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(30)
    [error] = caught  # PostgreSQL chose one of the two
    assert "deadlock" in str(error.orig).lower()
    assert is_lock_error(error)
