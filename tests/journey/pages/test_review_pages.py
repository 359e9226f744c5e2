"""Review pages with the test client: the patient's list and form (errors beside the
fields, CSRF, changing), the invitation panel, the member's reviews with the one answer
(an anonymous author unknown), the coordinator's moderation queue (hide with a reason:
a danger button that asks first; the text kept) and the published rules."""

from __future__ import annotations

import os
import re
from pathlib import Path
from types import SimpleNamespace
from urllib.parse import urlsplit

import pytest
from flask import g, render_template_string

from journey.core.extensions import db
from journey.reviews.models import Review, ReviewModeration, ReviewState
from journey.reviews.services import reviews
from tests.journey.pages.browser_fixtures import Screens
from tests.journey.pages.patient_fixtures import login, text
from tests.journey.reviews.reviews_world import GOOD, completed_world, count, ensure_registered


@pytest.fixture
def w(app, world, gateway, make):
    ensure_registered(app)
    w = completed_world(world, gateway, make)
    return w


def _token(html: str) -> str:
    return re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', html).group(1)


def _write(w, **data):
    review = reviews.submit_review(w["patient"], w["journey"].id, w["clinic"].id,
                                   {**GOOD, **data})
    db.session.commit()
    return review


def test_the_patient_reviews_a_member_from_the_journey(client, w, app, monkeypatch):
    login(client, w["patient"])
    journey_id, clinic_id = w["journey"].id, w["clinic"].id
    listed = client.get(f"/my/journeys/{journey_id}/reviews")
    assert listed.status_code == 200
    html = text(listed)
    assert "Neris Clinic" in html and "Hotel Tilto" in html and "Kaunas" not in html
    form_url = f"/my/journeys/{journey_id}/reviews/{clinic_id}"
    assert form_url in html
    monkeypatch.setitem(app.config, "WTF_CSRF_ENABLED", True)
    page = client.get(form_url)
    html = text(page)
    assert page.status_code == 200 and 'name="overall"' in html
    assert 'name="care"' in html and 'name="punctuality"' not in html  # the clinic's
    forged = client.post(form_url, data={"overall": "4"})
    assert forged.status_code == 400 and reviews.my_reviews(w["patient"]) == []
    token = _token(html)
    missing = client.post(form_url, data={"csrf_token": token, "text": "No stars."})
    assert missing.status_code == 422
    assert "Choose a rating from 1 to 5." in text(missing) and "No stars." in text(missing)
    sent = client.post(form_url, data={"csrf_token": token, "overall": "2", "care": "3",
                                       "communication": "", "text": "Slow but kind.",
                                       "language": "en", "anonymous": "y"})
    assert sent.status_code == 302, text(sent)
    db.session.expire_all()
    review = reviews.my_reviews(w["patient"])[0]
    assert (review.overall, review.ratings, review.anonymous) == (2, {"care": 3}, True)
    again = text(client.get(form_url))
    assert "Slow but kind." in again and "Save the changes" in again
    assert 'lang="en" dir="auto"' in again  # the text marked with its language
    changed = client.post(form_url, data={"csrf_token": token, "overall": "3",
                                          "text": "Slow but kind.", "language": "en"})
    assert changed.status_code == 302
    db.session.expire_all()
    assert db.session.get(Review, review.id).overall == 3
    assert count(Review) == 1


def test_other_readers_cannot_write(client, w):
    url = f"/my/journeys/{w['journey'].id}/reviews/{w['clinic'].id}"
    login(client, w["patient2"])
    assert client.get(url).status_code == 404
    assert client.post(url, data={"overall": "1"}).status_code == 404
    client.get("/logout")
    login(client, w["clinic_staff"])
    assert client.post(url, data={"overall": "5"}).status_code == 403
    assert count(Review) == 0


def test_the_invitation_panel_shows_on_the_patients_journey(client, w, app):
    with app.test_request_context():
        g.actor = w["patient"]
        html = render_template_string('{% include "reviews/_journey_panel.html" %}',
                                      journey=w["journey"])
        assert "Neris Clinic" in html and "/reviews/" in html
        g.actor = w["clinic_staff"]
        assert render_template_string('{% include "reviews/_journey_panel.html" %}',
                                      journey=w["journey"]).strip() == ""


def test_the_member_answers_once_without_knowing_an_anonymous_author(client, w, app,
                                                                      monkeypatch):
    review = _write(w, anonymous=True, overall=2, text="Long waits.")
    login(client, w["clinic_staff"])
    url = f"/portal/{w['clinic'].id}/reviews"
    page = client.get(url)
    html = text(page)
    assert page.status_code == 200 and "Long waits." in html
    assert "A patient from Germany" in html
    assert "Ingrid" not in html and "Solberg" not in html
    assert f"journey {w['journey'].id}" not in html.lower()
    reply_url = f"/portal/{w['clinic'].id}/reviews/{review.id}/reply"
    empty = client.post(reply_url, data={f"r{review.id}-text": ""})
    assert empty.status_code == 422 and "Write the answer." in text(empty)
    long = client.post(f"{reply_url}?lang=nb", data={f"r{review.id}-text": "x" * 4001})
    assert long.status_code == 422  # a field's error, like every form's, with its limit
    assert "4000" in text(long) and "tegn" in text(long)
    done = client.post(reply_url, data={f"r{review.id}-text": "We are sorry."})
    assert done.status_code == 302
    html = text(client.get(url))
    assert "We are sorry." in html and reply_url not in html  # no second form
    second = client.post(reply_url, data={f"r{review.id}-text": "Again."})
    assert second.status_code == 409
    client.get("/logout")
    login(client, w["hotel_staff"])
    assert client.get(url).status_code in (403, 404)


def test_the_coordinator_hides_with_a_reason_and_the_text_stays(client, w):
    review = _write(w, overall=1, text="Awful. Call me on +370 600 00000.")
    login(client, w["coordinator"])
    page = client.get("/coordinator/reviews")
    html = text(page)
    assert page.status_code == 200 and "Awful." in html and "Ingrid Solberg" in html
    assert re.search(r'<button type="submit" class="danger" data-confirm="[^"]+">', html)
    hide_url = f"/coordinator/reviews/{review.id}/hide"
    no_reason = client.post(hide_url, data={f"h{review.id}-reason": "",
                                            f"h{review.id}-note": "Negative."})
    assert no_reason.status_code == 422 and "Choose the rule the review breaks." in \
        text(no_reason)
    assert db.session.get(Review, review.id).state == ReviewState.PUBLISHED
    done = client.post(hide_url, data={f"h{review.id}-reason": "personal_data",
                                       f"h{review.id}-note": "No phone numbers, please."})
    assert done.status_code == 302
    db.session.expire_all()
    hidden = db.session.get(Review, review.id)
    assert hidden.state == ReviewState.HIDDEN
    assert hidden.text == "Awful. Call me on +370 600 00000."
    assert count(ReviewModeration) == 1
    html = text(client.get("/coordinator/reviews?state=hidden"))
    assert "Show it again" in html
    client.get("/logout")
    login(client, w["patient"])
    mine = text(client.get(f"/my/journeys/{w['journey'].id}/reviews/{w['clinic'].id}"))
    assert "No phone numbers, please." in mine and "Hidden by moderation" in mine
    assert client.get("/coordinator/reviews").status_code == 403


def test_the_rules_are_public_and_in_arabic_too(client, w):
    page = client.get("/reviews/rules")
    assert page.status_code == 200
    html = text(page)
    assert "never a reason to hide" in html and 'id="rule-personal_data"' in html
    arabic = client.get("/reviews/rules?lang=ar")
    assert arabic.status_code == 200 and 'dir="rtl"' in text(arabic)


# --- in Chromium: phone and desktop, left to right and right to left -----------------------

@pytest.mark.browser
def test_the_review_pages_fit_a_phone_and_mirror_in_arabic(client, w, browser, artifacts_dir):
    """Each page at 1280 and 390 px, in English and Arabic: every field labelled, nothing
    wider than the screen. The browser's requests are answered by the test client."""
    review = _write(w, anonymous=True, overall=2, text="Kind staff, but a long wait "
                    "before the surgery. " * 6)
    reviews.reply(w["clinic_staff"], review.id, "Thank you; we have changed our schedule.")
    hotel = reviews.submit_review(w["patient"], w["journey"].id, w["hotel"].id,
                                  {"overall": 4, "ratings": {"comfort": 5},
                                   "text": "غرفة نظيفة وهادئة.", "language": "ar"})
    db.session.commit()
    ids = {"journey": w["journey"].id, "clinic": w["clinic"].id, "hotel": hotel.id}
    folder = Path(os.environ.get("REVIEW_SHOTS") or artifacts_dir)
    folder.mkdir(parents=True, exist_ok=True)
    origin = "http://reviews.test"
    context = browser.new_context(locale="en-GB", viewport={"width": 1280, "height": 900})
    tab = context.new_page()
    tab.on("dialog", lambda dialog: dialog.accept())

    def answer(route, request):
        parts = urlsplit(request.url)
        if f"{parts.scheme}://{parts.netloc}" != origin:
            route.abort()
            return
        path = parts.path + (f"?{parts.query}" if parts.query else "")
        response = client.open(path, method=request.method, data=request.post_data_buffer,
                               headers={"Content-Type": request.headers.get("content-type",
                                                                            "")},
                               follow_redirects=True)
        headers = {k: v for k, v in response.headers.items()
                   if k.lower() not in ("content-length", "set-cookie")}
        route.fulfill(status=response.status_code, headers=headers, body=response.get_data())

    context.route("**/*", answer)
    screens = Screens(tab, folder, "reviews")
    pages = {
        "patient": [("list", f"/my/journeys/{ids['journey']}/reviews"),
                    ("form", f"/my/journeys/{ids['journey']}/reviews/{ids['clinic']}")],
        "clinic_staff": [("member", f"/portal/{ids['clinic']}/reviews")],
        "coordinator": [("queue", "/coordinator/reviews")],
    }
    try:
        for who, visits in pages.items():
            login(client, w[who])
            for step, path in visits:
                for lang in ("en", "ar"):
                    tab.goto(f"{origin}{path}{'&' if '?' in path else '?'}lang={lang}")
                    assert tab.locator("html").get_attribute("dir") == (
                        "rtl" if lang == "ar" else "ltr")
                    screens(f"{step}-{lang}")
        tab.goto(f"{origin}/reviews/rules?lang=ar")
        screens("rules-ar")
        tab.goto(f"{origin}/coordinator/reviews")  # hide the hotel's review, asked first
        card = tab.locator(f"#review-{ids['hotel']}")
        card.locator("summary").click()
        screens("hide-open")
        card.locator("button.danger").click()
        tab.wait_for_load_state()
        assert "Choose the rule the review breaks." in tab.content()
        screens("hide-refused")
        card = tab.locator(f"#review-{ids['hotel']}")
        card.locator("select").select_option("off_topic")
        card.locator("button.danger").click()
        tab.wait_for_load_state()
        assert tab.locator(f"#review-{ids['hotel']}[data-state=hidden]").count() == 1
        screens("hidden")
    finally:
        context.close()



def test_a_members_links_are_one_list_in_the_readers_language(client, w, monkeypatch):
    """A member that served two links of the chain had them joined by a Latin comma,
    "العلاج / الجراحة, استشارة" on an Arabic page; they are one list as the locale writes
    it ("A وB"; "A og B" in Norwegian)."""
    from journey.pages import reviews as page
    from providers.models import ChainLink

    found = page.reviews.reviewables

    def two_links(actor, journey_id):
        journey, rows = found(actor, journey_id)
        rows = [SimpleNamespace(provider=row.provider, review=row.review,
                                links=[ChainLink.CONSULTATION, ChainLink.TREATMENT])
                for row in rows]
        return journey, rows

    monkeypatch.setattr(page.reviews, "reviewables", two_links)
    login(client, w["patient"])
    url = f"/my/journeys/{w['journey'].id}/reviews"
    assert "استشارة والعلاج / الجراحة" in text(client.get(f"{url}?lang=ar"))
    assert "Konsultasjon og Behandling / kirurgi" in text(client.get(f"{url}?lang=nb"))
