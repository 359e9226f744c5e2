"""The trip: travellers with scoped passport data, travel details, tasks that follow the
booked lines and the travel details, the agenda, and the journey's progress."""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest

from bookings.services import cancellation
from journey.builder.models import JourneyStatus
from journey.builder.services import journeys
from journey.core.errors import Conflict, Forbidden, InvalidInput, NotFound
from journey.core.extensions import db
from journey.core.types import today_in
from journey.trip.models import LegDirection, Task, TaskKind, TaskStatus
from journey.trip.services import progress, tasks, travel, travellers
from tests.booking_fixtures import confirmed_booking
from tests.journey.builder_world import build_world, soon
from tests.journey.trip_clock import begun, over

VILNIUS = ZoneInfo("Europe/Vilnius")


def _journey_of(world):
    return journeys.list_journeys(world["patient"])[0][0]


def _arrive(world, journey_id, hour=14, minute=30, day=10):
    return travel.set_leg(world["patient"], journey_id, LegDirection.ARRIVAL, mode="flight",
                          place="Vilnius Airport (VNO)", number="LH 886", carrier="Lufthansa",
                          local_time=datetime.combine(soon(day), time(hour, minute)),
                          timezone="Europe/Vilnius")


@pytest.fixture
def booked(world, gateway):
    booking = confirmed_booking(world, gateway)
    journey = _journey_of(world)
    _arrive(world, journey.id)
    travel.set_leg(world["patient"], journey.id, LegDirection.DEPARTURE, mode="flight",
                   place="Vilnius Airport (VNO)", number="LH 887",
                   local_time=datetime.combine(soon(20), time(11, 0)),
                   timezone="Europe/Vilnius")
    db.session.commit()
    return booking, journey


def test_the_arrival_and_departure_make_the_pickup_and_the_drop_off(booked):
    _booking, journey = booked
    found = {t.kind: t for t in tasks.journey_task_rows(journey.id)}
    pickup, dropoff = found[TaskKind.AIRPORT_PICKUP], found[TaskKind.AIRPORT_DROPOFF]
    assert pickup.due_at.astimezone(VILNIUS).replace(tzinfo=None) == datetime.combine(
        soon(10), time(14, 30))
    assert pickup.timezone == "Europe/Vilnius" and pickup.place == "Vilnius Airport (VNO)"
    assert dropoff.due_at.astimezone(VILNIUS).hour == 8  # three hours before the flight
    assert {t.status for t in found.values()} == {TaskStatus.OPEN}


def test_generating_again_adds_nothing_and_a_new_time_moves_the_task(booked, world):
    _booking, journey = booked
    before = [(t.id, t.source) for t in tasks.journey_task_rows(journey.id)]
    tasks.sync_tasks(journey)
    tasks.sync_tasks(journey)
    assert [(t.id, t.source) for t in tasks.journey_task_rows(journey.id)] == before
    _arrive(world, journey.id, hour=18, minute=5)
    pickup = next(t for t in tasks.journey_task_rows(journey.id)
                  if t.kind == TaskKind.AIRPORT_PICKUP)
    assert pickup.due_at.astimezone(VILNIUS).time() == time(18, 5)


def test_cancelling_the_booking_cancels_its_open_tasks_and_keeps_what_was_done(
        booked, world, gateway):
    booking, journey = booked
    rows = tasks.journey_task_rows(journey.id)
    tasks.set_task_status(world["coordinator"], rows[0].id, TaskStatus.DONE)
    cancellation.cancel_booking(world["patient"], booking.id, reason="", gateway=gateway)
    db.session.commit()
    statuses = {t.kind: t.status for t in tasks.journey_task_rows(journey.id)}
    assert statuses[rows[0].kind] == TaskStatus.DONE
    assert set(statuses.values()) == {TaskStatus.DONE, TaskStatus.CANCELLED}


def test_the_agenda_puts_the_overdue_first_and_filters(booked, world, make):
    _booking, journey = booked
    coordinator = world["coordinator"]
    start = datetime.now(UTC)
    manual = tasks.add_task(coordinator, journey.id, kind=TaskKind.OTHER, title="Flowers",
                            local_time=datetime.now(VILNIUS).replace(tzinfo=None)
                            - timedelta(hours=2), timezone="Europe/Vilnius")
    seen = tasks.agenda(coordinator, start=start, end=start + timedelta(days=30))
    assert seen[0].id == manual.id  # overdue first
    assert {t.kind for t in seen} >= {TaskKind.AIRPORT_PICKUP, TaskKind.AIRPORT_DROPOFF}
    pickup = next(t for t in seen if t.kind == TaskKind.AIRPORT_PICKUP)
    tasks.assign_task(coordinator, pickup.id, coordinator.id)
    mine = tasks.agenda(coordinator, start=start, end=start + timedelta(days=30), mine=True)
    assert [t.id for t in mine] == [pickup.id]
    free = tasks.agenda(coordinator, start=start, end=start + timedelta(days=30),
                        unassigned=True)
    assert pickup.id not in [t.id for t in free]
    with pytest.raises(InvalidInput):  # a hotel's staff cannot take a task of no line of theirs
        tasks.assign_task(coordinator, free[-1].id, world["hotel_staff"].id)
    hotel = tasks.agenda(world["hotel_staff"], start=start, end=start + timedelta(days=30))
    assert hotel == []
    with pytest.raises(NotFound):
        tasks.set_task_status(world["hotel_staff"], pickup.id, TaskStatus.DONE)


def test_a_task_moves_only_along_its_table(booked, world):
    _booking, journey = booked
    task = tasks.journey_task_rows(journey.id)[0]
    tasks.set_task_status(world["coordinator"], task.id, TaskStatus.NO_SHOW)
    for later in (TaskStatus.OPEN, TaskStatus.ASSIGNED, TaskStatus.DONE):
        with pytest.raises(tasks.IllegalTaskMove):
            tasks.move_task(task, later)
    assert task.status == TaskStatus.NO_SHOW


def test_the_journey_progresses_on_the_local_dates(booked):
    _booking, journey = booked
    assert journey.status == JourneyStatus.CONFIRMED
    eve = datetime.combine(soon(12) - timedelta(days=3), time(23, 0), tzinfo=VILNIUS)
    assert progress.advance_journeys(now=eve.astimezone(UTC)) == 0
    # The first line (the room) starts on day 10: 00:30 in Vilnius is still the 9th in UTC.
    first_day = datetime.combine(soon(10), time(0, 30), tzinfo=VILNIUS).astimezone(UTC)
    assert progress.advance_journeys(now=first_day) == 1
    assert journey.status == JourneyStatus.IN_PROGRESS
    after = datetime.combine(soon(21), time(0, 30), tzinfo=VILNIUS).astimezone(UTC)
    assert progress.advance_journeys(now=after) == 1
    assert journey.status == JourneyStatus.COMPLETED


def test_passport_data_reaches_only_the_members_whose_line_needs_it(make):
    world = build_world(make)
    excursion = make.offer(world["other"], chain_link="leisure", price_unit="stay",
                           capacity_unit="seat", duration_unit="days", capacity=5, days=60)
    journey = journeys.open_journey(world["patient"], arrival_on=soon(10),
                                    departure_on=soon(20), currency="EUR")
    journeys.add_item(world["patient"], journey.id, offer_id=world["room"].id,
                      start_on=soon(10), days=10)
    journeys.add_item(world["patient"], journey.id, offer_id=excursion.id, start_on=soon(12))
    travellers.save_traveller(world["patient"], journey.id, full_name="Ingrid Solberg",
                              nationality="NO", passport_number="NO1234567",
                              needs=["wheelchair"])
    travellers.save_traveller(world["patient"], journey.id, full_name="Ola Solberg",
                              relationship_to_patient="spouse")
    db.session.commit()
    hotel = travellers.list_travellers(world["hotel_staff"], journey.id)
    assert hotel[0].passport_number == "NO1234567" and hotel[0].is_patient
    guide = travellers.list_travellers(world["other_staff"], journey.id)
    assert [t.full_name for t in guide] == ["Ingrid Solberg", "Ola Solberg"]
    assert guide[0].passport_number is None and guide[0].nationality is None
    assert guide[0].needs == ["wheelchair"]
    with pytest.raises(Forbidden):
        travellers.save_traveller(world["hotel_staff"], journey.id, full_name="X")
    with pytest.raises(NotFound):
        travellers.list_travellers(world["patient2"], journey.id)
    with pytest.raises(InvalidInput):
        travellers.save_traveller(world["patient"], journey.id, full_name="Y",
                                  is_patient=True)


def test_every_wrong_field_of_a_traveller_is_told_at_once_and_nothing_is_written(make):
    """A form sent back should not hide its next mistake until the first is mended."""
    world = build_world(make)
    journey = journeys.open_journey(world["patient"], arrival_on=soon(10),
                                    departure_on=soon(20), currency="EUR")
    ingrid = travellers.save_traveller(world["patient"], journey.id,
                                       full_name="Ingrid Solberg")
    db.session.commit()
    with pytest.raises(InvalidInput) as refused:
        travellers.save_traveller(
            world["patient"], journey.id, ingrid.id, full_name="Ingrid Nordmann",
            nationality="XX", passport_number="N!", birth_date=soon(5),
            passport_expires_on=soon(0).replace(year=1990))
    assert set(refused.value.fields) == {"nationality", "passport_number", "birth_date",
                                         "passport_expires_on"}
    db.session.rollback()
    assert travellers.list_travellers(world["patient"], journey.id)[0].full_name == \
        "Ingrid Solberg"


def test_a_departure_before_the_arrival_is_refused(booked, world):
    _booking, journey = booked
    with pytest.raises(InvalidInput):
        travel.set_leg(world["patient"], journey.id, LegDirection.DEPARTURE, mode="train",
                       place="Vilnius station", timezone="Europe/Vilnius",
                       local_time=datetime.combine(soon(9), time(8, 0)))
    assert db.session.query(Task).count() >= 2


def test_a_task_a_coordinator_cancelled_stays_cancelled(booked, world):
    _booking, journey = booked
    pickup = next(t for t in tasks.journey_task_rows(journey.id)
                  if t.kind == TaskKind.AIRPORT_PICKUP)
    with pytest.raises((Forbidden, NotFound)):  # not the hotel's to cancel
        tasks.set_task_status(world["hotel_staff"], pickup.id, TaskStatus.CANCELLED)
    tasks.set_task_status(world["coordinator"], pickup.id, TaskStatus.CANCELLED,
                          note="They come by car")
    _arrive(world, journey.id, hour=16)  # the generator runs again
    assert db.session.get(Task, pickup.id).status == TaskStatus.CANCELLED


def test_a_passport_number_is_checked_by_the_service(make):
    world = build_world(make)
    journey = journeys.open_journey(world["patient"], currency="EUR")
    with pytest.raises(InvalidInput):
        travellers.save_traveller(world["patient"], journey.id, full_name="A",
                                  passport_number="x" * 41)


@pytest.fixture
def synced(monkeypatch) -> list[int]:
    """The ids of the journeys whose tasks the booking engine's moves sync, in order
    (the sync still runs)."""
    found = []
    real = progress.sync_tasks
    monkeypatch.setattr(progress, "sync_tasks",
                        lambda journey, **kw: (found.append(journey.id), real(journey, **kw)))
    return found


def test_a_line_confirmed_asks_for_no_new_tasks_and_a_line_declined_ends_its_own(
        world, gateway, make, synced):
    """The tasks follow the lines that are live (held, requested, confirmed): a member
    confirming a line changes none of them, so they are not generated again; a member
    declining one cancels the tasks it asked for."""
    from bookings.services import confirmation
    from journey.core.accounts.models import Role
    from tests.booking_fixtures import authorised_booking, knee_package, line_of

    booking = authorised_booking(world, gateway, template=knee_package(world))
    journey = _journey_of(world)
    rehab = line_of(booking, world["rehab"])
    handover = f"line:{rehab.id}:handover"
    assert {t.source: t.status for t in tasks.journey_task_rows(journey.id)}[handover] \
        == TaskStatus.OPEN
    synced.clear()  # what the set-up synced does not count
    confirmation.accept_line(world["hotel_staff"], line_of(booking, world["room"]).id,
                             gateway=gateway)
    assert synced == []
    confirmation.decline_line(make.user(Role.MEMBER_STAFF, world["sanatorium"]), rehab.id,
                              "No bed free then", gateway=gateway)
    db.session.commit()
    assert synced and set(synced) == {journey.id}
    statuses = {t.source: t.status for t in tasks.journey_task_rows(journey.id)}
    assert statuses[handover] == TaskStatus.CANCELLED


def test_a_booking_confirmed_after_its_authorisation_generates_no_tasks_again(
        world, gateway, synced):
    """Authorised, the journey is booked and its tasks made; confirmed (every member
    said yes, the deposit captured), it stays live and its lines too: the tasks are not
    generated again. Cancelled, they follow."""
    from bookings.services import confirmation
    from tests.booking_fixtures import authorised_booking, line_of

    booking = authorised_booking(world, gateway)
    journey = _journey_of(world)
    _arrive(world, journey.id)
    db.session.commit()
    before = [(t.id, t.source, t.status) for t in tasks.journey_task_rows(journey.id)]
    assert before
    synced.clear()  # what the set-up synced does not count
    confirmation.accept_line(world["hotel_staff"], line_of(booking, world["room"]).id,
                             gateway=gateway)
    confirmation.accept_line(world["clinic_staff"], line_of(booking, world["surgery"]).id,
                             gateway=gateway)
    db.session.refresh(journey)
    assert journey.status == JourneyStatus.CONFIRMED and synced == []
    assert [(t.id, t.source, t.status) for t in tasks.journey_task_rows(journey.id)] == before
    cancellation.cancel_booking(world["patient"], booking.id, reason="", gateway=gateway)
    db.session.commit()
    assert synced and set(synced) == {journey.id}
    assert {t.status for t in tasks.journey_task_rows(journey.id)} == {TaskStatus.CANCELLED}


def test_a_move_between_members_stays_asks_for_a_transfer_that_day(world, gateway, make):
    """The hotel's two nights, then the sanatorium's room, then its programme: one
    transfer, on the day the patient moves to the sanatorium (from the hotel to it),
    and the hand-over to the centre that day, not when its programme starts."""
    from journey.builder.services import templates
    from tests.booking_fixtures import authorised_booking, clinic_manager, line_of

    sanatorium_room = make.offer(world["sanatorium"], chain_link="accommodation",
                                 price_unit="night", capacity_unit="room",
                                 duration_unit="nights", base_price_minor=7000, capacity=5,
                                 days=90, texts={"en": {"title": "Sanatorium room"}})
    template = templates.create_template(
        clinic_manager(world), provider_id=world["clinic"].id, status="published",
        texts={"en": {"name": "Knee, then the sanatorium"}},
        links=[{"default_offer_id": world["room"].id, "day_offset": 0, "days": 3},
               {"default_offer_id": world["surgery"].id, "day_offset": 2},
               {"default_offer_id": sanatorium_room.id, "day_offset": 3, "days": 7},
               {"default_offer_id": world["rehab"].id, "day_offset": 5, "days": 3}])
    db.session.commit()
    booking = authorised_booking(world, gateway, template=template)
    journey = _journey_of(world)
    rows = {t.source: t for t in tasks.journey_task_rows(journey.id)}
    moved = line_of(booking, sanatorium_room)
    transfers = {source for source in rows if source.endswith(":transfer")}
    assert transfers == {f"line:{moved.id}:transfer"}
    transfer = rows[f"line:{moved.id}:transfer"]
    assert "Hotel Tilto" in transfer.place and "Pines Sanatorium" in transfer.place
    assert transfer.place.index("Hotel Tilto") < transfer.place.index("Pines Sanatorium")
    handover = rows[f"line:{line_of(booking, world['rehab']).id}:handover"]
    arrival = moved.start_on
    assert today_in(handover.timezone, now=handover.due_at) == arrival
    assert today_in(transfer.timezone, now=transfer.due_at) == arrival
    assert arrival == line_of(booking, world["rehab"]).start_on - timedelta(days=2)


def test_a_trip_is_not_marked_over_before_it_took_place(booked, world):
    """Marked completed before its days, a trip would call off its pick-ups and open its
    members to reviews of services nobody delivered."""
    _booking, journey = booked
    for status, when in ((JourneyStatus.IN_PROGRESS, begun(journey) - timedelta(days=2)),
                         (JourneyStatus.COMPLETED, begun(journey))):
        with pytest.raises(Conflict):
            progress.set_progress(world["coordinator"], journey.id, status, now=when)
    assert journey.status == JourneyStatus.CONFIRMED
    assert all(t.status == TaskStatus.OPEN for t in tasks.journey_task_rows(journey.id))
    progress.set_progress(world["coordinator"], journey.id, JourneyStatus.IN_PROGRESS,
                          now=begun(journey) - timedelta(days=1))  # landing the evening before
    assert journey.status == JourneyStatus.IN_PROGRESS


def test_a_trip_marked_over_by_hand_calls_off_its_open_logistics(booked, world):
    """As when the job moves it: what was done stays done, what is still open of a trip
    that is over leaves the coordinators' lists."""
    _booking, journey = booked
    pickup = next(t for t in tasks.journey_task_rows(journey.id)
                  if t.kind == TaskKind.AIRPORT_PICKUP)
    tasks.set_task_status(world["coordinator"], pickup.id, TaskStatus.DONE)
    progress.set_progress(world["coordinator"], journey.id, JourneyStatus.IN_PROGRESS,
                          now=begun(journey))
    progress.set_progress(world["coordinator"], journey.id, JourneyStatus.COMPLETED,
                          now=over(journey))
    db.session.commit()
    statuses = {t.kind: t.status for t in tasks.journey_task_rows(journey.id)}
    assert statuses[TaskKind.AIRPORT_PICKUP] == TaskStatus.DONE
    assert statuses[TaskKind.AIRPORT_DROPOFF] == TaskStatus.CANCELLED
