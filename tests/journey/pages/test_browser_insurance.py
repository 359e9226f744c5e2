"""An insurer in Chromium against the live server (the demo cluster): Sargas Insurance's
manager finds the guarantee of payment Heike's knee journey asks for, approves it with
its amount and validity, and sees its receivables and products; at a desktop and a
phone width, in English and in Arabic (right to left). Screenshots go to a temporary
folder (printed; kept by pytest)."""

from __future__ import annotations

from datetime import timedelta

import pytest

from journey.core.extensions import db
from journey.core.types import today_in
from journey.demo import DEMO_PASSWORD, manager_email
from journey.insurance.models import Guarantee
from tests.journey.pages.browser_fixtures import Screens, login

pytestmark = pytest.mark.browser

INSURER = "sargas-insurance"


def test_the_insurer_approves_the_guarantee(page, live_server, tmp_path):
    server = live_server
    screens = Screens(page, tmp_path, "insurer")
    login(page, server, manager_email(INSURER), DEMO_PASSWORD)
    page.get_by_role("link", name="Member portal").click()
    page.wait_for_load_state()
    page.get_by_role("link", name="Guarantees, receivables and products").click()
    page.wait_for_load_state()
    requests = page.locator("#guarantees")
    assert "Heike Vogel" in requests.inner_text()
    screens("portal")
    page.goto(page.url.split("?")[0] + "?lang=ar")
    assert page.locator("html").get_attribute("dir") == "rtl"
    screens("portal-ar")
    page.goto(page.url.split("?")[0])
    with server.app.app_context():
        asked = db.session.scalars(db.select(Guarantee)).first()
        amount, currency = asked.requested_minor, asked.currency
    assert currency == "EUR"
    form = page.locator("#guarantees form.form").first
    form.get_by_label("Amount guaranteed").fill(f"{amount / 100:.2f}")
    form.get_by_label("Valid until").fill((today_in() + timedelta(days=60)).isoformat())
    form.get_by_role("button", name="Approve").click()
    page.wait_for_load_state()
    assert page.locator("#guarantees").get_by_role("button", name="Approve").count() == 0
    screens("approved")
