"""The coordinators' board looks a month ahead (configurable) and flags what needs a
coordinator: confirmed journeys nobody coordinates, tasks due soon that nobody has."""

from __future__ import annotations

from datetime import datetime, time, timedelta

from journey.builder.services import journeys
from journey.core.extensions import db
from journey.trip.models import LegDirection
from journey.trip.services import attention, tasks, travel
from tests.booking_fixtures import confirmed_booking
from tests.journey.builder_world import soon
from tests.journey.pages.patient_fixtures import text
from tests.journey.pages.portal_fixtures import login


def test_the_board_flags_and_looks_a_month_ahead(client, world, gateway, app, monkeypatch):
    # The pick-up, due on the third day from now at 9:00, is "soon" (within the 72 hours
    # the board flags) only after 9:00 of today: with the window a day longer, at any
    # hour (the test failed between midnight and 9:00 in Vilnius).
    monkeypatch.setattr(attention, "SOON", attention.SOON + timedelta(days=1))
    confirmed_booking(world, gateway)
    journey = journeys.list_journeys(world["patient"])[0][0]
    travel.set_leg(world["patient"], journey.id, LegDirection.ARRIVAL, mode="flight",
                   place="Vilnius Airport (VNO)", timezone="Europe/Vilnius",
                   local_time=datetime.combine(soon(3), time(9, 0)))
    db.session.commit()
    login(client, world["coordinator"])
    html = text(client.get("/coordinator/"))
    assert "No coordinator" in html and "Nobody assigned" in html
    assert world["patient"].full_name in html  # the arrival on day 10 is within 30 days
    journeys.assign_coordinator(world["coordinator"], journey.id, world["coordinator"].id)
    pickup = tasks.journey_task_rows(journey.id)[0]
    tasks.assign_task(world["coordinator"], pickup.id, world["coordinator"].id)
    db.session.commit()
    html = text(client.get("/coordinator/"))
    assert "No coordinator" not in html and "Nobody assigned" not in html
    monkeypatch.setitem(app.config, "BOARD_HORIZON_DAYS", 5)
    html = text(client.get("/coordinator/"))
    assert "Nobody arrives or leaves in the next 5 days." in html
