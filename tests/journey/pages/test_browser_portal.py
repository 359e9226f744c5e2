"""The member's and the coordinator's main paths in Chromium against the live server
of tests/journey/pages/conftest.py: a patient's paid booking waits for a member, whose staff
accept it in the portal; the coordinator sees the arrival on the board and the
acceptance in the journey's timeline. Screenshots of every step: tests/artifacts/."""

from __future__ import annotations

from datetime import timedelta

import pytest

from bookings.payments import StripeGateway
from journey.builder.services import checkout, journeys, quotes
from journey.core.accounts.services import get_user_by_email
from journey.core.extensions import db
from journey.core.types import today_in
from journey.demo import COORDINATOR, DEMO_PASSWORD, demo_offer_id, manager_email

pytestmark = pytest.mark.browser

MEMBER = "spektras-diagnostic-centre"
SCAN = "MRI scan of one body region (3 tesla)"
HOTEL, ROOM = "tilto-namai-hotel", "Double room with breakfast"


def _login(page, server, email):
    page.goto(f"{server.url}/login")
    page.fill("#email", email)
    page.fill("#password", DEMO_PASSWORD)
    page.click("main form button[type=submit]")
    page.wait_for_load_state()


def _paid_booking(server):
    """Heike Vogel's trip in three days: a night at the hotel (confirmed at once) and an
    MRI scan that waits for the diagnostic centre's answer; paid by card."""
    day = today_in() + timedelta(days=3)
    while day.weekday() == 6:  # the centre is closed on Sundays
        day += timedelta(days=1)
    with server.app.app_context():
        patient = get_user_by_email("patient.de@onewindow.demo")
        journey = journeys.open_journey(patient, arrival_on=day,
                                        departure_on=day + timedelta(days=1),
                                        currency="EUR", nationality="DE")
        journeys.add_item(patient, journey.id, offer_id=demo_offer_id(HOTEL, ROOM),
                          start_on=day, days=1)
        journeys.add_item(patient, journey.id, offer_id=demo_offer_id(MEMBER, SCAN),
                          start_on=day)
        quote = quotes.create_quote(patient, journey.id)
        quotes.accept_quote(patient, quote.id)
        db.session.commit()
        booking = checkout.checkout_quote(patient, quote.id,
                                          gateway=StripeGateway.from_config(),
                                          payment_method="pm_card_visa")
        db.session.commit()
        line = next(line for line in booking.lines if not line.instant)
        return journey.id, line.id


def test_a_member_accepts_a_request_and_the_coordinator_sees_the_arrival(page, live_server,
                                                                         shots):
    server = live_server
    journey_id, line_id = _paid_booking(server)

    _login(page, server, manager_email(MEMBER))
    page.get_by_role("link", name="Member portal").click()
    page.wait_for_load_state()
    request_row = page.locator(f"#request-{line_id}")
    assert SCAN in request_row.inner_text()
    assert request_row.locator("time").count() == 1  # its deadline
    shots(page, "member-inbox")
    request_row.get_by_role("button", name="Accept").click()
    page.wait_for_load_state()
    assert page.locator(".flash").inner_text() == f"Request {line_id} is accepted."
    assert "Accepted" in page.locator(f"#request-{line_id}").inner_text()
    shots(page, "member-accepted")

    page.get_by_role("button", name="Log out").click()
    _login(page, server, COORDINATOR["email"])
    page.get_by_role("link", name="Coordinator board").click()
    page.wait_for_load_state()
    arrival = page.locator("tr.movement-arrival", has=page.locator(
        f'a[href="/coordinator/journeys/{journey_id}"]'))
    assert arrival.count() == 1 and "Heike Vogel" in arrival.inner_text()
    shots(page, "coordinator-board")
    arrival.get_by_role("link", name=f"#{journey_id}").click()
    page.wait_for_load_state()
    timeline = page.locator("ol.timeline").inner_text()
    assert f"Line {line_id}: Waiting for the member → Accepted" in timeline
    shots(page, "coordinator-timeline")
