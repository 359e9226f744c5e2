"""A booked journey ends with its booking: the journey alone is not cancelled while its
booking is on (its members would still expect the patient, the card stay charged)."""

import pytest

from bookings.models import Booking, BookingStatus
from bookings.services import cancellation
from journey.builder.models import JourneyStatus
from journey.builder.services import journeys
from journey.core.accounts.services import issue_token
from journey.core.extensions import db
from tests.booking_fixtures import confirmed_booking


@pytest.fixture
def world(stripe_app, make):
    from tests.journey.builder_world import build_world
    return build_world(make)


def test_a_booked_journey_is_cancelled_through_its_booking(world, gateway, client):
    booking = confirmed_booking(world, gateway)
    journey = journeys.list_journeys(world["patient"])[0][0]
    assert journey.status == JourneyStatus.CONFIRMED
    token = issue_token(world["coordinator"], name="test").token
    db.session.commit()
    refused = client.post(f"/api/v1/journeys/{journey.id}/cancel?lang=nb",
                          json={"reason": "called off"},
                          headers={"Authorization": f"Bearer {token}"})
    assert refused.status_code == 409
    assert f"Bestilling {booking.id}" in refused.get_json()["message"]
    db.session.expire_all()
    assert journey.status == JourneyStatus.CONFIRMED
    assert db.session.get(Booking, booking.id).status == BookingStatus.CONFIRMED
    # the way it ends: the booking, under its terms; the journey follows
    cancellation.cancel_booking(world["coordinator"], booking.id, reason="called off",
                                gateway=gateway)
    db.session.commit()
    assert journey.status == JourneyStatus.CANCELLED
