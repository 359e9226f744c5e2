"""The patient's medical case in Chromium against the live server: consent, an answer
and an upload, then the page at a desktop and a phone width, in English and in Arabic
(right to left). Screenshots go to a temporary folder (printed; kept by pytest)."""

from __future__ import annotations

from datetime import timedelta

import pytest

from journey.builder.services import journeys
from journey.core.accounts import services as accounts
from journey.core.accounts.services import get_user_by_email
from journey.core.extensions import db
from journey.core.types import today_in
from journey.demo import demo_offer_id, manager_email
from providers.services import case_requirements
from tests.journey.case.case_world import PDF
from tests.journey.pages.browser_fixtures import OVERFLOW, UNLABELLED

pytestmark = pytest.mark.browser

HOSPITAL = "neris-orthopaedic-hospital"
HIP = "Total hip replacement (hip arthroplasty)"
PASSWORD = "a-long-enough-password"
QUESTIONS = [
    {"key": "allergies", "kind": "text", "required": True,
     "texts": {"en": {"label": "Are you allergic to any medicine?",
                      "help": "Name the medicine and what happened."},
               "ar": {"label": "هل لديك حساسية من أي دواء؟"}}},
    {"key": "diabetic", "kind": "yes_no", "required": True,
     "texts": {"en": {"label": "Do you have diabetes?"}}},
    {"key": "weight", "kind": "number", "required": False,
     "texts": {"en": {"label": "Your weight in kilograms"}}},
    {"key": "last_xray", "kind": "date", "required": False,
     "texts": {"en": {"label": "Date of your last hip X-ray"}}},
    {"key": "side", "kind": "choice", "required": True, "choices": ["left", "right", "both"],
     "texts": {"en": {"label": "Which hip?", "choices": ["Left", "Right", "Both"]}}},
]
DOCUMENTS = [{"kind": "imaging", "required": True,
              "notes": {"en": "An X-ray of the pelvis and both hips, not older than 6 months"}}]

def _journey(server) -> int:
    """A new patient's journey with the hip replacement, whose hospital asks five
    questions and an X-ray before it reviews the case."""
    with server.app.app_context():
        offer_id = demo_offer_id(HOSPITAL, HIP)
        case_requirements.set_requirements(get_user_by_email(manager_email(HOSPITAL)),
                                           offer_id, requires_review=True,
                                           questions=QUESTIONS, documents=DOCUMENTS)
        patient = accounts.register_patient(email="leila@patients.onewindow.demo",
                                            password=PASSWORD, full_name="Leila Mansour")
        arrival = today_in() + timedelta(days=45)
        journey = journeys.open_journey(patient, arrival_on=arrival, currency="EUR")
        journeys.add_item(patient, journey.id, offer_id=offer_id,
                          start_on=arrival + timedelta(days=1))
        db.session.commit()
        return journey.id


def test_the_patient_fills_in_the_medical_case(page, live_server, tmp_path):
    server = live_server
    journey_id = _journey(server)
    print(f"\nscreenshots: {tmp_path}")
    shot = 0

    def screenshot(step: str) -> None:
        nonlocal shot
        shot += 1
        width = page.viewport_size["width"]
        page.screenshot(path=str(tmp_path / f"case-{shot:02d}-{step}-{width}.png"),
                        full_page=True)

    def check_layout() -> None:
        assert page.evaluate(UNLABELLED) == []
        assert page.evaluate(OVERFLOW) <= 0

    page.goto(f"{server.url}/login")
    page.fill("#email", "leila@patients.onewindow.demo")
    page.fill("#password", PASSWORD)
    page.click("main form button[type=submit]")
    page.wait_for_load_state()
    page.goto(f"{server.url}/my/journeys/{journey_id}")
    page.get_by_role("link", name="Open your medical case").click()
    page.wait_for_load_state()
    assert page.url.endswith(f"/my/journeys/{journey_id}/case")
    assert page.locator("textarea").count() == 0  # nothing to answer before the consent
    for width in (1280, 390):
        page.set_viewport_size({"width": width, "height": 900})
        check_layout()
        screenshot("consent")

    page.set_viewport_size({"width": 1280, "height": 900})
    page.check("#health_data")
    page.check("#share_with_treating")
    page.get_by_role("button", name="I agree").click()
    page.wait_for_load_state()
    assert page.locator(".flash").inner_text() == "Thank you: your consent is recorded."

    label = page.locator("label", has_text="Are you allergic to any medicine?")
    assert label.locator("span[lang]").get_attribute("lang") == "en"
    page.get_by_label("Are you allergic to any medicine?").fill("Penicillin: a rash")
    page.get_by_label("No").check()
    page.get_by_label("Which hip?").select_option("left")
    page.get_by_role("button", name="Save the answers").click()
    page.wait_for_load_state()
    assert page.locator(".flash").inner_text() == "Your answers are saved."
    assert page.get_by_label("Are you allergic to any medicine?").input_value() == \
        "Penicillin: a rash"

    upload = page.locator("li.request form.upload")
    upload.locator("input[type=file]").set_input_files(
        files=[{"name": "hip-x-ray.pdf", "mimeType": "application/pdf", "buffer": PDF}])
    upload.get_by_role("button", name="Upload").click()
    page.wait_for_load_state()
    assert page.locator(".flash").inner_text() == "hip-x-ray.pdf is uploaded."
    assert page.locator("li.document a", has_text="hip-x-ray.pdf").count() == 1
    for width in (1280, 390):
        page.set_viewport_size({"width": width, "height": 900})
        check_layout()
        screenshot("answered")

    page.goto(f"{server.url}/my/journeys/{journey_id}/case?lang=ar")
    assert page.locator("html").get_attribute("dir") == "rtl"
    arabic = page.locator("label", has_text="هل لديك حساسية من أي دواء؟")
    assert arabic.locator("span[lang]").get_attribute("lang") == "ar"
    english = page.locator("legend span", has_text="Do you have diabetes?")
    assert english.get_attribute("lang") == "en" and english.get_attribute("dir") == "auto"
    for width in (1280, 390):
        page.set_viewport_size({"width": width, "height": 900})
        check_layout()
        screenshot("arabic")
    main = page.locator("main").bounding_box()
    heading = page.locator("h1").bounding_box()
    assert heading["x"] + heading["width"] > main["x"] + main["width"] - 40  # starts right
