"""The patient's main path and the language switch, end to end in Chromium against a
live server with localstripe. Screenshots of every step: tests/artifacts/."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest

from journey.core.types import today_in
from journey.demo import DEMO_PASSWORD, find_demo_journey
from tests.journey.pages.browser_fixtures import INSTANT_PACKAGE

pytestmark = pytest.mark.browser


def _login(page, server, email, password=DEMO_PASSWORD):
    page.goto(f"{server.url}/login")
    page.fill("#email", email)
    page.fill("#password", password)
    page.click("main form button[type=submit]")
    page.wait_for_load_state()


def _register(page, server, email, name="Amal Haddad"):
    page.goto(f"{server.url}/register")
    page.fill("#full_name", name)
    page.fill("#email", email)
    page.fill("#password", "a-long-enough-password")
    page.select_option("#locale", "en")
    page.click("main form button[type=submit]")
    page.wait_for_load_state()


def test_patient_builds_a_package_plans_accepts_and_pays(page, live_server, shots):
    server = live_server
    _register(page, server, "amal@patients.onewindow.demo")
    shots(page, "registered")
    page.goto(server.url + "/")
    page.get_by_role("link", name=INSTANT_PACKAGE).click()
    shots(page, "package")
    arrival = today_in() + timedelta(days=40)
    page.fill("#arrival_on", arrival.isoformat())
    page.select_option("#nationality", "DE")
    page.click("main form button[type=submit]")
    page.wait_for_load_state()
    assert re.search(r"/my/journeys/\d+$", page.url), page.url
    assert page.locator(".timeline-item").count() == 4
    shots(page, "journey-from-package")

    page.fill("#plan-arrival_on", arrival.isoformat())
    page.click("#plan button[type=submit]")
    page.wait_for_load_state()
    assert page.locator(".flash").inner_text() == "Your dates are planned."
    assert page.locator(".timeline .error").count() == 0
    shots(page, "planned")

    page.click("#quote button[type=submit]")
    page.wait_for_load_state()
    assert "/my/quotes/" in page.url
    assert page.locator("section.member-lines").count() == 4  # itemised per member
    shots(page, "quote")
    page.get_by_role("button", name="Accept this quote").click()
    page.wait_for_load_state()
    assert page.url.endswith("/checkout")
    shots(page, "checkout")

    card = page.locator("#card-element")
    card.locator("input[placeholder=number]").fill("4242424242424242")
    card.locator("input[placeholder=exp_month]").fill("12")
    card.locator("input[placeholder=exp_year]").fill("34")
    card.locator("input[placeholder=cvc]").fill("123")
    card.locator("input[placeholder=postal_code]").fill("10001")
    shots(page, "card")
    page.click("#pay")
    page.wait_for_url(re.compile(r"/my/journeys/\d+$"))
    shots(page, "booked")
    booking = page.locator("[data-booking-status]")
    assert booking.get_attribute("data-booking-status") == "confirmed"
    lines = page.locator("[data-line-status]")
    assert lines.count() == 4
    assert {lines.nth(i).get_attribute("data-line-status") for i in range(4)} == {"confirmed"}
    payment = page.locator("[data-payment-status]").first.get_attribute("data-payment-status")
    assert payment == "captured"  # every member confirmed at once: captured
    status = page.locator("[data-status]").get_attribute("data-status")
    # All-instant offers: confirmed right after authorisation and capture.
    assert status == "confirmed"


def test_switch_to_arabic_gives_translated_right_to_left_pages(page, live_server, shots):
    page.goto(live_server.url + "/")
    assert page.locator("html").get_attribute("dir") == "ltr"
    english_catalogue = page.locator("header nav a").first.inner_text()
    page.select_option("#lang-switch", "ar")
    page.wait_for_load_state()
    shots(page, "home-ar")
    html = page.locator("html")
    assert html.get_attribute("lang") == "ar" and html.get_attribute("dir") == "rtl"
    catalogue_link = page.locator("header nav a").first
    assert catalogue_link.inner_text() != english_catalogue
    assert re.search("[\u0600-\u06ff]", catalogue_link.inner_text())
    brand = page.locator(".brand").bounding_box()
    nav = page.locator("header nav").bounding_box()
    assert brand["x"] > nav["x"]  # mirrored: the brand sits on the right
    catalogue_link.click()
    page.wait_for_load_state()
    shots(page, "catalogue-ar")
    assert page.locator("html").get_attribute("dir") == "rtl"  # the choice sticks
    assert re.search("[\u0600-\u06ff]", page.locator("h1").inner_text())


def test_a_patient_cannot_open_another_patients_journey(page, live_server, shots):
    with live_server.app.app_context():
        journey_id = find_demo_journey().id  # Ingrid's
    _login(page, live_server, "patient.de@onewindow.demo")
    response = page.goto(f"{live_server.url}/my/journeys/{journey_id}")
    shots(page, "other-journey")
    assert response.status == 404
    assert "Ingrid" not in page.content()


def test_bad_input_shows_errors_beside_the_fields(page, live_server, shots):
    response = page.goto(f"{live_server.url}/catalogue?price_min=500&price_max=100&currency=EUR")
    assert response.status == 422
    field = page.locator(".field", has=page.locator("#price_max"))
    assert "Must not be below the minimum price." in field.inner_text()
    assert page.input_value("#price_max") == "100"
    shots(page, "search-error")

    _login(page, live_server, "patient.de@onewindow.demo")
    page.goto(f"{live_server.url}/my/journeys")
    page.fill("#adults", "0")
    page.fill("#arrival_on", "")
    with page.expect_response(re.compile(r"/my/journeys$")) as answer:
        page.click("main form button[type=submit]")
    assert answer.value.status == 422
    field = page.locator(".field", has=page.locator("#adults"))
    assert field.locator(".error").count() == 1
    assert page.input_value("#adults") == "0"
    shots(page, "journey-form-error")
