"""What the browser tests' live server holds: the demo cluster, and a package whose
every member confirms at once, which the patient's path books."""

from __future__ import annotations

from datetime import date, timedelta
from pathlib import Path

from flask_migrate import upgrade

from journey.core.extensions import db

#: The all-instant package the patient's path books (every member confirms at once).
INSTANT_PACKAGE = "Dental check-up weekend in Vilnius"


def seed_live_server(app, migrations: Path) -> None:
    """The live server's database: migrated, the demo cluster, and the all-instant
    package (:data:`INSTANT_PACKAGE`)."""
    from journey.builder.services import templates
    from journey.core.accounts.services import get_user_by_email
    from journey.demo import COORDINATOR, demo_offer_id, seed_demo

    with app.app_context():
        upgrade(directory=str(migrations))
        seed_demo()
        coordinator = get_user_by_email(COORDINATOR["email"])
        links = [
            {"default_offer_id": demo_offer_id("ratai-transfers",
                                               "Vilnius Airport transfer (one way)"),
             "day_offset": 0, "days": 1, "quantity": 1},
            {"default_offer_id": demo_offer_id("tilto-namai-hotel",
                                               "Double room with breakfast"),
             "day_offset": 0, "days": 3, "quantity": 1},
            {"default_offer_id": demo_offer_id(
                "baltadante-dental-studio",
                "Dental check-up, X-ray and professional cleaning"),
             "day_offset": 1, "days": 1, "quantity": 1},
            {"default_offer_id": demo_offer_id("dukes-roads-excursions",
                                               "Gentle walk through Vilnius Old Town"),
             "day_offset": 2, "days": 1, "quantity": 1},
        ]
        templates.create_template(
            coordinator, texts={"en": {"name": INSTANT_PACKAGE,
                                       "description": "Every member confirms at once."}},
            links=links, status="published")
        db.session.commit()


# --- what every browser test does ---------------------------------------------------------

#: Every visible input, select and text area without a label (none is allowed).
UNLABELLED = """() => [...document.querySelectorAll('input, select, textarea')]
  .filter(el => el.type !== 'hidden' && el.offsetParent !== null)
  .filter(el => !(el.labels && el.labels.length) && !el.getAttribute('aria-label'))
  .map(el => el.outerHTML)"""
#: Whether anything sticks out of the page's width (a horizontal scroll bar).
OVERFLOW = "() => document.documentElement.scrollWidth - window.innerWidth"
WIDTHS = (1280, 390)  # a desktop and a phone


def login(page, server, email: str, password: str) -> None:
    page.goto(f"{server.url}/login")
    page.fill("#email", email)
    page.fill("#password", password)
    page.click("main form button[type=submit]")
    page.wait_for_load_state()


def logout(page) -> None:
    page.get_by_role("button", name="Log out").click()
    page.wait_for_load_state()


class Screens:
    """``screens(step)``: the page at each width of :data:`WIDTHS`, checked (every field
    labelled, nothing wider than the screen) and saved to ``folder`` as
    ``<prefix>-<nn>-<step>-<width>.png``; the desktop width again afterwards."""

    def __init__(self, page, folder: Path, prefix: str):
        self.page, self.folder, self.prefix, self.count = page, folder, prefix, 0
        print(f"\nscreenshots: {folder}")

    def __call__(self, step: str, widths=WIDTHS) -> None:
        for width in widths:
            self.page.set_viewport_size({"width": width, "height": 900})
            self.count += 1
            name = self.folder / f"{self.prefix}-{self.count:02d}-{step}-{width}.png"
            if self.page.evaluate(OVERFLOW) > 0:  # keep the picture of what sticks out
                self.page.screenshot(full_page=True, path=str(name))
            assert self.page.evaluate(UNLABELLED) == [], f"{step}: unlabelled fields"
            assert self.page.evaluate(OVERFLOW) <= 0, f"{step} overflows at {width} px"
            self.page.screenshot(full_page=True, path=str(
                self.folder / f"{self.prefix}-{self.count:02d}-{step}-{width}.png"))
        self.page.set_viewport_size({"width": WIDTHS[0], "height": 900})


def book_by_card(patient, items, *, arrival_on, departure_on, nationality: str) -> int:
    """A journey of ``items`` (``(offer_id, start_on, days or None)``) opened, quoted,
    accepted and paid by card through localstripe; its id."""
    from bookings.payments import StripeGateway
    from journey.builder.services import checkout, journeys, quotes

    journey = journeys.open_journey(patient, arrival_on=arrival_on,
                                    departure_on=departure_on, currency="EUR",
                                    nationality=nationality)
    for offer_id, start_on, days in items:
        journeys.add_item(patient, journey.id, offer_id=offer_id, start_on=start_on,
                          **({"days": days} if days else {}))
    quote = quotes.create_quote(patient, journey.id)
    quotes.accept_quote(patient, quote.id)
    db.session.commit()
    checkout.checkout_quote(patient, quote.id, gateway=StripeGateway.from_config(),
                            payment_method="pm_card_visa")
    db.session.commit()
    return journey.id


def weekday_after(day: date) -> date:
    """The first day from ``day`` on that is Monday to Friday (when surgeons consult)."""
    while day.weekday() >= 5:
        day += timedelta(days=1)
    return day
