"""The trip in Chromium against the live server: a patient with a booked airport transfer
adds a traveller and enters the arrival; the coordinator finds the pick-up in the
agenda and gives it to the transfer company's driver, who finds it among the company's
tasks with the traveller's needs; the patient sees who meets them, at the local time
with the zone named, and downloads the calendar and the itinerary PDF. The pages at a
desktop and a phone width, in English and in Arabic (right to left); screenshots go to
a temporary folder (printed; kept by pytest)."""

from __future__ import annotations

import io
from datetime import timedelta
from pathlib import Path

import pytest
from icalendar import Calendar
from pypdf import PdfReader

from bookings.payments import StripeGateway
from journey.builder.models import Journey
from journey.builder.services import checkout, journeys, quotes
from journey.core.accounts import services as accounts
from journey.core.extensions import db
from journey.core.types import today_in
from journey.demo import COORDINATOR, DEMO_PASSWORD, demo_offer_id, manager_email
from tests.journey.pages.browser_fixtures import Screens, login, logout

pytestmark = pytest.mark.browser

TRANSFER = ("ratai-transfers", "Vilnius Airport transfer (one way)")
ROOM = ("tilto-namai-hotel", "Double room with breakfast")
DRIVER = "Paulius Urbonas"  # the transfer company's manager in the demo cluster
PATIENT = {"email": "amira@patients.onewindow.demo", "password": "a-long-enough-password",
           "full_name": "Amira Haddad"}
LIVE = ("booked", "confirmed", "in_progress")

def _booked_journey(server) -> tuple[int, str]:
    """A new patient's journey from five days on: the airport transfer and three nights
    at the hotel (both confirm at once), booked and paid by card."""
    arrival = today_in() + timedelta(days=5)
    with server.app.app_context():
        patient = accounts.register_patient(**PATIENT)
        journey = journeys.open_journey(patient, arrival_on=arrival,
                                        departure_on=arrival + timedelta(days=3),
                                        currency="EUR", nationality="JO")
        journeys.add_item(patient, journey.id, offer_id=demo_offer_id(*TRANSFER),
                          start_on=arrival)
        journeys.add_item(patient, journey.id, offer_id=demo_offer_id(*ROOM),
                          start_on=arrival, days=3)
        quote = quotes.create_quote(patient, journey.id)
        quotes.accept_quote(patient, quote.id)
        db.session.commit()
        checkout.checkout_quote(patient, quote.id, gateway=StripeGateway.from_config(),
                                payment_method="pm_card_visa")
        db.session.commit()
        status = db.session.get(Journey, journey.id).status.value
        assert status in LIVE, status
        return journey.id, arrival.isoformat()


def test_the_coordinator_assigns_the_pick_up_and_the_patient_sees_it(page, live_server,
                                                                     tmp_path):
    server = live_server
    journey_id, arrival = _booked_journey(server)
    screenshots = Screens(page, tmp_path, "trip")

    # The patient: a traveller, then the arrival.
    login(page, server, PATIENT["email"], PATIENT["password"])
    page.goto(f"{server.url}/my/journeys/{journey_id}")
    form = page.locator("#add-traveller")
    form.get_by_label("Name as in the passport").fill("Amira Haddad")
    form.get_by_label("Date of birth").fill("1978-04-12")
    form.get_by_label("Nationality").select_option("JO")
    form.get_by_label("Passport number").fill("N1234567")
    form.get_by_label("Uses a wheelchair").check()
    form.get_by_label("Needs an interpreter into").select_option("ar")
    form.get_by_role("button", name="Add the traveller").click()
    page.wait_for_load_state()
    assert page.locator(".flash").inner_text() == "The traveller is added."
    assert "Wheelchair" in page.locator("#travellers table").inner_text()

    arrival_form = page.locator("#travel-arrival form")
    arrival_form.get_by_label("Flight or train number").fill("RJ 171")
    arrival_form.get_by_label("Airline or carrier").fill("Royal Jordanian")
    arrival_form.get_by_label("Airport or station").fill("Vilnius Airport (VNO)")
    arrival_form.get_by_label("Local date and time").fill(f"{arrival}T14:30")
    assert arrival_form.get_by_label("Time zone of the place").input_value() == \
        "Europe/Vilnius"
    arrival_form.get_by_role("button", name="Save the arrival").click()
    page.wait_for_load_state()
    assert page.locator(".flash").inner_text() == "Your arrival is saved."
    pickup = page.locator("#what-happens tr[data-task-kind=airport_pickup]")
    assert "Being arranged" in pickup.inner_text()
    task_id = int(pickup.get_attribute("id").removeprefix("task-"))
    logout(page)

    # The coordinator: the agenda of the arrival's day, the journey, the driver.
    login(page, server, COORDINATOR["email"], DEMO_PASSWORD)
    page.get_by_role("link", name="Agenda").click()
    page.wait_for_load_state()
    page.get_by_label("Day", exact=True).fill(arrival)
    page.get_by_role("button", name="Show", exact=True).click()
    page.wait_for_load_state()
    row = page.locator(f"#task-{task_id}")
    assert "Pick-up on arrival" in row.inner_text() and "Amira Haddad" in row.inner_text()
    screenshots("agenda")
    row.get_by_role("link", name=f"Journey {journey_id}").click()
    page.wait_for_load_state()
    row = page.locator(f"#task-{task_id}")
    row.get_by_label("Assign Pick-up on arrival to").select_option(label=DRIVER)
    row.get_by_role("button", name="Assign").click()
    page.wait_for_load_state()
    assert page.locator(".flash").inner_text() == "The task is assigned."
    assert page.locator(f"#task-{task_id} [data-task-status]").inner_text() == "Assigned"
    page.locator(f"#task-{task_id} details.task-cancel summary").click()  # the box to tick
    screenshots("coordinator-journey")
    logout(page)

    # The driver finds it among the transfer company's tasks, with whom to meet.
    login(page, server, manager_email(TRANSFER[0]), DEMO_PASSWORD)
    page.get_by_role("link", name="Tasks").click()
    page.wait_for_load_state()
    page.get_by_label("Day", exact=True).fill(arrival)
    page.get_by_role("button", name="Show", exact=True).click()
    page.wait_for_load_state()
    row = page.locator(f"#task-{task_id}")
    assert "Amira Haddad" in row.inner_text() and "Wheelchair" in row.inner_text()
    assert row.get_by_role("button", name="Done").count() == 1
    screenshots("driver-tasks")
    logout(page)

    # The patient sees who meets them, when and where.
    login(page, server, PATIENT["email"], PATIENT["password"])
    page.goto(f"{server.url}/my/journeys/{journey_id}")
    pickup = page.locator(f"#task-{task_id}")
    text = pickup.inner_text()
    assert DRIVER in text and "Vilnius Airport (VNO)" in text
    assert "2:30" in text and "(Lithuania Time)" in text
    assert pickup.locator("bdi").count() == 1
    screenshots("patient-journey")

    # ... and takes the trip along: the calendar and the printable itinerary.
    with page.expect_download() as download:
        page.locator("#calendar-download").click()
    calendar = Calendar.from_ical(Path(download.value.path()).read_bytes())
    events = {str(e["SUMMARY"]): e for e in calendar.walk("VEVENT")}
    pickup_event = next(e for summary, e in events.items() if "Pick-up" in summary)
    start = pickup_event.decoded("DTSTART")
    assert str(start.tzinfo) == "Europe/Vilnius" and (start.hour, start.minute) == (14, 30)
    assert any("Double room" in summary for summary in events)
    with page.expect_download() as download:
        page.locator("#itinerary-pdf").click()
    words = " ".join(p.extract_text() for p in PdfReader(
        io.BytesIO(Path(download.value.path()).read_bytes())).pages)
    assert "Amira Haddad" in words and "Vilnius Airport (VNO)" in words
    download.value.save_as(tmp_path / "itinerary.pdf")

    page.goto(f"{server.url}/my/journeys/{journey_id}?lang=ar")
    assert page.locator("html").get_attribute("dir") == "rtl"
    pickup = page.locator(f"#task-{task_id}")
    assert DRIVER in pickup.inner_text()
    page.locator("details.traveller-new summary").click()  # the form, right to left
    assert page.locator("#add-traveller").is_visible()
    screenshots("patient-journey-arabic")
    main = page.locator("main").bounding_box()
    heading = page.locator("#what-happens h2").bounding_box()
    assert heading["x"] + heading["width"] > main["x"] + main["width"] - 60  # starts right
