"""The visa invitation letter in Chromium against the live server: a patient whose
consultation at the hospital is booked (deposit authorised) issues the letter from the
journey page, reads it, downloads the PDF, and a consulate checks the code on the
public page; in English and in Arabic (right to left), at a desktop and a phone width.
Screenshots go to a temporary folder (printed; kept by pytest)."""

from __future__ import annotations

import io
import re
from datetime import date, timedelta
from pathlib import Path

import pytest
from pypdf import PdfReader

from journey.core.accounts import services as accounts
from journey.core.extensions import db
from journey.core.types import today_in
from journey.demo import demo_offer_id
from journey.trip.services import travellers
from tests.journey.pages.browser_fixtures import Screens, book_by_card, login, weekday_after

pytestmark = pytest.mark.browser

CONSULTATION = ("neris-orthopaedic-hospital", "Orthopaedic surgeon consultation")
ROOM = ("tilto-namai-hotel", "Double room with breakfast")
PATIENT = {"email": "karim@patients.onewindow.demo", "password": "a-long-enough-password",
           "full_name": "Karim Nasser"}


def _booked(server) -> tuple[int, int]:
    arrival = today_in() + timedelta(days=40)
    with server.app.app_context():
        patient = accounts.register_patient(**PATIENT)
        journey_id = book_by_card(patient, [
            (demo_offer_id(*CONSULTATION), weekday_after(arrival + timedelta(days=1)), None),
            (demo_offer_id(*ROOM), arrival, 5)],
            arrival_on=arrival, departure_on=arrival + timedelta(days=5), nationality="JO")
        traveller = travellers.save_traveller(
            patient, journey_id, full_name="Karim Nasser", birth_date=date(1971, 2, 3),
            nationality="JO", passport_number="P7654321",
            passport_expires_on=arrival + timedelta(days=900))
        db.session.commit()
        return journey_id, traveller.id


def test_the_patient_issues_the_letter_and_a_consulate_checks_it(page, live_server, tmp_path):
    server = live_server
    journey_id, traveller_id = _booked(server)
    screens = Screens(page, tmp_path, "letter")

    login(page, server, PATIENT["email"], PATIENT["password"])
    page.goto(f"{server.url}/my/journeys/{journey_id}#letters")
    slot = page.locator(f"#letter-{traveller_id}")
    slot.get_by_role("button", name="Issue the visa letter").click()
    page.wait_for_load_state()
    letter = page.locator("article.letter")
    assert "Karim Nasser" in letter.inner_text() and "P7654321" in letter.inner_text()
    number = re.search(r"VL-\d{4}-\d{6}", letter.inner_text()).group(0)
    code = letter.locator(".letter-meta .code").inner_text()
    screens("page")

    with page.expect_download() as download:
        page.get_by_role("link", name="Download as PDF").click()
    pdf = download.value
    assert pdf.suggested_filename == f"visa-letter-{number}.pdf"
    words = " ".join(p.extract_text() for p in PdfReader(
        io.BytesIO(Path(pdf.path()).read_bytes())).pages)
    assert "Karim Nasser" in words and number in words
    pdf.save_as(tmp_path / "letter-en.pdf")

    page.goto(page.url.split("?")[0] + "?lang=ar")
    assert page.locator("html").get_attribute("dir") == "rtl"
    screens("page-ar")

    # A consulate, not logged in: the code typed by hand.
    page.context.clear_cookies()
    page.goto(f"{server.url}/verify")
    page.get_by_label("Verification code").fill(code.lower().replace("-", " "))
    page.get_by_role("button", name="Check").click()
    page.wait_for_load_state()
    verdict = page.locator(".verdict")
    assert "Genuine and valid" in verdict.inner_text() and number in verdict.inner_text()
    assert "K. N." in verdict.inner_text() and "Nasser" not in verdict.inner_text()
    screens("verify")
    page.goto(f"{server.url}/verify/ABCD-EFGH-JKLM")
    assert "No letter has this code" in page.locator(".verdict").inner_text()
