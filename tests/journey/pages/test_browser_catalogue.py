"""The catalogue and the offer editor in Chromium (issue 17): the filters folded on a
phone and shown on a desktop, "from" prices, and a Lithuanian member typing "6500,00".
At a desktop and a phone width, in English and in Arabic; screenshots go to a temporary
folder (printed; kept by pytest)."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from journey.core.extensions import db
from journey.demo import DEMO_PASSWORD, demo_offer_id, manager_email
from providers.models import Offer
from tests.journey.pages.browser_fixtures import Screens, login

pytestmark = pytest.mark.browser

KNEE = ("neris-orthopaedic-hospital", "Total knee replacement (knee arthroplasty)")
FILTER = "#chain_link"


def test_filters_fold_on_a_phone_and_relevance_leads(page, live_server, tmp_path):
    screens = Screens(page, tmp_path, "catalogue")
    page.goto(f"{live_server.url}/catalogue")
    page.set_viewport_size({"width": 1280, "height": 900})
    assert page.is_visible(FILTER)  # a desktop shows the filters
    assert not page.is_visible("summary")
    first = page.locator(".result h2").first.inner_text()
    assert first and "Babysitter" not in first and "insurance" not in first.lower()
    screens("search")
    page.set_viewport_size({"width": 390, "height": 900})
    assert not page.is_visible(FILTER)  # a phone sees the results first
    page.click("summary")
    assert page.is_visible(FILTER)
    page.goto(f"{live_server.url}/catalogue?procedure=knee_arthroplasty&lang=ar")
    assert page.is_visible(FILTER)  # a filter is set: open
    assert page.locator(".result").count() == 1
    screens("procedure-ar")


def test_a_lithuanian_member_types_a_comma(page, live_server, tmp_path):
    screens = Screens(page, tmp_path, "editor")
    login(page, live_server, manager_email(KNEE[0]), DEMO_PASSWORD)
    with live_server.app.app_context():
        offer_id = demo_offer_id(*KNEE)
    page.goto(f"{live_server.url}/portal/offers/{offer_id}?lang=lt")
    assert page.input_value("#base_price") == "6500,00"
    screens("terms-lt")
    page.fill("#base_price", "6450,50")
    page.click("main form.offer-editor button[type=submit]")
    page.wait_for_load_state()
    with live_server.app.app_context():
        assert db.session.scalar(select(Offer.base_price_minor)
                                 .where(Offer.id == offer_id)) == 645050
    page.goto(f"{live_server.url}/portal/offers/{offer_id}?lang=lt")
    assert page.input_value("#base_price") == "6450,50"
    page.fill("#base_price", "6500,00")  # as it was, for the other browser tests
    page.click("main form.offer-editor button[type=submit]")
    page.wait_for_load_state()
    with live_server.app.app_context():
        assert db.session.scalar(select(Offer.base_price_minor)
                                 .where(Offer.id == offer_id)) == 650000
