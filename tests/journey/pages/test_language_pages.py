"""The pages of issue 17's languages: the other languages a patient reads on the profile
(named, not coded; checked), the registration's language list named in each language,
the nationality lists without pseudo-locales, and the member portal's translations."""

from __future__ import annotations

import re

import pytest

from journey.core.accounts import services as accounts
from journey.core.accounts.models import Role, User
from journey.core.extensions import db
from journey.pages.forms import country_choices, is_country, known_nationality
from journey.pages.trip_rows import nationality_choices
from tests.journey.pages.portal_fixtures import fresh, login


def options(html: str, name_prefix: str) -> list[list[tuple[str, str]]]:
    """The options of each <select> whose name starts with ``name_prefix``."""
    found = []
    pattern = r'<select[^>]*name="(' + re.escape(name_prefix) + r'[^"]*)"[^>]*>(.*?)</select>'
    for select in re.finditer(pattern, html, re.S):
        found.append(re.findall(r'<option[^>]*value="([^"]*)"[^>]*>([^<]*)</option>',
                                select.group(2)))
    return found


def selected(html: str, name: str) -> str:
    """The value of the selected option of the <select> named ``name`` ("" for none)."""
    select = html.split(f'name="{name}"')[1].split("</select>")[0]
    found = re.search(r'<option selected value="([^"]*)"', select)
    return found.group(1) if found else ""


# --- the profile's other languages -------------------------------------------------------

def test_the_profile_names_the_languages_in_the_pages_language(client, make):
    patient = make.user()
    login(client, patient)
    html = client.get("/my/profile?lang=de").get_data(as_text=True)
    places = options(html, "other_languages-")
    assert len(places) >= 2
    choices = dict(places[0])
    assert choices["sv"] == "Schwedisch" and choices["nb"] == "Norwegisch (Bokmål)"
    assert choices[""]  # an empty choice first
    assert "Other languages I read" in client.get("/my/profile?lang=en").get_data(as_text=True)


def test_the_profile_saves_the_languages_in_their_order(client, make):
    patient = make.user()
    login(client, patient)
    saved = client.post("/my/profile?lang=en", data={
        "full_name": patient.full_name, "locale": "nb", "currency": "EUR",
        "other_languages-0": "sv", "other_languages-1": "", "other_languages-2": "da",
        "other_languages-3": "sv"})
    assert saved.status_code == 302, saved.get_data(as_text=True)
    assert fresh(User, patient.id).other_languages == ["sv", "da"]
    html = client.get("/my/profile?lang=en").get_data(as_text=True)
    assert len(options(html, "other_languages-")) == 4  # the two listed, two empty places
    assert selected(html, "other_languages-0") == "sv"
    assert selected(html, "other_languages-1") == "da"
    assert selected(html, "other_languages-2") == ""


def test_the_profile_refuses_an_unknown_language_with_a_message(client, make):
    patient = make.user()
    login(client, patient)
    refused = client.post("/my/profile?lang=en", data={
        "full_name": patient.full_name, "locale": "en", "currency": "EUR",
        "other_languages-0": "xx-nope"})
    assert refused.status_code == 422
    assert "Not a valid choice." in refused.get_data(as_text=True)
    assert fresh(User, patient.id).other_languages == []


def test_the_profile_refuses_more_than_ten_languages(client, make):
    patient = make.user()
    login(client, patient)
    many = ["sv", "da", "de", "fr", "es", "it", "pl", "ru", "uk", "fi", "et"]
    refused = client.post("/my/profile?lang=en", data={
        "full_name": patient.full_name, "locale": "en", "currency": "EUR",
        **{f"other_languages-{n}": code for n, code in enumerate(many)}})
    assert refused.status_code == 422
    assert "List at most 10 languages." in refused.get_data(as_text=True)
    assert fresh(User, patient.id).other_languages == []


def test_a_regional_language_on_the_profile_stays_a_choice(client, make):
    patient = make.user()
    accounts.update_profile(patient, other_languages=["pt_BR"])
    db.session.commit()
    login(client, patient)
    html = client.get("/my/profile?lang=en").get_data(as_text=True)
    assert selected(html, "other_languages-0") == "pt_BR"
    assert "Portuguese (Brazil)" in html


# --- registration ----------------------------------------------------------------------

def test_the_registration_names_the_languages_not_their_codes(client):
    html = client.get("/register?lang=en").get_data(as_text=True)
    (choices,) = options(html, "locale")
    named = dict(choices)
    assert named["nb"] == "Norsk bokmål" and named["lt"] == "Lietuvių"
    assert named["ar"] == "العربية"
    assert all(label != code for code, label in choices)


# --- nationalities ---------------------------------------------------------------------

@pytest.mark.parametrize("locale", ["en", "nb", "ar", "lt"])
def test_no_pseudo_locale_or_region_is_a_nationality(app, locale):
    with app.test_request_context(f"/?lang={locale}"):
        for choices in (country_choices(locale, empty="-"), nationality_choices("-")):
            codes = [choice.value for choice in choices if choice.value]
            labels = " ".join(choice.label for choice in choices)
            assert not {"XA", "XB", "ZZ", "EU", "EZ", "UN", "QO", "001"} & set(codes)
            assert "pseudo" not in labels.lower()
            assert {"NO", "LT", "DE", "SA"} <= set(codes)
            assert all(is_country(code) for code in codes)
            assert choices[0].value == ""


def test_the_nationalities_are_in_the_order_of_their_names(app):
    with app.test_request_context("/?lang=nb"):
        labels = [choice.label for choice in country_choices("nb", empty="-")][1:]
    assert labels.index("Norge") < labels.index("Sverige") < labels.index("Østerrike")
    assert labels.index("Åland") < labels.index("Østerrike")  # not in code-point order
    with app.test_request_context("/?lang=de"):
        labels = [choice.label for choice in country_choices("de", empty="-")][1:]
    assert labels.index("Österreich") < labels.index("Polen")  # Ö sorts with O


def test_the_nationality_given_before_prefills(make, app):
    from journey.builder.services import journeys
    from journey.core.types import today_in

    patient = make.user()
    assert known_nationality(patient) is None
    journeys.open_journey(patient, arrival_on=today_in(), adults=1, children=0,
                          nationality="NO", currency="EUR", language="nb")
    db.session.commit()
    assert known_nationality(patient) == "NO"
    assert known_nationality(make.user(Role.COORDINATOR)) is None


# --- the member portal's translations ---------------------------------------------------

@pytest.fixture
def registered(app):
    if "member.translations.index" not in app.view_functions:
        pytest.skip("the translations blueprint is not registered in the portal yet")


def test_the_translations_page_shows_the_members_offers_and_counts(client, make,
                                                                   registered):
    clinic = make.member(name="Neris Clinic")
    other = make.member(name="Hotel Tilto")
    make.offer(clinic, texts={"en": {"title": "Knee replacement", "description": "Surgery."},
                              "lt": {"title": "Kelio endoprotezavimas"}})
    make.offer(other, texts={"en": {"title": "Double room", "description": "A room."}})
    staff = make.user(Role.MEMBER_STAFF, clinic)
    login(client, staff)
    page = client.get(f"/portal/{clinic.id}/translations?lang=en")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert "Knee replacement" in html and "Double room" not in html
    assert 'lang="en" dir="auto"' in html
    assert html.count("1 offer lacks a text") == 9  # every language but English
    assert "/texts#text-de" in html
    assert client.get(f"/portal/{other.id}/translations").status_code in (403, 404)
    home = client.get(f"/portal/{clinic.id}?lang=en").get_data(as_text=True)
    assert f"/portal/{clinic.id}/translations" in home  # in the portal's navigation


def test_a_patient_does_not_see_the_translations_page(client, make, registered):
    clinic = make.member()
    login(client, make.user())
    assert client.get(f"/portal/{clinic.id}/translations").status_code in (403, 404)

