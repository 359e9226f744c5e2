"""How far a journey got is kept on it (``reached``), for the funnel: never back, not
undone by a cancellation, and the migration computes it from the history as the
transitions keep it; and the response times read as the requests were answered."""

from __future__ import annotations

import importlib.util
from datetime import timedelta
from pathlib import Path

from sqlalchemy import select, text, update

from bookings.models import Booking, BookingLine
from bookings.services import cancellation
from journey.builder.models import Journey, JourneyStatus
from journey.builder.services import journeys
from journey.core.extensions import db
from journey.core.types import utcnow
from journey.figures import dashboard as board
from journey.figures import services as figures
from tests.booking_fixtures import confirmed_booking
from tests.journey.builder_world import soon


def _filters() -> board.Filters:
    return board.Filters(figures.Period.last_days(30, today=utcnow().date()))


def _migration(number: str):
    path = next((Path(__file__).resolve().parents[3] / "migrations" / "versions")
                .glob(f"c2a1e00000{number}_*.py"))
    spec = importlib.util.spec_from_file_location(f"migration_{number}", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_a_journey_keeps_the_furthest_state_it_reached(world, gateway):
    confirmed_booking(world, gateway)
    paid = db.session.scalars(select(Journey)).one()
    assert paid.status == paid.reached == JourneyStatus.CONFIRMED
    draft = journeys.open_journey(world["patient2"], arrival_on=soon(20),
                                  departure_on=soon(22), currency="EUR", nationality="NO")
    assert draft.reached == JourneyStatus.DRAFT
    booking = db.session.scalars(select(Booking)).one()  # the journey follows it
    cancellation.cancel_booking(world["coordinator"], booking.id, reason="Changed plans",
                                gateway=gateway)
    db.session.commit()
    assert paid.status == JourneyStatus.CANCELLED and paid.reached == JourneyStatus.CONFIRMED

    steps = {s.step: s for s in board.funnel(world["admin"], _filters(), now=utcnow()).steps}
    assert [steps[name].journeys for name in ("journeys", "quoted", "accepted", "paid",
                                              "completed")] == [2, 1, 1, 1, 0]
    lost = board.funnel(world["admin"], _filters(), now=utcnow()).reasons
    assert lost["cancelled"] == 1

    # the migration's backfill finds the same from the transitions and the states
    kept = dict(db.session.execute(select(Journey.id, Journey.reached)).all())
    db.session.execute(update(Journey).values(reached=JourneyStatus.DRAFT))
    db.session.execute(text(_migration("13").backfill(db.session.get_bind().dialect.name)))
    db.session.expire_all()
    assert dict(db.session.execute(select(Journey.id, Journey.reached)).all()) == kept


def test_response_times_are_the_hours_each_member_took(world, gateway):
    booking = confirmed_booking(world, gateway)
    now = utcnow().replace(microsecond=0)
    took = {world["hotel"].id: 10, world["clinic"].id: 50}  # hours after the request
    sent = now - timedelta(hours=60)  # both answers in the past (in the period at any hour)
    for line in booking.lines:
        line.respond_by = sent + timedelta(hours=48)
        line.decided_at = sent + timedelta(hours=took[line.provider_id])
    db.session.commit()
    rows = {r.provider_id: r for r in board.response_times(world["admin"], _filters(),
                                                           response_hours=48)}
    assert {pid: (r.answered, r.median_hours, r.p90_hours, r.within_deadline)
            for pid, r in rows.items()} == {
        world["hotel"].id: (1, 10.0, 10.0, 1), world["clinic"].id: (1, 50.0, 50.0, 0)}
    assert rows[world["clinic"].id].name == world["clinic"].name
    assert db.session.scalar(select(BookingLine.id).where(
        BookingLine.decided_at.is_(None))) is None
