"""The journey's calendar (RFC 5545): items as all-day events, tasks and travel at the
local time of their place with the zone's VTIMEZONE, each reader's share of it, and the
private subscription address that works without signing in until it is revoked."""

from __future__ import annotations

import time as clock
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from icalendar import Calendar

from journey.builder.services import journeys
from journey.core.errors import Forbidden, NotFound
from journey.core.extensions import db
from journey.trip.models import CalendarToken, LegDirection, TaskKind, TaskStatus
from journey.trip.services import calendar, tasks, travel
from tests.booking_fixtures import confirmed_booking
from tests.journey.builder_world import build_world, soon

VILNIUS = ZoneInfo("Europe/Vilnius")


def _parse(content: bytes) -> Calendar:
    return Calendar.from_ical(content)


def _by_summary(parsed: Calendar, text: str):
    return next(e for e in parsed.events if text in str(e.get("SUMMARY")))


@pytest.fixture
def booked(world, gateway):
    """A confirmed booking (a room for ten nights from day 10, a surgery on day 12) and
    an arrival at 14:30 in Vilnius on day 10, which makes the pick-up task."""
    confirmed_booking(world, gateway)
    journey = journeys.list_journeys(world["patient"])[0][0]
    travel.set_leg(world["patient"], journey.id, LegDirection.ARRIVAL, mode="flight",
                   place="Vilnius Airport (VNO)", number="LH 886", carrier="Lufthansa",
                   local_time=datetime.combine(soon(10), time(14, 30)),
                   timezone="Europe/Vilnius")
    db.session.commit()
    return journey


def test_the_calendar_has_an_event_per_item_task_and_leg(booked, world):
    journey = booked
    rows = tasks.journey_task_rows(journey.id)
    content = calendar.calendar_for(world["patient"], journey.id)
    parsed = _parse(content)
    assert parsed.get("VERSION") == "2.0" and "One Window" in str(parsed.get("PRODID"))
    assert str(parsed.get("X-WR-CALNAME")) == f"One Window — journey {journey.id}"
    assert len(parsed.events) == len(journey.items) + len(rows) + 1 == 4
    uids = {str(e.get("UID")) for e in parsed.events}
    assert {f"journey-{journey.id}-item-{item.id}@onewindow" for item in journey.items} <= uids
    assert f"journey-{journey.id}-leg-arrival@onewindow" in uids
    assert all(e.get("DTSTAMP") is not None for e in parsed.events)


def test_the_pickup_is_at_the_local_time_of_its_place_with_its_zone(booked, world):
    journey = booked
    content = calendar.calendar_for(world["patient"], journey.id)
    parsed = _parse(content)
    pickup = _by_summary(parsed, "Pick-up on arrival")
    start = pickup.start
    assert isinstance(start, datetime) and str(start.tzinfo) == "Europe/Vilnius"
    assert start.replace(tzinfo=None) == datetime.combine(soon(10), time(14, 30))
    assert pickup.end - pickup.start == timedelta(minutes=30)
    assert str(pickup.get("LOCATION")) == "Vilnius Airport (VNO)"
    stamp = soon(10).strftime("%Y%m%d")
    assert f"DTSTART;TZID=Europe/Vilnius:{stamp}T143000".encode() in content
    assert [tz.tz_name for tz in parsed.timezones] == ["Europe/Vilnius"]
    assert parsed.get_missing_tzids() == set()
    arrival = _by_summary(parsed, "Arrival")
    assert "LH 886" in str(arrival.get("SUMMARY"))
    assert arrival.start == datetime.combine(soon(10), time(14, 30), tzinfo=VILNIUS)


def test_nights_end_on_the_checkout_day_and_days_after_the_last(booked, world):
    journey = booked
    parsed = _parse(calendar.calendar_for(world["patient"], journey.id))
    room = _by_summary(parsed, "Double room")
    assert str(room.get("SUMMARY")) == "Double room — Hotel Tilto"
    assert (room.start, room.end) == (soon(10), soon(20))  # ten nights, out on day 20
    assert not isinstance(room.start, datetime)  # all-day: VALUE=DATE
    assert str(room.get("LOCATION")) == "Hotel Tilto, Vilnius"
    surgery = _by_summary(parsed, "Knee replacement")
    assert (surgery.start, surgery.end) == (soon(12), soon(13))


def test_a_cancelled_task_leaves_the_calendar(booked, world):
    journey = booked
    pickup = next(t for t in tasks.journey_task_rows(journey.id)
                  if t.kind == TaskKind.AIRPORT_PICKUP)
    tasks.set_task_status(world["coordinator"], pickup.id, TaskStatus.CANCELLED)
    parsed = _parse(calendar.calendar_for(world["coordinator"], journey.id))
    assert not [e for e in parsed.events if "Pick-up" in str(e.get("SUMMARY"))]
    assert len(parsed.events) == 3


def test_a_member_that_supplies_a_line_sees_only_its_own(booked, world):
    journey = booked
    parsed = _parse(calendar.calendar_for(world["hotel_staff"], journey.id))
    assert [str(e.get("SUMMARY")) for e in parsed.events] == ["Double room — Hotel Tilto"]
    assert parsed.timezones == []  # no timed event, no zone
    with pytest.raises(NotFound):
        calendar.calendar_for(world["other_staff"], journey.id)
    with pytest.raises(NotFound):
        calendar.calendar_for(world["patient2"], journey.id)


def test_the_subscription_is_the_patients_view_in_the_journeys_language(booked, world):
    journey = booked
    journey.language = "de"
    raw = calendar.issue_calendar_token(world["patient"], journey.id)
    stored = db.session.query(CalendarToken).filter_by(journey_id=journey.id).one()
    assert raw.startswith("owc_") and raw not in stored.token_hash  # only its hash
    parsed = _parse(calendar.calendar_by_token(raw))
    assert len(parsed.events) == 4
    assert "Doppelzimmer — Hotel Tilto" in [str(e.get("SUMMARY")) for e in parsed.events]
    with pytest.raises(Forbidden):  # a member on it, not composing it
        calendar.issue_calendar_token(world["hotel_staff"], journey.id)
    newer = calendar.issue_calendar_token(world["coordinator"], journey.id)
    with pytest.raises(NotFound):  # the newer address revokes the older
        calendar.calendar_by_token(raw)
    assert calendar.calendar_by_token(newer)
    assert calendar.revoke_calendar_tokens(world["patient"], journey.id) == 1
    for token in (newer, None, "", "owc_" + "x" * 43, "not-a-token"):
        with pytest.raises(NotFound):
            calendar.calendar_by_token(token)


def test_the_api_downloads_it_and_the_address_works_without_signing_in(
        booked, world, client, make):
    journey_id = booked.id
    patient = make.token(world["patient"])
    url = f"/api/v1/journeys/{journey_id}/calendar.ics"
    assert client.get(url).status_code == 401
    answer = client.get(url, headers=patient)
    assert answer.status_code == 200
    assert answer.mimetype == "text/calendar"
    assert answer.headers["Content-Disposition"].startswith("attachment;")
    assert len(_parse(answer.data).events) == 4
    hotel = client.get(url, headers=make.token(world["hotel_staff"]))
    assert len(_parse(hotel.data).events) == 1

    subscription = f"/api/v1/journeys/{journey_id}/calendar-subscription"
    assert client.post(subscription).status_code == 401
    assert client.post(subscription, headers=make.token(world["hotel_staff"])).status_code \
        == 403
    created = client.post(subscription, headers=patient)
    assert created.status_code == 201
    feed = created.json["url"]
    assert feed.startswith("http://localhost/calendar/owc_") and feed.endswith(".ics")
    fetched = client.get(feed)  # no Authorization, no cookie
    assert fetched.status_code == 200
    assert fetched.headers["Content-Type"] == "text/calendar; charset=utf-8"
    assert fetched.headers["Cache-Control"] == "private, no-store"
    assert len(_parse(fetched.data).events) == 4
    assert client.delete(subscription, headers=patient).status_code == 204
    assert client.get(feed).status_code == 404
    assert client.get("/calendar/owc_" + "A" * 43 + ".ics").status_code == 404
    assert client.get("/calendar/made-up.ics").status_code == 404


def test_a_ten_line_journey_is_drawn_in_well_under_two_seconds(make):
    world = build_world(make)
    patient = world["patient"]
    journey = journeys.open_journey(patient, arrival_on=soon(10), departure_on=soon(40),
                                    currency="EUR")
    offers = ("room", "room2", "surgery", "rehab", "dental")
    for n in range(10):
        journeys.add_item(patient, journey.id, offer_id=world[offers[n % 5]].id,
                          start_on=soon(10 + 2 * n), days=2)
    for n in range(10):
        tasks.add_task(world["coordinator"], journey.id, kind=TaskKind.OTHER,
                       title=f"Task {n}", timezone="Europe/Vilnius" if n % 2 else "Asia/Tokyo",
                       local_time=datetime.combine(soon(10 + n), time(9, 0)))
    db.session.commit()
    started = clock.perf_counter()
    content = calendar.calendar_for(patient, journey.id)
    elapsed = clock.perf_counter() - started
    parsed = _parse(content)
    assert len(parsed.events) == 20
    assert {tz.tz_name for tz in parsed.timezones} == {"Europe/Vilnius", "Asia/Tokyo"}
    assert elapsed < 2.0, elapsed
    assert isinstance(_by_summary(parsed, "Task 0").start, datetime)
    assert _by_summary(parsed, "Task 0").start.hour == 9
    assert isinstance(parsed.events[0].start, date)
