"""Two coordinators acting on one thread at once, each request in its own thread, app
context, session and connection, released together by a barrier."""

import pytest

from journey.core.accounts.models import Role
from journey.core.extensions import db
from journey.messages.models import ThreadMember
from journey.messages.services import threads
from tests.http_races import race
from tests.journey.case.case_world import case_world

pytestmark = pytest.mark.commits  # threads at once, each with its own connection

ROUNDS = 4


def test_two_coordinators_adding_the_same_member_at_once_both_succeed(app, make):
    """As adding a member already there does: no bare 409 from the key."""
    world = case_world(make)
    heads = [make.token(world["coordinator"]),
             make.token(make.user(Role.COORDINATOR, full_name="Second Coordinator"))]
    db.session.commit()
    hotel_id, clinic_id = world["hotel"].id, world["clinic"].id
    for n in range(ROUNDS):
        thread = threads.open_thread(world["patient"], world["journey_id"], "Arrival",
                                     "Who meets me at the airport?", [clinic_id])
        db.session.commit()
        thread_id, url = thread.id, f"/api/v1/threads/{thread.id}/members"
        results = race(app, *[
            (lambda client, h=h, url=url: client.post(url, json={"provider_id": hotel_id},
                                                     headers=h))
            for h in heads])
        assert [code for code, _ in results] == [200, 200], (n, results)
        assert all(sorted(body["provider_ids"]) == sorted([clinic_id, hotel_id])
                   for _, body in results), results
        db.session.rollback()
        assert sorted(db.session.scalars(db.select(ThreadMember.provider_id).where(
            ThreadMember.thread_id == thread_id))) == sorted([clinic_id, hotel_id])
