"""The trip's pages through the Flask test client: the patient's travellers, arrival and
"what happens when" on the journey page; the coordinator's tasks on the journey page and
the agenda; a member's tasks in the portal. Errors beside the fields and nothing
written; another member's task is none of a member's business (403 / 404, as the API)."""

from __future__ import annotations

import re
from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import func, select

from bookings.payments import StripeGateway
from journey.builder.services import checkout, journeys, quotes
from journey.core.extensions import db
from journey.trip.models import LegDirection, Task, TaskKind, TaskStatus, Traveller
from journey.trip.services import tasks, travel
from tests.booking_fixtures import confirmed_booking
from tests.journey.builder_world import soon
from tests.journey.pages.patient_fixtures import field_errors, login, text

VILNIUS = ZoneInfo("Europe/Vilnius")


@pytest.fixture
def booked(world, gateway):
    """The patient's confirmed journey (a room and a knee replacement)."""
    confirmed_booking(world, gateway)
    journey = journeys.list_journeys(world["patient"])[0][0]
    db.session.commit()
    return journey.id


def _arrive(world, journey_id, *, day=10, hour=14, minute=30, patient="patient"):
    travel.set_leg(world[patient], journey_id, LegDirection.ARRIVAL, mode="flight",
                   place="Vilnius Airport (VNO)", number="LH 886", carrier="Lufthansa",
                   local_time=datetime.combine(soon(day), time(hour, minute)),
                   timezone="Europe/Vilnius")
    db.session.commit()


def _task(journey_id, kind) -> Task:
    db.session.expire_all()
    return db.session.scalar(select(Task).where(Task.journey_id == journey_id,
                                                Task.kind == kind))


def _travellers() -> int:
    db.session.expire_all()
    return db.session.scalar(select(func.count()).select_from(Traveller))


def _row(html: str, task_id: int) -> str:
    match = re.search(rf'<tr id="task-{task_id}".*?</tr>', html, re.S)
    assert match, f"no row of task {task_id}"
    return match.group(0)


# --- the patient ------------------------------------------------------------------------------

def test_the_patient_adds_a_traveller_and_a_bad_date_writes_nothing(client, world, booked):
    login(client, world["patient"])
    page = text(client.get(f"/my/journeys/{booked}"))
    assert 'id="travellers"' in page and 'id="travel"' in page
    assert '<option value="XA"' not in page and '<option value="NO">Norway</option>' in page
    base = {"traveller-full_name": "Ingrid Solberg", "traveller-nationality": "NO",
            "traveller-passport_number": "no 123 4567", "traveller-wheelchair": "y",
            "traveller-diet": "halal", "traveller-language": "ar"}

    for birth, message in (("2999-01-01", "Not a possible date of birth."),
                           ("1980-02-31", "Not a valid date value.")):
        response = client.post(f"/my/journeys/{booked}/travellers",
                               data={**base, "traveller-birth_date": birth})
        assert response.status_code == 422
        assert message in field_errors(text(response), "traveller-birth_date")
        assert _travellers() == 0

    response = client.post(f"/my/journeys/{booked}/travellers",
                           data={**base, "traveller-birth_date": "1980-02-28"})
    assert response.status_code == 302
    assert response.headers["Location"].endswith(f"/my/journeys/{booked}#travellers")
    db.session.expire_all()
    person = db.session.scalar(select(Traveller))
    assert person.is_patient and person.passport_number == "NO1234567"
    assert person.needs == ["wheelchair", "diet:halal", "language:ar"]
    page = text(client.get(f"/my/journeys/{booked}"))
    assert '<strong dir="auto">Ingrid Solberg</strong>' in page
    assert "Diet: halal" in page and "Interpreter: Arabic" in page and "Norway" in page

    # Changing keeps a need the page does not show (entered through the API).
    person.needs = [*person.needs, "allergy:latex"]
    db.session.commit()
    response = client.post(f"/my/journeys/{booked}/travellers/{person.id}", data={
        f"traveller{person.id}-full_name": "Ingrid Solberg",
        f"traveller{person.id}-reduced_mobility": "y"})
    assert response.status_code == 302
    db.session.expire_all()
    assert db.session.get(Traveller, person.id).needs == ["allergy:latex", "reduced_mobility"]



def test_a_wrong_passport_number_and_birth_date_are_named_at_once(client, world, booked):
    """A wrong passport number was refused by the form before the service looked at the
    dates: the patient fixed it, sent again, and only then heard the birth date was in
    the future. Both are named beside their fields at once, in the page's language."""
    login(client, world["patient"])
    response = client.post(f"/my/journeys/{booked}/travellers?lang=nb", data={
        "traveller-full_name": "Ingrid Solberg", "traveller-passport_number": "AB-1",
        "traveller-birth_date": "2999-01-01"})
    assert response.status_code == 422
    page = text(response)
    assert field_errors(page, "traveller-passport_number") == [
        "4 til 20 bokstaver og sifre, slik det står i passet."]
    assert field_errors(page, "traveller-birth_date") == ["Ikke en mulig fødselsdato."]
    assert _travellers() == 0


def test_the_patient_enters_the_arrival_and_sees_the_pick_up_in_local_time(client, world,
                                                                           booked):
    login(client, world["patient"])
    page = text(client.get(f"/my/journeys/{booked}"))
    assert '<option selected value="Europe/Vilnius">Lithuania Time</option>' in page
    response = client.post(f"/my/journeys/{booked}/travel/arrival", data={
        "arrival-mode": "flight", "arrival-number": "LH 886", "arrival-carrier": "Lufthansa",
        "arrival-place": "Vilnius Airport (VNO)",
        "arrival-local_time": f"{soon(10).isoformat()}T14:30",
        "arrival-timezone": "Europe/Vilnius"})
    assert response.status_code == 302, text(response)
    # The departure from Warsaw: the drop-off three hours before, on Warsaw's clock.
    response = client.post(f"/my/journeys/{booked}/travel/departure", data={
        "departure-mode": "flight", "departure-place": "Warsaw Chopin Airport (WAW)",
        "departure-local_time": f"{soon(20).isoformat()}T11:00",
        "departure-timezone": "Europe/Warsaw"})
    assert response.status_code == 302, text(response)

    page = text(client.get(f"/my/journeys/{booked}"))
    pickup = _task(booked, TaskKind.AIRPORT_PICKUP)
    row = _row(page, pickup.id)
    assert "Pick-up on arrival" in row and "Vilnius Airport (VNO)" in row
    # the date and time in one piece that does not break; the zone after it
    assert re.search(r'<span class="nowrap">[^<]*2:30.PM</span> \(Lithuania Time\)</bdi>',
                     row), row
    assert "Being arranged" in row
    dropoff = _task(booked, TaskKind.AIRPORT_DROPOFF)
    row = _row(page, dropoff.id)
    assert re.search(r"8:00.PM|8:00.AM", row) and "(Poland Time)</bdi>" in row
    assert 'value="2' in page and 'name="arrival-local_time"' in page  # the form keeps it

    # A departure before the arrival: beside the time, and nothing moved.
    response = client.post(f"/my/journeys/{booked}/travel/departure", data={
        "departure-mode": "train", "departure-place": "Vilnius station",
        "departure-local_time": f"{soon(9).isoformat()}T11:00",
        "departure-timezone": "Europe/Vilnius"})
    assert response.status_code == 422
    assert "The departure comes after the arrival." in field_errors(
        text(response), "departure-local_time")
    assert _task(booked, TaskKind.AIRPORT_DROPOFF).timezone == "Europe/Warsaw"


def test_only_those_who_compose_the_journey_see_the_trip(client, world, booked):
    login(client, world["clinic_staff"])  # treating: reads the journey, composes nothing
    page = text(client.get(f"/my/journeys/{booked}"))
    assert 'id="travellers"' not in page
    response = client.post(f"/my/journeys/{booked}/travellers",
                           data={"traveller-full_name": "Somebody"})
    assert response.status_code == 403 and _travellers() == 0


# --- the coordinator ------------------------------------------------------------------------

def test_the_coordinator_assigns_the_pick_up_and_marks_it_done(client, world, booked):
    _arrive(world, booked)
    pickup = _task(booked, TaskKind.AIRPORT_PICKUP)
    coordinator = world["coordinator"]
    login(client, coordinator)
    page = text(client.get(f"/coordinator/journeys/{booked}"))
    row = _row(page, pickup.id)
    assert f'<option value="{coordinator.id}">{coordinator.full_name}</option>' in row
    assert str(world["hotel_staff"].id) not in re.findall(r'<option value="(\d+)"', row)

    url = f"/coordinator/journeys/{booked}/tasks/{pickup.id}"
    refused = client.post(f"{url}/assignee",
                          data={f"assign{pickup.id}-assignee_id": str(world["hotel_staff"].id)})
    assert refused.status_code == 422 and _task(booked, TaskKind.AIRPORT_PICKUP).assignee_id \
        is None
    response = client.post(f"{url}/assignee",
                           data={f"assign{pickup.id}-assignee_id": str(coordinator.id)})
    assert response.status_code == 302
    task = _task(booked, TaskKind.AIRPORT_PICKUP)
    assert task.assignee_id == coordinator.id and task.status == TaskStatus.ASSIGNED

    response = client.post(f"{url}/status", data={f"status{pickup.id}-status": "done"})
    assert response.status_code == 302
    assert _task(booked, TaskKind.AIRPORT_PICKUP).status == TaskStatus.DONE
    page = text(client.get(f"/coordinator/journeys/{booked}"))
    assert "The task is done." in page and 'data-task-status="done"' in _row(page, pickup.id)
    again = client.post(f"{url}/status", data={f"status{pickup.id}-status": "no_show"})
    assert again.status_code == 409 and "A task cannot go from Done to No-show." in text(again)

    # Patient's view: done.
    client.post("/logout")
    login(client, world["patient"])
    assert "Done" in _row(text(client.get(f"/my/journeys/{booked}")), pickup.id)


def test_a_cancellation_is_confirmed_first_and_a_task_is_added_by_hand(client, world, booked):
    _arrive(world, booked)
    pickup = _task(booked, TaskKind.AIRPORT_PICKUP)
    login(client, world["coordinator"])
    url = f"/coordinator/journeys/{booked}/tasks/{pickup.id}/status"
    response = client.post(url, data={f"status{pickup.id}-status": "cancelled"})
    assert response.status_code == 400
    assert "Tick the box to confirm the cancellation." in text(response)
    assert _task(booked, TaskKind.AIRPORT_PICKUP).status == TaskStatus.OPEN
    response = client.post(url, data={f"status{pickup.id}-status": "cancelled",
                                      f"status{pickup.id}-confirm": "y",
                                      f"status{pickup.id}-note": "Comes by car"})
    assert response.status_code == 302
    task = _task(booked, TaskKind.AIRPORT_PICKUP)
    assert task.status == TaskStatus.CANCELLED and task.note == "Comes by car"

    add = f"/coordinator/journeys/{booked}/tasks"
    bad = client.post(add, data={"task-kind": "other", "task-title": "Flowers",
                                 "task-local_time": "tomorrow", "task-timezone": "Europe/Vilnius"})
    assert bad.status_code == 422 and field_errors(text(bad), "task-local_time")
    response = client.post(add, data={
        "task-kind": "meet_and_greet", "task-title": "Flowers at the hotel",
        "task-local_time": f"{soon(10).isoformat()}T18:00", "task-timezone": "Europe/Vilnius",
        "task-place": "Hotel Tilto"})
    assert response.status_code == 302
    added = _task(booked, TaskKind.MEET_AND_GREET)
    assert added.title == "Flowers at the hotel"
    assert added.due_at.astimezone(VILNIUS).time() == time(18, 0)


def test_the_agenda_filters_and_puts_the_overdue_first(client, world, booked):
    _arrive(world, booked)
    coordinator = world["coordinator"]
    late = tasks.add_task(coordinator, booked, kind=TaskKind.OTHER, title="Call the clinic",
                          local_time=datetime.now(VILNIUS).replace(tzinfo=None)
                          - timedelta(hours=2), timezone="Europe/Vilnius")
    db.session.commit()
    pickup = _task(booked, TaskKind.AIRPORT_PICKUP)
    dropoff_day = soon(20)  # no departure yet: no drop-off
    login(client, coordinator)

    page = text(client.get(f"/coordinator/agenda?day={soon(10).isoformat()}&view=day"))
    assert f'id="task-{late.id}" data-task-kind="other" class="overdue-row"' in page
    assert page.index(f'id="task-{late.id}"') < page.index(f'id="task-{pickup.id}"')
    assert f'href="/coordinator/journeys/{booked}#task-{pickup.id}"' in page
    assert "2 tasks" in page

    week = text(client.get(f"/coordinator/agenda?day={soon(10).isoformat()}&view=week"))
    assert f'id="task-{pickup.id}"' in week and week.count('class="agenda-day"') == 8
    other_day = text(client.get(f"/coordinator/agenda?day={dropoff_day.isoformat()}"))
    assert f'id="task-{pickup.id}"' not in other_day and f'id="task-{late.id}"' in other_day

    tasks.assign_task(coordinator, pickup.id, coordinator.id)
    db.session.commit()
    day = soon(10).isoformat()
    mine = text(client.get(f"/coordinator/agenda?day={day}&mine=1"))
    assert f'id="task-{pickup.id}"' in mine and f'id="task-{late.id}"' not in mine
    free = text(client.get(f"/coordinator/agenda?day={day}&unassigned=1"))
    assert f'id="task-{pickup.id}"' not in free and f'id="task-{late.id}"' in free

    bad = client.get("/coordinator/agenda?day=2026-02-30&view=month")
    assert bad.status_code == 422
    assert "Not a valid date value." in text(bad) and "Not a valid choice." in text(bad)



@pytest.mark.parametrize("day", ["0001-01-01", "9999-12-31", "1999-12-31"])
def test_a_day_beyond_the_calendar_the_cluster_works_in_is_refused_not_a_500(client, world,
                                                                             day):
    login(client, world["coordinator"])
    for view in ("day", "week"):
        bad = client.get(f"/coordinator/agenda?day={day}&view={view}&lang=en")
        assert bad.status_code == 422
        assert "Use a date between 2000-01-01 and " in text(bad)
    assert client.get("/coordinator/agenda?day=2000-01-01&view=week").status_code == 200


def test_the_agenda_is_the_clusters(client, world):
    login(client, world["hotel_staff"])
    assert client.get("/coordinator/agenda").status_code == 403


# --- a member's staff -------------------------------------------------------------------------

def _hotel_transfer_journey(world, make) -> int:
    """Another patient's journey: two nights at the hotel, which also drives the airport
    transfer (confirmed at once); arriving on day 10."""
    transfer = make.offer(world["hotel"], chain_link="transfer", price_unit="stay",
                          capacity_unit="seat", duration_unit="days", capacity=5, days=60,
                          base_price_minor=4000, confirmation_mode="instant",
                          texts={"en": {"title": "Airport transfer"}})
    patient = world["patient2"]
    journey = journeys.open_journey(patient, arrival_on=soon(10), departure_on=soon(12),
                                    currency="EUR")
    journeys.add_item(patient, journey.id, offer_id=transfer.id, start_on=soon(10))
    journeys.add_item(patient, journey.id, offer_id=world["room"].id, start_on=soon(10),
                      days=2)
    quote = quotes.create_quote(patient, journey.id)
    quotes.accept_quote(patient, quote.id)
    db.session.commit()
    checkout.checkout_quote(patient, quote.id, gateway=StripeGateway.from_config(),
                            payment_method="pm_card_visa")
    db.session.commit()
    _arrive(world, journey.id, hour=9, minute=15, patient="patient2")
    return journey.id


def test_a_hotels_staff_sees_and_does_only_its_own_tasks(client, world, booked, make):
    _arrive(world, booked)
    theirs = _task(booked, TaskKind.AIRPORT_PICKUP)  # no transfer line: the cluster's
    journey_id = _hotel_transfer_journey(world, make)
    own = _task(journey_id, TaskKind.AIRPORT_PICKUP)
    assert own.provider_id == world["hotel"].id
    hotel = world["hotel"].id
    login(client, world["hotel_staff"])

    page = text(client.get("/"))
    assert f'href="/portal/{hotel}/tasks"' in page
    page = text(client.get(f"/portal/{hotel}/tasks?day={soon(10).isoformat()}"))
    assert f'id="task-{own.id}"' in page and f'id="task-{theirs.id}"' not in page
    assert "Heike Vogel" in page  # the traveller the driver meets
    assert f'name="status{own.id}-status" value="done"' in page

    assert client.get(f"/portal/{world['clinic'].id}/tasks").status_code == 403
    response = client.post(f"/portal/{hotel}/tasks/{theirs.id}/status",
                           data={f"status{theirs.id}-status": "done"})
    assert response.status_code == 404
    assert _task(booked, TaskKind.AIRPORT_PICKUP).status == TaskStatus.OPEN

    response = client.post(f"/portal/{hotel}/tasks/{own.id}/status?day={soon(10)}",
                           data={f"status{own.id}-status": "no_show"})
    assert response.status_code == 302
    assert response.headers["Location"].endswith(f"/portal/{hotel}/tasks?day={soon(10)}")
    assert _task(journey_id, TaskKind.AIRPORT_PICKUP).status == TaskStatus.NO_SHOW


def test_the_patient_downloads_the_trip_calendar_from_the_page(client, world, booked):
    _arrive(world, booked)
    login(client, world["patient"])
    page = text(client.get(f"/my/journeys/{booked}"))
    link = re.search(r'<a href="([^"]+)" download id="calendar-download">', page)
    assert link
    response = client.get(link.group(1))
    assert response.status_code == 200 and response.mimetype == "text/calendar"
    assert b"BEGIN:VCALENDAR" in response.data


def test_the_calendars_file_type_keeps_its_dot_in_arabic(client, world, booked):
    """"(.ics)" in an Arabic sentence came out "(ics.)": the dot, a neutral, took the
    line's direction. The Arabic text isolates the file type (U+2066 ... U+2069)."""
    _arrive(world, booked)
    login(client, world["patient"])
    page = text(client.get(f"/my/journeys/{booked}?lang=ar"))
    link = re.search(r'id="calendar-download">([^<]+)</a>', page).group(1)
    assert "(\u2066.ics\u2069)" in link
