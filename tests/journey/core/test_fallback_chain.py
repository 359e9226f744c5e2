"""The fallback chain of member content, one test per step (DESIGN, "Member content
languages"): the requested language -> its base language -> the other languages on
the reader's profile, in their order (each followed by its base) -> the reader's
Accept-Language -> English -> the member's default -> any text. And the
Content-Language of a page and of an API answer says what was actually served."""

from __future__ import annotations

from types import SimpleNamespace

import pytest
from flask import g

from journey.core.accounts import services as accounts
from journey.core.errors import InvalidInput
from journey.core.extensions import db
from journey.core.i18n import (
    MAX_OTHER_LANGUAGES,
    clean_languages,
    fallback_chain,
    pick,
    reader_languages,
    served_languages,
)


def reader(other_languages=(), locale=None):
    return SimpleNamespace(other_languages=list(other_languages), locale=locale)


def chain_for(app, requested, member_default="lt", *, profile=(), accept=None):
    """The chain a request would follow for a reader with ``profile`` languages."""
    headers = {"Accept-Language": accept} if accept else {}
    with app.test_request_context(headers=headers):
        g.actor = reader(profile)
        return fallback_chain(requested, member_default)


# --- one test per step --------------------------------------------------------------------

def test_step_1_the_requested_language_comes_first(app):
    chain = chain_for(app, "nb", profile=["sv"], accept="de")
    assert chain[0] == "nb"
    assert pick({"nb": "Dobbeltrom", "sv": "Dubbelrum", "en": "Double room"}, chain) == (
        "nb", "Dobbeltrom")


def test_step_2_then_its_base_language(app):
    chain = chain_for(app, "nb_NO", profile=["sv"])
    assert chain[:2] == ["nb_NO", "nb"]
    assert pick({"nb": "Dobbeltrom", "sv": "Dubbelrum"}, chain) == ("nb", "Dobbeltrom")


def test_step_3_then_the_profiles_languages_in_their_order(app):
    texts = {"sv": "Dubbelrum", "da": "Dobbeltværelse", "en": "Double room",
             "lt": "Dvivietis kambarys"}
    swedish_first = chain_for(app, "nb", profile=["sv", "da"])
    danish_first = chain_for(app, "nb", profile=["da", "sv"])
    assert swedish_first == ["nb", "sv", "da", "en", "lt"]
    assert pick(texts, swedish_first) == ("sv", "Dubbelrum")
    assert pick(texts, danish_first) == ("da", "Dobbeltværelse")


def test_step_3_a_profile_language_is_followed_by_its_base(app):
    chain = chain_for(app, "nb", profile=["pt_BR", "sv"])
    assert chain == ["nb", "pt_BR", "pt", "sv", "en", "lt"]
    assert pick({"pt": "Quarto duplo", "sv": "Dubbelrum"}, chain)[0] == "pt"


def test_step_4_then_the_accept_language_languages_after_the_profiles(app):
    chain = chain_for(app, "nb", profile=["sv"], accept="nb-NO, de;q=0.8, fr;q=0.5")
    assert chain == ["nb", "sv", "nb_NO", "de", "fr", "en", "lt"]
    texts = {"de": "Doppelzimmer", "fr": "Chambre double", "en": "Double room"}
    assert pick(texts, chain) == ("de", "Doppelzimmer")
    assert pick({**texts, "sv": "Dubbelrum"}, chain) == ("sv", "Dubbelrum")


def test_step_5_then_english_before_the_members_default(app):
    chain = chain_for(app, "nb", profile=["sv"], accept="de")
    assert chain[-2:] == ["en", "lt"]
    texts = {"lt": "Dvivietis kambarys", "en": "Double room", "ru": "Двухместный"}
    assert pick(texts, chain) == ("en", "Double room")


def test_step_6_then_the_members_default(app):
    chain = chain_for(app, "nb", "lt", profile=["sv"])
    texts = {"lt": "Dvivietis kambarys", "ru": "Двухместный номер"}
    assert pick(texts, chain) == ("lt", "Dvivietis kambarys")


def test_step_7_else_any_text_rather_than_none(app):
    chain = chain_for(app, "nb", "lt", profile=["sv"])
    assert pick({"ru": "Двухместный номер"}, chain) == ("ru", "Двухместный номер")
    assert pick({}, chain) == (None, None)


def test_no_repeats_and_nothing_from_outside_a_request(app):
    with app.app_context():
        assert reader_languages() == []
        assert fallback_chain("en", "en") == ["en"]
    assert chain_for(app, "sv", "sv", profile=["sv", "en"], accept="sv, en") == ["sv", "en"]


# --- the profile's list -------------------------------------------------------------------

def test_the_profile_list_is_normalised_deduplicated_and_checked():
    assert clean_languages(["sv", "pt-BR", "SV", "", None, "pt_BR"]) == (["sv", "pt_BR"], [])
    assert clean_languages(["sv", "xx-nope", "../etc"]) == (["sv"], ["xx-nope", "../etc"])


def test_update_profile_refuses_unknown_codes_and_too_many(make):
    patient = make.user()
    with pytest.raises(InvalidInput) as refused:
        accounts.update_profile(patient, other_languages=["sv", "klingon-x"])
    assert "other_languages" in refused.value.fields
    many = ["sv", "da", "de", "fr", "es", "it", "pl", "ru", "uk", "fi", "et"]
    assert len(many) > MAX_OTHER_LANGUAGES
    with pytest.raises(InvalidInput):
        accounts.update_profile(patient, other_languages=many)
    db.session.rollback()
    accounts.update_profile(patient, other_languages=["sv", "pt-BR", "sv"])
    db.session.commit()
    assert patient.other_languages == ["sv", "pt_BR"]
    accounts.update_profile(patient, other_languages=[])
    assert patient.other_languages == []


def test_the_api_profile_edits_the_list(client, make):
    patient = make.user()
    headers = make.token(patient)
    answer = client.patch("/api/v1/auth/me", json={"other_languages": ["sv", "da-DK"]},
                          headers=headers)
    assert answer.status_code == 200, answer.json
    assert answer.json["other_languages"] == ["sv", "da_DK"]
    assert client.get("/api/v1/auth/me", headers=headers).json["other_languages"] == [
        "sv", "da_DK"]
    refused = client.patch("/api/v1/auth/me?lang=en", json={"other_languages": ["nope-nope"]},
                           headers=headers)
    assert refused.status_code == 422
    assert "other_languages" in refused.json["errors"]["json"]
    too_many = client.patch("/api/v1/auth/me?lang=en", headers=headers, json={
        "other_languages": ["sv", "da", "de", "fr", "es", "it", "pl", "ru", "uk", "fi", "et"]})
    assert too_many.status_code == 422
    assert "other_languages" in too_many.json["errors"]["json"]
    assert client.get("/api/v1/auth/me", headers=headers).json["other_languages"] == [
        "sv", "da_DK"]


def test_a_patient_reads_the_profiles_language_before_english(client, make):
    member = make.member(default_language="lt")
    offer = make.offer(member, texts={"lt": {"title": "Dvivietis kambarys"},
                                      "en": {"title": "Double room"},
                                      "sv": {"title": "Dubbelrum"}})
    patient = make.user(locale="nb")
    accounts.update_profile(patient, other_languages=["sv"])
    db.session.commit()
    headers = {**make.token(patient), "Accept-Language": "nb"}
    answer = client.get(f"/api/v1/offers/{offer.id}", headers=headers)
    assert (answer.json["title"], answer.json["language"]) == ("Dubbelrum", "sv")
    assert answer.headers["Content-Language"] == "sv"


# --- what Content-Language says ----------------------------------------------------------

@pytest.fixture
def room(make):
    member = make.member(default_language="lt")
    return make.offer(member, texts={"lt": {"title": "Dvivietis kambarys",
                                            "description": "Kambarys."},
                                     "en": {"title": "Double room", "description": "A room."}})


def test_the_api_says_the_language_it_served_not_the_one_asked(client, room):
    answer = client.get(f"/api/v1/offers/{room.id}?lang=nb")
    assert answer.json["language"] == "en"
    assert answer.headers["Content-Language"] == "en"
    assert client.get(f"/api/v1/offers/{room.id}?lang=lt").headers[
        "Content-Language"] == "lt"


def test_the_api_lists_every_language_it_served(client, make, room):
    make.offer(room.provider, texts={"lt": {"title": "Masažas"}, "de": {"title": "Massage"}})
    answer = client.get("/api/v1/offers?lang=de&sort=name")
    assert answer.status_code == 200
    served = [tag.strip() for tag in answer.headers["Content-Language"].split(",")]
    assert set(served) == {"de", "en"}


def test_the_api_without_member_content_says_the_language_asked(client):
    assert client.get("/api/v1/offers?lang=nb").headers["Content-Language"] == "nb"


def test_a_page_says_its_language_and_the_language_its_member_content_came_in(client, room):
    page = client.get(f"/catalogue/offers/{room.id}?lang=nb")
    assert page.status_code == 200
    assert page.headers["Content-Language"] == "nb, en"
    html = page.get_data(as_text=True)
    assert 'lang="en" dir="auto"' in html and "Double room" in html


def test_a_page_in_the_language_asked_says_only_that(client, room):
    page = client.get(f"/catalogue/offers/{room.id}?lang=lt")
    assert page.headers["Content-Language"] == "lt"


def test_served_languages_notes_only_texts_looked_up_for_this_reader(app):
    with app.test_request_context("/?lang=nb"):
        g.actor = None
        pick({"lt": "Kambarys", "en": "Room"}, fallback_chain("nb", "lt"))
        pick({"lt": "Kambarys"}, fallback_chain("lt", "lt"))  # e.g. a mail to a member
        assert served_languages() == ["en"]
