"""The patient's pages through the Flask test client: status, permissions (the same as
the API's: another patient's journey is a 404), errors beside the fields, no 500 on
bad input, translated content."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest

from journey.builder.models import Journey, JourneyStatus
from journey.core.accounts.models import User
from journey.core.extensions import db
from journey.core.types import utcnow
from tests.journey.builder_world import build_world, soon
from tests.journey.pages.patient_fixtures import (
    add,
    field_errors,
    login,
    open_journey,
    room_quote,
    text,
)


@pytest.fixture
def world(make):
    return build_world(make)


@pytest.mark.parametrize("path", ["/", "/catalogue", "/catalogue?q=knee&sort=-name",
                                  "/catalogue?chain_link=accommodation&city=vilnius"])
def test_public_pages_answer(client, world, path):
    assert client.get(path).status_code == 200


def test_home_leads_with_treatments_and_packages(client, world):
    html = text(client.get("/"))
    assert html.index("Treatments") < html.index("Members of the cluster")
    assert "/catalogue?chain_link=treatment" in html


def test_catalogue_pages_keep_the_filters(client, make):
    member = make.member()
    for _n in range(13):  # one more than a page of the catalogue
        make.offer(member)
    html = text(client.get("/catalogue?q=offer&currency=EUR"))
    assert 'href="/catalogue?q=offer&amp;currency=EUR&amp;page=2" rel="next">Next</a>' in html
    assert "Page 1 of 2" in html and 'rel="prev"' not in html
    html = text(client.get("/catalogue?q=offer&currency=EUR&page=2"))
    assert 'href="/catalogue?q=offer&amp;currency=EUR&amp;page=1" rel="prev">Previous</a>' in html
    assert 'rel="next"' not in html


def test_catalogue_filters_and_converts_prices(client, world):
    html = text(client.get("/catalogue?chain_link=accommodation&currency=NOK&sort=price"))
    assert "Double room" in html and "Garden room" in html and "Knee replacement" not in html
    assert html.index("Double room") < html.index("Garden room")  # cheaper first
    assert "NOK936.00" in html and "€80.00" in html  # 80 EUR x 11.70, and the original
    html = text(client.get("/catalogue?q=garden"))
    assert "Garden room" in html and "Double room" not in html


@pytest.mark.parametrize("query, field, message", [
    ("price_min=500&price_max=100", "price_max", "Must not be below the minimum price."),
    ("start=2030-01-10&end=2030-01-01", "end", "Must not be before the start."),
    ("quantity=0", "quantity", "Number must be between 1 and 100."),
    ("start=notadate", "start", "Not a valid date value."),
    ("chain_link=nope", "chain_link", "Not a valid choice."),
    ("sort=up", "sort", "Not a valid choice."),
])
def test_catalogue_bad_filters_are_shown_beside_the_field(client, world, query, field, message):
    response = client.get(f"/catalogue?{query}")
    assert response.status_code == 422
    assert message in field_errors(text(response), field)


def test_member_and_offer_pages(client, world):
    html = text(client.get(f"/catalogue/members/{world['hotel'].id}"))
    assert "Hotel Tilto" in html and "Double room" in html and "Lithuanian" in html
    html = text(client.get(f"/catalogue/offers/{world['room'].id}"))
    assert "Breakfast" in html and "per night" in html
    assert "Log in to build your journey" in html


def test_unpublished_or_unknown_pages_are_404_not_500(client, world, make):
    hidden = make.member(verified=False)
    assert client.get(f"/catalogue/members/{hidden.id}").status_code == 404
    assert client.get("/catalogue/offers/999999").status_code == 404
    assert client.get("/catalogue/offers/99999999999999999999999").status_code == 404
    assert client.get("/catalogue/packages/4242").status_code == 404


def test_patient_pages_need_a_login(client, world):
    response = client.get("/my/journeys")
    assert response.status_code == 302 and "/login?next=" in response.headers["Location"]


def test_a_patient_cannot_open_another_patients_journey(client, world):
    login(client, world["patient"])
    journey_id = open_journey(client, world)
    client.post("/logout")
    login(client, world["patient2"])
    assert client.get(f"/my/journeys/{journey_id}").status_code == 404
    response = client.post(f"/my/journeys/{journey_id}/details", data={
        "details-adults": "3", "details-children": "0", "details-currency": "EUR",
        "details-nationality": ""})
    assert response.status_code == 404
    with client.application.app_context():
        assert db.session.get(Journey, journey_id).adults == 1


def test_journey_form_keeps_input_and_shows_errors(client, world):
    login(client, world["patient"])
    response = client.post("/my/journeys", data={
        "arrival_on": "2030-13-45", "adults": "0", "children": "x", "currency": "EUR",
        "nationality": "DE"})
    assert response.status_code == 422
    html = text(response)
    assert field_errors(html, "arrival_on") == ["Not a valid date value."]
    assert field_errors(html, "adults") == ["Number must be between 1 and 20."]
    assert field_errors(html, "children")[0] == "Not a valid integer value."
    assert 'value="2030-13-45"' in html and 'value="x"' in html



def test_a_past_arrival_is_named_with_the_other_errors(client, world):
    """A journey started from nothing with an arrival in the past and too many adults
    heard of the adults only; the past arrival came in a second round, from the
    service. Both are named at once, in the page's language, and nothing is opened."""
    login(client, world["patient"])
    past = (utcnow() - timedelta(days=400)).date().isoformat()
    response = client.post("/my/journeys?lang=nb", data={
        "arrival_on": past, "adults": "99", "children": "0", "currency": "EUR",
        "nationality": "DE"})
    assert response.status_code == 422
    html = text(response)
    assert field_errors(html, "arrival_on") == ["Kan ikke være tilbake i tid."]
    assert field_errors(html, "adults") == ["Tallet må være mellom 1 og 20."]
    with client.application.app_context():
        assert db.session.query(Journey).filter_by(patient_id=world["patient"].id).count() \
            == 0



def test_an_offers_past_start_is_named_with_the_other_errors(client, world):
    """Adding an offer with a start in the past, 999 days and no unit heard of the days
    and the quantity only; the past start came in a second round. All three are named at
    once, in the page's language, and nothing is added."""
    login(client, world["patient"])
    journey_id = open_journey(client, world)
    past = (utcnow() - timedelta(days=400)).date().isoformat()
    response = client.post(f"/catalogue/offers/{world['room'].id}?lang=nb", data={
        "journey_id": str(journey_id), "start_on": past, "days": "999", "quantity": "0"})
    assert response.status_code == 422
    html = text(response)
    assert field_errors(html, "start_on") == ["Kan ikke være tilbake i tid."]
    assert field_errors(html, "days") == ["Tallet må være mellom 1 og 365."]
    assert field_errors(html, "quantity") == ["Tallet må være mellom 1 og 100."]
    assert text(client.get(f"/my/journeys/{journey_id}")).count('class="timeline-item') == 0


def test_build_quote_accept_and_reach_checkout(client, world):
    login(client, world["patient"])
    journey_id = open_journey(client, world)
    add(client, journey_id, world["room"], soon(10), days="10")
    add(client, journey_id, world["surgery"], soon(12))
    html = text(client.get(f"/my/journeys/{journey_id}"))
    assert html.count('class="timeline-item') == 2
    response = client.post(f"/my/journeys/{journey_id}/quotes")
    assert response.status_code == 302, text(response)
    quote_url = response.headers["Location"]
    html = text(client.get(quote_url))
    assert "Neris Clinic" in html and "Hotel Tilto" in html and "Accept this quote" in html
    quote_id = int(quote_url.rsplit("/", 1)[1])
    response = client.post(f"/my/quotes/{quote_id}/accept")
    assert response.headers["Location"].endswith(f"/my/quotes/{quote_id}/checkout")
    html = text(client.get(f"/my/quotes/{quote_id}/checkout"))
    assert "/js.stripe.com/v3/" in html and 'name="idempotency_key"' in html
    assert "€2,190.00" in html  # the 30 % deposit of 7,300.00
    # Checking out without a card: the error sits beside the card, nothing is booked.
    key = re.search(r'name="idempotency_key" type="hidden" value="([^"]+)"', html).group(1)
    response = client.post(f"/my/quotes/{quote_id}/checkout",
                           data={"idempotency_key": key, "payment_method": ""})
    assert response.status_code == 422
    assert "Enter your card details." in text(response)


def test_violations_are_explained_next_to_the_item(client, world):
    login(client, world["patient"])
    journey_id = open_journey(client, world)
    add(client, journey_id, world["room"], soon(8), days="3")  # before the arrival
    response = client.post(f"/my/journeys/{journey_id}/quotes")
    assert response.status_code == 409
    html = text(response)
    item = re.search(r'<li class="timeline-item has-violation" id="item-\d+">.*?</li>', html,
                     re.S)
    assert item and "before your arrival" in item.group(0)
    assert "The package breaks some rules; fix them first." in html


def test_quote_versions_side_by_side(client, world):
    login(client, world["patient"])
    journey_id = open_journey(client, world)
    add(client, journey_id, world["room"], soon(10), days="5")
    first = client.post(f"/my/journeys/{journey_id}/quotes").headers["Location"]
    with client.application.app_context():
        journey = db.session.get(Journey, journey_id)
        item_id = journey.items[0].id
    response = client.post(f"/my/journeys/{journey_id}/items/{item_id}", data={
        f"item{item_id}-start_on": soon(10).isoformat(), f"item{item_id}-days": "6",
        f"item{item_id}-quantity": "1"})
    assert response.status_code == 302, text(response)
    second = client.post(f"/my/journeys/{journey_id}/quotes").headers["Location"]
    first_id = first.rsplit("/", 1)[1]
    html = text(client.get(f"{second}?against={first_id}"))
    assert "change-changed" in html and "Quote version 1" in html and "Quote version 2" in html
    # the old version can no longer be accepted
    response = client.post(f"/my/quotes/{first_id}/accept")
    assert response.status_code == 409
    assert "accept the newest version" in text(response)


def test_item_errors_and_alternatives(client, world):
    login(client, world["patient"])
    journey_id = open_journey(client, world)
    add(client, journey_id, world["room"], soon(10), days="3")
    with client.application.app_context():
        item_id = db.session.get(Journey, journey_id).items[0].id
    response = client.post(f"/my/journeys/{journey_id}/items/{item_id}", data={
        f"item{item_id}-start_on": "", f"item{item_id}-days": "0",
        f"item{item_id}-quantity": "1"})
    assert response.status_code == 422
    html = text(response)
    assert field_errors(html, f"item{item_id}-days") == ["Number must be between 1 and 365."]
    html = text(client.get(f"/my/journeys/{journey_id}/items/{item_id}/alternatives"))
    assert "Garden room" in html
    room2 = world["room2"].id  # read in this test's session, not inside another's
    response = client.post(f"/my/journeys/{journey_id}/items/{item_id}/alternatives",
                           data={"offer_id": str(room2)})
    assert response.status_code == 302
    with client.application.app_context():
        assert db.session.get(Journey, journey_id).items[0].offer_id == room2
    response = client.post(f"/my/journeys/{journey_id}/items/{item_id}/remove")
    assert response.status_code == 302
    with client.application.app_context():
        assert db.session.get(Journey, journey_id).items == []


def test_plan_without_items_explains_why(client, world):
    login(client, world["patient"])
    journey_id = open_journey(client, world)
    response = client.post(f"/my/journeys/{journey_id}/plan",
                           data={"plan-arrival_on": soon(10).isoformat()})
    assert response.status_code == 422
    assert "Add the offers to plan first." in text(response)


def test_booked_journey_shows_its_lines_and_what_happens_next(client, world, make,
                                                              monkeypatch):
    journey = room_quote(world, accept=True).journey
    login(client, world["patient"])
    html = text(client.get(f"/my/journeys/{journey.id}"))
    assert "Pay the amount due now to book every item." in html
    assert journey.status == JourneyStatus.ACCEPTED


def test_profile_saves_language_and_currency(client, world):
    login(client, world["patient"])
    response = client.post("/my/profile", data={"full_name": "Ingrid S.", "locale": "de",
                                                "currency": "NOK"})
    assert response.status_code == 302
    with client.application.app_context():
        user = db.session.get(User, world["patient"].id)
        assert (user.locale, user.currency, user.full_name) == ("de", "NOK", "Ingrid S.")
    html = text(client.get("/my/profile"))
    assert '<html lang="de"' in html and "Profil" in html
    response = client.post("/my/profile", data={"full_name": "", "locale": "xx",
                                                "currency": "EUR"})
    assert response.status_code == 422
    assert field_errors(text(response), "locale") == ["Kein gültiger Wert."]


def test_a_nul_character_in_a_patient_form_is_refused_beside_the_field(client, world):
    """PostgreSQL refuses NUL in text; every page form says so instead of a 500."""
    login(client, world["patient"])
    response = client.post("/my/profile?lang=en", data={"full_name": "Ingrid\x00",
                                                        "locale": "de", "currency": "NOK"})
    assert response.status_code == 422
    assert field_errors(text(response), "full_name") == ["Remove the control characters."]
    with client.application.app_context():
        assert db.session.get(User, world["patient"].id).full_name != "Ingrid\x00"


def test_language_switch_sticks_for_anonymous_and_saves_the_profile(client, world):
    response = client.post("/preferences", data={"lang": "ar", "next": "/catalogue"})
    assert response.status_code == 302 and response.headers["Location"] == "/catalogue"
    html = text(client.get("/catalogue"))
    assert '<html lang="ar" dir="rtl">' in html
    assert client.post("/preferences", data={"lang": "ar", "next": "//evil.example"}
                       ).headers["Location"] == "/"
    login(client, world["patient2"])
    client.post("/preferences", data={"lang": "fr", "next": "/"})
    with client.application.app_context():
        assert db.session.get(User, world["patient2"].id).locale == "fr"
    assert '<html lang="fr" dir="ltr">' in text(client.get("/"))


@pytest.mark.parametrize("lang, word", [("de", "Katalog"), ("lt", "Katalogas"),
                                        ("ar", "الكتالوج"), ("uk", "Каталог")])
def test_pages_are_translated(client, world, lang, word):
    client.post("/preferences", data={"lang": lang, "next": "/"})
    assert word in text(client.get("/catalogue"))


def test_csrf_is_required_when_enabled(app, client, world):
    app.config["WTF_CSRF_ENABLED"] = True
    try:
        response = client.post("/preferences", data={"lang": "de", "next": "/"})
        assert response.status_code in (302, 400)
        assert '<html lang="de"' not in text(client.get("/"))
    finally:
        app.config["WTF_CSRF_ENABLED"] = False


def test_a_refused_change_is_shown_beside_the_field_and_writes_nothing(client, world):
    """The service sets the dates before it refuses them: the page must roll that back
    before it redraws, or the redraw flushes a half-written journey (a 409 instead of
    the field's error)."""
    login(client, world["patient"])
    journey_id = open_journey(client, world)
    with client.application.app_context():
        before = db.session.get(Journey, journey_id)
        arrival, departure = before.arrival_on, before.departure_on
    response = client.post(f"/my/journeys/{journey_id}/details?lang=de", data={
        "details-adults": "1", "details-children": "0", "details-currency": "EUR",
        "details-nationality": "", "details-arrival_on": "2031-05-10",
        "details-departure_on": "2031-05-01"})
    assert response.status_code == 422
    assert field_errors(text(response), "details-departure_on") == [
        "Muss nach der Ankunft liegen."]
    with client.application.app_context():
        after = db.session.get(Journey, journey_id)
        assert (after.arrival_on, after.departure_on) == (arrival, departure)


def _expire(quote) -> None:
    quote.expires_at = utcnow() - timedelta(minutes=1)
    db.session.commit()


def test_an_expired_quote_offers_no_accept_button(client, world):
    """The page asks the service the accept action uses (expiry included)."""
    quote = room_quote(world)
    login(client, world["patient"])
    accept = f'action="/my/quotes/{quote.id}/accept"'
    assert accept in text(client.get(f"/my/quotes/{quote.id}"))
    _expire(quote)
    assert accept not in text(client.get(f"/my/quotes/{quote.id}"))


def test_an_expired_accepted_quote_offers_no_payment(client, world):
    """The quote page and the checkout ask what checkout_quote checks, expiry included."""
    quote = room_quote(world, accept=True)
    login(client, world["patient"])
    pay = f'href="/my/quotes/{quote.id}/checkout"'
    assert pay in text(client.get(f"/my/quotes/{quote.id}"))
    assert client.get(f"/my/quotes/{quote.id}/checkout").status_code == 200
    _expire(quote)
    assert pay not in text(client.get(f"/my/quotes/{quote.id}"))
    response = client.get(f"/my/quotes/{quote.id}/checkout?lang=en")
    assert response.status_code == 302
    assert response.headers["Location"].endswith(f"/my/quotes/{quote.id}")
    back = text(client.get(response.headers["Location"] + "?lang=en"))
    assert "This quote has expired; ask for a new one." in back


def test_every_member_is_listed_page_by_page_and_the_home_page_leads_there(client, make):
    from providers.models import MemberKind

    for n in range(30):
        make.member(name=f"Member {n:02d}", kind="hotel" if n % 2 else "clinic",
                    city="Vilnius")
    db.session.commit()
    home = client.get("/").get_data(as_text=True)
    assert 'id="all-members"' in home and "/catalogue/members" in home
    first = client.get("/catalogue/members").get_data(as_text=True)
    assert "Member 00" in first and "Member 29" not in first and 'rel="next"' in first
    second = client.get("/catalogue/members?page=2").get_data(as_text=True)
    assert "Member 29" in second
    hotels = client.get(f"/catalogue/members?kind={MemberKind.HOTEL.value}").get_data(
        as_text=True)
    assert "Member 01" in hotels and "Member 00" not in hotels
    assert client.get("/catalogue/members?kind=nonsense&page=x").status_code == 200
