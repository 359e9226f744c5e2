"""Messages in Chromium against the live server: a patient writes to the cluster about
their booked journey; the coordinator sees the unread count in the navigation, reads
the conversation and answers; the patient finds the answer unread, at a desktop and a
phone width, in English and in Arabic (right to left). Screenshots go to a temporary
folder (printed; kept by pytest)."""

from __future__ import annotations

from datetime import timedelta

import pytest

from journey.core.accounts import services as accounts
from journey.core.types import today_in
from journey.demo import COORDINATOR, DEMO_PASSWORD, demo_offer_id
from tests.journey.pages.browser_fixtures import Screens, book_by_card, login, logout

pytestmark = pytest.mark.browser

ROOM = ("tilto-namai-hotel", "Double room with breakfast")
PATIENT = {"email": "noor@patients.onewindow.demo", "password": "a-long-enough-password",
           "full_name": "Noor Al-Hashimi"}


def _booked(server) -> int:
    arrival = today_in() + timedelta(days=20)
    with server.app.app_context():
        patient = accounts.register_patient(**PATIENT)
        return book_by_card(patient, [(demo_offer_id(*ROOM), arrival, 3)],
                            arrival_on=arrival, departure_on=arrival + timedelta(days=3),
                            nationality="IQ")


def test_the_patient_writes_and_the_coordinator_answers(page, live_server, tmp_path):
    server = live_server
    journey_id = _booked(server)
    screens = Screens(page, tmp_path, "messages")

    login(page, server, PATIENT["email"], PATIENT["password"])
    page.goto(f"{server.url}/my/journeys/{journey_id}")
    page.get_by_role("link", name="Write a new message").click()
    page.wait_for_load_state()
    page.get_by_label("Subject").fill("Arrival by night")
    page.get_by_label("Your message").fill("Our flight lands at 23:40. Can the hotel "
                                           "keep the room for us?")
    screens("new")
    page.get_by_role("button", name="Send").click()
    page.wait_for_load_state()
    assert "Our flight lands at 23:40" in page.locator("main").inner_text()
    logout(page)

    login(page, server, COORDINATOR["email"], DEMO_PASSWORD)
    nav = page.locator("nav a.messages-link")
    assert nav.get_attribute("aria-label") == "Messages, 1 unread"
    nav.click()
    page.wait_for_load_state()
    page.get_by_role("link", name="Arrival by night").click()
    page.wait_for_load_state()
    assert "Noor Al-Hashimi" in page.locator("main").inner_text()
    assert page.locator("nav a.messages-link").get_attribute("aria-label") is None  # read
    page.get_by_label("Your message").fill("Yes: the hotel knows and waits for you.")
    page.get_by_role("button", name="Send").click()
    page.wait_for_load_state()
    screens("thread-coordinator")
    logout(page)

    login(page, server, PATIENT["email"], PATIENT["password"])
    assert page.locator("nav a.messages-link").get_attribute("aria-label") == \
        "Messages, 1 unread"
    page.goto(f"{server.url}/messages?lang=ar")
    assert page.locator("html").get_attribute("dir") == "rtl"
    screens("inbox-ar")
    page.locator("main a", has_text="Arrival by night").first.click()
    page.wait_for_load_state()
    page.goto(page.url + "?lang=ar")
    assert "the hotel knows" in page.locator("main").inner_text()
    screens("thread-ar")
