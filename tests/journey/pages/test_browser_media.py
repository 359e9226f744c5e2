"""A member's manager uploads pictures of an offer in the portal, describes one and
deletes another; a patient then sees it on the public offer page, on a desktop and a
phone, and the cluster's map on the members' page. No request leaves the server (the
``page`` fixture fails the test on any)."""

from __future__ import annotations

import io

import pytest
from PIL import Image

from journey.demo import DEMO_PASSWORD, demo_offer_id, manager_email
from tests.journey.pages.browser_fixtures import WIDTHS, Screens, login, logout

pytestmark = pytest.mark.browser

MEMBER, OFFER = "dukes-roads-excursions", "Gentle walk through Vilnius Old Town"
ALT = "A red square on a grey street, drawn for the test"

LOADED = """(selector) => [...document.querySelectorAll(selector)]
  .map(img => img.complete && img.naturalWidth > 0)"""


def _photo(colour, size=(1200, 800)) -> bytes:
    image = Image.new("RGB", size, (120, 120, 120))
    image.paste(colour, (300, 200, 900, 600))
    exif = Image.Exif()
    exif[0x010F] = "SpyCam"
    out = io.BytesIO()
    image.save(out, "JPEG", exif=exif.tobytes())
    return out.getvalue()


def test_an_uploaded_picture_shows_on_the_public_offer_page(page, live_server, tmp_path):
    server = live_server
    with server.app.app_context():
        offer_id = demo_offer_id(MEMBER, OFFER)
    screens = Screens(page, tmp_path, "pictures")
    red, blue = tmp_path / "red.jpg", tmp_path / "blue.jpg"
    red.write_bytes(_photo((200, 30, 30)))
    blue.write_bytes(_photo((30, 30, 200)))

    login(page, server, manager_email(MEMBER), DEMO_PASSWORD)
    page.goto(f"{server.url}/portal/offers/{offer_id}/pictures")
    before = page.locator(".picture-admin > li").count()
    page.set_input_files("input[type=file]", [str(red), str(blue)])
    page.get_by_role("button", name="Upload").click()
    page.wait_for_load_state()
    assert page.get_by_text("2 pictures are added.").is_visible()
    items = page.locator(".picture-admin > li")
    assert items.count() == before + 2
    red_item, blue_item = items.nth(before), items.nth(before + 1)
    red_item.get_by_label("English").fill(ALT)
    red_item.get_by_role("button", name="Save the alt texts").click()
    page.wait_for_load_state()
    assert page.get_by_text("The alt texts are saved.").is_visible()
    screens("portal")

    page.locator(".picture-admin > li").nth(before + 1).get_by_role(
        "button", name="Delete").click()
    page.wait_for_load_state()
    assert page.dialogs and "Delete this picture?" in page.dialogs[-1]
    assert page.locator(".picture-admin > li").count() == before + 1
    del red_item, blue_item
    logout(page)

    page.goto(f"{server.url}/catalogue/offers/{offer_id}")
    new = page.get_by_role("img", name=ALT)
    assert new.count() == 1
    for width in WIDTHS:
        page.set_viewport_size({"width": width, "height": 900})
        new.scroll_into_view_if_needed()
        page.wait_for_function(
            "(alt) => [...document.images].some(i => i.alt === alt && i.complete"
            " && i.naturalWidth > 0)", arg=ALT)
    assert all(page.evaluate(LOADED, ".media-gallery img"))
    screens("offer")

    page.goto(f"{server.url}/catalogue/members")
    assert page.locator("svg.map .map-pin").count() >= 10
    screens("members-map")
