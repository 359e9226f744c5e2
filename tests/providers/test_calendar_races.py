"""Two staff of one member writing its capacity calendar at once, each request in its own
thread, app context, session and connection, released together by a barrier."""

import pytest

from journey.core.accounts.models import Role
from journey.core.extensions import db
from providers.models import CapacityDay
from tests.http_races import race
from tests.journey.builder_world import soon

pytestmark = pytest.mark.commits  # threads at once, each with its own connection

ROUNDS = 6


def _put(url, headers, json):
    return lambda client: client.put(url, json=json, headers=headers)


def test_two_staff_opening_the_same_new_days_at_once_both_succeed(app, make):
    """Days that have no row yet: the second writer overwrites the first, as on days that
    have one, instead of a bare 409 from the primary key."""
    member = make.member(name="Hotel Tilto", kind="hotel", city="Vilnius")
    offer = make.offer(member)
    heads = [make.token(make.user(Role.MEMBER_STAFF, member)) for _ in range(2)]
    db.session.commit()
    offer_id, url = offer.id, f"/api/v1/offers/{offer.id}/calendar"
    for n in range(ROUNDS):
        first, last = soon(40 + 10 * n), soon(45 + 10 * n)
        body = {"start": first.isoformat(), "end": last.isoformat()}
        results = race(app, *[_put(url, h, {**body, "capacity": capacity})
                              for h, capacity in zip(heads, (3, 4), strict=True)])
        assert [code for code, _ in results] == [200, 200], (n, results)
        db.session.rollback()
        capacities = set(db.session.scalars(db.select(CapacityDay.capacity).where(
            CapacityDay.offer_id == offer_id, CapacityDay.day.between(first, last))))
        assert capacities in ({3}, {4}), (n, capacities)
