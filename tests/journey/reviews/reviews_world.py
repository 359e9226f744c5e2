"""A completed journey (a room at Hotel Tilto and a knee surgery at Neris Clinic, both
confirmed), built through the services, and helpers of the reviews tests."""

from __future__ import annotations

from sqlalchemy import func, select

from bookings.models import Notification
from bookings.services import cancellation
from journey.builder.models import JourneyStatus
from journey.builder.services import journeys
from journey.core.accounts.models import Role
from journey.core.extensions import api, csrf, db
from journey.pages import reviews as pages
from journey.reviews.api import blp
from journey.reviews.models import Review
from journey.trip.services import progress
from tests.booking_fixtures import confirmed_booking
from tests.journey.trip_clock import begun, over


def ensure_registered(app) -> None:
    """The reviews API and pages on the test app, until ``create_app`` registers them
    (then this does nothing)."""
    if "reviews_pages" in app.blueprints:
        return
    started = app._got_first_request
    app._got_first_request = False
    try:
        api.register_blueprint(blp, url_prefix="/api/v1")
        csrf.exempt(blp)
        app.register_blueprint(pages.bp)
    finally:
        app._got_first_request = started


def completed_world(world, gateway, make, *, complete: bool = True, cancel_room=None):
    """``world`` with the patient's journey confirmed, travelling and (``complete``)
    completed; ``cancel_room``: the actor who cancels the room line first."""
    booking = confirmed_booking(world, gateway)
    journey = journeys.list_journeys(world["patient"])[0][0]
    world["room_line"] = next(line for line in booking.lines
                              if line.offer_id == world["room"].id)
    if cancel_room is not None:
        cancellation.cancel_line(world[cancel_room], world["room_line"].id, reason="Changed",
                                 gateway=gateway)
    progress.set_progress(world["coordinator"], journey.id, JourneyStatus.IN_PROGRESS,
                          now=begun(journey))
    if complete:
        progress.set_progress(world["coordinator"], journey.id, JourneyStatus.COMPLETED,
                              now=over(journey))
    db.session.commit()
    world["booking"], world["journey"] = booking, journey
    world["clinic_manager"] = make.user(Role.MEMBER_MANAGER, world["clinic"])
    return world


def count(model, *where) -> int:
    return db.session.scalar(select(func.count()).select_from(model).where(*where))


def mails(kind: str) -> list[Notification]:
    return list(db.session.scalars(select(Notification).where(Notification.kind == kind)
                                   .order_by(Notification.id)))


def reviews_of(journey_id: int) -> list[Review]:
    db.session.expire_all()
    return list(db.session.scalars(select(Review).where(Review.journey_id == journey_id)
                                   .order_by(Review.id)))


GOOD = {"overall": 5, "ratings": {"care": 5, "communication": 4}, "text": "Excellent care.",
        "language": "en"}
