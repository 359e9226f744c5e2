"""Aftercare in Chromium against the live server: a week after a patient's consultation,
the follow-up is due; the patient answers the short questionnaire on a phone (pain 8:
a problem) with a photo; the hospital's manager finds it first among the member's
follow-ups, marked as a problem. In English and in Arabic (right to left), at a desktop
and a phone width. Screenshots go to a temporary folder (printed; kept by pytest)."""

from __future__ import annotations

import io
from datetime import UTC, datetime, time, timedelta
from pathlib import Path

import pytest
from PIL import Image

from bookings.models import LineStatus
from bookings.payments import StripeGateway
from bookings.services import confirmation
from journey.aftercare import jobs
from journey.builder.models import Journey, JourneyStatus
from journey.core.accounts import services as accounts
from journey.core.accounts.services import get_user_by_email
from journey.core.extensions import db
from journey.core.types import today_in
from journey.demo import COORDINATOR, DEMO_PASSWORD, demo_offer_id, manager_email
from journey.trip.services import progress
from journey.trip.services.tasks import journey_lines
from tests.journey.pages.browser_fixtures import (
    Screens,
    book_by_card,
    login,
    logout,
    weekday_after,
)

pytestmark = pytest.mark.browser

HOSPITAL = "neris-orthopaedic-hospital"
CONSULTATION = (HOSPITAL, "Orthopaedic surgeon consultation")
ROOM = ("tilto-namai-hotel", "Double room with breakfast")
PATIENT = {"email": "samir@patients.onewindow.demo", "password": "a-long-enough-password",
           "full_name": "Samir Khalil"}
def _treated(server) -> int:
    """A consultation booked, confirmed by the hospital and under way; the follow-ups
    opened as the job would a week after it."""
    day = weekday_after(today_in() + timedelta(days=3))
    with server.app.app_context():
        patient = accounts.register_patient(**PATIENT)
        journey_id = book_by_card(patient, [(demo_offer_id(*CONSULTATION), day, None),
                                            (demo_offer_id(*ROOM), day, 1)],
                                  arrival_on=day, departure_on=day + timedelta(days=1),
                                  nationality="LB")
        manager = get_user_by_email(manager_email(HOSPITAL))
        for line in journey_lines(db.session.get(Journey, journey_id)):
            if line.status != LineStatus.CONFIRMED:
                confirmation.accept_line(manager, line.id,
                                         gateway=StripeGateway.from_config())
        db.session.commit()
        coordinator = get_user_by_email(COORDINATOR["email"])
        progress.set_progress(coordinator, journey_id, JourneyStatus.IN_PROGRESS,
                              now=datetime.combine(day, time(12), tzinfo=UTC))
        db.session.commit()
        later = datetime.combine(day + timedelta(days=8), time(12), tzinfo=UTC)
        assert jobs.run_followups(now=later) >= 1
        db.session.commit()
        return journey_id


def _png() -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (64, 48), (200, 120, 110)).save(buffer, "PNG")
    return buffer.getvalue()


def test_the_patient_answers_and_the_hospital_sees_the_problem_first(page, live_server,
                                                                      tmp_path):
    server = live_server
    journey_id = _treated(server)
    screens = Screens(page, tmp_path, "aftercare")
    photo = tmp_path / "wound.png"
    photo.write_bytes(_png())

    login(page, server, PATIENT["email"], PATIENT["password"])
    page.goto(f"{server.url}/my/journeys/{journey_id}#aftercare")
    panel = page.locator("#aftercare")
    assert panel.count() == 1
    panel.get_by_role("link", name="Answer now").first.click()
    page.wait_for_load_state()
    screens("questionnaire")
    page.goto(page.url + "?lang=ar")
    assert page.locator("html").get_attribute("dir") == "rtl"
    screens("questionnaire-ar")
    page.goto(page.url.split("?")[0])

    page.set_viewport_size({"width": 390, "height": 900})
    consent = page.locator("input[name=health_data]")
    if consent.count():
        consent.check()
    page.locator("#wellbeing input").nth(1).check()
    page.locator("#pain input[value='8']").check()
    page.locator("#complications input[value=no]").check()
    if page.locator("input[type=file]").count():
        page.locator("input[type=file]").set_input_files(str(photo))
    page.get_by_role("button", name="Send my answers").click()
    page.wait_for_load_state()
    assert "Your answers" in page.locator("main").inner_text()
    assert "8 of 10" in page.locator("main").inner_text()
    logout(page)

    page.set_viewport_size({"width": 1280, "height": 900})
    login(page, server, manager_email(HOSPITAL), DEMO_PASSWORD)
    page.get_by_role("link", name="Aftercare", exact=True).click()
    page.wait_for_load_state()
    first = page.locator("main tbody tr, main li").first
    assert "Samir Khalil" in page.locator("main").inner_text()
    assert "8" in first.inner_text()
    screens("member")
    assert Path(photo).exists()
