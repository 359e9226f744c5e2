"""The patient's path on the pages: the step indicator, the quote button that says why
it is disabled, the quote's aligned tables with date ranges and the discount explained,
and the checkout with what is paid for and the hold's countdown."""

from __future__ import annotations

import json
import re
from datetime import date, timedelta
from html import unescape
from types import SimpleNamespace

from babel.dates import format_interval

from bookings.models import BookingStatus
from journey.builder.services import checkout, journeys, templates
from journey.builder.services.progress import PackageStart
from journey.core.extensions import db
from journey.pages.case import answer_words
from journey.pages.patient.journey import package_started
from providers.models import QuestionKind
from providers.services import offers
from tests.booking_fixtures import accepted_quote, clinic_manager
from tests.journey.builder_world import soon
from tests.journey.pages.patient_fixtures import login, text


def _steps(html: str) -> dict[str, str]:
    """Each step of the path and its state: current, done or to do."""
    found = {}
    for attrs in re.findall(r'<li class="step[^"]*"[^>]*>', html):
        step = re.search(r'data-step="(\w+)"', attrs).group(1)
        found[step] = ("current" if 'aria-current="step"' in attrs
                       else "done" if " done" in attrs else "todo")
    return found


def _discount_template(world):
    """The clinic's own package with a 10 % discount: ten nights and the surgery."""
    template = templates.create_template(
        clinic_manager(world), provider_id=world["clinic"].id, discount_percent=10,
        status="published", texts={"en": {"name": "Knee with ten nights"}},
        links=[{"default_offer_id": world["room"].id, "day_offset": 0, "days": 10},
               {"default_offer_id": world["surgery"].id, "day_offset": 2}])
    db.session.commit()
    return template


def test_the_journey_shows_its_step_and_a_disabled_quote_button_says_why(world, client):
    patient = world["patient"]
    journey = journeys.open_journey(patient, arrival_on=soon(10), departure_on=soon(13),
                                    currency="EUR", nationality="DE")
    journeys.add_item(patient, journey.id, offer_id=world["room"].id, start_on=soon(10),
                      days=3)
    offers.set_capacity(world["admin"], world["room"].id, start=soon(11), end=soon(11),
                        capacity=0)
    db.session.commit()
    login(client, patient)
    html = text(client.get(f"/my/journeys/{journey.id}?lang=en"))
    assert _steps(html) == {"build": "done", "dates": "current", "quote": "todo",
                            "pay": "todo", "confirmed": "todo"}
    button = re.search(r'<button type="submit" id="ask-quote"[^>]*>', html).group(0)
    assert "disabled" in button and 'aria-describedby="quote-blocked"' in button
    assert 'id="quote-blocked"' in html


def test_a_journey_without_problems_may_ask_for_a_quote(world, client):
    patient = world["patient"]
    journey = journeys.open_journey(patient, arrival_on=soon(10), departure_on=soon(13),
                                    currency="EUR", nationality="DE")
    journeys.add_item(patient, journey.id, offer_id=world["room"].id, start_on=soon(10),
                      days=3)
    db.session.commit()
    login(client, patient)
    html = text(client.get(f"/my/journeys/{journey.id}?lang=en"))
    button = re.search(r'<button type="submit" id="ask-quote"[^>]*>', html).group(0)
    assert "disabled" not in button
    assert _steps(html)["quote"] == "current"
    # the remove button is a dangerous action, asked first
    assert re.search(r'<button type="submit" class="danger" data-confirm="[^"]+">Remove',
                     html)


def test_the_quote_shows_ranges_aligned_columns_and_the_discount(world, client):
    quote = accepted_quote(world, template=_discount_template(world))
    login(client, world["patient"])
    html = text(client.get(f"/my/quotes/{quote.id}?lang=en"))
    assert _steps(html)["pay"] == "current"
    room = next(line for line in quote.lines if line.offer_id == world["room"].id)
    stay = format_interval(room.start_on, room.start_on + timedelta(days=room.days), "yMMMd",
                           locale="en")
    assert stay in unescape(html)  # first night to departure day, not the first night only
    assert "10 nights" in html
    tables = re.findall(r'<table class="lines fixed quote-lines">\s*<colgroup>(.*?)</colgroup>',
                        html, re.S)
    assert len(tables) == 2 and len(set(tables)) == 1  # the same columns in each table
    for cell in re.findall(r"<td[^>]*>", html.split('id="quote-totals"')[0]):
        assert "data-label=" in cell, cell
    totals = html.split('id="quote-totals"')[1]
    assert "List price" in totals and "Package discount" in totals and "You pay" in totals
    assert 'id="discount-note"' in html and "Neris Clinic" in html.split(
        'id="discount-note"')[1].split("</p>")[0]
    made = html.split("Made on")[1].split("</p>")[0]
    assert made.count("<bdi>") == 2 and "Lithuania" in made  # moments with their zone


def test_the_checkout_shows_what_is_paid_for_and_says_when_the_hold_runs_out(world, client):
    quote = accepted_quote(world)
    login(client, world["patient"])
    html = text(client.get(f"/my/quotes/{quote.id}/checkout?lang=en"))
    assert 'id="paying-for"' in html and "Double room" in html and "Knee replacement" in html
    assert 'id="hold-next"' in html and "30 minutes" in html  # nothing held yet
    assert 'data-expires' not in html
    assert "countdown.js" in html
    assert _steps(html)["pay"] == "current"

    # a coordinator's payment link holds the units: the patient's checkout counts down
    booking = checkout.checkout_quote(world["coordinator"], quote.id)
    db.session.commit()
    assert booking.status == BookingStatus.PENDING_PAYMENT
    html = text(client.get(f"/my/quotes/{quote.id}/checkout?lang=en"))
    panel = re.search(r'<section class="panel hold" id="hold"[^>]*>', html, re.S).group(0)
    expires = re.search(r'data-expires="([^"]+)"', panel).group(1)
    assert expires.startswith(booking.expires_at.isoformat()[:16])
    minutes = json.loads(unescape(re.search(r'data-minutes-left="([^"]+)"', panel).group(1)))
    assert minutes[1] == "1 minute left" and minutes[2] == "2 minutes left"
    assert 'aria-live="polite"' in html and 'role="timer"' in html
    until = html.split('id="hold-until"')[1].split("</p>")[0]
    assert "<bdi>" in until and "(" in until  # the local time, with its zone named


def test_a_package_start_tells_every_wrong_field_at_once(world, client):
    """No adults and an arrival in the past: both are said on the first try."""
    template = _discount_template(world)
    db.session.commit()
    login(client, world["patient"])
    answer = client.post(f"/catalogue/packages/{template.id}?lang=en", data={
        "arrival_on": soon(-3).isoformat(), "adults": "0", "children": "0",
        "nationality": "DE", "currency": "EUR"})
    assert answer.status_code == 422
    html = text(answer)
    assert "Must not be in the past." in html and "Number must be between 1 and 20." in html


def test_starting_from_a_package_plans_dates_on_which_every_item_has_room(world, client):
    """The catalogue's package page starts the journey with its dates planned: the
    surgery has no room on the package's default day, and the journey still starts
    without a problem (the planner found it a day with room)."""
    template = _discount_template(world)
    offers.set_capacity(world["admin"], world["surgery"].id, start=soon(12), end=soon(12),
                        capacity=0)
    db.session.commit()
    login(client, world["patient"])
    answer = client.post(f"/catalogue/packages/{template.id}?lang=en", data={
        "arrival_on": soon(10).isoformat(), "adults": "1", "children": "0",
        "nationality": "DE", "currency": "EUR"})
    assert answer.status_code == 302, text(answer)
    html = text(client.get(answer.headers["Location"]))
    assert "dates are planned" in html
    assert 'class="error"' not in html.split('id="plan"')[0]
    assert "disabled" not in re.search(r'<button type="submit" id="ask-quote"[^>]*>',
                                       html).group(0)


def test_a_moved_packages_message_writes_its_dates_as_the_page_does(app):
    """"Not every item had room for an arrival on 2027/03/01, so the dates are planned
    from 2027/03/04" came in Babel's medium dates, numbers on an Arabic page whose
    timeline says "4 مارس 2027"; the message uses the pages' one date format."""
    started = PackageStart(journey=None, wished_on=date(2027, 3, 1),
                           arrival_on=date(2027, 3, 4), reasons=[])
    with app.test_request_context("/?lang=ar"):
        message = package_started(started)
    assert "1 مارس 2027" in message and "4 مارس 2027" in message, message


def test_a_date_answer_of_the_case_is_written_as_the_page_does(app):
    """A case's date answer (the date of a last operation) came in Babel's medium date,
    "2026/05/03" on an Arabic page; it is the pages' one date format."""
    question = SimpleNamespace(kind=QuestionKind.DATE)
    with app.test_request_context("/?lang=ar"):
        words = answer_words(question, "2026-05-03", [])
    assert words == "3 مايو 2026", words
