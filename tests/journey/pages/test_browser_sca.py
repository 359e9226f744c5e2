"""3-D Secure in Chromium: a patient pays with a card its bank checks (localstripe's
4000002760003184), answers the bank's step in localstripe's Stripe.js box, and the
journey is booked; a patient who refuses the step is sent back to pay, with the
reason. Under the app's Content-Security-Policy (no violation is allowed). Screenshots
at 1280 and 390 px: tests/artifacts/."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest

from journey.core.types import today_in
from tests.journey.pages.browser_fixtures import INSTANT_PACKAGE, OVERFLOW, WIDTHS, Screens

pytestmark = pytest.mark.browser

THREE_D_SECURE = "4000002760003184"


def _register(page, server, email):
    page.goto(f"{server.url}/register")
    page.fill("#full_name", "Sofia Lindqvist")
    page.fill("#email", email)
    page.fill("#password", "a-long-enough-password")
    page.select_option("#locale", "en")
    page.click("main form button[type=submit]")
    page.wait_for_load_state()


def _to_checkout(page, server, screens=None):
    page.goto(server.url + "/")
    page.get_by_role("link", name=INSTANT_PACKAGE).click()
    arrival = today_in() + timedelta(days=45)
    page.fill("#arrival_on", arrival.isoformat())
    page.select_option("#nationality", "SE")
    page.click("main form button[type=submit]")
    page.wait_for_load_state()
    assert re.search(r"/my/journeys/\d+$", page.url), page.url
    page.fill("#plan-arrival_on", arrival.isoformat())
    page.click("#plan button[type=submit]")
    page.wait_for_load_state()
    page.click("#quote button[type=submit]")
    page.wait_for_load_state()
    page.get_by_role("button", name="Accept this quote").click()
    page.wait_for_load_state()
    assert page.url.endswith("/checkout")


def _card(page, number):
    card = page.locator("#card-element")
    card.locator("input[placeholder=number]").fill(number)
    card.locator("input[placeholder=exp_month]").fill("12")
    card.locator("input[placeholder=exp_year]").fill("34")
    card.locator("input[placeholder=cvc]").fill("123")
    card.locator("input[placeholder=postal_code]").fill("11122")


def _with_card_element(page, folder, name: str) -> None:
    """Screenshots of a page with localstripe's card element (its fake inputs have no
    labels, so :class:`Screens` would refuse them): nothing wider than the screen."""
    for width in WIDTHS:
        page.set_viewport_size({"width": width, "height": 900})
        assert page.evaluate(OVERFLOW) <= 0, f"{name} overflows at {width} px"
        page.screenshot(full_page=True, path=str(folder / f"{name}-{width}.png"))
    page.set_viewport_size({"width": WIDTHS[0], "height": 900})


def _csp_violations(page) -> list[str]:
    violations: list[str] = []
    page.on("console", lambda message: violations.append(message.text)
            if "Content Security Policy" in message.text else None)
    return violations


def test_a_patient_passes_the_banks_check_and_the_journey_is_booked(page, live_server,
                                                                    artifacts_dir):
    server = live_server
    violations = _csp_violations(page)
    screens = Screens(page, artifacts_dir, "sca")
    _register(page, server, "sofia@patients.onewindow.demo")
    _to_checkout(page, server)
    _card(page, THREE_D_SECURE)
    _with_card_element(page, artifacts_dir, "sca-00-card")
    page.click("#pay")
    page.wait_for_url(re.compile(r"/my/bookings/\d+/authenticate$"))
    # localstripe's Stripe.js shows the bank's step at once (real Stripe: its frame).
    complete = page.get_by_role("button", name="Complete authentication")
    complete.wait_for()
    assert page.locator("#bank-status").inner_text() == "Waiting for your bank…"
    assert page.locator("#authenticate").is_disabled()
    screens("bank-step")
    complete.click()
    page.wait_for_url(re.compile(r"/my/journeys/\d+$"))
    assert page.locator(".flash").inner_text().startswith("Thank you. Your card is authorised")
    screens("booked")
    assert page.locator("[data-booking-status]").get_attribute(
        "data-booking-status") == "confirmed"  # every member of the package is instant
    assert page.locator("[data-payment-status]").first.get_attribute(
        "data-payment-status") == "captured"
    assert page.locator("[data-status]").get_attribute("data-status") == "confirmed"
    assert violations == []


def test_a_refused_check_sends_the_patient_back_to_pay(page, live_server, artifacts_dir):
    server = live_server
    violations = _csp_violations(page)
    _register(page, server, "sven@patients.onewindow.demo")
    _to_checkout(page, server)
    _card(page, THREE_D_SECURE)
    page.click("#pay")
    page.wait_for_url(re.compile(r"/my/bookings/\d+/authenticate$"))
    page.get_by_role("button", name="Fail authentication").click()
    page.wait_for_url(re.compile(r"/my/quotes/\d+/checkout$"))
    assert "Your bank did not confirm the payment" in page.locator(".flash").inner_text()
    _with_card_element(page, artifacts_dir, "sca-refused-00-checkout")
    # Another card, no check: booked.
    _card(page, "4242424242424242")
    page.click("#pay")
    page.wait_for_url(re.compile(r"/my/journeys/\d+$"))
    assert page.locator("[data-booking-status]").get_attribute(
        "data-booking-status") == "confirmed"
    assert violations == []
