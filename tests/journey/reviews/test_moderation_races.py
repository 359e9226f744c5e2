"""Two coordinators moderating one review at once, each request in its own thread, app
context, session and connection, released together by a barrier: one hides (or shows)
it, the other is told it is hidden already (or not hidden), and the log says it once."""

import pytest

from journey.core.accounts.models import Role
from journey.core.extensions import db
from journey.reviews.models import ModerationAction, ReviewModeration
from journey.reviews.services import moderation, reviews
from tests.http_races import race
from tests.journey.reviews.reviews_world import GOOD, completed_world

pytestmark = pytest.mark.commits  # threads at once, each with its own connection

ROUNDS = 3


def _logged(review_id, action) -> int:
    return db.session.scalar(db.select(db.func.count(ReviewModeration.id)).where(
        ReviewModeration.review_id == review_id, ReviewModeration.action == action))


def test_two_coordinators_hiding_or_showing_a_review_at_once_do_it_once(
        stripe_app, world, gateway, make):
    w = completed_world(world, gateway, make)
    review = reviews.submit_review(w["patient"], w["journey"].id, w["clinic"].id, GOOD)
    heads = [make.token(w["coordinator"]),
             make.token(make.user(Role.COORDINATOR, full_name="Second Coordinator"))]
    db.session.commit()
    review_id, url = review.id, f"/api/v1/reviews/{review.id}/hidden"
    for n in range(ROUNDS):
        results = race(stripe_app, *[
            (lambda client, h=h, reason=reason: client.put(
                url, json={"reason": reason, "note": "Twice"}, headers=h))
            for h, reason in zip(heads, ("insult", "off_topic"), strict=True)])
        assert sorted(code for code, _ in results) == [200, 409], (n, results)
        refused = next(body for code, body in results if code == 409)
        assert refused["error"] == moderation.AlreadyHidden.code, refused
        results = race(stripe_app, *[
            (lambda client, h=h: client.delete(url, headers=h)) for h in heads])
        assert sorted(code for code, _ in results) == [200, 409], (n, results)
        db.session.rollback()
        assert _logged(review_id, ModerationAction.HIDE) == n + 1
        assert _logged(review_id, ModerationAction.UNHIDE) == n + 1
