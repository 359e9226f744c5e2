"""The patient's path in Chromium, on a desktop and a phone: the demo's knee package ->
its dates planned with every item available -> the quote (ranges, the discount
explained) -> the checkout, whose hold counts down after a refused card and, at 0,
says so and disables the pay button. Screenshots: tests/artifacts/path-*."""

from __future__ import annotations

import re

import pytest

from journey.demo import DEMO_PASSWORD
from tests.journey.pages.browser_fixtures import OVERFLOW, WIDTHS, login

pytestmark = pytest.mark.browser

KNEE = "New knee in Vilnius, rehabilitation in Druskininkai"
REFUSED_CARD = "4000000000000341"  # localstripe: the charge is declined


def _steps(page) -> dict[str, str]:
    found = {}
    for item in page.locator("nav.steps li").all():
        state = ("current" if item.get_attribute("aria-current") == "step"
                 else "done" if "done" in (item.get_attribute("class") or "") else "todo")
        found[item.get_attribute("data-step")] = state
    return found


#: Visible fields without a label, but for localstripe's stand-in card element (Stripe's
#: real one is a labelled frame).
UNLABELLED = """() => [...document.querySelectorAll('input, select, textarea')]
  .filter(el => el.type !== 'hidden' && el.offsetParent !== null)
  .filter(el => !el.closest('#card-element'))
  .filter(el => !(el.labels && el.labels.length) && !el.getAttribute('aria-label'))
  .map(el => el.outerHTML)"""


class Screens:
    """The page at each width (desktop, phone), checked (labelled fields, nothing wider
    than the screen) and saved as ``path-<nn>-<step>-<width>.png``."""

    def __init__(self, page, folder, prefix: str):
        self.page, self.folder, self.prefix, self.count = page, folder, prefix, 0

    def __call__(self, step: str) -> None:
        for width in WIDTHS:
            self.page.set_viewport_size({"width": width, "height": 900})
            self.count += 1
            self.page.screenshot(full_page=True, path=str(
                self.folder / f"{self.prefix}-{self.count:02d}-{step}-{width}.png"))
            assert self.page.evaluate(UNLABELLED) == [], f"{step}: unlabelled fields"
            assert self.page.evaluate(OVERFLOW) <= 0, f"{step} overflows at {width} px"
        self.page.set_viewport_size({"width": WIDTHS[0], "height": 900})


def _card(page, number: str) -> None:
    card = page.locator("#card-element")
    card.locator("input[placeholder=number]").fill(number)
    card.locator("input[placeholder=exp_month]").fill("12")
    card.locator("input[placeholder=exp_year]").fill("34")
    card.locator("input[placeholder=cvc]").fill("123")
    card.locator("input[placeholder=postal_code]").fill("10001")


def test_package_dates_quote_and_checkout_with_the_holds_countdown(page, live_server,
                                                                    artifacts_dir):
    server = live_server
    screens = Screens(page, artifacts_dir, "path")
    login(page, server, "patient@onewindow.demo", DEMO_PASSWORD)
    page.goto(f"{server.url}/")
    page.select_option("#lang-switch", "en")  # Ingrid reads Norwegian; the test English
    page.wait_for_load_state()
    page.get_by_role("link", name=KNEE).first.click()
    page.wait_for_load_state()
    page.click("main form button[type=submit]")  # start on the suggested arrival
    page.wait_for_load_state()
    assert re.search(r"/my/journeys/\d+$", page.url), page.url
    ask = page.locator("#ask-quote")
    if ask.is_disabled():  # a problem left: the reason stands beside the button
        reason = page.locator("#" + ask.get_attribute("aria-describedby"))
        assert reason.is_visible() and reason.inner_text()
    screens("started")

    # the package again from the journey page: its dates planned so every item has room
    page.click("#apply button[type=submit]")
    page.wait_for_load_state()
    assert "dates are planned" in page.locator(".flash").inner_text()
    assert page.locator(".timeline .error").count() == 0
    assert not page.locator("#ask-quote").is_disabled()
    assert _steps(page) == {"build": "done", "dates": "done", "quote": "current",
                            "pay": "todo", "confirmed": "todo"}
    screens("planned")

    page.click("#ask-quote")
    page.wait_for_load_state()
    assert "/my/quotes/" in page.url
    assert page.locator("#discount-note").is_visible()
    assert page.locator("#quote-totals").inner_text().count("Package discount") == 1
    widths = {tuple(round(cell.bounding_box()["width"]) for cell in
                    table.locator("thead th").all())
              for table in page.locator("table.quote-lines").all()}
    assert len(widths) == 1  # every member's table has the same columns
    screens("quote")
    page.locator("form[action$='/accept'] button").click()
    page.wait_for_load_state()
    assert page.url.endswith("/checkout")
    assert _steps(page)["pay"] == "current"
    assert page.locator("#paying-for table.quote-lines").count() >= 4
    assert page.locator("#hold-next").is_visible()  # nothing held before the first try
    screens("checkout")

    page.clock.install()  # the page's clock, moved on by the test below
    _card(page, REFUSED_CARD)
    page.click("#pay")
    page.locator("#countdown").wait_for(state="visible")  # refused: the hold stays
    assert "refused" in page.locator("#checkout-form .error").first.inner_text()
    first = page.locator("#countdown").inner_text()
    assert re.fullmatch(r"(29|30):\d\d", first), first
    assert re.search(r"\d+ minutes left", page.locator("#countdown-live").inner_text())
    page.clock.run_for(2000)
    assert page.locator("#countdown").inner_text() != first  # it ticks
    assert "Lithuania" in page.locator("#hold-until").inner_text()  # the zone named
    assert not page.locator("#pay").is_disabled()
    screens("hold")

    # the hold runs out: the page says so and the pay button can no longer be pressed
    page.clock.run_for("31:00")
    assert page.locator("#hold [role=alert]").is_visible()
    assert page.locator("#pay").is_disabled()
    screens("hold-ran-out")
