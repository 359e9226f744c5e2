"""A form sent back with errors in Chromium: on the long journey page at a phone's width
the first field in error takes the focus and is in view, instead of the page opening at
its top far above the message (journey/static/app.js)."""

from __future__ import annotations

from datetime import timedelta

import pytest

from journey.builder.services import journeys
from journey.core.accounts import services as accounts
from journey.core.extensions import db
from journey.core.types import today_in
from tests.journey.pages.browser_fixtures import login

pytestmark = pytest.mark.browser

PATIENT = {"email": "sofie@patients.onewindow.demo", "password": "a-long-enough-password",
           "full_name": "Sofie Lund"}
IN_VIEW = """el => { const r = el.getBoundingClientRect();
  return r.top >= 0 && r.bottom <= window.innerHeight; }"""


def test_the_first_field_in_error_takes_the_focus_and_is_in_view(page, live_server, shots):
    arrival = today_in() + timedelta(days=30)
    with live_server.app.app_context():
        patient = accounts.register_patient(**PATIENT)
        journey = journeys.open_journey(patient, arrival_on=arrival,
                                        departure_on=arrival + timedelta(days=4),
                                        currency="EUR", nationality="NO")
        db.session.commit()
        journey_id = journey.id
    login(page, live_server, PATIENT["email"], PATIENT["password"])
    page.set_viewport_size({"width": 390, "height": 800})
    page.goto(f"{live_server.url}/my/journeys/{journey_id}")
    page.fill("#traveller-full_name", "Sofie Lund")
    page.fill("#traveller-birth_date", (today_in() + timedelta(days=400)).isoformat())
    page.locator("#traveller-full_name").evaluate("el => el.form.requestSubmit()")
    page.wait_for_load_state()
    shots(page, "traveller-refused")
    born = page.locator("#traveller-birth_date")
    assert born.get_attribute("aria-invalid") == "true"
    assert page.evaluate("document.activeElement.id") == "traveller-birth_date"
    assert born.evaluate(IN_VIEW)
