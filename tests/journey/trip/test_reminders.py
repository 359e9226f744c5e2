"""Reminders before the trip: a week, two days and a day before the arrival, each once
per journey, only the stage that is due, none after a cancellation; the e-mail names the
local arrival time and the pick-up, and carries the calendar."""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from icalendar import Calendar
from sqlalchemy import select

from bookings.models import Notification
from bookings.services import cancellation
from journey import mail
from journey.builder.services import journeys
from journey.core.extensions import db
from journey.trip.models import LegDirection
from journey.trip.services import reminders, travel
from tests.booking_fixtures import confirmed_booking
from tests.journey.builder_world import soon

VILNIUS = ZoneInfo("Europe/Vilnius")


class Outbox:
    def __init__(self):
        self.sent = []

    def send(self, message):
        self.sent.append(message)


@pytest.fixture
def trip(world, gateway):
    booking = confirmed_booking(world, gateway)
    journey = journeys.list_journeys(world["patient"])[0][0]
    travel.set_leg(world["patient"], journey.id, LegDirection.ARRIVAL, mode="flight",
                   number="LH 886", place="Vilnius Airport (VNO)",
                   local_time=datetime.combine(soon(10), time(14, 30)),
                   timezone="Europe/Vilnius")
    db.session.commit()
    arrival = datetime.combine(soon(10), time(14, 30), tzinfo=VILNIUS).astimezone(UTC)
    return booking, journey, arrival


def _kinds() -> list[str]:
    return list(db.session.scalars(select(Notification.kind).where(
        Notification.kind.like("trip_reminder%")).order_by(Notification.id)))


def test_each_stage_once_and_only_the_one_that_is_due(trip):
    _booking, _journey, arrival = trip
    assert reminders.queue_reminders(now=arrival - timedelta(days=8)) == 0
    assert reminders.queue_reminders(now=arrival - timedelta(days=6)) == 1
    assert reminders.queue_reminders(now=arrival - timedelta(days=6)) == 0  # run twice
    # The job was down for days: only the day-before reminder goes, not the 48 hours.
    assert reminders.queue_reminders(now=arrival - timedelta(hours=10)) == 1
    assert reminders.queue_reminders(now=arrival + timedelta(hours=1)) == 0
    assert _kinds() == ["trip_reminder_7d", "trip_reminder_24h"]


def test_none_after_a_cancellation(trip, world, gateway):
    booking, _journey, arrival = trip
    cancellation.cancel_booking(world["patient"], booking.id, reason="", gateway=gateway)
    db.session.commit()
    assert reminders.queue_reminders(now=arrival - timedelta(hours=30)) == 0
    assert _kinds() == []


def test_the_email_names_the_local_time_the_pickup_and_carries_the_calendar(trip, world):
    _booking, journey, arrival = trip
    world["patient"].locale = "de"
    reminders.queue_reminders(now=arrival - timedelta(hours=40))
    db.session.commit()
    outbox = Outbox()
    mail.send_outbox(transport=outbox)
    assert not db.session.scalars(select(Notification.last_error).where(
        Notification.last_error != "")).all()
    message = next(m for m in outbox.sent if m.is_multipart())  # the one with the calendar
    assert message["Content-Language"] == "de"
    body = message.get_body(("plain",)).get_content()
    assert "14:30" in body and "Vilnius Airport (VNO)" in body
    attachment = next(message.iter_attachments())
    assert attachment.get_content_type() == "text/calendar"
    calendar = Calendar.from_ical(attachment.get_content())
    assert any(str(e.get("SUMMARY", "")) for e in calendar.walk("VEVENT"))
