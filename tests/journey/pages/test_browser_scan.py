"""Pages people can scan, in Chromium at a desktop and a phone width, in English and
Arabic: the member's statement (every column visible at 1280 px, stacked on a phone),
the capacity calendar, the coordinator's month of arrivals and the admin's overview;
nothing may stick out of the page. The members list has no actions; a member's page
suspends only after asking. Screenshots: tests/artifacts/."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from bookings.payments import StripeGateway
from journey.builder.services import checkout, journeys, quotes
from journey.core.accounts.services import get_user_by_email
from journey.core.extensions import db
from journey.core.types import today_in
from journey.demo import ADMIN, COORDINATOR, DEMO_PASSWORD, demo_offer_id, manager_email
from providers.models import Provider
from tests.journey.pages.browser_fixtures import Screens, login, logout

pytestmark = pytest.mark.browser

HOTEL, ROOM = "tilto-namai-hotel", "Double room with breakfast"
TRANSFER = ("ratai-transfers", "Vilnius Airport transfer (one way)")
QUIET_MEMBER = "bitute-childcare"  # suspended and reinstated here; no other test uses it

#: How far the widest table sticks out of its own box (0: every column is visible).
TABLE_CUT = """() => Math.max(0, ...[...document.querySelectorAll('.table-wrap')]
  .filter(el => el.offsetParent !== null).map(el => el.scrollWidth - el.clientWidth))"""


def _confirmed_stays(server) -> None:
    """Two patients' stays at the hotel (every line confirms at once): one in NOK, one
    in EUR, so that the hotel's statement has two currencies."""
    day = today_in() + timedelta(days=4)
    with server.app.app_context():
        for email, currency, nationality in (("patient@onewindow.demo", "NOK", "NO"),
                                             ("patient.de@onewindow.demo", "EUR", "DE")):
            patient = get_user_by_email(email)
            journey = journeys.open_journey(patient, arrival_on=day,
                                            departure_on=day + timedelta(days=2),
                                            currency=currency, nationality=nationality)
            journeys.add_item(patient, journey.id, offer_id=demo_offer_id(*TRANSFER),
                              start_on=day)
            journeys.add_item(patient, journey.id, offer_id=demo_offer_id(HOTEL, ROOM),
                              start_on=day, days=2)
            quote = quotes.create_quote(patient, journey.id)
            quotes.accept_quote(patient, quote.id)
            db.session.commit()
            checkout.checkout_quote(patient, quote.id, gateway=StripeGateway.from_config(),
                                    payment_method="pm_card_visa")
            db.session.commit()


def _member_id(server, slug: str) -> int:
    with server.app.app_context():
        return db.session.scalar(select(Provider.id).where(Provider.slug == slug))


def _both_languages(page, screens, url: str, step: str, check=None) -> None:
    for lang in ("en", "ar"):
        page.goto(f"{url}{'&' if '?' in url else '?'}lang={lang}")
        assert page.locator("html").get_attribute("dir") == ("rtl" if lang == "ar" else "ltr")
        screens(f"{step}-{lang}")
        if check:
            check(lang)
    page.goto(f"{url}{'&' if '?' in url else '?'}lang=en")


def test_the_portal_board_and_admin_pages_fit_and_scan(page, live_server, artifacts_dir):
    server = live_server
    screens = Screens(page, artifacts_dir, "scan")
    _confirmed_stays(server)
    hotel = _member_id(server, HOTEL)

    # The hotel's statement: every column visible at 1280 px, stacked at 390 px.
    login(page, server, manager_email(HOTEL), DEMO_PASSWORD)

    def statement_fits(_lang):
        page.set_viewport_size({"width": 1280, "height": 900})
        assert page.evaluate(TABLE_CUT) <= 0, "the statement's columns are cut off"
        assert page.locator("table.statement tbody tr").count() >= 2
        assert page.locator("#in-own-currency").count() == 1  # NOK and EUR, in EUR

    _both_languages(page, screens, f"{server.url}/portal/{hotel}/statement", "statement",
                    statement_fits)

    # The room's capacity calendar: coloured by occupancy, today marked.
    with server.app.app_context():
        room = demo_offer_id(HOTEL, ROOM)

    def calendar_marks_today(_lang):
        assert page.locator('table.capacity td[aria-current="date"]').count() == 1
        assert page.locator("table.capacity td.occ-some").count() >= 1  # the two stays
        assert page.locator("ul.legend li").count() == 5

    _both_languages(page, screens, f"{server.url}/portal/offers/{room}/calendar", "calendar",
                    calendar_marks_today)
    logout(page)

    # The coordinator's month of arrivals: a grid on a desktop, a list on a phone.
    login(page, server, COORDINATOR["email"], DEMO_PASSWORD)
    page.goto(f"{server.url}/coordinator/?lang=en")
    screens("board")
    page.get_by_role("link", name="The month's calendar").click()
    page.wait_for_load_state()
    assert page.locator('table.arrivals-grid td[aria-current="date"]').count() == 1
    month = (today_in() + timedelta(days=4)).strftime("%Y-%m")

    def arrivals_shown(_lang):
        page.set_viewport_size({"width": 1280, "height": 900})
        assert page.locator("table.arrivals-grid a.mv-arrival").count() >= 2
        assert page.locator(".arrivals-list").is_hidden()
        page.set_viewport_size({"width": 390, "height": 900})
        assert page.locator("table.arrivals-grid").is_hidden()
        assert page.locator(".arrivals-list a.mv-arrival").count() >= 2
        page.set_viewport_size({"width": 1280, "height": 900})

    _both_languages(page, screens, f"{server.url}/coordinator/arrivals?month={month}",
                    "arrivals", arrivals_shown)
    logout(page)

    # The admin's overview, the compact members list and a member's page.
    login(page, server, ADMIN["email"], DEMO_PASSWORD)

    def figures_shown(_lang):
        assert page.locator("ul.figures li").count() == 5
        assert page.locator("figure svg[role=img]").count() == 1
        assert page.locator("figure table tbody tr").count() == 30

    _both_languages(page, screens, f"{server.url}/admin/", "overview", figures_shown)

    def members_compact(_lang):
        assert page.locator("main button, main textarea").count() == 0

    _both_languages(page, screens, f"{server.url}/admin/members", "members", members_compact)

    quiet = _member_id(server, QUIET_MEMBER)
    page.goto(f"{server.url}/admin/members/{quiet}?lang=en")
    screens("member")
    page.get_by_label("Reason").fill("Licence under review")
    page.get_by_role("button", name="Suspend").click()
    page.wait_for_load_state()
    assert len(page.dialogs) == 1 and page.dialogs[0].startswith("Suspend Bitutė Childcare?")
    assert page.locator("#member-state").inner_text() == "Suspended"
    screens("member-suspended")
    page.get_by_role("button", name="Reinstate").click()
    page.wait_for_load_state()
    assert page.locator("#member-state").inner_text() == "Verified"
    assert len(page.dialogs) == 1  # reinstating asks nothing
