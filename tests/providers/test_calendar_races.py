"""Two staff of one member writing its capacity calendar at once, each request in its own
thread, app context, session and connection, released together by a barrier."""

import threading
from datetime import timedelta

import pytest
from sqlalchemy.exc import OperationalError

from bookings.services.availability import Line
from bookings.services.holds import place_holds
from journey.core.accounts.models import Role, User
from journey.core.errors import Busy, Conflict
from journey.core.extensions import db
from providers.models import CapacityDay
from providers.services import offers
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



def _lower_against_hold(app, offer_id: int, admin_id: int, day, key: str) -> dict:
    """Lower ``day`` to 1 and hold 2 units of it, in two threads released together;
    returns how each ended: done, refused (409) or busy."""
    results, barrier = {}, threading.Barrier(2)

    def lower():
        actor = db.session.get(User, admin_id)
        offers.set_capacity(actor, offer_id, start=day, end=day, capacity=1)

    def hold():
        place_holds([Line(offer_id, day, 1, 2)], group_key=key, ttl=timedelta(minutes=30))

    def run(name, step):
        with app.app_context():
            barrier.wait()
            try:
                step()
                db.session.commit()
                results[name] = "done"
            except Conflict:
                db.session.rollback()
                results[name] = "refused"
            except (Busy, OperationalError):  # the request edge answers 503 busy
                db.session.rollback()
                results[name] = "busy"

    threads = [threading.Thread(target=run, args=(name, step))
               for name, step in (("lower", lower), ("hold", hold))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    return results


def test_a_capacity_lowered_while_units_are_held_is_never_below_them(app, make):
    """A member lowers a day from 3 to 1 while a checkout holds 2 units of it, released
    together: either the hold comes first and the lowering is refused (409: units in
    use) or the lowering comes first and the hold finds no room; never both."""
    member = make.member(name="Pines Sanatorium", kind="sanatorium", city="Vilnius")
    offer = make.offer(member, capacity=3, days=10)
    admin = make.admin()
    db.session.commit()
    offer_id, admin_id = offer.id, admin.id
    for n in range(ROUNDS):
        day = soon(2 + n)
        results = _lower_against_hold(app, offer_id, admin_id, day, f"checkout-{n}")
        assert len(results) == 2 and set(results.values()) <= {"done", "refused", "busy"}
        assert list(results.values()).count("done") <= 1, (n, results)
        db.session.rollback()
        capacity, used = db.session.execute(db.select(CapacityDay.capacity, CapacityDay.used)
                                            .where(CapacityDay.offer_id == offer_id,
                                                   CapacityDay.day == day)).one()
        assert used <= capacity, (n, results, capacity, used)
