"""Money in Chromium against the live server: a patient whose package is confirmed opens
its invoice and the receipt of the deposit, sees what cancelling one item would cost
before doing it, cancels it and finds the refund and the credit note on the journey
page; a coordinator asks the hotel to pay for the room, and only the hotel's manager
can accept it; the hotel's manager finds the payouts page. At a desktop and a phone
width, in English and in Arabic (right to left). Screenshots go to a temporary folder
(printed; kept by pytest)."""

from __future__ import annotations

from datetime import timedelta

import pytest

from bookings.models import Booking
from bookings.services import confirmation
from journey.builder.services import journeys
from journey.core.accounts import services as accounts
from journey.core.accounts.services import get_user_by_email
from journey.core.extensions import db
from journey.core.types import today_in
from journey.demo import COORDINATOR, DEMO_PASSWORD, demo_offer_id, manager_email
from providers.services import offers
from tests.journey.pages.browser_fixtures import Screens, book_by_card, login, logout

pytestmark = pytest.mark.browser

ROOM = ("tilto-namai-hotel", "Double room with breakfast")
WALK = ("dukes-roads-excursions", "Gentle walk through Vilnius Old Town")
PATIENT = {"email": "lina@patients.onewindow.demo", "password": "a-long-enough-password",
           "full_name": "Lina Petrova"}
HALF_BACK = [{"days_before": 0, "refund_percent": 80}]


def _confirmed(server) -> tuple[int, int]:
    arrival = today_in() + timedelta(days=25)
    with server.app.app_context():
        patient = accounts.register_patient(**PATIENT)
        hotel = get_user_by_email(manager_email(ROOM[0]))
        offers.set_cancellation_tiers(hotel, demo_offer_id(*ROOM), HALF_BACK)
        journey_id = book_by_card(patient, [(demo_offer_id(*ROOM), arrival, 3),
                                            (demo_offer_id(*WALK), arrival + timedelta(days=1),
                                             None)],
                                  arrival_on=arrival, departure_on=arrival + timedelta(days=3),
                                  nationality="UA")
        booking = db.session.scalars(db.select(Booking).order_by(Booking.id.desc())).first()
        for line in booking.lines:
            if line.status.value != "confirmed":
                staff = get_user_by_email(manager_email(
                    ROOM[0] if line.offer_id == demo_offer_id(*ROOM) else WALK[0]))
                confirmation.accept_line(staff, line.id)
        db.session.commit()
        return journey_id, booking.id


def test_documents_the_price_of_a_cancellation_and_who_pays(page, live_server, tmp_path):
    server = live_server
    journey_id, booking_id = _confirmed(server)
    screens = Screens(page, tmp_path, "money")

    login(page, server, PATIENT["email"], PATIENT["password"])
    page.goto(f"{server.url}/my/journeys/{journey_id}#documents")
    documents = page.locator("#documents")
    assert "INV-" in documents.inner_text() and "RCT-" in documents.inner_text()
    documents.locator("li[data-document-kind=invoice] a").first.click()
    page.wait_for_load_state()
    assert "Lina Petrova" in page.locator("main").inner_text()
    screens("invoice")
    page.goto(page.url + "?lang=ar")
    assert page.locator("html").get_attribute("dir") == "rtl"
    screens("invoice-ar")

    page.goto(f"{server.url}/my/journeys/{journey_id}")
    page.locator("tr", has_text="Double room").locator("a.cancel-line").first.click()
    page.wait_for_load_state()
    preview = page.locator("#cancel-preview")
    refund = int(page.locator("#total-refund").get_attribute("data-refund"))
    assert refund > 0 and "Fee kept" in preview.inner_text()
    screens("cancel-preview")
    preview_url = page.url
    page.goto(preview_url + "?lang=ar")
    assert page.locator("#owed-after").inner_text().strip()  # what stays, said in Arabic
    screens("cancel-preview-ar")
    page.goto(preview_url + "?lang=en")
    page.get_by_role("button", name="Yes, cancel this item").click()
    page.wait_for_load_state()
    assert "CN-" in page.locator("#documents").inner_text()  # the credit note
    screens("after-cancel")
    logout(page)

    # Who pays: the coordinator asks the hotel; its staff cannot decide, its manager can.
    with server.app.app_context():
        patient = get_user_by_email(PATIENT["email"])
        other = journeys.open_journey(patient, arrival_on=today_in() + timedelta(days=40),
                                      departure_on=today_in() + timedelta(days=42),
                                      currency="EUR")
        journeys.add_item(patient, other.id, offer_id=demo_offer_id(*ROOM),
                          start_on=today_in() + timedelta(days=40), days=2)
        db.session.commit()
        other_id = other.id
    login(page, server, COORDINATOR["email"], DEMO_PASSWORD)
    page.goto(f"{server.url}/coordinator/journeys/{other_id}#payers")
    form = page.locator("#payers form")
    form.get_by_label("Line").select_option(index=1)
    form.get_by_label("Member asked to pay").select_option(label="Tilto Namai Hotel")
    form.get_by_role("button", name="Ask the member").click()
    page.wait_for_load_state()
    assert "Waiting for the member" in page.locator("#payers").inner_text()
    logout(page)

    login(page, server, manager_email(ROOM[0]), DEMO_PASSWORD)
    page.get_by_role("link", name="Member portal").click()
    page.wait_for_load_state()
    page.get_by_role("link", name="Requests to pay for a line").first.click()
    page.wait_for_load_state()
    screens("bearing-inbox")
    page.get_by_role("button", name="We pay for it").first.click()
    page.wait_for_load_state()
    assert "Accepted" in page.locator("main table").inner_text()
    page.get_by_role("link", name="Tilto Namai Hotel").first.click()
    page.wait_for_load_state()
    page.get_by_role("link", name="Payouts").first.click()
    page.wait_for_load_state()
    screens("payouts")
