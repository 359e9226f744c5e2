"""The figures dashboard in Chromium against the live server: the admin's cluster
figures and a member's own, each section a chart beside its table, in English and in
Arabic (right to left; the charts keep time left to right), at a desktop and a phone
width without anything sticking out. Screenshots go to a temporary folder (printed)."""

from __future__ import annotations

from datetime import timedelta

import pytest

from journey.core.accounts import services as accounts
from journey.core.types import today_in
from journey.demo import ADMIN, DEMO_PASSWORD, demo_offer_id, manager_email
from tests.journey.pages.browser_fixtures import Screens, book_by_card, login, logout

pytestmark = pytest.mark.browser

ROOM = ("tilto-namai-hotel", "Double room with breakfast")
WALK = ("dukes-roads-excursions", "Gentle walk through Vilnius Old Town")
PATIENT = {"email": "figures@patients.onewindow.demo", "password": "a-long-enough-password",
           "full_name": "Omar Haddad"}


def _booked(server) -> None:
    arrival = today_in() + timedelta(days=30)
    with server.app.app_context():
        patient = accounts.register_patient(**PATIENT)
        book_by_card(patient, [(demo_offer_id(*ROOM), arrival, 2),
                               (demo_offer_id(*WALK), arrival + timedelta(days=1), None)],
                     arrival_on=arrival, departure_on=arrival + timedelta(days=2),
                     nationality="AE")


def _charts_beside_tables(page) -> None:
    sections = page.locator("section.figure-section")
    assert sections.count() >= 8
    for index in range(sections.count()):
        section = sections.nth(index)
        drawn = section.locator("svg.chart[dir=ltr][role=img]").count()
        assert drawn == 1 or section.locator(".empty-chart").count() == 1
        assert section.locator("table.data").count() == 1
        assert section.locator("a.csv-link").count() == 1


def test_the_dashboard_in_english_and_arabic(page, live_server, tmp_path):
    _booked(live_server)
    screens = Screens(page, tmp_path, "figures")
    login(page, live_server, ADMIN["email"], DEMO_PASSWORD)
    page.goto(f"{live_server.url}/admin/")
    page.get_by_role("link", name="The cluster's figures").click()
    page.wait_for_load_state()
    assert page.locator("h1").inner_text() == "The cluster's figures"
    _charts_beside_tables(page)
    assert page.locator("#members svg.chart").count() == 1
    assert "Tilto" in page.locator("#members table").inner_text()
    screens("cluster-en")
    with page.expect_download() as download:
        page.locator("#members a.csv-link").click()
    assert download.value.suggested_filename.startswith("figures-members-")
    page.goto(f"{live_server.url}/figures?lang=ar")
    assert page.locator("html").get_attribute("dir") == "rtl"
    _charts_beside_tables(page)
    screens("cluster-ar")
    page.goto(f"{live_server.url}/figures?lang=en")
    logout(page)

    login(page, live_server, manager_email(ROOM[0]), DEMO_PASSWORD)
    page.get_by_role("link", name="Figures").first.click()
    page.wait_for_load_state()
    _charts_beside_tables(page)
    assert page.locator("#member").count() == 0  # no member to choose: its own only
    screens("member-en")
    page.goto(page.url + "?lang=ar")
    screens("member-ar")
