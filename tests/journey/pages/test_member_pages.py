"""The member portal: a member's staff manage only their own member's offers (the same
404/403 as the API), forms keep what was typed and show errors beside the fields."""

from __future__ import annotations

import re
from decimal import Decimal

import pytest
from sqlalchemy import select

from bookings.models import Booking, BookingLine, BookingStatus, LineStatus
from bookings.services import settlement
from journey.builder.models import Journey
from journey.core.accounts.models import User
from journey.core.extensions import db
from providers.models import CapacityDay, Offer, OfferStatus, PriceRule
from providers.services import offers
from tests.journey.pages.portal_fixtures import (
    count,
    field_names,
    fresh,
    hammer,
    line_of,
    login,
    offer_row,
    portal_world,
    soon,
)


@pytest.fixture
def world(make):
    return portal_world(make)


def test_anonymous_visitor_is_sent_to_the_login_page(client, world):
    response = client.get(f"/portal/{world['clinic'].id}")
    assert response.status_code == 302
    assert "/login?next=" in response.headers["Location"]


def test_a_patient_may_not_open_the_portal(client, world):
    login(client, world["patient"])
    assert client.get("/portal/").status_code == 403
    assert client.get(f"/portal/{world['clinic'].id}").status_code == 403


def test_staff_land_on_their_members_page_with_its_offers(client, world):
    login(client, world["clinic_staff"])
    response = client.get("/portal/")
    assert response.status_code == 302
    assert response.headers["Location"].endswith(f"/portal/{world['clinic'].id}")
    page = client.get(f"/portal/{world['clinic'].id}?lang=en").get_data(as_text=True)
    assert "Knee replacement" in page
    assert "Double room" not in page  # the hotel's offer
    assert "translations missing" in page  # lt and most cluster languages


def test_cluster_staff_choose_a_member(client, world):
    login(client, world["coordinator"])
    page = client.get("/portal/").get_data(as_text=True)
    assert "Neris Clinic" in page and "Hotel Tilto" in page
    assert client.get(f"/portal/{world['hotel'].id}").status_code == 200


@pytest.mark.parametrize("path", [
    "/portal/{hotel}", "/portal/{hotel}/offers/new", "/portal/offers/{room}",
    "/portal/offers/{room}/texts", "/portal/offers/{room}/prices",
    "/portal/offers/{room}/calendar", "/portal/{hotel}/journeys/new",
])
def test_another_members_pages_are_refused(client, world, path):
    login(client, world["clinic_staff"])
    url = path.format(hotel=world["hotel"].id, room=world["room"].id)
    assert client.get(url).status_code == 403


def test_another_members_draft_is_not_even_found(client, world, make):
    draft = make.offer(world["hotel"], status=OfferStatus.DRAFT)
    login(client, world["clinic_staff"])
    assert client.get(f"/portal/offers/{draft.id}").status_code == 404
    assert client.get(f"/portal/offers/{draft.id}/texts").status_code == 404
    assert client.post(f"/portal/offers/{draft.id}/delete").status_code == 404
    assert offer_row(draft.id) is not None


def test_posts_to_another_members_offer_change_nothing(client, world):
    login(client, world["clinic_staff"])
    room = world["room"]
    terms = {"chain_link": "accommodation", "currency": "EUR", "price_unit": "night",
             "base_price": "1.00", "min_quantity": "1", "capacity_unit": "room",
             "duration_value": "1", "duration_unit": "nights", "lead_time_days": "0",
             "confirmation_mode": "approval", "recovery_days": "0", "fit_to_fly_days": "0",
             "min_days_after_treatment": "0", "status": "published"}
    assert client.post(f"/portal/offers/{room.id}", data=terms).status_code == 403
    assert client.post(f"/portal/offers/{room.id}/texts/en",
                       data={"en-title": "Hacked"}).status_code == 403
    assert client.post(f"/portal/offers/{room.id}/prices", data={
        "starts_on": soon(1).isoformat(), "ends_on": soon(2).isoformat(),
        "price": "1"}).status_code == 403
    assert client.post(f"/portal/offers/{room.id}/calendar", data={
        "start": soon(1).isoformat(), "end": soon(2).isoformat(),
        "capacity": "0"}).status_code == 403
    row = offer_row(room.id)
    assert row.base_price_minor == 8000
    assert [t.title for t in row.texts] == ["Double room"]
    assert row.price_rules == []
    assert offers.capacity_by_day(room.id, soon(1), soon(2)) == {soon(1): 5, soon(2): 5}


NEW_OFFER = {"language": "en", "title": "Hip replacement", "chain_link": "treatment",
             "currency": "EUR", "price_unit": "stay", "base_price": "7250.50",
             "companion_price": "", "min_quantity": "1", "max_quantity": "",
             "capacity_unit": "surgery_slot", "duration_value": "1", "duration_unit": "days",
             "lead_time_days": "14", "confirmation_mode": "approval", "recovery_days": "10",
             "fit_to_fly_days": "7", "min_days_after_treatment": "0"}


def test_staff_create_an_offer_as_a_draft(client, world):
    login(client, world["clinic_staff"])
    response = client.post(f"/portal/{world['clinic'].id}/offers/new", data=NEW_OFFER)
    assert response.status_code == 302
    offer = db.session.scalar(select(Offer).where(Offer.base_price_minor == 725050))
    assert offer.provider_id == world["clinic"].id
    assert offer.status == OfferStatus.DRAFT
    assert (offer.lead_time_days, offer.recovery_days, offer.fit_to_fly_days) == (14, 10, 7)
    assert [(t.language, t.title) for t in offer.texts] == [("en", "Hip replacement")]
    assert response.headers["Location"].endswith(f"/portal/offers/{offer.id}")


@pytest.mark.parametrize(("changes", "field", "message"), [
    ({"title": ""}, "title", "This field is required."),
    ({"base_price": "abc"}, "base_price", "Not a valid decimal value."),
    ({"base_price": "NaN"}, "base_price", "Not a valid decimal value."),
    ({"base_price": "12.345"}, "base_price", "Use at most 2 decimal places."),
    ({"base_price": "-1"}, "base_price", "Number must be between 0 and 1,000,000,000."),
    ({"min_quantity": "5", "max_quantity": "2"}, "max_quantity",
     "Must not be less than the minimum quantity."),
    ({"currency": "XYZ"}, "currency", "Not an ISO 4217 currency code."),
    ({"lead_time_days": "99999999999999999999"}, "lead_time_days", "Number must be between"),
])
def test_new_offer_form_keeps_the_input_and_shows_the_error_beside_the_field(
        client, world, changes, field, message):
    login(client, world["clinic_staff"])
    before = count(Offer)
    response = client.post(f"/portal/{world['clinic'].id}/offers/new?lang=en",
                           data={**NEW_OFFER, **changes})
    assert response.status_code in (409, 422)
    page = response.get_data(as_text=True)
    block = re.search(rf'<div class="field has-error">\s*<label for="{field}".*?</div>', page,
                      re.S)
    assert block is not None, f"no error beside {field}"
    assert message in block.group(0)
    assert re.search(r'name="recovery_days"[^>]*value="10"', page)  # what was typed stays
    assert count(Offer) == before


@pytest.mark.parametrize(("lang", "typed", "errors"), [
    ("nb", "abc", ["Ikke et gyldig tall."]),
    ("nb", "-1", ["Tallet må være mellom 0 og 1\u00a0000\u00a0000\u00a0000."]),
    ("de", "-1", ["Die Zahl muss zwischen 0 und 1.000.000.000 liegen."]),
])
def test_a_bad_price_gets_one_error_with_the_bounds_written_the_locales_way(
        client, world, lang, typed, errors):
    """What is not a number is told so once (not also "must be between 0 and ..."), and
    the bounds of a range are grouped as the reader writes numbers."""
    from tests.journey.pages.patient_fixtures import field_errors

    login(client, world["clinic_staff"])
    response = client.post(f"/portal/{world['clinic'].id}/offers/new?lang={lang}",
                           data={**NEW_OFFER, "base_price": typed})
    assert response.status_code == 422
    assert field_errors(response.get_data(as_text=True), "base_price") == errors


def test_edit_the_terms_and_price(client, world):
    login(client, world["clinic_staff"])
    knee = world["knee"]
    page = client.get(f"/portal/offers/{knee.id}").get_data(as_text=True)
    assert 'value="6500.00"' in page or 'value="6500"' in page
    form = {**NEW_OFFER, "base_price": "6400", "companion_price": "100.5",
            "status": "published"}
    form.pop("title"), form.pop("language")
    response = client.post(f"/portal/offers/{knee.id}", data=form)
    assert response.status_code == 302
    row = offer_row(knee.id)
    assert (row.base_price_minor, row.companion_price_minor, row.lead_time_days) == (
        640000, 10050, 14)


def test_publishing_without_texts_in_the_default_language_is_refused(client, world, make):
    draft = make.offer(world["clinic"], status=OfferStatus.DRAFT,
                       texts={"fr": {"title": "Prothèse"}})
    login(client, world["clinic_staff"])
    form = {**NEW_OFFER, "status": "published"}
    response = client.post(f"/portal/offers/{draft.id}?lang=en", data=form)
    assert response.status_code == 409
    assert "Add the texts in the member&#39;s default language or English" in (
        response.get_data(as_text=True))
    row = offer_row(draft.id)
    assert row.status == OfferStatus.DRAFT
    assert row.base_price_minor == 100000  # nothing of the form was written


def test_texts_of_every_language_side_by_side_with_the_missing_ones_marked(client, world):
    login(client, world["clinic_staff"])
    page = client.get(f"/portal/offers/{world['knee'].id}/texts?lang=en").get_data(
        as_text=True)
    sections = dict(re.findall(r'<section id="text-(\w+)" class="([^"]*)"', page))
    assert set(sections) >= {"en", "lt", "ru", "de", "pl", "uk", "nb", "sv", "fr", "ar"}
    assert sections["en"] == "" and sections["de"] == ""
    assert sections["lt"] == "missing" and sections["ar"] == "missing"
    assert list(sections)[0] == "lt"  # the member's default language first
    assert 'value="Knieprothese"' in page
    assert "8 translations missing" in page
    directions = dict(re.findall(r'/texts/(\w+)" dir="(\w+)"', page))
    assert directions["ar"] == "rtl" and directions["lt"] == "ltr"
    arabic_page = client.get(f"/portal/offers/{world['knee'].id}/texts?lang=ar").get_data(
        as_text=True)
    assert 'dir="rtl"' in arabic_page and '/texts/de" dir="ltr"' in arabic_page


def test_a_text_is_saved_in_one_language(client, world):
    login(client, world["clinic_staff"])
    knee = world["knee"]
    response = client.post(f"/portal/offers/{knee.id}/texts/lt", data={
        "lt-title": "Kelio endoprotezavimas", "lt-description": "Operacija.",
        "lt-inclusions": "Konsultacija\n\n Kineziterapija ", "lt-exclusions": ""})
    assert response.status_code == 302
    text = next(t for t in offer_row(knee.id).texts if t.language == "lt")
    assert text.title == "Kelio endoprotezavimas"
    assert text.inclusions == ["Konsultacija", "Kineziterapija"]


def test_a_text_without_title_keeps_the_typed_description(client, world):
    login(client, world["clinic_staff"])
    knee = world["knee"]
    response = client.post(f"/portal/offers/{knee.id}/texts/lt?lang=en",
                           data={"lt-title": "", "lt-description": "Mano aprašymas"})
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    assert "Mano aprašymas" in page
    assert re.search(r'has-error">\s*<label for="lt-title"', page)
    assert {t.language for t in offer_row(knee.id).texts} == {"en", "de"}


def test_a_text_in_an_unknown_language_is_refused(client, world):
    login(client, world["clinic_staff"])
    response = client.post(f"/portal/offers/{world['knee'].id}/texts/xx-nope",
                           data={"xx-nope-title": "Title"})
    assert response.status_code == 422
    assert "Not a known language code." in response.get_data(as_text=True)


def test_a_language_is_removed(client, world):
    login(client, world["clinic_staff"])
    knee = world["knee"]
    assert client.post(f"/portal/offers/{knee.id}/texts/de/delete").status_code == 302
    assert {t.language for t in offer_row(knee.id).texts} == {"en"}


def test_seasonal_prices_are_added_and_overlaps_refused(client, world):
    login(client, world["clinic_staff"])
    knee = world["knee"]
    url = f"/portal/offers/{knee.id}/prices?lang=en"
    summer = {"name": "Summer", "starts_on": soon(10).isoformat(),
              "ends_on": soon(40).isoformat(), "price": "7000", "companion_price": ""}
    assert client.post(url, data=summer).status_code == 302
    overlap = {**summer, "name": "Peak", "starts_on": soon(20).isoformat()}
    response = client.post(url, data=overlap)
    assert response.status_code == 409
    page = response.get_data(as_text=True)
    assert re.search(r'has-error">\s*<label for="starts_on".*?Overlaps another seasonal price',
                     page, re.S)
    assert 'value="Peak"' in page
    rules = offer_row(knee.id).price_rules
    assert [(r.name, r.price_minor) for r in rules] == [("Summer", 700000)]
    page = client.get(url).get_data(as_text=True)
    assert "€7,000.00" in page


def test_a_season_ending_before_it_starts_is_refused(client, world):
    login(client, world["clinic_staff"])
    response = client.post(f"/portal/offers/{world['knee'].id}/prices?lang=en", data={
        "starts_on": soon(10).isoformat(), "ends_on": soon(5).isoformat(), "price": "1"})
    assert response.status_code == 422
    assert "Must not be before the start." in response.get_data(as_text=True)
    assert count(PriceRule) == 0


@pytest.mark.parametrize("field", ["price", "companion_price"])
def test_a_seasonal_price_with_too_many_decimals_is_refused_beside_the_field(
        client, world, field):
    """Offers and seasonal prices read typed amounts the same way (portal.minor_amounts)."""
    login(client, world["clinic_staff"])
    rule = {"name": "Summer", "starts_on": soon(10).isoformat(),
            "ends_on": soon(20).isoformat(), "price": "70", field: "70.005"}
    response = client.post(f"/portal/offers/{world['knee'].id}/prices?lang=en", data=rule)
    assert response.status_code == 422
    block = re.search(rf'<div class="field has-error">\s*<label for="{field}".*?</div>',
                      response.get_data(as_text=True), re.S)
    assert block is not None and "Use at most 2 decimal places." in block.group(0)
    assert count(PriceRule) == 0


def test_a_seasonal_price_is_removed(client, world):
    rule = offers.add_price_rule(world["admin"], world["knee"].id, starts_on=soon(1),
                                 ends_on=soon(2), price_minor=1)
    db.session.commit()
    login(client, world["clinic_staff"])
    url = f"/portal/offers/{world['knee'].id}/prices/{rule.id}/delete"
    assert client.post(url).status_code == 302
    assert count(PriceRule) == 0


def test_capacity_calendar_shows_the_month_and_sets_weekdays(client, world):
    login(client, world["clinic_staff"])
    knee = world["knee"]
    page = client.get(f"/portal/offers/{knee.id}/calendar?lang=en").get_data(as_text=True)
    assert '<abbr title="Monday">Mo</abbr>' in page and '<abbr title="Sunday">Su</abbr>' in page
    arabic = client.get(f"/portal/offers/{knee.id}/calendar?lang=ar").get_data(as_text=True)
    assert '<abbr title="الخميس">خميس</abbr>' in arabic  # not the whole word twice
    first, last = soon(40), soon(53)
    response = client.post(f"/portal/offers/{knee.id}/calendar", data={
        "start": first.isoformat(), "end": last.isoformat(), "capacity": "3",
        "weekdays": ["0", "2"]})
    assert response.status_code == 302
    written = offers.capacity_by_day(knee.id, first, last)
    assert written and set(written.values()) == {3}
    assert {day.weekday() for day in written} == {0, 2}


@pytest.mark.parametrize("month", ["garbage", "2026-13", "99999-01", ""])
def test_a_bad_month_shows_this_month(client, world, month):
    login(client, world["clinic_staff"])
    response = client.get(f"/portal/offers/{world['knee'].id}/calendar?month={month}")
    assert response.status_code == 200


def test_a_too_long_capacity_range_is_refused_beside_the_end(client, world):
    login(client, world["clinic_staff"])
    before = count(CapacityDay)
    response = client.post(f"/portal/offers/{world['knee'].id}/calendar?lang=en", data={
        "start": soon(1).isoformat(), "end": soon(1000).isoformat(), "capacity": "1"})
    assert response.status_code == 422
    assert re.search(r'has-error">\s*<label for="end".*?At most 731 days at once',
                     response.get_data(as_text=True), re.S)
    assert count(CapacityDay) == before


WALK_IN = {"patient_email": "walkin@example.com", "patient_name": "Walter Inn",
           "nationality": "no", "language": "nb", "currency": "NOK", "adults": "1",
           "children": "0", "arrival_on": "", "departure_on": ""}


def test_staff_open_a_journey_for_a_walk_in_patient(client, world):
    login(client, world["clinic_staff"])
    response = client.post(f"/portal/{world['clinic'].id}/journeys/new", data=WALK_IN)
    assert response.status_code == 302
    journey = db.session.scalar(select(Journey))
    assert journey.entry_provider_id == world["clinic"].id
    assert journey.opened_by_id == world["clinic_staff"].id
    assert (journey.patient.email, journey.nationality, journey.currency) == (
        "walkin@example.com", "NO", "NOK")
    page = client.get(f"/portal/{world['clinic'].id}/journeys").get_data(as_text=True)
    assert "Walter Inn" in page


def test_a_coordinator_opening_at_a_members_window_keeps_that_member(client, world):
    login(client, world["coordinator"])
    response = client.post(f"/portal/{world['hotel'].id}/journeys/new", data=WALK_IN)
    assert response.status_code == 302
    journey = db.session.scalar(select(Journey))
    assert journey.entry_provider_id == world["hotel"].id
    assert journey.opened_by_id == world["coordinator"].id


def test_walk_in_errors_stay_beside_the_fields(client, world):
    login(client, world["clinic_staff"])
    users = count(User)
    response = client.post(f"/portal/{world['clinic'].id}/journeys/new?lang=en", data={
        **WALK_IN, "patient_email": world["hotel_staff"].email, "arrival_on": "2030-05-10",
        "departure_on": "2030-05-01"})
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    assert re.search(r'has-error">\s*<label for="patient_email".*?belongs to a staff account',
                     page, re.S)
    assert 'value="Walter Inn"' in page
    response = client.post(f"/portal/{world['clinic'].id}/journeys/new?lang=en",
                           data={**WALK_IN, "arrival_on": "2030-05-10",
                                 "departure_on": "2030-05-01"})
    assert re.search(r'has-error">\s*<label for="departure_on".*?Must be after the arrival',
                     response.get_data(as_text=True), re.S)
    assert count(Journey) == 0 and count(User) == users  # no half-made patient


def test_portal_pages_are_translated(client, world):
    login(client, world["clinic_staff"])
    knee = world["knee"]
    german = client.get(f"/portal/offers/{knee.id}/texts?lang=de").get_data(as_text=True)
    assert "Fehlende Übersetzung" in german and "Texte in allen Sprachen" in german
    assert 'lang="de"' in german
    russian = client.get(f"/portal/{world['clinic'].id}?lang=ru").get_data(as_text=True)
    assert "Новое предложение" in russian
    lithuanian = client.get(f"/portal/offers/{knee.id}/prices?lang=lt").get_data(as_text=True)
    assert "Sezoninės kainos" in lithuanian and "6\xa0500,00\xa0€" in lithuanian


def test_post_without_the_csrf_token_is_refused(app, client, world, monkeypatch):
    monkeypatch.setitem(app.config, "WTF_CSRF_ENABLED", True)
    login(client, world["clinic_staff"])
    url = f"/portal/offers/{world['knee'].id}/prices"
    rule = {"starts_on": soon(1).isoformat(), "ends_on": soon(2).isoformat(), "price": "1"}
    assert client.post(url, data=rule).status_code == 400
    assert count(PriceRule) == 0
    token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"',
                      client.get(url).get_data(as_text=True)).group(1)
    assert client.post(url, data={**rule, "csrf_token": token}).status_code == 302
    assert count(PriceRule) == 1


def test_a_seasonal_price_is_changed_and_an_overlap_refused(client, world):
    admin, knee = world["admin"], world["knee"]
    first = offers.add_price_rule(admin, knee.id, starts_on=soon(1), ends_on=soon(5),
                                  price_minor=1000, name="Early")
    offers.add_price_rule(admin, knee.id, starts_on=soon(10), ends_on=soon(15),
                          price_minor=2000, name="Late")
    db.session.commit()
    login(client, world["clinic_staff"])
    url = f"/portal/offers/{knee.id}/prices/{first.id}?lang=en"
    assert 'value="10.00"' in client.get(url).get_data(as_text=True)
    change = {"name": "Early bird", "starts_on": soon(1).isoformat(),
              "ends_on": soon(6).isoformat(), "price": "12.5"}
    assert client.post(url, data=change).status_code == 302
    overlap = client.post(url, data={**change, "ends_on": soon(12).isoformat()})
    assert overlap.status_code == 409
    assert 'value="Early bird"' in overlap.get_data(as_text=True)
    rule = fresh(PriceRule, first.id)
    assert (rule.name, rule.ends_on, rule.price_minor) == ("Early bird", soon(6), 1250)
    assert client.get(f"/portal/offers/{knee.id}/prices/999999").status_code == 404


def test_another_members_seasonal_price_cannot_be_changed(client, world):
    rule = offers.add_price_rule(world["admin"], world["room"].id, starts_on=soon(1),
                                 ends_on=soon(5), price_minor=1000)
    db.session.commit()
    login(client, world["clinic_staff"])
    url = f"/portal/offers/{world['room'].id}/prices/{rule.id}"
    assert client.post(url, data={"starts_on": soon(1).isoformat(),
                                  "ends_on": soon(2).isoformat(),
                                  "price": "1"}).status_code == 403
    assert client.post(f"{url}/delete").status_code == 403
    assert fresh(PriceRule, rule.id).price_minor == 1000


@pytest.mark.parametrize(("who", "links"), [
    ("clinic_staff", ["/messages", "/portal/", "/portal/{clinic}/cases",
                      "/portal/{clinic}/tasks", "/portal/{clinic}/aftercare",
                      "/portal/{clinic}/reviews", "/portal/{clinic}/translations"]),
    ("coordinator", ["/messages", "/coordinator/", "/coordinator/agenda",
                     "/coordinator/reviews"]),
    ("admin", ["/messages", "/coordinator/", "/coordinator/agenda", "/coordinator/reviews",
               "/admin/"]),
    ("patient", ["/messages"]),
])
def test_the_portal_nav_links_follow_the_role(app, world, who, links):
    from flask import g, render_template

    with app.test_request_context("/"):
        g.actor = world[who]
        html = render_template("_portal_nav.html", actor=world[who])
    assert re.findall(r'href="([^"]+)"', html) == [link.format(clinic=world["clinic"].id)
                                                   for link in links]


# --- requests from bookings: the inbox, accept, decline, and the statement ----------------

def test_the_inbox_shows_the_members_waiting_requests_with_their_deadlines(client, world,
                                                                          booking):
    knee = line_of(booking, world["knee"])
    login(client, world["clinic_staff"])
    page = client.get(f"/portal/{world['clinic'].id}?lang=en").get_data(as_text=True)
    inbox = page[page.index("Requests waiting for your answer"):page.index("<h2>Offers")]
    assert f'id="request-{knee.id}"' in inbox
    assert f'id="request-{line_of(booking, world["room"]).id}"' not in inbox  # the hotel's
    assert f'datetime="{knee.respond_by.isoformat()}"' in inbox
    assert "Ingrid Solberg" in inbox and "€6,500.00" in inbox
    german = client.get(f"/portal/{world['clinic'].id}/requests?lang=de").get_data(
        as_text=True)
    assert "Annehmen" in german and "Ablehnen" in german


def test_staff_accept_a_request(client, world, booking):
    knee = line_of(booking, world["knee"])
    login(client, world["clinic_staff"])
    url = f"/portal/{world['clinic'].id}/requests/{knee.id}/accept"
    assert client.post(url).status_code == 302
    assert fresh(BookingLine, knee.id).status == LineStatus.CONFIRMED
    again = client.post(f"{url}?lang=en")
    assert again.status_code == 409
    assert "This request has already been answered or withdrawn." in again.get_data(
        as_text=True)


def test_another_members_staff_cannot_answer(client, world, booking):
    knee = line_of(booking, world["knee"])
    login(client, world["hotel_staff"])
    hotel = world["hotel"].id
    assert client.post(f"/portal/{hotel}/requests/{knee.id}/accept").status_code == 403
    assert client.post(f"/portal/{hotel}/requests/{knee.id}/decline",
                       data={f"d{knee.id}-reason": "Fully booked"}).status_code == 403
    assert client.post(f"/portal/{world['clinic'].id}/requests/{knee.id}/accept"
                       ).status_code == 403
    assert client.get(f"/portal/{world['clinic'].id}/requests").status_code == 403
    assert client.post(f"/portal/{hotel}/requests/999999/accept").status_code == 404
    assert fresh(BookingLine, knee.id).status == LineStatus.REQUESTED


def test_a_decline_needs_a_reason_which_stays_typed(client, world, booking):
    knee = line_of(booking, world["knee"])
    login(client, world["clinic_staff"])
    url = f"/portal/{world['clinic'].id}/requests/{knee.id}/decline?lang=en"
    short = client.post(url, data={f"d{knee.id}-reason": "no"})
    assert short.status_code == 422
    page = short.get_data(as_text=True)
    assert re.search(rf'has-error">\s*<label for="d{knee.id}-reason".*?3 to 500 characters',
                     page, re.S)
    assert re.search(r">\s*no</textarea>", page)
    assert fresh(BookingLine, knee.id).status == LineStatus.REQUESTED
    response = client.post(url, data={f"d{knee.id}-reason": "The surgeon is away that week"})
    assert response.status_code == 302
    line = fresh(BookingLine, knee.id)
    assert (line.status, line.decline_reason) == (LineStatus.DECLINED,
                                                  "The surgeon is away that week")
    answered = client.get(f"/portal/{world['clinic'].id}/requests?lang=en").get_data(
        as_text=True)
    assert "The surgeon is away that week" in answered and "Declined" in answered


def test_the_settlement_statement_after_confirmation(client, world, booking):
    settlement.set_commission_rate(world["admin"], "treatment", Decimal("10"))
    db.session.commit()
    login(client, world["hotel_staff"])
    client.post(f"/portal/{world['hotel'].id}/requests/"
                f"{line_of(booking, world['room']).id}/accept")
    login(client, world["clinic_staff"])
    client.post(f"/portal/{world['clinic'].id}/requests/"
                f"{line_of(booking, world['knee']).id}/accept")
    assert fresh(Booking, booking.id).status == BookingStatus.CONFIRMED
    page = client.get(f"/portal/{world['clinic'].id}/statement?lang=en").get_data(
        as_text=True)
    row = re.search(r"<tbody>.*?</tbody>", page, re.S).group(0)
    assert "€6,500.00" in row and "-€650.00" in row and "€5,850.00" in row
    assert "€320.00" not in page  # the hotel's room is not the clinic's
    later = client.get(f"/portal/{world['clinic'].id}/statement?start=2999-01-01&end=bad")
    assert later.status_code == 200 and "Nothing to settle yet" in later.get_data(
        as_text=True)
    assert client.get(f"/portal/{world['hotel'].id}/statement").status_code == 403


def test_accepting_needs_the_csrf_token(app, client, world, booking, monkeypatch):
    monkeypatch.setitem(app.config, "WTF_CSRF_ENABLED", True)
    knee = line_of(booking, world["knee"])
    login(client, world["clinic_staff"])
    url = f"/portal/{world['clinic'].id}/requests/{knee.id}/accept"
    assert client.post(url).status_code == 400
    assert fresh(BookingLine, knee.id).status == LineStatus.REQUESTED


def test_no_page_of_the_portal_answers_bad_input_with_a_500(app, client, world):
    from journey.pages import portal_forms as f
    from journey.pages.forms import ReasonForm

    rule = offers.add_price_rule(world["admin"], world["knee"].id, starts_on=soon(1),
                                 ends_on=soon(2), price_minor=1)
    db.session.commit()
    login(client, world["clinic_staff"])
    clinic, knee = world["clinic"].id, world["knee"].id
    with app.test_request_context():
        targets = [
            (f"/portal/{clinic}/offers/new", field_names(f.NewOfferForm)),
            (f"/portal/offers/{knee}", field_names(f.EditOfferForm)),
            (f"/portal/offers/{knee}/texts/lt", field_names(f.OfferTextForm, "lt")),
            (f"/portal/offers/{knee}/prices", field_names(f.PriceRuleForm)),
            (f"/portal/offers/{knee}/prices/{rule.id}", field_names(f.PriceRuleForm)),
            (f"/portal/offers/{knee}/calendar", field_names(f.CapacityForm)),
            (f"/portal/{clinic}/journeys/new", field_names(f.WalkInForm)),
            (f"/portal/{clinic}/requests/1/decline", field_names(ReasonForm, "d1")),
        ]
    for url, names in targets:
        assert hammer(client, url, names) == [], url
    for month in ("9999-12", "0001-01", "2026-00", "-5-3", "1e9-1"):
        assert client.get(f"/portal/offers/{knee}/calendar?month={month}").status_code == 200
    for query in ("start=9999-12-31&end=0001-01-01", "start=%00", "start=2026-13-01"):
        assert client.get(f"/portal/{clinic}/statement?{query}").status_code == 200
    assert client.get(f"/portal/{clinic}/journeys?page=-1").status_code == 200


def test_request_dates_read_as_nights_or_days(client, world, booking):
    login(client, world["hotel_staff"])
    room = line_of(booking, world["room"])
    page = client.get(f"/portal/{world['hotel'].id}/requests?lang=en").get_data(as_text=True)
    row = re.search(rf'<tr id="request-{room.id}".*?</tr>', page, re.S).group(0)
    assert f"{fmt_day(soon(5))} – {fmt_day(soon(9))}" in row  # check-in – check-out
    login(client, world["clinic_staff"])
    knee = line_of(booking, world["knee"])
    page = client.get(f"/portal/{world['clinic'].id}/requests?lang=en").get_data(as_text=True)
    row = re.search(rf'<tr id="request-{knee.id}".*?</tr>', page, re.S).group(0)
    assert fmt_day(soon(6)) in row and fmt_day(soon(7)) not in row  # one day


def fmt_day(day) -> str:
    from babel.dates import format_date

    return format_date(day, "medium", locale="en")


def test_wtforms_messages_of_the_portal_are_translated(client, make):
    """Portal forms use the project's catalogs for WTForms' own messages too."""
    from journey.core.accounts.models import Role
    member = make.member()
    staff = make.user(Role.MEMBER_MANAGER, member)
    login(client, staff)
    page = client.post(f"/portal/{member.id}/offers/new?lang=lt", data={})
    assert page.status_code == 422
    assert "This field is required." not in page.get_data(as_text=True)
