"""Concurrent quote requests on one journey: versions stay unique and consecutive,
and a request that loses a race gets a clear 409/503, never a 500."""

import threading

import pytest

from journey.builder.models import Quote
from journey.builder.services import journeys
from journey.core.extensions import db
from tests.journey.builder_world import build_world, soon

pytestmark = pytest.mark.commits  # threads at once, each with its own connection


def test_concurrent_quotes_get_distinct_versions(app, client, make):
    world = build_world(make)
    journey = journeys.open_journey(world["patient"], arrival_on=soon(10),
                                    departure_on=soon(20), currency="EUR")
    journeys.add_item(world["patient"], journey.id, offer_id=world["room"].id,
                      start_on=soon(10), days=10)
    db.session.commit()
    headers = make.token(world["patient"])
    url = f"/api/v1/journeys/{journey.id}/quotes"
    journey_id = journey.id
    statuses, barrier = [], threading.Barrier(6)

    def request():
        barrier.wait()
        response = app.test_client().post(url, headers=headers)
        statuses.append(response.status_code)

    threads = [threading.Thread(target=request) for _ in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert len(statuses) == 6
    assert set(statuses) <= {201, 409, 503}, statuses
    assert statuses.count(201) >= 1, statuses  # someone gets a quote
    with app.app_context():
        versions = sorted(db.session.scalars(
            db.select(Quote.version).where(Quote.journey_id == journey_id)))
        assert versions == list(range(1, statuses.count(201) + 1))
        if db.engine.dialect.name == "postgresql":
            assert statuses == [201] * 6  # the row lock queues them
